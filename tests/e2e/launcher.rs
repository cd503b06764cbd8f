//! A customer on the demo checkout page: the launcher costs nothing until they show intent,
//! then opens the panel with "Talk to a human", by mouse or keyboard, whatever the page's CSS.

use crate::pages::{ANNA, Console, HostPage, Part, Widget};
use crate::support::{Browser, TestServer, eventually, widget_dist};
use fantoccini::key::Key;
use serde_json::json;

#[tokio::test]
async fn customer_opens_the_launcher_by_keyboard_and_reaches_the_human_button() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let page = HostPage::open(&browser, &server.demo_url()).await;
    let widget = Widget::inline(&browser);

    // The loader draws the launcher at once…
    widget.wait_for(Part::Launcher).await;
    // …and nothing else is fetched or stored before the customer shows intent.
    let from_tandem: Vec<String> =
        page.fetched().await.into_iter().filter(|name| name.starts_with(&server.api_url("/"))).collect();
    assert_eq!(from_tandem, [server.api_url("/widget/tandem.js")], "only the loader at page load");
    assert_eq!(page.stored().await, json!(0), "nothing stored at page load");

    // The page's hostile CSS does not reach the launcher.
    assert_eq!(widget.style(Part::Launcher, "backgroundColor").await, "rgb(31, 79, 209)");
    assert!(!widget.style(Part::Launcher, "fontFamily").await.contains("Comic"));
    assert_eq!(page.widget_opacity().await, json!("1"));

    // Keyboard only: Tab through the checkout form until the launcher has focus.
    eventually("the launcher to take keyboard focus", || async {
        let focused = widget.has_focus(Part::Launcher).await;
        if !focused {
            browser.press(Key::Tab).await;
        }
        focused.then_some(())
    })
    .await;
    browser.press(Key::Enter).await;

    // The panel shows the merchant's name and the human button, focused for the keyboard.
    widget.wait_for(Part::Panel).await;
    assert_eq!(widget.text(Part::MerchantName).await, "Northwind Outfitters");
    assert_eq!(
        widget.human_button().await,
        json!({ "text": "Talk to a human", "focused": true, "visible": true })
    );

    // The app was fetched only now, after intent.
    let after = page.fetched().await;
    assert!(
        after.iter().any(|name| name.contains("/widget/tandem-widget-") && name.ends_with("_bg.wasm")),
        "{after:?}"
    );

    // The page's `button{background:red!important}` and friends changed nothing inside.
    assert_eq!(widget.style(Part::HumanButton, "backgroundColor").await, "rgb(255, 255, 255)");
    assert_eq!(widget.style(Part::HumanButton, "color").await, "rgb(31, 79, 209)");
    assert_eq!(widget.style(Part::HumanButton, "letterSpacing").await, "normal");
    assert_ne!(widget.style(Part::HumanButton, "borderTopStyle").await, "dashed");
    assert!(widget.style(Part::Panel, "fontFamily").await.contains("system-ui"));
    assert_eq!(widget.style(Part::Panel, "display").await, "flex");
    let shot = browser.screenshot("launcher-open.png").await;
    assert!(std::fs::metadata(&shot).expect("screenshot").len() > 0);

    // Enter on the human button asks for a person. Nobody is online in this test, so the
    // customer is offered to leave a message, and the keyboard lands in its first field.
    browser.press(Key::Enter).await;
    widget.wait_for(Part::LeaveMessageForm).await;
    widget.wait_focus(Part::LeaveMessageEmail).await;

    // Escape closes the panel and gives focus back to the launcher.
    browser.press(Key::Escape).await;
    widget.wait_gone(Part::Panel).await;
    widget.wait_focus(Part::Launcher).await;
}

/// The demo checkout with the app's wasm held back (a network where it takes long to come), its
/// launcher pressed: the shell is on screen, the app not yet.
async fn shell_before_the_app<'a>(server: &TestServer, browser: &'a Browser) -> Widget<'a> {
    HostPage::hold_the_app(browser).await;
    HostPage::open(browser, &server.demo_url()).await;
    let widget = Widget::inline(browser);
    widget.open().await;
    widget.wait_visible(Part::Shell).await;
    assert!(!widget.shows(Part::Panel).await, "before the app");
    widget
}

