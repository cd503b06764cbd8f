//! The widget on the strictest checkout pages: a Content-Security-Policy with nothing inline
//! and no WebAssembly (the demo's `/strict`). The loader styles its launcher anyway, chooses
//! frame mode, and the customer gets the whole chat in an isolated frame from the Tandem
//! origin, with no violation on the page; the frame trusts nothing but its parent. And the
//! widget's files are served as a CDN would: compressed, cached, with verifiable hashes.

use crate::support::{Browser, Console, Mode, TestServer, Widget, eventually, widget_dist};
use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};

/// The strict page's own list of policy violations (crates/server/assets/violations.js).
async fn violations(browser: &Browser) -> Value {
    browser.js("return window.tandemDemoViolations", vec![]).await
}

/// Records the page's `Tandem.on` events in `window.heard`.
async fn listen_to_events(browser: &Browser) {
    let record = "window.heard = [];
        ['handoff', 'agent-joined', 'message', 'closed'].forEach(function (name) {
            Tandem.on(name, function (detail) { heard.push([name, detail]); });
        });";
    browser.js(record, vec![]).await;
}

async fn heard(browser: &Browser, name: &str) -> Vec<Value> {
    eventually(&format!("the page to hear {name}"), || async {
        let all: Vec<Value> = serde_json::from_value(browser.js("return window.heard", vec![]).await).ok()?;
        let matching: Vec<Value> =
            all.into_iter().filter(|e| e[0] == json!(name)).map(|e| e[1].clone()).collect();
        (!matching.is_empty()).then_some(matching)
    })
    .await
}

/// Whether frame mode's iframe is shown on the page.
async fn frame_shown(browser: &Browser) -> Option<bool> {
    browser.in_widget("const f = root.querySelector('iframe.frame'); return f && !f.hidden").await.as_bool()
}

