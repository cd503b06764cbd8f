//! The widget's stylesheet, compiled in (build.rs minifies style/widget.css) and adopted as a
//! constructable stylesheet when the app starts: opening the widget fetches no stylesheet, a
//! checkout page's `style-src` has nothing of ours to allow, and the panel is styled in the
//! very frame it first appears in.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::JsValue;

const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/widget.css"));

/// On a merchant's page, through the loader's `style` (its `adopt`, into its shadow root: a
/// `<style>` with the tag's nonce where a browser has no constructable stylesheets).
pub fn through_loader(style: &Function) {
    let _ = style.call1(&JsValue::NULL, &JsValue::from_str(CSS));
}

/// On our own pages (the full page and frame mode's frame), into the document.
pub fn into_document(document: &web_sys::Document) {
    let Ok(sheet) = web_sys::CssStyleSheet::new() else {
        web_sys::console::warn_1(&"Tandem: this browser has no constructable stylesheets".into());
        return;
    };
    let _ = sheet.replace_sync(CSS);
    let _ = Reflect::set(document, &JsValue::from_str("adoptedStyleSheets"), &Array::of1(&sheet));
}
