//! `cargo xtask size`: what the widget costs a customer, as the real server sends it (an HTTP
//! fetch per file with `Accept-Encoding: br`, then gzip, then none), against the budgets, and
//! which crates the wasm's code comes from (so a change that grows it can be traced).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::budgets;
use crate::publish;
use crate::run::Env;

/// What one file costs over the wire, per encoding the server offers.
struct Served {
    raw: u64,
    gzip: u64,
    brotli: u64,
}

/// Measures the published `dist/` as served by `server` (the `tandem` binary), both modes.
pub fn report(env: &Env, server: &Path) -> Result<(), String> {
    let app = publish::app_files(&env.root.join("dist"))?;
    let host = publish::frame_host(&env.root.join("dist"))?;
    let live = publish::live_file(&env.root.join("dist"))?;
    let running = RunningServer::start(env, server)?;
    let frame_page = format!("/widget/frame.html?merchant=demo&parent={}", running.demo_origin);
    let parts: [(&str, String); 6] = [
        ("loader", "/widget/tandem.js".to_owned()),
        ("app JS", format!("/widget/{}", app.js)),
        ("app wasm", format!("/widget/{}", app.wasm)),
        ("frame host", format!("/widget/{host}")),
        ("frame page", frame_page),
        ("live wasm", format!("/widget/{live}")),
    ];
    println!("{:<10} {:<44} {:>9} {:>9} {:>9}", "part", "path (as served)", "identity", "gzip", "brotli");
    let mut brotli = Vec::new();
    for (part, path) in &parts {
        let served = running.measure(path)?;
        let shown: String = path.chars().take(44).collect();
        println!("{part:<10} {shown:<44} {:>9} {:>9} {:>9}", served.raw, served.gzip, served.brotli);
        brotli.push(served.brotli);
    }
    // Frame mode fetches its script and the frame's page on top of the app (in the frame). The
    // live chat's wasm is fetched only once a person is asked for.
    let (loader, frame, live) = (brotli[0], brotli[3] + brotli[4], brotli[5]);
    let opened: u64 = brotli[..3].iter().sum();
    println!("{:<55} {:>29}", "opened total, in the page (brotli, as served)", opened);
    println!("{:<55} {:>29}", "opened total, frame mode (brotli, as served)", opened + frame);
    println!("{:<55} {:>29}", "then, once a person is asked for (the live wasm)", live);

    let mut over = Vec::new();
    if loader > budgets::LOADER_BROTLI {
        over.push(format!("loader {loader} B > {} B", budgets::LOADER_BROTLI));
    }
    if opened > budgets::OPENED_TOTAL_BROTLI {
        over.push(format!("opened total {opened} B > {} B", budgets::OPENED_TOTAL_BROTLI));
    }
    if live > budgets::LIVE_BROTLI {
        over.push(format!("live wasm {live} B > {} B", budgets::LIVE_BROTLI));
    }
    if frame > budgets::FRAME_MODE_EXTRA_BROTLI {
        over.push(format!("frame mode adds {frame} B > {} B", budgets::FRAME_MODE_EXTRA_BROTLI));
    }
    println!(
        "budgets (xtask/src/budgets.rs): loader ≤ {} B, opened total ≤ {} B, frame mode adds ≤ {} B, live wasm ≤ {} B, brotli as served",
        budgets::LOADER_BROTLI,
        budgets::OPENED_TOTAL_BROTLI,
        budgets::FRAME_MODE_EXTRA_BROTLI,
        budgets::LIVE_BROTLI
    );
    drop(running);
    let wasm_brotli = brotli[2];
    code_by_crate(
        &env.root.join("target/wasm32-unknown-unknown/wasm-release/tandem-widget.wasm"),
        wasm_brotli,
    )?;
    if over.is_empty() { Ok(()) } else { Err(format!("over budget: {}", over.join(", "))) }
}

