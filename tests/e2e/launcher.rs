//! A customer on the demo checkout page: the launcher costs nothing until they show intent,
//! then opens the panel with "Talk to a human", by mouse or keyboard, whatever the page's CSS.

use crate::support::{Browser, TestServer, eventually, widget_dist};
use fantoccini::key::Key;
use serde_json::{Value, json};

/// Names of every resource the page fetched so far.
async fn fetched(browser: &Browser) -> Vec<String> {
    let names = browser.js("return performance.getEntriesByType('resource').map(e => e.name)", vec![]).await;
    serde_json::from_value(names).expect("resource names")
}

async fn widget_query(browser: &Browser, script: &str) -> Option<Value> {
    let value = browser.in_widget(script).await;
    (!value.is_null()).then_some(value)
}

async fn style(browser: &Browser, selector: &str, property: &str) -> String {
    browser.widget_style(selector, property).await
}

#[tokio::test]
async fn customer_opens_the_launcher_by_keyboard_and_reaches_the_human_button() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.demo_url()).await.expect("open demo page");

    // The loader draws the launcher at once…
    eventually("the launcher", || {
        widget_query(&browser, "return root.querySelector('[data-testid=launcher]') && true")
    })
    .await;
    // …and nothing else is fetched or stored before the customer shows intent.
    let from_tandem: Vec<String> =
        fetched(&browser).await.into_iter().filter(|name| name.starts_with(&server.api_url("/"))).collect();
    assert_eq!(from_tandem, [server.api_url("/widget/tandem.js")], "only the loader at page load");
    let stored = browser
        .js("return localStorage.length + sessionStorage.length + document.cookie.length", vec![])
        .await;
    assert_eq!(stored, json!(0), "nothing stored at page load");

    // The page's hostile CSS does not reach the launcher.
    assert_eq!(style(&browser, "[data-testid=launcher]", "backgroundColor").await, "rgb(31, 79, 209)");
    assert!(!style(&browser, "[data-testid=launcher]", "fontFamily").await.contains("Comic"));
    let host_opacity =
        browser.js("return getComputedStyle(document.querySelector('tandem-chat')).opacity", vec![]).await;
    assert_eq!(host_opacity, json!("1"));

    // Keyboard only: Tab through the checkout form until the launcher has focus.
    eventually("the launcher to take keyboard focus", || async {
        let focused = widget_query(
            &browser,
            "return document.activeElement === host && root.activeElement \
                    && root.activeElement.dataset.testid === 'launcher' || null",
        )
        .await;
        if focused.is_none() {
            browser.press(Key::Tab).await;
        }
        focused
    })
    .await;
    browser.press(Key::Enter).await;

    // The panel shows the merchant's name and the human button, focused for the keyboard.
    eventually("the panel", || {
        widget_query(&browser, "return root.querySelector('[data-testid=panel]') && true")
    })
    .await;
    let name =
        browser.in_widget("return root.querySelector('[data-testid=merchant-name]').textContent").await;
    assert_eq!(name, json!("Northwind Outfitters"));
    let human = browser
        .in_widget(
            "const b = root.querySelector('[data-testid=human-button]'); const r = b.getBoundingClientRect(); \
             return { text: b.textContent, focused: root.activeElement === b, \
                      visible: r.width > 0 && r.height > 0 && r.bottom <= innerHeight && r.right <= innerWidth \
                               && getComputedStyle(b).visibility === 'visible' }",
        )
        .await;
    assert_eq!(human, json!({ "text": "Talk to a human", "focused": true, "visible": true }));

    // The app was fetched only now, after intent.
    let after = fetched(&browser).await;
    assert!(
        after.iter().any(|name| name.contains("/widget/tandem-widget-") && name.ends_with("_bg.wasm")),
        "{after:?}"
    );

    // The page's `button{background:red!important}` and friends changed nothing inside.
    assert_eq!(style(&browser, "[data-testid=human-button]", "backgroundColor").await, "rgb(255, 255, 255)");
    assert_eq!(style(&browser, "[data-testid=human-button]", "color").await, "rgb(31, 79, 209)");
    assert_eq!(style(&browser, "[data-testid=human-button]", "letterSpacing").await, "normal");
    assert_ne!(style(&browser, "[data-testid=human-button]", "borderTopStyle").await, "dashed");
    assert!(style(&browser, "[data-testid=panel]", "fontFamily").await.contains("system-ui"));
    assert_eq!(style(&browser, "[data-testid=panel]", "display").await, "flex");
    let shot = browser.screenshot("launcher-open.png").await;
    assert!(std::fs::metadata(&shot).expect("screenshot").len() > 0);

    // Enter on the human button asks for a person. Nobody is online in this test, so the
    // customer is offered to leave a message, and the keyboard lands in its first field.
    browser.press(Key::Enter).await;
    eventually("the leave-a-message form", || {
        widget_query(
            &browser,
            "return root.querySelector('[data-testid=leave-message-form]') \
                    && root.activeElement && root.activeElement.dataset.testid === 'leave-message-email' || null",
        )
    })
    .await;

    // Escape closes the panel and gives focus back to the launcher.
    browser.press(Key::Escape).await;
    eventually("the panel to close", || {
        widget_query(
            &browser,
            "return !root.querySelector('[data-testid=panel]') \
                    && root.activeElement && root.activeElement.dataset.testid === 'launcher' || null",
        )
    })
    .await;
}

