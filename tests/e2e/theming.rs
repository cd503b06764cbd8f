//! The theming contract from the host page's side (custom properties on `tandem-chat`,
//! `::part()`, the theme and position options), its contrast warning, right-to-left layout,
//! phones, and the theme gallery — checked through computed styles in headless Chromium.

use crate::pages::{HostPage, Part, Widget};
use crate::support::{Browser, TestServer, eventually, widget_dist};
use serde_json::{Value, json};

/// A designer's stylesheet, added to the demo checkout page's own.
const THEME: &str = "
    tandem-chat { --tandem-accent: #0b5d3b; --tandem-surface: #fbfaf5; --tandem-radius: 3px; }
    tandem-chat::part(human-button) { border-radius: 3px; }
    tandem-chat::part(title) { font-style: italic; }";

/// Waits until the panel's stylesheet has applied (the panel has its surface colour).
async fn styled_panel(widget: &Widget<'_>) {
    eventually("the styled panel", || async {
        let background = widget.style(Part::Panel, "backgroundColor").await;
        (!background.is_empty() && background != "rgba(0, 0, 0, 0)").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_theme_set_on_the_host_page_reaches_inside_the_shadow_root() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let page = HostPage::open(&browser, &server.demo_url()).await;
    let widget = Widget::inline(&browser);
    page.add_stylesheet(THEME).await;
    page.set_widget_attribute("position", "left").await;
    widget.open().await;
    styled_panel(&widget).await;

    let accent = "rgb(11, 93, 59)";
    assert_eq!(widget.style(Part::Header, "backgroundColor").await, accent);
    assert_eq!(widget.style(Part::HumanButton, "color").await, accent);
    assert_eq!(widget.style(Part::Launcher, "backgroundColor").await, accent);
    assert_eq!(widget.style(Part::Panel, "backgroundColor").await, "rgb(251, 250, 245)");
    assert_eq!(widget.style(Part::Panel, "borderTopLeftRadius").await, "3px");
    assert_eq!(widget.style(Part::HumanButton, "borderTopLeftRadius").await, "3px", "::part");
    assert_eq!(widget.style(Part::MerchantName, "fontStyle").await, "italic", "::part(title)");
    // position="left": launcher and panel sit on the left.
    let left = json!([widget.left_edge(Part::Launcher).await, widget.left_edge(Part::Panel).await]);
    assert_eq!(left, json!([20, 20]), "launcher and panel at the left offset");
    browser.screenshot("theme-from-host-page.png").await;

    // theme="dark" switches the defaults the page did not override.
    page.set_widget_attribute("theme", "dark").await;
    assert_eq!(widget.style(Part::Messages, "color").await, "rgb(232, 234, 237)");
    assert_eq!(
        widget.style(Part::Panel, "backgroundColor").await,
        "rgb(251, 250, 245)",
        "the page's own --tandem-surface still wins"
    );
    browser.screenshot("theme-from-host-page-dark.png").await;
}

/// The page's console warnings that speak of contrast.
async fn contrast_warnings(page: &HostPage<'_>) -> Vec<String> {
    page.warnings().await.into_iter().filter(|w| w.contains("contrast")).collect()
}

#[tokio::test]
async fn a_theme_below_aa_contrast_is_reported_in_the_console() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let page = HostPage::open(&browser, &server.demo_url()).await;
    page.watch_warnings().await;
    page.add_stylesheet("tandem-chat { --tandem-accent: #ffd84d; --tandem-on-accent: #ffffff; }").await;
    Widget::inline(&browser).open().await;
    let warnings = eventually("the contrast warning", || async {
        Some(contrast_warnings(&page).await).filter(|contrast| !contrast.is_empty())
    })
    .await;
    assert!(warnings[0].contains("--tandem-on-accent") && warnings[0].contains("4.5:1"), "{warnings:?}");
}

#[tokio::test]
async fn the_default_theme_raises_no_contrast_warning_and_dark_follows_the_system() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let page = HostPage::open(&browser, &server.demo_url()).await;
    page.watch_warnings().await;
    let widget = Widget::inline(&browser);
    widget.open().await;
    styled_panel(&widget).await;
    assert_eq!(widget.style(Part::Panel, "backgroundColor").await, "rgb(255, 255, 255)");
    assert_eq!(contrast_warnings(&page).await, Vec::<String>::new());
}

#[tokio::test]
async fn right_to_left_layout_mirrors_the_conversation() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let page = HostPage::open(&browser, &server.demo_url()).await;
    page.set_language("ar-XB").await;
    let widget = Widget::inline(&browser);
    widget.open().await;
    styled_panel(&widget).await;
    assert_eq!(widget.direction().await, json!("rtl"));
    assert_eq!(widget.style(Part::Messages, "direction").await, "rtl");
    widget.send("Can I split my payment?").await;
    let sides = widget.first_two_lines_sides().await;
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
    let widget = Widget::open_on(&browser, &server.demo_url()).await;
    styled_panel(&widget).await;
    // Full screen once the opening animation has settled (within a pixel).
    eventually("the panel to fill the screen", || async { widget.fills_the_screen().await.then_some(()) })
        .await;
    assert_eq!(
        widget.fits_its_width(Part::Messages).await,
        Value::Bool(true),
        "no horizontal scrolling at 320 px"
    );
    assert_eq!(widget.style(Part::ComposerInput, "fontSize").await, "16px", "no zoom on focus");
    let viewport = widget.viewport_height().await;
    assert!(viewport.as_str().is_some_and(|h| h.ends_with("px")), "follows visualViewport: {viewport}");
    browser.screenshot("phone-320.png").await;
}

#[tokio::test]
async fn the_gallery_shows_three_contrasting_themes() {
    let server = TestServer::start(&widget_dist()).await;
    let browser = Browser::start().await;
    let widget = Widget::inline(&browser);
    let mut headers = Vec::new();
    for (slug, accent) in
        [("forest", "rgb(11, 93, 59)"), ("midnight", "rgb(245, 197, 66)"), ("candy", "rgb(176, 16, 90)")]
    {
        HostPage::open(&browser, &format!("{}themes/{slug}", server.demo_url())).await;
        styled_panel(&widget).await;
        let header = eventually("the themed header", || async {
            let header = widget.style(Part::Header, "backgroundColor").await;
            (header == accent).then_some(header)
        })
        .await;
        headers.push(header);
        browser.screenshot(&format!("theme-{slug}.png")).await;
    }
    assert_eq!(headers.len(), 3);
    let surface = widget.style(Part::Panel, "borderTopLeftRadius").await;
    assert_eq!(surface, "24px", "candy's radius");

    let gallery = HostPage::open(&browser, &format!("{}themes", server.demo_url())).await;
    assert_eq!(gallery.frames().await, json!(3));
    browser.screenshot("theme-gallery.png").await;
}