/// `tandem serve --demo` on free loopback ports with a throwaway data directory; stopped on drop.
struct RunningServer {
    child: Child,
    origin: String,
    demo_origin: String,
    data: std::path::PathBuf,
}

impl RunningServer {
    fn start(env: &Env, server: &Path) -> Result<Self, String> {
        let data = std::env::temp_dir().join(format!("tandem-size-{}", std::process::id()));
        let mut child = Command::new(server)
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--demo-listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(&data)
            .arg("--widget-dir")
            .arg(env.root.join("dist"))
            .arg("--console-dir")
            .arg(env.root.join("console/dist"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {} ({e})", server.display()))?;
        let stdout = child.stdout.take().ok_or("the server has no stdout")?;
        let (mut origin, mut demo_origin) = (None, None);
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading the server's output: {e}"))?;
            let url = |prefix: &str| line.strip_prefix(prefix).map(|rest| rest.trim().to_owned());
            if let Some(console) = url("Agent console:") {
                origin = console.strip_suffix("/console/").map(str::to_owned);
            } else if let Some(demo) = url("Demo checkout:") {
                demo_origin = demo.strip_suffix('/').map(str::to_owned);
            } else if line.starts_with("Demo agents:") {
                break;
            }
        }
        match (origin, demo_origin) {
            (Some(origin), Some(demo_origin)) => Ok(Self { child, origin, demo_origin, data }),
            _ => {
                let _ = child.kill();
                Err(format!("{} did not print its addresses", server.display()))
            }
        }
    }

    fn measure(&self, path: &str) -> Result<Served, String> {
        let fetch = |encoding: &str| -> Result<u64, String> {
            let url = format!("{}{path}", self.origin);
            let mut response = ureq::get(&url)
                .header("Accept-Encoding", encoding)
                .call()
                .map_err(|e| format!("GET {url}: {e}"))?;
            let sent = response
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = response
                .body_mut()
                .with_config()
                .limit(16 << 20)
                .read_to_vec()
                .map_err(|e| format!("GET {url}: {e}"))?;
            // A compressible file sent without the encoding asked for is a serving defect.
            if encoding != "identity" && sent != encoding && body.len() > 1024 {
                return Err(format!("GET {url} with Accept-Encoding: {encoding} came back as {sent:?}"));
            }
            Ok(body.len() as u64)
        };
        Ok(Served { raw: fetch("identity")?, gzip: fetch("gzip")?, brotli: fetch("br")? })
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// Prints the wasm's function bodies grouped by the crate they come from.
///
/// The shipped wasm has no function names (wasm-opt drops them), so this reads the release
/// build cargo produced before wasm-bindgen and wasm-opt, whose name section is intact. A
/// generic function goes to the Tandem crate whose types it is instantiated with, if any: a
/// serde deserialiser for a bot flow is code the bot engine brings in. Inlining moves bytes
/// between crates, so the shares are estimates; the totals above are the measured truth.
fn code_by_crate(release_wasm: &std::path::Path, shipped_brotli: u64) -> Result<(), String> {
    let bytes = std::fs::read(release_wasm)
        .map_err(|error| format!("cannot read {} ({error})", release_wasm.display()))?;
    let (body_sizes, names) =
        function_sizes_and_names(&bytes).map_err(|error| format!("{}: {error}", release_wasm.display()))?;
    let mut by_crate: std::collections::BTreeMap<&'static str, u64> = std::collections::BTreeMap::new();
    let mut by_module: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for (index, size) in &body_sizes {
        let name = names.get(index).map_or("", String::as_str);
        // wasm-bindgen runs its type-description functions at build time and removes them.
        if name.starts_with("__wbindgen_describe") || name.contains("WasmDescribe") {
            continue;
        }
        let group = if name.is_empty() { "unnamed" } else { crate_group(name) };
        *by_crate.entry(group).or_default() += size;
        if group == WIDGET
            && let Some(module) = widget_module(name)
        {
            *by_module.entry(module).or_default() += size;
        }
    }
    let total: u64 = by_crate.values().sum();
    let mut rows: Vec<_> = by_crate.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1));
    println!();
    println!(
        "wasm code by crate (release build before wasm-opt, {total} B of function bodies kept by wasm-bindgen):"
    );
    for (group, size) in &rows {
        let share = percent(*size, total);
        println!("  {group:<34} {size:>9} B {share:>5.1} %");
    }
    print_widget_modules(by_module, total);
    let bot = rows.iter().find(|(group, _)| *group == BOT).map_or(0, |(_, size)| *size);
    // A lower bound: code the engine shares with the widget (strings, collections, its serde
    // instantiations through protocol types) is counted under those rows.
    println!(
        "bot engine: {:.1} % of the code, at least {} B of the {shipped_brotli} B wasm download (brotli)",
        percent(bot, total),
        (bot * shipped_brotli).checked_div(total).unwrap_or(0),
    );
    Ok(())
}

const BOT: &str = "bot engine (tandem-bot)";
const WIDGET: &str = "widget (tandem-widget, -browser)";
/// The paths of the crates in the widget's row.
const WIDGET_CRATES: [&str; 2] = ["tandem_widget::", "tandem_browser::"];

/// The widget's row by module, largest first: what a lazily loaded part (the live chat, say)
/// could take out of the first download is at most its modules' share.
fn print_widget_modules(by_module: std::collections::BTreeMap<&str, u64>, total: u64) {
    let mut rows: Vec<_> = by_module.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1));
    println!("  the widget's row by module (those with 1 % of the code or more):");
    for (module, size) in rows.iter().filter(|(_, size)| percent(*size, total) >= 1.0) {
        println!("    {module:<32} {size:>9} B {:>5.1} %", percent(*size, total));
    }
}

