//! The widget on the strictest checkout pages: a Content-Security-Policy with nothing inline
//! and no WebAssembly (the demo's `/strict`). The loader styles its launcher anyway, chooses
//! frame mode, and the customer gets the whole chat in an isolated frame from the Tandem
//! origin, with no violation on the page; the frame trusts nothing but its parent. And the
//! widget's files are served as a CDN would: compressed, cached, with verifiable hashes.

use crate::pages::{ANNA, Console, HostPage, Mode, Part, Widget};
use crate::support::{Browser, TestServer, eventually, widget_dist};
use fantoccini::key::Key;
use serde_json::{Value, json};

#[tokio::test]
async fn a_strict_checkout_gets_the_whole_chat_in_a_frame_with_no_violation() {
    let mut server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;

    let page = HostPage::open(&customer, &server.strict_url()).await;
    let widget = page.widget(Mode::Frame);
    // The launcher is styled by an adopted stylesheet, which the policy does not refuse.
    widget.wait_for(Part::Launcher).await;
    assert_eq!(widget.style(Part::Launcher, "position").await, "fixed");
    assert_eq!(widget.style(Part::Launcher, "background-color").await, "rgb(31, 79, 209)");
    assert_eq!(widget.style(Part::LauncherIcon, "width").await, "20px");
    page.listen_to_events().await;

    // Opened, it runs in frame mode: the page cannot compile WebAssembly.
    widget.open().await;
    widget.wait_frame_shown(true).await;
    assert!(!page.app_booted().await);

    // The bot answers, in the frame; then a person is asked for.
    widget.send("can I split my payment?").await;
    let answer = widget.text(Part::BotAnswer).await;
    assert!(answer.to_lowercase().contains("split"), "{answer}");
    widget.ask_for_person().await;
    let handoff = page.heard_through_on("handoff").await;
    assert!(handoff[0]["conversation_id"].is_string(), "{handoff:?}");

    // The agent accepts and answers; the page hears it.
    console.accept_offer().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;
    assert!(console.page_url().await.contains("/strict"), "the agent sees the page");
    widget.send("Hello from a strict page").await;
    console.wait_messages(&["Hello from a strict page"]).await;
    console.reply("Hi, Anna here.").await;
    widget.wait_messages(&["Hello from a strict page", "Hi, Anna here."]).await;

    // A card number never leaves the browser: the agent reads its last four digits only, and
    // the customer is told.
    widget.send("my card is 4111 1111 1111 1111, it fails").await;
    console
        .wait_messages(&["Hello from a strict page", "Hi, Anna here.", "my card is •••• 1111, it fails"])
        .await;
    widget.wait_text(Part::Notice, "last four digits").await;
    assert_eq!(page.heard_through_on("agent-joined").await[0]["name"], json!("Anna"));
    customer.screenshot("strict-frame-chatting.png").await;

    // A reload reopens the frame on its own, with the conversation.
    customer.client.refresh().await.expect("reload");
    widget.wait_frame_shown(true).await;
    let so_far = ["Hello from a strict page", "Hi, Anna here.", "my card is •••• 1111, it fails"];
    widget.wait_messages(&so_far).await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;

    // A server restart: the frame reconnects and the chat goes on.
    server.restart().await;
    widget.send("Still there?").await;
    console.wait_messages(&[so_far.as_slice(), &["Still there?"]].concat()).await;

    assert_eq!(page.violations().await, json!([]), "the page saw no policy violation");
}

/// A checkout whose policy allows WebAssembly, Tandem's scripts and connections, and no style
/// from anywhere but itself: the chat runs in the page, fully styled (the loader's and the
/// app's stylesheets are constructable), and the page sees no violation.
#[tokio::test]
async fn a_checkout_that_allows_webassembly_gets_the_chat_in_the_page_with_no_style_src() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let page = HostPage::open(&browser, &format!("{}/wasm", server.strict_url())).await;
    let widget = page.widget(Mode::Inline);
    widget.open().await;
    widget.wait_for(Part::Panel).await;
    assert!(widget.frame_shown().await.is_none(), "no frame: the app runs in the page");
    // Rules only the app's stylesheet has (the loader's copy for the shell has neither).
    assert_eq!(widget.style(Part::Messages, "overflowY").await, "auto");
    assert_eq!(widget.style(Part::Messages, "paddingTop").await, "16px");
    widget.send("can I split my payment?").await;
    let answer = widget.text(Part::BotAnswer).await;
    assert!(answer.to_lowercase().contains("split"), "{answer}");
    assert_eq!(page.violations().await, json!([]), "the page saw no policy violation");
}

