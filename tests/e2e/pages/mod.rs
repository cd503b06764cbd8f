//! The page objects: what customers, agents and merchants see and do, in the words of the
//! product. Every selector and script the tests need lives here, below `support`'s plumbing.

mod console;
mod host;
mod widget;

pub use console::{ANNA, BEN, Console, Invitation};
pub use host::HostPage;
pub use widget::{Mode, Part, Widget};

/// A file as a file picker hands it over: `choose(input, name, base64, type)` puts it in the
/// file input and says it changed, as the browser does once the person picks one.
const CHOOSE_FILE: &str = "const choose = (input, name, b64, type) => { \
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0)); \
    const chosen = new DataTransfer(); chosen.items.add(new File([bytes], name, { type })); \
    input.files = chosen.files; input.dispatchEvent(new Event('change', { bubbles: true })); };";

/// The files a chat shows, found under `root`: each one's text, whether its picture is drawn
/// (loaded, with a width), and where its link leads.
const FILES_SHOWN: &str = "return [...root.querySelectorAll('[data-testid=file]')].map(e => { \
    const img = e.querySelector('img'); \
    return [e.textContent.trim(), !!img && img.complete && img.naturalWidth > 0, e.getAttribute('href') || '']; });";

/// `bytes` as base64, for [`CHOOSE_FILE`].
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A file shown in a chat: its text (name and size), whether its picture is drawn, and its link.
pub type ShownFile = (String, bool, String);
