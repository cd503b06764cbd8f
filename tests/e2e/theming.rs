//! The theming contract from the host page's side (custom properties on `tandem-chat`,
//! `::part()`, the theme and position options), its contrast warning, right-to-left layout,
//! phones, and the theme gallery — checked through computed styles in headless Chromium.

use crate::support::{Browser, TestServer, eventually, widget_dist};
use serde_json::{Value, json};

/// A designer's stylesheet, added to the demo checkout page's own.
const THEME: &str = "
    const style = document.createElement('style');
    style.textContent = `
      tandem-chat { --tandem-accent: #0b5d3b; --tandem-surface: #fbfaf5; --tandem-radius: 3px; }
      tandem-chat::part(human-button) { border-radius: 3px; }
      tandem-chat::part(title) { font-style: italic; }`;
    document.head.append(style);";

/// Waits until the panel's stylesheet has applied (the panel has its surface colour).
async fn styled_panel(browser: &Browser) {
    eventually("the styled panel", || async {
        let background = browser.widget_style("[data-testid=panel]", "backgroundColor").await;
        (!background.is_empty() && background != "rgba(0, 0, 0, 0)").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_theme_set_on_the_host_page_reaches_inside_the_shadow_root() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.demo_url()).await.expect("open demo page");
    browser.js(THEME, vec![]).await;
    browser.js("document.querySelector('tandem-chat').setAttribute('position', 'left')", vec![]).await;
    browser.open_widget().await;
    styled_panel(&browser).await;

    let accent = "rgb(11, 93, 59)";
    assert_eq!(browser.widget_style("[data-testid=panel] .header", "backgroundColor").await, accent);
    assert_eq!(browser.widget_style("[data-testid=human-button]", "color").await, accent);
    assert_eq!(browser.widget_style("[data-testid=launcher]", "backgroundColor").await, accent);
    assert_eq!(browser.widget_style("[data-testid=panel]", "backgroundColor").await, "rgb(251, 250, 245)");
    assert_eq!(browser.widget_style("[data-testid=panel]", "borderTopLeftRadius").await, "3px");
    assert_eq!(
        browser.widget_style("[data-testid=human-button]", "borderTopLeftRadius").await,
        "3px",
        "::part"
    );
    assert_eq!(
        browser.widget_style("[data-testid=merchant-name]", "fontStyle").await,
        "italic",
        "::part(title)"
    );
    // position="left": launcher and panel sit on the left.
    let left = browser
        .in_widget(
            "return [root.querySelector('[data-testid=launcher]'), root.querySelector('[data-testid=panel]')] \
             .map(e => e.getBoundingClientRect().left)",
        )
        .await;
    assert_eq!(left, json!([20, 20]), "launcher and panel at the left offset");
    browser.screenshot("theme-from-host-page.png").await;

    // theme="dark" switches the defaults the page did not override.
    browser.js("document.querySelector('tandem-chat').setAttribute('theme', 'dark')", vec![]).await;
    assert_eq!(browser.widget_style("[data-testid=messages]", "color").await, "rgb(232, 234, 237)");
    assert_eq!(
        browser.widget_style("[data-testid=panel]", "backgroundColor").await,
        "rgb(251, 250, 245)",
        "the page's own --tandem-surface still wins"
    );
    browser.screenshot("theme-from-host-page-dark.png").await;
}

#[tokio::test]
async fn a_theme_below_aa_contrast_is_reported_in_the_console() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.demo_url()).await.expect("open demo page");
    browser
        .js(
            "window.warnings = [];
             const warn = console.warn;
             console.warn = function (m) { warnings.push(String(m)); warn.apply(console, arguments); };
             const style = document.createElement('style');
             style.textContent = 'tandem-chat { --tandem-accent: #ffd84d; --tandem-on-accent: #ffffff; }';
             document.head.append(style);",
            vec![],
        )
        .await;
    browser.open_widget().await;
    let warnings = eventually("the contrast warning", || async {
        let warnings: Vec<String> =
            serde_json::from_value(browser.js("return window.warnings", vec![]).await).unwrap_or_default();
        let contrast: Vec<String> = warnings.into_iter().filter(|w| w.contains("contrast")).collect();
        (!contrast.is_empty()).then_some(contrast)
    })
    .await;
    assert!(warnings[0].contains("--tandem-on-accent") && warnings[0].contains("4.5:1"), "{warnings:?}");
}

