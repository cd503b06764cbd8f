//! Download-size budgets, in bytes after brotli (what browsers fetch). The one place they live:
//! `cargo xtask size` and `cargo xtask test` fail when a build goes over.

/// The loader every page with the widget pays for at load time.
pub const LOADER_BROTLI: u64 = 3 * 1024;
/// Everything fetched once the customer opens the widget: loader, app JS, wasm and CSS.
///
/// History: 150 KB at first; 160 KB when the bot engine moved into the browser (+36 KB: 119 →
/// 155 KB); 192 KB with the full customer experience (+33 KB: the details, leave-a-message and
/// rating states, three language catalogues and the page's JS API). Bringing it down is open
/// work, and `cargo xtask size` shows where to look: serde's code for internally tagged enums
/// (deserialising `CustomerEvent` alone is 25 KB of code), float formatting (11 KB), and the
/// rendering code Leptos generates per view.
pub const OPENED_TOTAL_BROTLI: u64 = 192 * 1024;