#[tokio::test]
async fn pointer_click_opens_the_panel_with_the_human_button() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.demo_url()).await.expect("open demo page");
    let host = browser.client.find(fantoccini::Locator::Css("tandem-chat")).await.expect("host element");
    let shadow = host.shadow_root().await.expect("shadow root");
    let launcher = shadow.find(fantoccini::Locator::Css("[data-testid=launcher]")).await.expect("launcher");
    launcher.click().await.expect("click launcher");

    let human = eventually("the human button", || {
        let shadow = shadow.clone();
        async move { shadow.find(fantoccini::Locator::Css("[data-testid=human-button]")).await.ok() }
    })
    .await;
    assert!(human.is_displayed().await.expect("displayed"));
    assert_eq!(human.text().await.expect("text"), "Talk to a human");
}

#[tokio::test]
async fn failed_app_load_still_offers_a_person() {
    // A widget directory with the loader but not the app: the import fails.
    let broken = tempfile::tempdir().expect("temp dir");
    std::fs::copy(widget_dist().join("tandem.js"), broken.path().join("tandem.js")).expect("copy loader");
    let server = TestServer::start(broken.path()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.demo_url()).await.expect("open demo page");
    eventually("the launcher", || {
        widget_query(&browser, "return root.querySelector('[data-testid=launcher]') && true")
    })
    .await;
    browser.in_widget("root.querySelector('[data-testid=launcher]').click(); return true").await;

    let fallback = eventually("the fallback link", || {
        widget_query(
            &browser,
            "const a = root.querySelector('[data-testid=launcher-fallback]'); \
             return a && { href: a.href, text: a.textContent }",
        )
    })
    .await;
    assert_eq!(fallback["href"], json!(server.api_url("/contact/demo")));
    assert!(fallback["text"].as_str().is_some_and(|text| text.contains("contact a person")), "{fallback}");

    // The page it leads to names a way to reach a person.
    browser.client.goto(&server.api_url("/contact/demo")).await.expect("open contact page");
    let link =
        browser.js("const a = document.querySelector('a[href^=mailto]'); return a && a.href", vec![]).await;
    assert_eq!(link, json!("mailto:support@northwind.example"));
}

#[tokio::test]
async fn loader_without_merchant_warns_once_and_renders_nothing() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.api_url("/healthz")).await.expect("open a plain page");
    let outcome = browser.add_loader(&server.api_url("/widget/tandem.js"), json!({})).await;
    assert_eq!(outcome["element"], json!(false), "{outcome}");
    let warnings = outcome["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{outcome}");
    assert!(warnings[0].as_str().is_some_and(|w| w.contains("data-merchant")), "{outcome}");
}