/// The shell is on screen, styled, in the very task of the click: nothing is fetched first (the
/// app's wasm is held back here, and the widget's stylesheet comes inside it). When the app
/// takes it over, its panel and human button are where the shell's were, in the same colours.
#[tokio::test]
async fn the_shell_is_styled_at_the_click_and_nothing_moves_when_the_app_takes_it_over() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    HostPage::hold_the_app(&browser).await;
    HostPage::open(&browser, &server.demo_url()).await;
    let widget = Widget::inline(&browser);
    widget.wait_for(Part::Launcher).await;
    let first = widget.open_and_measure().await;
    assert_eq!(first["position"], json!("fixed"), "{first}");
    assert_eq!(first["focused"], json!("human-button"), "{first}");
    assert!(first["human"][2].as_f64().is_some_and(|width| width > 40.0), "{first}");
    assert_ne!(first["surface"], first["header"], "{first}");
    assert!(!widget.shows(Part::Panel).await, "the app is not there yet");

    HostPage::release_the_app(&browser).await;
    widget.wait_for(Part::Panel).await;
    let app = widget.layout().await;
    for what in ["panel", "human", "position", "surface", "header"] {
        assert_eq!(first[what], app[what], "{what}: the shell {first}, the app {app}");
    }
}

/// On a slow network the panel is there the moment the launcher is pressed, before the app:
/// the customer types and presses "Talk to a human" in the loader's shell, and the app, once it
/// runs, takes the shell over with the text kept and the press carried out.
#[tokio::test]
async fn the_shell_keeps_what_the_customer_types_and_presses_before_the_app_arrives() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let _console = Console::sign_in(&agent, &server, ANNA).await;
    let widget = shell_before_the_app(&server, &customer).await;
    assert_eq!(widget.text(Part::ShellHumanButton).await, "Talk to a human");
    assert!(widget.has_focus(Part::ShellHumanButton).await, "focused for the keyboard, as the app's");
    widget.fill(Part::ShellInput, "Where is my parcel?").await;
    widget.click(Part::ShellHumanButton).await;
    assert!(!widget.shows(Part::Panel).await, "still before the app");

    HostPage::release_the_app(&customer).await;
    widget.wait_for(Part::Panel).await;
    assert!(!widget.shows(Part::Shell).await, "taken over");
    assert_eq!(widget.text(Part::MerchantName).await, "Northwind Outfitters");
    widget.wait_text(Part::QueueStatus, "next in line").await;
    assert_eq!(widget.draft().await, "Where is my parcel?", "what was typed is in the composer");
}

/// A question typed into the shell and sent with Enter before the app has arrived is asked of
/// the bot once it runs: nothing typed is lost, and nobody had to press a button.
#[tokio::test]
async fn a_question_sent_in_the_shell_is_answered_by_the_bot_once_the_app_runs() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let widget = shell_before_the_app(&server, &browser).await;
    widget.fill(Part::ShellInput, "can I split my payment?").await;
    widget.press(Key::Enter).await;
    assert!(!widget.shows(Part::Panel).await, "before the app");
    HostPage::release_the_app(&browser).await;

    let answer = widget.text(Part::BotAnswer).await;
    assert!(answer.to_lowercase().contains("split"), "{answer}");
    assert!(!widget.shows(Part::Shell).await, "taken over");
    assert_eq!(widget.draft().await, "", "sent, not left in the composer");
}

#[tokio::test]
async fn pointer_click_opens_the_panel_with_the_human_button() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    HostPage::open(&browser, &server.demo_url()).await;
    let widget = Widget::inline(&browser);
    widget.click_launcher_with_the_pointer().await;

    let (displayed, text) = widget.human_button_as_displayed().await;
    assert!(displayed);
    assert_eq!(text, "Talk to a human");
}

#[tokio::test]
async fn failed_app_load_still_offers_a_person() {
    // A widget directory with the loader but not the app: the import fails.
    let broken = tempfile::tempdir().expect("temp dir");
    std::fs::copy(widget_dist().join("tandem.js"), broken.path().join("tandem.js")).expect("copy loader");
    let server = TestServer::start(broken.path()).await;
    let browser = Browser::start().await;
    let widget = Widget::open_on(&browser, &server.demo_url()).await;

    let fallback = widget.fallback_link().await;
    assert_eq!(fallback["href"], json!(server.api_url("/contact/demo")));
    assert!(fallback["text"].as_str().is_some_and(|text| text.contains("contact a person")), "{fallback}");

    // The page it leads to names a way to reach a person.
    let contact = HostPage::open(&browser, &server.api_url("/contact/demo")).await;
    assert_eq!(contact.mail_link().await, json!("mailto:support@northwind.example"));
}

#[tokio::test]
async fn loader_without_merchant_warns_once_and_renders_nothing() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let page = HostPage::open(&browser, &server.api_url("/healthz")).await;
    let outcome = page.add_loader(&server.api_url("/widget/tandem.js"), json!({})).await;
    assert_eq!(outcome["element"], json!(false), "{outcome}");
    let warnings = outcome["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{outcome}");
    assert!(warnings[0].as_str().is_some_and(|w| w.contains("data-merchant")), "{outcome}");
}
