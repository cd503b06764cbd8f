//! Content-Security-Policies for our own pages (the console, the widget's frame and full
//! page, the contact page) and the other headers they share.
//!
//! No policy allows `'unsafe-inline'`: the few inline blocks our pages have (Trunk's module
//! entry script, the contact page's small style) are allowed by their SHA-256 hash, computed
//! from the very bytes served, so editing a page cannot leave it broken or open.

use base64::Engine;
use sha2::{Digest, Sha256};

/// Who may frame a page: nobody, the listed origins, or anyone (a page with nothing to click
/// that could be abused).
pub enum Ancestors<'a> {
    None,
    Origins(&'a [String]),
    Any,
}

/// The policy for `html`: its own origin only, its inline blocks by hash, WebAssembly
/// compilation only when `wasm` (a page running our own wasm).
pub fn for_page(html: &str, wasm: bool, ancestors: &Ancestors<'_>) -> String {
    let scripts = hashes(html, "script");
    let styles = hashes(html, "style");
    let frame_ancestors = match ancestors {
        Ancestors::Origins(origins) if !origins.is_empty() => origins.join(" "),
        Ancestors::Any => "*".to_owned(),
        _ => "'none'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src 'self'{scripts}{wasm}; style-src 'self'{styles}; \
         connect-src 'self'; img-src 'self' data: blob:; font-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}",
        wasm = if wasm { " 'wasm-unsafe-eval'" } else { "" },
    )
}

/// `'sha256-…'` sources for each inline `<tag>` block (one without `src`) of `html`.
fn hashes(html: &str, tag: &str) -> String {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(head_end) = after.find('>') else { break };
        let Some(body_end) = after.find(&close) else { break };
        let (attributes, body) = (&after[..head_end], after.get(head_end + 1..body_end).unwrap_or(""));
        if !attributes.contains("src=") {
            let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
            out.push_str(&format!(" 'sha256-{digest}'"));
        }
        rest = &after[body_end + close.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_blocks_are_allowed_by_hash_and_nothing_else_is_inline() {
        let html = "<script type=module>go()</script><script src=/a.js></script><style>p{}</style>";
        let policy = for_page(html, true, &Ancestors::None);
        let hash = |body: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
        assert!(policy.contains(&format!("script-src 'self' 'sha256-{}' 'wasm-unsafe-eval';", hash("go()"))));
        assert!(policy.contains(&format!("style-src 'self' 'sha256-{}';", hash("p{}"))));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"));
    }

    #[test]
    fn frames_only_under_the_listed_origins() {
        let origins = vec!["https://shop.example".to_owned(), "https://www.shop.example".to_owned()];
        let policy = for_page("<p>", false, &Ancestors::Origins(&origins));
        assert!(policy.ends_with("frame-ancestors https://shop.example https://www.shop.example"));
        assert!(!policy.contains("wasm"));
        assert!(for_page("", false, &Ancestors::Origins(&[])).ends_with("frame-ancestors 'none'"));
    }
}
