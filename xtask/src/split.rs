//! Splits the widget's wasm where `src/live.rs` marks it: the live chat (its requests, its
//! socket and the protocol's events) becomes a second module, which the page fetches only when
//! the customer asks for a person.
//!
//! Trunk runs cargo and then wasm-bindgen, and a build with split points is not one
//! wasm-bindgen can finish on its own: the split must come between the linker and
//! wasm-bindgen (Trunk's wasm-opt is off, see index.html). So this takes cargo's output (linked with `--emit-relocs`, see `build.rs`),
//! splits it with `wasm_split_cli_support`, runs wasm-bindgen on the main module and wasm-opt
//! on both, and puts the results in place of Trunk's, under Trunk's names (publishing then
//! trims, minifies and renames them as before).
//!
//! The split writes a small JS module that fetches and links the live module; it is written
//! into the glue rather than served beside it, so that opening the widget still fetches one
//! module, and the glue's SRI hash (in the loader) covers it. It fetches the live module under a
//! name that changes with its content, checked against the module's SRI hash.

use std::path::Path;

use crate::publish::{AppFiles, app_files, hex16, read, rehashed_in_index, sri, text, write};
use crate::run::Env;

/// The module the split writes and the main module imports its loaders from.
const LINK: &str = "__wasm_split.js";
/// The split point's module (`#[wasm_split(live, …)]` in src/live.rs), as the split names it.
const LIVE: &str = "split_live.wasm";

/// Splits cargo's release build of the widget into `dist/` (see the module's comment).
pub fn widget(env: &Env, dist: &Path) -> Result<(), String> {
    env.step("splitting the widget: the live chat as a module of its own");
    let built = env.root.join("target/wasm32-unknown-unknown/wasm-release/tandem-widget.wasm");
    let input = read(&built)?;
    let work = env.root.join("target/widget-split");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let AppFiles { js, wasm } = app_files(dist)?;
    let main = work.join("main.wasm");
    let (main_module, link) = (format!("./{js}"), format!("./{LINK}"));
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&input);
        options.output_dir = &work;
        options.main_out_path = &main;
        options.main_module = &main_module;
        options.link_name = &link;
        options
    })
    .map_err(|e| format!("cannot split {}: {e}", built.display()))?;
    let modules: Vec<_> = split.split_modules.iter().filter_map(|path| path.file_name()).collect();
    if modules != [LIVE] {
        return Err(format!("the split made {modules:?}, not the one {LIVE} src/live.rs marks"));
    }
    let stem = js.trim_end_matches(".js");
    let bindgen = work.join("bindgen");
    env.command("wasm-bindgen")
        .args(["--target", "web", "--keep-lld-exports", "--no-typescript", "--out-name", stem, "--out-dir"])
        .args([bindgen.as_os_str(), main.as_os_str()])
        .run_quiet()?;
    let live = work.join(LIVE);
    optimize(env, &live)?;
    let live_bytes = read(&live)?;
    let live_name = format!("tandem-live-{}.wasm", hex16(&live_bytes));
    write(&dist.join(&live_name), &live_bytes)?;
    let main_wasm = bindgen.join(format!("{stem}_bg.wasm"));
    optimize(env, &main_wasm)?;
    rehashed_in_index(dist, &wasm, |path| write(path, &read(&main_wasm)?))?;
    let fetch_live = (live_name, sri::<sha2::Sha256>("sha256", &live_bytes));
    let glue = with_link(&text(&bindgen.join(&js))?, &text(&work.join(LINK))?, &js, &fetch_live)?;
    rehashed_in_index(dist, &js, |path| write(path, glue.as_bytes()))
}

/// wasm-opt for size, until it gains nothing more (Trunk leaves it to this: see index.html).
fn optimize(env: &Env, wasm: &Path) -> Result<(), String> {
    let wasm_opt = env.root.join("tools/node_modules/.bin/wasm-opt");
    env.command(&wasm_opt)
        .args([wasm.as_os_str(), "-Oz".as_ref(), "--converge".as_ref(), "-o".as_ref(), wasm.as_os_str()])
        .run_quiet()
}

/// The glue with the split's link module written into it, in place of importing it; the link
/// module then fetches the live module as `live` names it (file name, SRI hash).
fn with_link(glue: &str, link: &str, glue_name: &str, live: &(String, String)) -> Result<String, String> {
    let missing = |what: &str| format!("{what}: has wasm-bindgen or wasm_split_cli_support changed?");
    let import_glue = format!("import {{ initSync }} from \"./{glue_name}\";");
    let fetch = format!("fetch(new URL(\"./{LIVE}\", import.meta.url))");
    if !link.contains(&import_glue) || !link.contains(&fetch) {
        return Err(missing(&format!("the split's {LINK} does not both import the glue and fetch {LIVE}")));
    }
    let (name, integrity) = live;
    let checked = format!("fetch(new URL(\"./{name}\", import.meta.url), {{ integrity: \"{integrity}\" }})");
    let link = link.replace(&import_glue, "").replace(&fetch, &checked);
    let exported: Vec<&str> = link
        .lines()
        .filter_map(|line| line.strip_prefix("export const ")?.split_once(' ').map(|(name, _)| name))
        .collect();
    let link = link.replace("export const ", "const ");
    // `import * as import1 from "./__wasm_split.js"`: the namespace becomes a plain object.
    let line = glue
        .lines()
        .find(|line| line.starts_with("import * as ") && line.contains(&format!("from \"./{LINK}\"")))
        .ok_or_else(|| missing(&format!("the glue does not import ./{LINK}")))?;
    let namespace = line.trim_start_matches("import * as ").split(' ').next().unwrap_or_default();
    let object = format!("{link}\nconst {namespace} = {{ {} }};", exported.join(", "));
    Ok(glue.replacen(line, &object, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = "import * as import1 from \"./__wasm_split.js\"\nfunction initSync() {}\nconst imports = { \"./__wasm_split.js\": import1 };\n";
    const LINK_JS: &str = "import { initSync } from \"./app.js\";\nfunction load() { const src = fetch(new URL(\"./split_live.wasm\", import.meta.url)); }\nexport const __wasm_split_load_live = load;\n";

    #[test]
    fn the_link_module_is_written_into_the_glue_and_fetches_the_live_module_checked() {
        let live = ("tandem-live-00.wasm".to_owned(), "sha256-abc".to_owned());
        let glue = with_link(GLUE, LINK_JS, "app.js", &live).unwrap();
        assert!(!glue.contains("import "), "{glue}");
        assert!(glue.contains("const import1 = { __wasm_split_load_live };"), "{glue}");
        assert!(glue.contains("const __wasm_split_load_live = load;"), "{glue}");
        assert!(
            glue.contains(
                "fetch(new URL(\"./tandem-live-00.wasm\", import.meta.url), { integrity: \"sha256-abc\" })"
            ),
            "{glue}"
        );
        // The wasm's import module keeps its name.
        assert!(glue.contains("{ \"./__wasm_split.js\": import1 }"), "{glue}");
    }

    #[test]
    fn a_glue_or_link_module_of_another_shape_is_refused() {
        let live = ("x.wasm".to_owned(), "sha256-x".to_owned());
        assert!(with_link("const imports = {};", LINK_JS, "app.js", &live).is_err());
        assert!(with_link(GLUE, "export const a = 1;", "app.js", &live).is_err());
        assert!(with_link(GLUE, LINK_JS, "other.js", &live).is_err());
    }
}
