//! Server-rendered HTML pages: the hosted contact page and the demo checkout page.

use axum::extract::{Path, State};
use axum::response::Html;

use crate::AppState;
use crate::api::find_merchant;
use crate::error::AppError;

const CONTACT_TEMPLATE: &str = include_str!("../assets/contact.html");
const DEMO_CHECKOUT_TEMPLATE: &str = include_str!("../assets/demo-checkout.html");

/// `GET /contact/{merchant}`: where the widget sends a customer when the chat itself cannot
/// load (blocked script, failed download), so that a person is always reachable.
pub(crate) async fn contact(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> Result<Html<String>, AppError> {
    let merchant = find_merchant(&state, &raw_id).await?;
    let contact = match &merchant.support_email {
        Some(email) => format!(
            "<p>Email <a href=\"mailto:{0}\">{0}</a> and a person will answer.</p>",
            escape_html(email)
        ),
        None => "<p>Please use the contact details on the merchant's website.</p>".to_owned(),
    };
    Ok(Html(
        CONTACT_TEMPLATE
            .replace("{{NAME}}", &escape_html(&merchant.display_name))
            .replace("{{CONTACT}}", &contact),
    ))
}

/// The demo checkout page, embedding the widget from `widget_script_url` with one tag.
pub(crate) fn demo_checkout(widget_script_url: &str) -> String {
    DEMO_CHECKOUT_TEMPLATE.replace("{{WIDGET_SCRIPT_URL}}", &escape_html(widget_script_url))
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape_html(text: &str) -> String {
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
    fn escapes_markup() {
        assert_eq!(
            escape_html(r#"<img src=x onerror="a('b')">&"#),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        );
    }

    #[test]
    fn demo_page_embeds_the_widget_with_one_tag() {
        let page = demo_checkout("http://127.0.0.1:9/widget/tandem.js");
        assert_eq!(page.matches("<script").count(), 1);
        assert!(page.contains(
            r#"<script src="http://127.0.0.1:9/widget/tandem.js" data-merchant="demo" async></script>"#
        ));
    }
}
