//! Download-size budgets, in bytes after brotli (what browsers fetch). The one place they live:
//! `cargo xtask size` and `cargo xtask test` fail when a build goes over.

/// The loader every page with the widget pays for at load time.
pub const LOADER_BROTLI: u64 = 3 * 1024;
/// Everything fetched once the customer opens the widget: loader, app JS, wasm and CSS.
pub const OPENED_TOTAL_BROTLI: u64 = 150 * 1024;