#[tokio::test]
async fn frame_mode_keeps_the_keyboard_path_the_js_api_and_the_theme_and_is_axe_clean() {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    let page = HostPage::open(&customer, &server.strict_url()).await;
    let widget = page.widget(Mode::Frame);
    // The page's theme, set before the chat opens, crosses into the frame.
    page.set_widget_property("--tandem-accent", "#0b5d3b").await;

    // Keyboard: focus the launcher, Enter opens, focus lands on the human button in the frame.
    widget.focus(Part::Launcher).await;
    customer.press(Key::Enter).await;
    widget.wait_frame_shown(true).await;
    widget.wait_focus(Part::HumanButton).await;
    assert!(widget.frame_has_focus().await);
    assert_eq!(widget.style(Part::Header, "backgroundColor").await, "rgb(11, 93, 59)");
    let problems = widget.accessibility_violations().await;
    assert!(problems.is_empty(), "axe inside the frame: {problems:#?}");

    // Escape closes, and focus returns to the launcher.
    widget.press(Key::Escape).await;
    widget.wait_frame_shown(false).await;
    assert!(widget.has_focus(Part::Launcher).await);

    // The JS API works the same: open, a language, close.
    page.call("setLocale", vec![json!("sv")]).await;
    page.call("open", vec![]).await;
    widget.wait_frame_shown(true).await;
    widget.wait_text(Part::HumanButton, "Prata med en människa").await;
    page.call("close", vec![]).await;
    widget.wait_frame_shown(false).await;
    assert_eq!(page.violations().await, json!([]));
}

#[tokio::test]
async fn the_frame_ignores_forged_messages_and_runs_only_under_the_merchants_pages() {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    let page = HostPage::open(&customer, &server.strict_url()).await;
    let widget = page.widget(Mode::Frame);
    widget.open().await;
    widget.wait_frame_shown(true).await;
    page.call("close", vec![]).await;
    widget.wait_frame_shown(false).await;
    widget.record_messages_received().await;

    // Two forgeries, each asking the frame to open: from a window of another origin, and from
    // a window of the page's own origin that is not the page. (A foreign page cannot even name
    // the frame: an iframe in a shadow root is not in `window.frames`; a window the frame
    // opened can, as its `opener`.)
    let other_origin = format!("http://localhost:{}/healthz", server.api.port());
    let pages_origin = format!("http://{}/checkout.css", server.demo);
    for forger in [other_origin.as_str(), pages_origin.as_str()] {
        let origin = widget.forge_open_from_a_window_at(forger).await;
        eventually("the frame to receive both forgeries", || async {
            let seen = widget.origins_received().await;
            (seen.as_array()?.iter().filter(|o| **o == origin).count() == 2).then_some(())
        })
        .await;
        assert!(!widget.shows(Part::Panel).await);
    }
    assert_eq!(widget.frame_shown().await, Some(false));

    // Framed by a page that is not the merchant's: when the loader says so, the server sends
    // the contact page instead of the chat; when it lies, frame-ancestors stops the chat.
    let foreign = HostPage::open(&customer, &format!("http://localhost:{}/healthz", server.api.port())).await;
    let frame_url = |parent: &str| {
        format!("http://127.0.0.1:{}/widget/frame.html?merchant=demo&parent={parent}", server.api.port())
    };
    let told = frame_url(&format!("http://localhost:{}", server.api.port()));
    let lied = frame_url(&format!("http://{}", server.demo));
    for (id, src) in [("told", &told), ("lied", &lied)] {
        foreign.embed_frame(id, src).await;
    }
    for id in ["told", "lied"] {
        let inside = foreign.framed(id).await;
        assert_eq!(inside["app"], json!(false), "{id}: {inside}");
        if id == "told" {
            assert!(inside["text"].as_str().is_some_and(|t| t.contains("Talk to a person at")), "{inside}");
        } else {
            assert!(!inside["href"].as_str().is_some_and(|h| h.contains("/widget/frame.html")), "{inside}");
        }
    }
}

#[tokio::test]
async fn a_page_that_refuses_the_frame_still_offers_a_person_and_says_what_to_allow() {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    let page = HostPage::open(&customer, &format!("{}/no-frame", server.strict_url())).await;
    page.watch_warnings().await;
    let widget = page.widget(Mode::Frame);
    widget.open().await;
    assert_eq!(widget.fallback_link().await["href"], json!(server.api_url("/contact/demo")));
    let warnings = page.warnings().await;
    assert!(warnings.iter().any(|w| w.contains("frame-src")), "{warnings:?}");
}

