//! Server-rendered HTML pages: the hosted contact page and the demo checkout page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::AppState;
use crate::csp::Ancestors;
use crate::error::AppError;
use crate::extract::find_merchant;
use crate::store::Merchant;
use crate::widget::page_response;

const CONTACT_TEMPLATE: &str = include_str!("../assets/contact.html");
const DEMO_CHECKOUT_TEMPLATE: &str = include_str!("../assets/demo-checkout.html");
const STRICT_CHECKOUT_TEMPLATE: &str = include_str!("../assets/strict-checkout.html");
const CHECKOUT_BODY: &str = include_str!("../assets/checkout-body.html");
/// The demo checkout's layout, for both demo pages.
pub(crate) const CHECKOUT_CSS: &str = include_str!("../assets/checkout.css");
/// Lists the strict page's policy violations.
pub(crate) const VIOLATIONS_JS: &str = include_str!("../assets/violations.js");
/// The demo shop's `Tandem.setContext` of its cart.
pub(crate) const CART_JS: &str = include_str!("../assets/cart.js");
const THEME_TEMPLATE: &str = include_str!("../assets/theme-demo.html");
const GALLERY_TEMPLATE: &str = include_str!("../assets/themes.html");

/// A theme of the gallery: what a designer writes, and the page around it.
pub struct Theme {
    pub slug: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Options on the script tag (`data-theme`, `data-position`, `data-label`).
    pub script_attributes: &'static str,
    pub css: &'static str,
    pub page_background: &'static str,
    pub page_text: &'static str,
}

/// Three deliberately different themes, built only from the theming contract.
pub const THEMES: [Theme; 3] = [
    Theme {
        slug: "forest",
        name: "Forest",
        description: "A serif, square-cornered shop: green accent, sharp corners, launcher on the left.",
        script_attributes: r#"data-position="left" data-label="Ask Forest""#,
        css: "tandem-chat {
  --tandem-accent: #0b5d3b;
  --tandem-surface: #fbfaf5;
  --tandem-bubble: #e6efe8;
  --tandem-link: #0b5d3b;
  --tandem-radius: 2px;
  --tandem-font: Georgia, \"Times New Roman\", serif;
}
tandem-chat::part(human-button) { border-radius: 2px; }",
        page_background: "#f3f1e8",
        page_text: "#1f2a22",
    },
    Theme {
        slug: "midnight",
        name: "Midnight",
        description: "Dark whatever the visitor's system says, with a gold accent.",
        script_attributes: r#"data-theme="dark""#,
        css: "tandem-chat {
  --tandem-accent: #f5c542;
  --tandem-on-accent: #1a1400;
  --tandem-surface: #0f1319;
  --tandem-bubble: #1e2530;
  --tandem-link: #f5c542;
  --tandem-focus-inner: #f5c542;
}",
        page_background: "#05070a",
        page_text: "#e8eaed",
    },
    Theme {
        slug: "candy",
        name: "Candy",
        description: "Round and playful: magenta accent, pill-shaped panel corners, a bolder header.",
        script_attributes: "",
        css: "tandem-chat {
  --tandem-accent: #b0105a;
  --tandem-bubble: #fde4ee;
  --tandem-link: #b0105a;
  --tandem-radius: 24px;
  --tandem-offset-y: 32px;
}
tandem-chat::part(header) { padding-block: 18px; }
tandem-chat::part(launcher) { box-shadow: 0 6px 20px rgba(176, 16, 90, 0.45); }",
        page_background: "#fff6fa",
        page_text: "#3a0d22",
    },
];

/// A demo page in one of the gallery's themes, with the panel opened through the JS API.
pub(crate) fn theme_page(widget_script_url: &str, slug: &str) -> Option<String> {
    let theme = THEMES.iter().find(|theme| theme.slug == slug)?;
    Some(
        THEME_TEMPLATE
            .replace("{{THEME_CSS_TEXT}}", &escape_html(theme.css))
            .replace("{{THEME_CSS}}", theme.css)
            .replace("{{NAME}}", theme.name)
            .replace("{{DESCRIPTION}}", theme.description)
            .replace("{{PAGE_BACKGROUND}}", theme.page_background)
            .replace("{{PAGE_TEXT}}", theme.page_text)
            .replace("{{SCRIPT_ATTRIBUTES}}", theme.script_attributes)
            .replace("{{WIDGET_SCRIPT_URL}}", &escape_html(widget_script_url)),
    )
}

/// The gallery: each theme in its own frame (one widget per page).
pub(crate) fn theme_gallery() -> String {
    let frames: String = THEMES
        .iter()
        .map(|theme| {
            format!(
                "<figure><figcaption>{0}</figcaption><iframe src=\"/themes/{1}\" title=\"{0} theme\" data-testid=\"theme-{1}\"></iframe></figure>\n",
                theme.name, theme.slug
            )
        })
        .collect();
    GALLERY_TEMPLATE.replace("{{FRAMES}}", &frames)
}

