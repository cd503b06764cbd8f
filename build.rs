//! The widget's stylesheet (style/widget.css) is compiled into the app, which adopts it as a
//! constructable stylesheet (src/stylesheet.rs): no file to fetch on open, nothing for a page's
//! `style-src` to allow. Here it loses its comments and spare whitespace on the way in.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=style/widget.css");
    let source = std::fs::read_to_string("style/widget.css").expect("style/widget.css");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("widget.css");
    std::fs::write(out, minify(&source)).expect("write the minified stylesheet");
    // The split (`cargo xtask`, see src/live.rs) follows the linker's relocations to tell the
    // live chat's code from the rest.
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    if wasm && std::env::var_os("CARGO_FEATURE_LAZY").is_some() {
        println!("cargo:rustc-link-arg-bins=--emit-relocs");
    }
}

/// Drops comments and collapses whitespace, keeping the one space a descendant combinator or
/// a value (`calc(a - b)`, `0 12px`) needs. The sheet has no `/*` or `*/` inside strings.
fn minify(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(words.len());
    for c in words.chars() {
        // A space is spare before or after punctuation that ends or separates, and after a
        // colon (never before one: `a :hover` is not `a:hover`).
        if matches!(c, '{' | '}' | ';' | ',' | ')') && out.ends_with(' ') {
            out.pop();
        }
        if c == ' ' && (out.ends_with(['{', '}', ';', ',', ':', '(']) || out.is_empty()) {
            continue;
        }
        if c == '}' && out.ends_with(';') {
            out.pop();
        }
        out.push(c);
    }
    out
}