#[tokio::test]
async fn the_default_theme_raises_no_contrast_warning_and_dark_follows_the_system() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.demo_url()).await.expect("open demo page");
    browser
        .js(
            "window.warnings = []; const warn = console.warn;
             console.warn = function (m) { warnings.push(String(m)); warn.apply(console, arguments); };",
            vec![],
        )
        .await;
    browser.open_widget().await;
    styled_panel(&browser).await;
    assert_eq!(browser.widget_style("[data-testid=panel]", "backgroundColor").await, "rgb(255, 255, 255)");
    let warnings = browser.js("return window.warnings.filter(w => w.includes('contrast'))", vec![]).await;
    assert_eq!(warnings, json!([]));
}

#[tokio::test]
async fn right_to_left_layout_mirrors_the_conversation() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.demo_url()).await.expect("open demo page");
    browser.js("document.documentElement.lang = 'ar-XB'", vec![]).await;
    browser.open_widget().await;
    styled_panel(&browser).await;
    let dir = browser.in_widget("return root.querySelector('.tandem').getAttribute('dir')").await;
    assert_eq!(dir, json!("rtl"));
    assert_eq!(browser.widget_style("[data-testid=messages]", "direction").await, "rtl");
    browser.type_in_widget("Can I split my payment?").await;
    let sides = eventually("a customer line and a bot line", || async {
        let sides = browser
            .in_widget(
                "const lines = [...root.querySelectorAll('[data-testid=bot-line]')]; \
                 if (lines.length < 2) return null; \
                 return lines.slice(0, 2).map(e => [e.dataset.from, e.getBoundingClientRect().left])",
            )
            .await;
        (!sides.is_null()).then_some(sides)
    })
    .await;
    let customer_left = sides[0][1].as_f64().expect("left");
    let bot_left = sides[1][1].as_f64().expect("left");
    assert_eq!(sides[0][0], json!("You"));
    assert!(customer_left < bot_left, "the customer's line sits at the start of an RTL line (left): {sides}");
    browser.screenshot("rtl.png").await;
}

#[tokio::test]
async fn on_a_phone_the_panel_is_full_screen_and_reflows_at_320_px() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    browser.client.set_window_size(320, 640).await.expect("phone size");
    browser.client.goto(&server.demo_url()).await.expect("open demo page");
    browser.open_widget().await;
    styled_panel(&browser).await;
    // Full screen once the opening animation has settled (within a pixel).
    eventually("the panel to fill the screen", || async {
        let filled = browser
            .in_widget(
                "const p = root.querySelector('[data-testid=panel]').getBoundingClientRect(); \
                 return Math.abs(p.left) < 1 && Math.abs(p.top) < 1 && Math.abs(p.width - innerWidth) < 1 || null",
            )
            .await;
        filled.as_bool()
    })
    .await;
    let no_scroll = browser
        .in_widget(
            "const m = root.querySelector('[data-testid=messages]'); return m.scrollWidth <= m.clientWidth",
        )
        .await;
    assert_eq!(no_scroll, Value::Bool(true), "no horizontal scrolling at 320 px");
    assert_eq!(
        browser.widget_style("[data-testid=composer-input]", "fontSize").await,
        "16px",
        "no zoom on focus"
    );
    let viewport = browser.in_widget("return host.style.getPropertyValue('--tandem-viewport-height')").await;
    assert!(viewport.as_str().is_some_and(|h| h.ends_with("px")), "follows visualViewport: {viewport}");
    browser.screenshot("phone-320.png").await;
}

#[tokio::test]
async fn the_gallery_shows_three_contrasting_themes() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let mut headers = Vec::new();
    for (slug, accent) in
        [("forest", "rgb(11, 93, 59)"), ("midnight", "rgb(245, 197, 66)"), ("candy", "rgb(176, 16, 90)")]
    {
        browser.client.goto(&format!("{}themes/{slug}", server.demo_url())).await.expect("theme page");
        styled_panel(&browser).await;
        let header = eventually("the themed header", || async {
            let header = browser.widget_style("[data-testid=panel] .header", "backgroundColor").await;
            (header == accent).then_some(header)
        })
        .await;
        headers.push(header);
        browser.screenshot(&format!("theme-{slug}.png")).await;
    }
    assert_eq!(headers.len(), 3);
    let surface = browser.widget_style("[data-testid=panel]", "borderTopLeftRadius").await;
    assert_eq!(surface, "24px", "candy's radius");

    browser.client.goto(&format!("{}themes", server.demo_url())).await.expect("gallery");
    let frames = browser.js("return document.querySelectorAll('iframe').length", vec![]).await;
    assert_eq!(frames, json!(3));
    browser.screenshot("theme-gallery.png").await;
}