async fn wait_frame_shown(browser: &Browser, shown: bool) {
    eventually(&format!("the chat frame shown: {shown}"), || async {
        (frame_shown(browser).await == Some(shown)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_strict_checkout_gets_the_whole_chat_in_a_frame_with_no_violation() {
    let mut server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    let console = Console(&agent);

    customer.client.goto(&server.strict_url()).await.expect("open the strict page");
    // The launcher is styled by an adopted stylesheet, which the policy does not refuse.
    let position = eventually("the launcher", || async {
        Some(customer.widget_style("[data-testid=launcher]", "position").await).filter(|p| !p.is_empty())
    })
    .await;
    assert_eq!(position, "fixed");
    assert_eq!(customer.widget_style("[data-testid=launcher]", "background-color").await, "rgb(31, 79, 209)");
    assert_eq!(customer.widget_style("[data-testid=launcher] svg", "width").await, "20px");
    listen_to_events(&customer).await;

    // Opened, it runs in frame mode: the page cannot compile WebAssembly.
    let widget = Widget::new(&customer, Mode::Frame);
    widget.open().await;
    wait_frame_shown(&customer, true).await;
    assert_eq!(customer.js("return window.__tandem_boot === undefined", vec![]).await, json!(true));

    // The bot answers, in the frame; then a person is asked for.
    widget.send("can I split my payment?").await;
    let answer = widget.text("[data-testid=bot-line][data-from=Bot] .text").await;
    assert!(answer.to_lowercase().contains("split"), "{answer}");
    widget.ask_for_person().await;
    let handoff = heard(&customer, "handoff").await;
    assert!(handoff[0]["conversation_id"].is_string(), "{handoff:?}");

    // The agent accepts and answers; the page hears it.
    console.accept_offer().await;
    widget.wait_text("[data-testid=human-status]", "You're talking to Anna").await;
    assert!(agent.page_text("[data-testid=page-url]").await.contains("/strict"), "the agent sees the page");
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
    widget.wait_text("[data-testid=notice]", "last four digits").await;
    assert_eq!(heard(&customer, "agent-joined").await[0]["name"], json!("Anna"));
    customer.screenshot("strict-frame-chatting.png").await;

    // A reload reopens the frame on its own, with the conversation.
    customer.client.refresh().await.expect("reload");
    wait_frame_shown(&customer, true).await;
    let so_far = ["Hello from a strict page", "Hi, Anna here.", "my card is •••• 1111, it fails"];
    widget.wait_messages(&so_far).await;
    widget.wait_text("[data-testid=human-status]", "You're talking to Anna").await;

    // A server restart: the frame reconnects and the chat goes on.
    server.restart().await;
    widget.send("Still there?").await;
    console.wait_messages(&[so_far.as_slice(), &["Still there?"]].concat()).await;

    assert_eq!(violations(&customer).await, json!([]), "the page saw no policy violation");
}

/// The strict checkout in one browser, its widget in frame mode.
async fn strict_page() -> (TestServer, Browser) {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    customer.client.goto(&server.strict_url()).await.expect("open the strict page");
    (server, customer)
}

#[tokio::test]
async fn frame_mode_keeps_the_keyboard_path_the_js_api_and_the_theme_and_is_axe_clean() {
    let (_server, customer) = strict_page().await;
    let widget = Widget::new(&customer, Mode::Frame);
    // The page's theme, set before the chat opens, crosses into the frame.
    customer
        .js("document.querySelector('tandem-chat').style.setProperty('--tandem-accent', '#0b5d3b')", vec![])
        .await;

    // Keyboard: focus the launcher, Enter opens, focus lands on the human button in the frame.
    customer.in_widget("root.querySelector('[data-testid=launcher]').focus(); return true").await;
    customer.press(Key::Enter).await;
    wait_frame_shown(&customer, true).await;
    eventually("focus on the human button, in the frame", || async {
        widget
            .run("return document.activeElement && document.activeElement.dataset.testid")
            .await
            .as_str()
            .filter(|id| *id == "human-button")
            .map(|_| ())
    })
    .await;
    assert_eq!(customer.in_widget("return root.activeElement.className").await, json!("frame"));
    assert_eq!(
        widget.run("return getComputedStyle(root.querySelector('.header')).backgroundColor").await,
        json!("rgb(11, 93, 59)")
    );
    let problems = {
        widget.enter().await;
        let problems = customer.axe("document").await;
        widget.leave().await;
        problems
    };
    assert!(problems.is_empty(), "axe inside the frame: {problems:#?}");

    // Escape closes, and focus returns to the launcher.
    widget.enter().await;
    customer.press(Key::Escape).await;
    widget.leave().await;
    wait_frame_shown(&customer, false).await;
    assert_eq!(customer.in_widget("return root.activeElement.dataset.testid").await, json!("launcher"));

    // The JS API works the same: open, a language, close.
    customer.js("Tandem.setLocale('sv'); Tandem.open()", vec![]).await;
    wait_frame_shown(&customer, true).await;
    widget.wait_text("[data-testid=human-button]", "Prata med en människa").await;
    customer.js("Tandem.close()", vec![]).await;
    wait_frame_shown(&customer, false).await;
    assert_eq!(violations(&customer).await, json!([]));
}

#[tokio::test]
async fn the_frame_ignores_forged_messages_and_runs_only_under_the_merchants_pages() {
    let (server, customer) = strict_page().await;
    let widget = Widget::new(&customer, Mode::Frame);
    widget.open().await;
    wait_frame_shown(&customer, true).await;
    customer.js("Tandem.close()", vec![]).await;
    wait_frame_shown(&customer, false).await;
    // The frame's own record of every message it received, after the app's listener.
    widget.run("window.seen = []; addEventListener('message', e => seen.push(e.origin)); return true").await;

    // Two forgeries, each asking the frame to open: from a window of another origin, and from
    // a window of the page's own origin that is not the page. (A foreign page cannot even name
    // the frame: an iframe in a shadow root is not in `window.frames`; a window the frame
    // opened can, as its `opener`.)
    let page = customer.client.window().await.expect("window");
    let other_origin = format!("http://localhost:{}/healthz", server.api.port());
    let pages_origin = format!("http://{}/checkout.css", server.demo);
    for forger in [other_origin.as_str(), pages_origin.as_str()] {
        widget.run(&format!("window.open({forger:?}, 'forger'); return true")).await;
        let popup = eventually("the forger's window", || async {
            customer.client.windows().await.ok()?.into_iter().find(|w| *w != page)
        })
        .await;
        customer.client.switch_to_window(popup).await.expect("to the forger");
        eventually("the forger's page", || async {
            customer
                .js("return location.href", vec![])
                .await
                .as_str()
                .filter(|h| h.starts_with(forger))
                .map(|_| ())
        })
        .await;
        let origin = customer
            .js(
                "opener.postMessage({ tandem: 1, type: 'open', open: true }, '*');
                 opener.postMessage({ tandem: 1, type: 'call', method: 'open' }, '*');
                 return location.origin",
                vec![],
            )
            .await;
        customer.client.close_window().await.expect("close the forger");
        customer.client.switch_to_window(page.clone()).await.expect("back to the page");
        eventually("the frame to receive both forgeries", || async {
            let seen = widget.run("return window.seen").await;
            (seen.as_array()?.iter().filter(|o| **o == origin).count() == 2).then_some(())
        })
        .await;
        assert_eq!(
            widget.run("return root.querySelector('[data-testid=panel]') === null").await,
            json!(true)
        );
    }
    assert_eq!(frame_shown(&customer).await, Some(false));

    // Framed by a page that is not the merchant's: when the loader says so, the server sends
    // the contact page instead of the chat; when it lies, frame-ancestors stops the chat.
    let foreign = format!("http://localhost:{}/healthz", server.api.port());
    customer.client.goto(&foreign).await.expect("a foreign page");
    let frame_url = |parent: &str| {
        format!("http://127.0.0.1:{}/widget/frame.html?merchant=demo&parent={parent}", server.api.port())
    };
    let told = frame_url(&format!("http://localhost:{}", server.api.port()));
    let lied = frame_url(&format!("http://{}", server.demo));
    for (id, src) in [("told", &told), ("lied", &lied)] {
        customer
            .js(
                "const f = document.createElement('iframe'); f.id = arguments[0];
                 f.onload = () => f.dataset.loaded = 'yes'; f.src = arguments[1]; document.body.append(f);",
                vec![json!(id), json!(src)],
            )
            .await;
    }
    for id in ["told", "lied"] {
        let selector = format!("iframe#{id}[data-loaded=yes]");
        let frame =
            eventually(&selector, || async { customer.client.find(Locator::Css(&selector)).await.ok() })
                .await;
        frame.enter_frame().await.expect("enter");
        let inside = customer
            .js("return { text: document.body ? document.body.innerText : '', app: !!document.querySelector('[data-testid=panel]'), href: location.href }", vec![])
            .await;
        customer.client.enter_parent_frame().await.expect("leave");
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
    customer.client.goto(&format!("{}/no-frame", server.strict_url())).await.expect("open the page");
    customer
        .js("window.warnings = []; console.warn = (...args) => warnings.push(args.join(' '))", vec![])
        .await;
    customer.open_widget().await;
    let href = eventually("the fallback link", || async {
        customer
            .in_widget("const a = root.querySelector('[data-testid=launcher-fallback]'); return a && a.href")
            .await
            .as_str()
            .map(str::to_owned)
    })
    .await;
    assert_eq!(href, server.api_url("/contact/demo"));
    let warnings = customer.js("return window.warnings", vec![]).await;
    assert!(warnings.to_string().contains("frame-src"), "{warnings}");
}

#[tokio::test]
async fn an_unknown_data_mode_warns_once_and_falls_back_to_auto() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.api_url("/healthz")).await.expect("open a plain page");
    let outcome = browser
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

fn sri(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes)))
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
    assert!(files.len() >= 6, "{manifest}");
    let loader = get("/widget/tandem.js".into(), "identity").await.text().await.expect("loader");
    for file in files {
        let path = file["path"].as_str().expect("path").to_owned();
        let bytes = get(path.clone(), "identity").await.bytes().await.expect("body");
        assert_eq!(file["integrity"].as_str(), Some(sri(&bytes).as_str()), "{path}");
        assert_eq!(file["size"].as_u64(), Some(bytes.len() as u64), "{path}");
        assert_eq!(file["version"], manifest["version"], "{path}");
        // The loader loads each app file with the integrity the inventory lists.
        if path.ends_with(".wasm")
            || path.contains("/tandem-widget-")
            || path.ends_with(".css")
            || path.contains("/tandem-frame-")
        {
            assert!(loader.contains(&sri(&bytes)), "the loader checks {path}");
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

/// Each visible control of the widget whose centre is not itself (or inside it) when
/// scrolled into view: covered by something else.
const COVERED: &str = "
    const problems = [];
    const name = e => e ? (e.dataset && e.dataset.testid) || e.className || e.tagName : 'nothing';
    for (const e of root.querySelectorAll('button, textarea, input, select, a[href]')) {
        if (e.getClientRects().length === 0 || e.offsetWidth < 2) continue;
        e.scrollIntoView({ block: 'center', inline: 'center' });
        const r = e.getBoundingClientRect();
        const hit = root.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (hit !== e && !e.contains(hit)) problems.push(name(e) + ' is under ' + name(hit));
    }
    return problems;";

/// Each word of the panel's header that is split over lines.
const BROKEN_WORDS: &str = "
    const header = root.querySelector('[data-testid=panel] .header');
    const walker = document.createTreeWalker(header, NodeFilter.SHOW_TEXT);
    const broken = [];
    for (let node; (node = walker.nextNode());) {
        for (const word of node.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            if ([...range.getClientRects()].filter(r => r.width > 0).length !== 1) broken.push(word[0]);
        }
    }
    return broken;";

/// At 375 × 740 in full-screen mode, nothing covers a control and no header word breaks.
async fn nothing_is_covered(widget: &Widget<'_>, state: &str) {
    assert_eq!(widget.run(COVERED).await, json!([]), "{state}: controls covered");
    assert_eq!(widget.run(BROKEN_WORDS).await, json!([]), "{state}: header words broken");
    if widget.mode == Mode::Frame {
        // On the page, the frame is on top of everything, the launcher too.
        let on_top = widget
            .browser
            .in_widget("const f = root.querySelector('iframe.frame'); return root.elementFromPoint(innerWidth - 30, innerHeight - 30) === f")
            .await;
        assert_eq!(on_top, json!(true), "{state}: the frame is under the launcher");
    }
}

async fn on_a_phone_every_panel_state_leaves_every_control_uncovered(mode: Mode) {
    let server = TestServer::start(&widget_dist()).await;
    // The merchant asks for an email first (which the customer may skip): one more state.
    server.configure_demo(|merchant| merchant.settings.ask_email = tandem_protocol::AskEmail::Optional).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    customer.client.set_window_size(375, 740).await.expect("phone-sized window");
    agent.sign_in_to_console(&server).await;
    let console = Console(&agent);
    let page = if mode == Mode::Frame { server.strict_url() } else { server.demo_url() };
    customer.client.goto(&page).await.expect("open the checkout");
    let widget = Widget::new(&customer, mode);
    widget.open().await;
    widget.text("[data-testid=human-button]").await;
    assert_eq!(customer.js("return innerWidth", vec![]).await, json!(375));
    nothing_is_covered(&widget, "with the bot").await;

    widget.ask_for_person().await;
    widget.text("[data-testid=details-form]").await;
    nothing_is_covered(&widget, "asked for details").await;
    widget.click("[data-testid=details-skip]").await;
    widget.text("[data-testid=leave-message-instead]").await;
    nothing_is_covered(&widget, "waiting").await;

    console.accept_offer().await;
    widget.wait_text("[data-testid=human-status]", "You're talking to Anna").await;
    widget.text("[data-testid=composer-input]").await;
    nothing_is_covered(&widget, "with a person").await;

    agent.click_page("[data-testid=end]").await;
    widget.text("[data-testid=rating-form]").await;
    nothing_is_covered(&widget, "ended, with the rating").await;

    widget.ask_for_person().await;
    widget.click("[data-testid=details-skip]").await;
    widget.click("[data-testid=leave-message-instead]").await;
    widget.text("[data-testid=leave-message-form]").await;
    nothing_is_covered(&widget, "leaving a message").await;
    widget.fill("[data-testid=leave-message-email]", "kim@example.com").await;
    widget.fill("[data-testid=leave-message-text]", "Where is my refund?").await;
    widget.click("[data-testid=leave-message-send]").await;
    widget.text("[data-testid=message-left]").await;
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