/// `GET /contact/{merchant}`: where the widget sends a customer when the chat itself cannot
/// load (blocked script, failed download), so that a person is always reachable.
#[utoipa::path(
    get,
    path = "/contact/{id}",
    tag = "customer",
    params(("id" = String, Path, description = "The merchant's id, e.g. `demo`")),
    responses((status = 200, description = "The merchant's contact page, for a customer whose widget cannot load", body = String, content_type = "text/html"))
)]
pub(crate) async fn contact(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> Result<Response, AppError> {
    let merchant = find_merchant(&state, &raw_id).await?;
    Ok(page_response(StatusCode::OK, contact_page(&merchant), false, &Ancestors::None))
}

/// The contact page's HTML: the merchant's support email, or a pointer to their website.
pub(crate) fn contact_page(merchant: &Merchant) -> String {
    let contact = match &merchant.support_email {
        Some(email) => format!(
            "<p>Email <a href=\"mailto:{0}\">{0}</a> and a person will answer.</p>",
            escape_html(email)
        ),
        None => "<p>Please use the contact details on the merchant's website.</p>".to_owned(),
    };
    CONTACT_TEMPLATE
        .replace("{{NAME}}", &escape_html(&merchant.display_name))
        .replace("{{CONTACT}}", &contact)
}

/// The demo checkout page, embedding the widget from `widget_script_url` with one tag.
pub(crate) fn demo_checkout(widget_script_url: &str) -> String {
    DEMO_CHECKOUT_TEMPLATE
        .replace("{{BODY}}", CHECKOUT_BODY)
        .replace("{{WIDGET_SCRIPT_URL}}", &escape_html(widget_script_url))
}

/// What a strict demo page's policy allows of Tandem's origin besides its scripts and
/// connections (docs/embedding.md): never `style-src`, never anything inline.
#[derive(Clone, Copy)]
pub(crate) enum Strict {
    /// Frames from it, and no WebAssembly: frame mode.
    Frames,
    /// Neither: the fallback link to a person.
    Nothing,
    /// WebAssembly (`'wasm-unsafe-eval'`) and no frames: the chat in the page.
    Wasm,
}

/// The demo checkout under the policy of a strict payment page, which allows Tandem's origin
/// where the embedding guide asks (see [`Strict`]) and refuses everything inline. Returns the
/// page and its policy.
pub(crate) fn strict_checkout(widget_script_url: &str, allows: Strict) -> (String, String) {
    let tandem = widget_script_url.split("/widget/").next().unwrap_or_default();
    let (wasm, frames) = match allows {
        Strict::Frames => ("", format!("frame-src {tandem}; ")),
        Strict::Nothing => ("", String::new()),
        Strict::Wasm => (" 'wasm-unsafe-eval'", String::new()),
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' {tandem}{wasm}; style-src 'self'; \
         connect-src 'self' {tandem}; {frames}img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'"
    );
    let page = STRICT_CHECKOUT_TEMPLATE
        .replace("{{BODY}}", CHECKOUT_BODY)
        .replace("{{POLICY}}", &escape_html(&policy))
        .replace("{{WIDGET_SCRIPT_URL}}", &escape_html(widget_script_url));
    (page, policy)
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_pages_exist_for_the_gallery_only() {
        for theme in &THEMES {
            let page = theme_page("https://tandem.example/widget/tandem.js", theme.slug).expect("page");
            assert!(page.contains(theme.css) && page.contains("Tandem.open()"));
            assert!(theme_gallery().contains(&format!("/themes/{}", theme.slug)));
        }
        assert!(theme_page("https://tandem.example/widget/tandem.js", "../etc").is_none());
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html(r#"<img src=x onerror="a('b')">&"#),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        );
    }

    #[test]
    fn demo_page_embeds_the_widget_with_one_tag() {
        let page = demo_checkout("http://127.0.0.1:9/widget/tandem.js");
        assert_eq!(page.matches("tandem.js").count(), 1, "one tag for Tandem");
        assert_eq!(page.matches("<script").count(), 2, "and the shop's own script that sets its cart");
        assert!(page.contains(
            r#"<script src="http://127.0.0.1:9/widget/tandem.js" data-merchant="demo" async></script>"#
        ));
        assert!(page.contains("Your cart") && page.contains(r#"href="/strict""#));
    }

    #[test]
    fn strict_page_runs_nothing_inline_and_allows_tandem_where_the_guide_asks() {
        let (page, policy) = strict_checkout("http://127.0.0.1:9/widget/tandem.js", Strict::Frames);
        assert!(!page.contains("<style") && !page.contains("style="));
        assert!(
            ["onsubmit=", "onclick=", "onload=", "javascript:"].iter().all(|inline| !page.contains(inline))
        );
        assert_eq!(page.matches("<script").count(), 3, "the violations list, the one tag and the cart");
        assert!(policy.contains("style-src 'self';"), "no styles from Tandem: {policy}");
        for directive in ["script-src", "connect-src", "frame-src"] {
            assert!(
                policy.contains(&format!("{directive} 'self' http://127.0.0.1:9;"))
                    || policy.contains(&format!("{directive} http://127.0.0.1:9;")),
                "{policy}"
            );
        }
        assert!(!policy.contains("unsafe") && !policy.contains("wasm"));
        assert!(
            !strict_checkout("http://127.0.0.1:9/widget/tandem.js", Strict::Nothing).1.contains("frame-src")
        );
        let (_, wasm) = strict_checkout("http://127.0.0.1:9/widget/tandem.js", Strict::Wasm);
        assert!(
            wasm.contains("script-src 'self' http://127.0.0.1:9 'wasm-unsafe-eval';")
                && !wasm.contains("frame-src")
        );
    }
}