#[tokio::test]
async fn an_unknown_data_mode_warns_once_and_falls_back_to_auto() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let page = HostPage::open(&browser, &server.api_url("/healthz")).await;
    let outcome = page
        .add_loader(&server.api_url("/widget/tandem.js"), json!({ "merchant": "demo", "mode": "sideways" }))
        .await;
    assert_eq!(outcome["element"], json!(true), "{outcome}");
    let warnings = outcome["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{outcome}");
    assert!(warnings[0].as_str().is_some_and(|w| w.contains("data-mode") && w.contains("auto")), "{outcome}");
}

/// The header's value, or "" when there is none.
fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// The Subresource Integrity value of `bytes`: SHA-384 as the inventory lists it.
fn sri(bytes: &[u8]) -> String {
    sri_with::<sha2::Sha384>("sha384", bytes)
}

fn sri_with<D: sha2::Digest>(name: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    format!("{name}-{}", base64::engine::general_purpose::STANDARD.encode(D::digest(bytes)))
}

#[tokio::test]
async fn the_widget_is_served_as_a_cdn_would_with_hashes_that_verify() {
    let server = TestServer::start(&widget_dist()).await;
    let http = reqwest::Client::new();
    let get = |path: String, encoding: &'static str| {
        let request = http.get(server.api_url(&path)).header("accept-encoding", encoding);
        async move { request.send().await.expect("GET") }
    };

    // Every file of the inventory is served with exactly the bytes its hash names.
    let manifest: Value =
        get("/widget/manifest.json".into(), "identity").await.json().await.expect("manifest");
    let files = manifest["files"].as_array().expect("files");
    assert!(files.len() >= 5, "{manifest}");
    let loader = get("/widget/tandem.js".into(), "identity").await.text().await.expect("loader");
    for file in files {
        let path = file["path"].as_str().expect("path").to_owned();
        let bytes = get(path.clone(), "identity").await.bytes().await.expect("body");
        assert_eq!(file["integrity"].as_str(), Some(sri(&bytes).as_str()), "{path}");
        assert_eq!(file["size"].as_u64(), Some(bytes.len() as u64), "{path}");
        assert_eq!(file["version"], manifest["version"], "{path}");
        // The loader checks each app file it loads (with SHA-256: shorter, in every page).
        if path.contains("/tandem-widget-") || path.contains("/tandem-frame-") {
            assert!(loader.contains(&sri_with::<sha2::Sha256>("sha256", &bytes)), "the loader checks {path}");
        }
    }

    // Compressed by negotiation; the stable loader briefly cached and revalidated by ETag.
    for (encoding, expected) in [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br")] {
        let response = get("/widget/tandem.js".into(), encoding).await;
        assert_eq!(header(&response, "content-encoding"), expected);
        assert_eq!(header(&response, "vary"), "accept-encoding");
        assert_eq!(header(&response, "cache-control"), "public, max-age=300");
        assert!(response.bytes().await.expect("body").len() < loader.len());
    }
    let etag = header(&get("/widget/tandem.js".into(), "br").await, "etag");
    assert!(etag.starts_with("W/\""), "{etag}");
    let again = http
        .get(server.api_url("/widget/tandem.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), 304);

    // Hashed names and the versioned loader are immutable; that loader is the same file.
    let versioned = manifest["loader"].as_str().expect("versioned loader").to_owned();
    for path in files
        .iter()
        .filter_map(|f| f["path"].as_str())
        .filter(|p| p.ends_with(".wasm"))
        .chain([versioned.as_str()])
    {
        let response = get(path.to_owned(), "br").await;
        assert_eq!(header(&response, "cache-control"), "public, max-age=31536000, immutable", "{path}");
        assert_eq!(header(&response, "content-encoding"), "br", "{path}");
    }
    assert_eq!(get(versioned, "identity").await.text().await.expect("body"), loader);
}

#[tokio::test]
async fn our_pages_carry_strict_policies_and_the_frame_only_runs_for_the_merchant() {
    let server = TestServer::start(&widget_dist()).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let request = http.get(server.api_url(&path));
        async move { request.send().await.expect("GET") }
    };
    let demo = |host: &str| format!("http://{host}:{}", server.demo.port());
    let frame = get(format!("/widget/frame.html?merchant=demo&parent={}", demo("127.0.0.1"))).await;
    assert_eq!(frame.status(), 200);
    let policy = header(&frame, "content-security-policy");
    assert!(
        policy.contains(&format!("frame-ancestors {} {}", demo("127.0.0.1"), demo("localhost"))),
        "{policy}"
    );
    assert!(policy.contains("'wasm-unsafe-eval'") && !policy.contains("unsafe-inline"), "{policy}");

    let foreign = get("/widget/frame.html?merchant=demo&parent=https://evil.example".into()).await;
    assert_eq!(foreign.status(), 403);
    assert!(header(&foreign, "content-security-policy").ends_with("frame-ancestors *"));
    assert!(foreign.text().await.expect("body").contains("Talk to a person at Northwind Outfitters"));
    let unknown = get("/widget/frame.html?merchant=nobody".into()).await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(header(&unknown, "content-type"), "application/problem+json");

    let console = get("/console/".into()).await;
    let policy = header(&console, "content-security-policy");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let contact = get("/contact/demo".into()).await;
    let policy = header(&contact, "content-security-policy");
    assert!(
        !policy.contains("wasm")
            && !policy.contains("unsafe-inline")
            && policy.contains("style-src 'self' 'sha256-"),
        "{policy}"
    );
    for response in [&console, &contact] {
        assert_eq!(header(response, "x-content-type-options"), "nosniff");
        assert_eq!(header(response, "referrer-policy"), "no-referrer");
        assert_eq!(header(response, "strict-transport-security"), "", "no HSTS over plain http");
    }
}

