//! Takes out of the widget's wasm the exports of code it links but never calls, and the code
//! only they reach.
//!
//! Leptos always depends on server_fn's browser client, and with it on wasm-streams, which
//! exports JavaScript classes (`IntoUnderlyingSource`, `IntoUnderlyingSink`,
//! `IntoUnderlyingByteSource`) with `#[wasm_bindgen]`. An export is a root for the linker,
//! wasm-bindgen and wasm-opt alike, so their code and what it calls stay in the download
//! although the widget uses no server functions. This runs once the build is split and
//! optimised (xtask/src/split.rs): the exports go, and wasm-opt, run again, drops what no
//! longer has a caller. The glue keeps its classes, which nothing constructs: their methods
//! would name exports that are gone only when called.

use std::path::Path;

use crate::run::Env;

/// Names of exports that only wasm-streams' classes use (their methods and their `free`).
const UNUSED: [&str; 2] = ["intounderlying", "__wbg_intounderlying"];

/// Rewrites `wasm` without the [`UNUSED`] exports and runs `wasm-opt -Oz` on it again.
pub fn unused_exports(env: &Env, wasm: &Path) -> Result<(), String> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let (trimmed, dropped) =
        without_unused_exports(&bytes).map_err(|e| format!("{}: {e}", wasm.display()))?;
    if dropped == 0 {
        return Ok(());
    }
    std::fs::write(wasm, trimmed).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let wasm_opt = env.root.join("tools/node_modules/.bin/wasm-opt");
    // The features come from the module's target_features section, as in Trunk's run.
    env.command(&wasm_opt)
        .args([wasm.as_os_str(), "-Oz".as_ref(), "-o".as_ref(), wasm.as_os_str()])
        .run_quiet()
}

/// The module with the export section rewritten, and how many exports it dropped.
fn without_unused_exports(bytes: &[u8]) -> wasmparser::Result<(Vec<u8>, usize)> {
    let mut out = bytes[..8].to_vec();
    let mut dropped = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        let Some((id, range)) = payload.as_section() else { continue };
        let content = if let wasmparser::Payload::ExportSection(reader) = payload {
            // Each export's bytes as they are (offset to the next one's), never re-encoded.
            let mut entries: Vec<(usize, &str)> = Vec::new();
            for entry in reader.into_iter_with_offsets() {
                let (offset, export) = entry?;
                entries.push((offset, export.name));
            }
            let ends = entries.iter().skip(1).map(|(offset, _)| *offset).chain([range.end]);
            let mut kept: Vec<u8> = Vec::new();
            let mut count = 0;
            for ((start, name), end) in entries.iter().zip(ends) {
                if UNUSED.iter().any(|prefix| name.starts_with(prefix)) {
                    dropped += 1;
                } else {
                    count += 1;
                    kept.extend(&bytes[*start..end]);
                }
            }
            let mut section = leb128(count);
            section.extend(kept);
            section
        } else {
            bytes[range].to_vec()
        };
        out.push(id);
        out.extend(leb128(content.len()));
        out.extend(content);
    }
    Ok((out, dropped))
}

fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        #[allow(clippy::cast_possible_truncation, reason = "seven bits at a time")]
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module of two empty functions, exported as `keep` and as one of wasm-streams' methods.
    fn module() -> Vec<u8> {
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        let section = |bytes: &mut Vec<u8>, id: u8, content: &[u8]| {
            bytes.push(id);
            bytes.extend(leb128(content.len()));
            bytes.extend(content);
        };
        section(&mut bytes, 1, &[1, 0x60, 0, 0]); // one type: () -> ()
        section(&mut bytes, 3, &[2, 0, 0]); // two functions of it
        let mut exports = vec![2];
        for (name, index) in [("keep", 0), ("intounderlyingsource_pull", 1)] {
            exports.extend(leb128(name.len()));
            exports.extend(name.as_bytes());
            exports.extend([0, index]);
        }
        section(&mut bytes, 7, &exports);
        section(&mut bytes, 10, &[2, 2, 0, 0x0b, 2, 0, 0x0b]); // two empty bodies
        bytes
    }

    fn export_names(bytes: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            if let wasmparser::Payload::ExportSection(reader) = payload.expect("a well-formed module") {
                names.extend(reader.into_iter().map(|export| export.expect("an export").name.to_owned()));
            }
        }
        names
    }

    #[test]
    fn the_unused_exports_go_and_the_rest_of_the_module_stays_as_it_was() {
        let before = module();
        assert_eq!(export_names(&before), ["keep", "intounderlyingsource_pull"]);
        let (after, dropped) = without_unused_exports(&before).expect("a module");
        assert_eq!(dropped, 1);
        assert_eq!(export_names(&after), ["keep"]);
        // Only the export section changed: 1 (count) + 1 + 25 (name) + 2 bytes fewer.
        assert_eq!(before.len() - after.len(), 28);
        let (again, dropped) = without_unused_exports(&after).expect("a module");
        assert_eq!((again, dropped), (after, 0), "a second run changes nothing");
    }
}