/// `crate::module` of the first widget path in a demangled name, for the widget's row.
fn widget_module(name: &str) -> Option<&str> {
    let start = WIDGET_CRATES.iter().filter_map(|krate| name.find(krate)).min()?;
    let path = &name[start..];
    let crate_end = path.find("::")? + 2;
    let module_len = path[crate_end..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(path.len() - crate_end);
    Some(&path[..crate_end + module_len])
}

#[allow(clippy::cast_precision_loss)] // byte counts far below 2^52
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

type FunctionNames = std::collections::HashMap<u32, String>;

/// Body size of every defined function (by function index) and the demangled names.
fn function_sizes_and_names(bytes: &[u8]) -> wasmparser::Result<(Vec<(u32, u64)>, FunctionNames)> {
    use wasmparser::{KnownCustom, Name, Payload, TypeRef};
    let mut imported_functions = 0u32;
    let mut sizes = Vec::new();
    let mut names = std::collections::HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    if matches!(import?.ty, TypeRef::Func(_)) {
                        imported_functions += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let index = imported_functions + u32::try_from(sizes.len()).unwrap_or(u32::MAX);
                sizes.push((index, body.range().len() as u64));
            }
            Payload::CustomSection(section) => {
                if let KnownCustom::Name(reader) = section.as_known() {
                    for subsection in reader {
                        if let Name::Function(map) = subsection? {
                            for naming in map {
                                let naming = naming?;
                                names.insert(
                                    naming.index,
                                    format!("{:#}", rustc_demangle::demangle(naming.name)),
                                );
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok((sizes, names))
}

/// The row a demangled function name is counted under.
fn crate_group(name: &str) -> &'static str {
    // Our crates first: a generic instantiated with a Tandem type is that crate's cost.
    if name.contains("tandem_bot::") {
        return BOT;
    }
    if WIDGET_CRATES.iter().any(|krate| name.contains(krate)) || name == "main" {
        return WIDGET;
    }
    if name.contains("tandem_protocol::") {
        return "protocol (tandem-protocol)";
    }
    match owning_crate(name) {
        "leptos" | "leptos_dom" | "reactive_graph" | "tachys" | "any_spawner" | "or_poisoned"
        | "throw_error" | "send_wrapper" | "slotmap" | "oco_ref" | "guardian" => {
            "Leptos and its reactive system"
        }
        "serde" | "serde_core" | "serde_json" | "serde_wasm_bindgen" => "serde",
        "wasm_bindgen"
        | "wasm_bindgen_futures"
        | "js_sys"
        | "web_sys"
        | "gloo_net"
        | "gloo_utils"
        | "gloo_timers"
        | "glue" => "wasm-bindgen, js-sys, web-sys, gloo",
        "core" | "alloc" | "std" | "hashbrown" | "indexmap" | "dlmalloc" | "compiler_builtins"
        | "__rustc" | "primitive" => "Rust core, alloc, std",
        _ => "other",
    }
}

/// The crate a function is accounted to: its path's first segment; for a trait method
/// (`<Type as Trait>::method`) the type's crate, or the trait's when the type is a generic
/// parameter or a primitive. wasm-bindgen's exported glue is named by prefix (`__wbg_…`).
fn owning_crate(name: &str) -> &str {
    const GLUE: [&str; 4] = ["__wbg", "__wbindgen", "__externref", "intounderlying"];
    if GLUE.iter().any(|prefix| name.starts_with(prefix)) {
        return "glue";
    }
    let path = match name.strip_prefix('<') {
        Some(rest) => match rest.split_once(" as ") {
            Some((self_type, _)) if self_type.contains("::") => self_type,
            Some((_, trait_path)) => trait_path,
            None => rest,
        },
        None => name,
    };
    let path = path
        .trim_start_matches(['&', '*', '<', '(', '['])
        .trim_start_matches("mut ")
        .trim_start_matches("dyn ");
    let first = path.split([':', '<', ' ', '>', ',', ')', ']', '.']).next().unwrap_or_default();
    let integer = first.len() > 1
        && first.starts_with(['u', 'i'])
        && (first[1..].bytes().all(|byte| byte.is_ascii_digit()) || &first[1..] == "size");
    if integer || matches!(first, "char" | "str" | "bool" | "f32" | "f64") { "primitive" } else { first }
}

#[cfg(test)]
mod tests {
    use super::{BOT, crate_group, widget_module};

    #[test]
    fn widget_code_is_counted_under_its_first_module() {
        let cases = [
            ("tandem_widget::handoff::Handoff::start", Some("tandem_widget::handoff")),
            ("core::ptr::drop_in_place<tandem_browser::socket::Connection>", Some("tandem_browser::socket")),
            ("<tandem_widget::Layout as core::fmt::Debug>::fmt", Some("tandem_widget::Layout")),
            ("tandem_bot::matcher::Index::rank", None),
        ];
        for (name, module) in cases {
            assert_eq!(widget_module(name), module, "{name}");
        }
    }

    #[test]
    fn functions_are_counted_under_the_crate_that_brings_them_in() {
        let cases = [
            ("tandem_bot::matcher::Index::rank", BOT),
            ("core::ptr::drop_in_place<tandem_bot::engine::Bot>", BOT),
            (
                "<serde_core::de::impls::VecVisitor<tandem_bot::flow::Intent> as serde_core::de::Visitor>::visit_seq",
                BOT,
            ),
            ("<T as tachys::view::any_view::IntoAny>::into_any", "Leptos and its reactive system"),
            ("<alloc::vec::Vec<T> as core::clone::Clone>::clone", "Rust core, alloc, std"),
            ("<u16 as core::fmt::Debug>::fmt", "Rust core, alloc, std"),
            ("<char>::escape_debug_ext", "Rust core, alloc, std"),
            ("__wbg_set_1a2b", "wasm-bindgen, js-sys, web-sys, gloo"),
            ("main", "widget (tandem-widget, -browser)"),
            ("futures_util::abortable::AbortHandle::abort", "other"),
        ];
        for (name, group) in cases {
            assert_eq!(crate_group(name), group, "{name}");
        }
    }
}