/// At 375 × 740 in full-screen mode, nothing covers a control and no header word breaks.
async fn nothing_is_covered(widget: &Widget<'_>, state: &str) {
    assert_eq!(widget.covered_controls().await, json!([]), "{state}: controls covered");
    assert_eq!(widget.broken_header_words().await, json!([]), "{state}: header words broken");
    if widget.mode() == Mode::Frame {
        // On the page, the frame is on top of everything, the launcher too.
        assert!(widget.frame_on_top().await, "{state}: the frame is under the launcher");
    }
}

async fn on_a_phone_every_panel_state_leaves_every_control_uncovered(mode: Mode) {
    let server = TestServer::start(&widget_dist()).await;
    // The merchant asks for an email first (which the customer may skip): one more state.
    server.configure_demo(|merchant| merchant.settings.ask_email = tandem_protocol::AskEmail::Optional).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    customer.client.set_window_size(375, 740).await.expect("phone-sized window");
    let console = Console::sign_in(&agent, &server, ANNA).await;
    let url = if mode == Mode::Frame { server.strict_url() } else { server.demo_url() };
    let page = HostPage::open(&customer, &url).await;
    let widget = page.widget(mode);
    widget.open().await;
    widget.wait_for(Part::HumanButton).await;
    assert_eq!(page.inner_width().await, json!(375));
    nothing_is_covered(&widget, "with the bot").await;

    widget.ask_for_person().await;
    widget.wait_for(Part::DetailsForm).await;
    nothing_is_covered(&widget, "asked for details").await;
    widget.click(Part::DetailsSkip).await;
    widget.wait_for(Part::LeaveMessageInstead).await;
    nothing_is_covered(&widget, "waiting").await;

    console.accept_offer().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;
    widget.wait_for(Part::ComposerInput).await;
    nothing_is_covered(&widget, "with a person").await;

    console.end_chat().await;
    widget.wait_for(Part::RatingForm).await;
    nothing_is_covered(&widget, "ended, with the rating").await;

    widget.ask_for_person().await;
    widget.click(Part::DetailsSkip).await;
    widget.click(Part::LeaveMessageInstead).await;
    widget.wait_for(Part::LeaveMessageForm).await;
    nothing_is_covered(&widget, "leaving a message").await;
    widget.fill(Part::LeaveMessageEmail, "kim@example.com").await;
    widget.fill(Part::LeaveMessageText, "Where is my refund?").await;
    widget.click(Part::LeaveMessageSend).await;
    widget.wait_for(Part::MessageLeft).await;
    nothing_is_covered(&widget, "message left").await;
    customer.screenshot(&format!("phone-{mode:?}-leave-message.png").to_lowercase()).await;
}

#[tokio::test]
async fn on_a_phone_nothing_covers_the_panel_in_the_page() {
    on_a_phone_every_panel_state_leaves_every_control_uncovered(Mode::Inline).await;
}

#[tokio::test]
async fn on_a_phone_nothing_covers_the_panel_in_frame_mode() {
    on_a_phone_every_panel_state_leaves_every_control_uncovered(Mode::Frame).await;
}
