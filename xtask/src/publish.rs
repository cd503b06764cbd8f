//! Turns Trunk's widget build (`dist/`) into what a CDN would serve: the app's wasm without the
//! exports nothing calls (`crate::trim`), the loader with the app's
//! content-hashed file names and SRI hashes written in and minified, a versioned copy of it that
//! never changes, `manifest.json` (every file a merchant's page loads, with its version, size
//! and SHA-384: the script inventory PCI DSS 6.4.3 asks payment pages to keep), and brotli and gzip variants of every
//! file beside it, which the server picks by `Accept-Encoding`.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256, Sha384};

use crate::run::Env;

/// Where the server mounts the widget build (Trunk's `public_url`).
const PUBLIC: &str = "/widget/";
/// Replaced by the app's files in `loader/tandem.js`.
const PLACEHOLDER: &str = "/*@files*/null";

pub fn widget(env: &Env) -> Result<(), String> {
    env.step("publishing the widget: loader with SRI hashes, manifest, brotli and gzip");
    let dist = env.root.join("dist");
    let version = widget_version(&env.root)?;
    crate::split::widget(env, &dist)?;
    let AppFiles { js, wasm } = app_files(&dist)?;
    // Trunk does not minify the wasm-bindgen glue (its minifier fails on it) nor copied files.
    minify_glue(env, &dist, &js)?;
    rehashed_in_index(&dist, &wasm, |path| crate::trim::unused_exports(env, path))?;
    let AppFiles { js, wasm } = named_by_content(&dist, &AppFiles { js, wasm })?;
    let host = hashed_copy(&dist, "frame.js", "tandem-frame", &minify(env, &text(&dist.join("frame.js"))?)?)?;
    // SHA-256 in the loader, which every page downloads (SHA-384's values are 20 characters
    // longer each, that cannot be compressed); the inventory lists SHA-384.
    let entry = |name: &str| -> Result<String, String> {
        Ok(format!("[\"{PUBLIC}{name}\",\"{}\"]", sri::<Sha256>("sha256", &read(&dist.join(name))?)))
    };
    let files =
        format!("{{\"modules\":[{}],\"wasm\":{},\"host\":{}}}", entry(&js)?, entry(&wasm)?, entry(&host)?);
    let source = text(&dist.join("tandem.js"))?;
    if !source.contains(PLACEHOLDER) {
        return Err(format!(
            "dist/tandem.js has no {PLACEHOLDER}: is it already published? Rebuild with trunk"
        ));
    }
    let loader = minify(env, &source.replace(PLACEHOLDER, &files))?;
    write(&dist.join("tandem.js"), loader.as_bytes())?;
    let versioned = dist.join(format!("v{version}"));
    std::fs::create_dir_all(&versioned).map_err(|e| format!("{}: {e}", versioned.display()))?;
    write(&versioned.join("tandem.js"), loader.as_bytes())?;

    let served = list(&dist)?;
    write(&dist.join("manifest.json"), manifest(&dist, &version, &served)?.as_bytes())?;
    for name in list(&dist)? {
        compress(&dist.join(&name))?;
    }
    Ok(())
}

/// The app's content-hashed files in a Trunk build.
pub struct AppFiles {
    pub js: String,
    pub wasm: String,
}

/// The live chat's wasm (see `split`), once published.
pub fn live_file(dist: &Path) -> Result<String, String> {
    list(dist)?
        .into_iter()
        .find(|name| name.starts_with("tandem-live-") && name.ends_with(".wasm"))
        .ok_or_else(|| "dist/ has no tandem-live-*.wasm: build with `cargo xtask size`".to_owned())
}

/// Frame mode's script for the merchant's page, once published.
pub fn frame_host(dist: &Path) -> Result<String, String> {
    list(dist)?
        .into_iter()
        .find(|name| name.starts_with("tandem-frame-") && name.ends_with(".js"))
        .ok_or_else(|| "dist/ has no tandem-frame-*.js: build with `cargo xtask size`".to_owned())
}

pub fn app_files(dist: &Path) -> Result<AppFiles, String> {
    let names = list(dist)?;
    let find = |what: &str, test: &dyn Fn(&str) -> bool| {
        names.iter().find(|name| test(name)).cloned().ok_or_else(|| {
            format!("dist/ has no {what}; build the widget with `cargo xtask size` (Trunk, then publish)")
        })
    };
    Ok(AppFiles {
        js: find("app JS", &|n| n.starts_with("tandem-widget-") && n.ends_with(".js"))?,
        wasm: find("app wasm", &|n| n.starts_with("tandem-widget-") && n.ends_with("_bg.wasm"))?,
    })
}

/// The widget's version, the root package's: the versioned loader's directory.
fn widget_version(root: &Path) -> Result<String, String> {
    let manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \"")?.strip_suffix('"').map(str::to_owned))
        .ok_or_else(|| "Cargo.toml has no package version".to_owned())
}

/// Every file under `dir` (relative, `/`-separated), but not the compressed variants.
fn list(dir: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let entries =
            std::fs::read_dir(dir.join(&relative)).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = relative.join(entry.file_name());
            if entry.path().is_dir() {
                pending.push(path);
            } else {
                let name = path.to_string_lossy().replace('\\', "/");
                if !name.ends_with(".br") && !name.ends_with(".gz") {
                    out.push(name);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn manifest(dist: &Path, version: &str, names: &[String]) -> Result<String, String> {
    let mut files = Vec::new();
    // Our own pages (index.html, served as the frame and the full page under their own policy)
    // are not part of what a merchant's page loads.
    for name in names.iter().filter(|name| name.as_str() != "manifest.json" && !name.ends_with(".html")) {
        let bytes = read(&dist.join(name))?;
        files.push(format!(
            "    {{ \"path\": \"{PUBLIC}{name}\", \"version\": \"{version}\", \"size\": {}, \"integrity\": \"{}\" }}",
            bytes.len(),
            integrity(&bytes)
        ));
    }
    Ok(format!(
        "{{\n  \"version\": \"{version}\",\n  \"loader\": \"{PUBLIC}v{version}/tandem.js\",\n  \"files\": [\n{}\n  ]\n}}\n",
        files.join(",\n")
    ))
}

/// The Subresource Integrity value of `bytes`, as the inventory lists it.
pub fn integrity(bytes: &[u8]) -> String {
    sri::<Sha384>("sha384", bytes)
}

/// The Subresource Integrity value of `bytes` with the digest `D`, named `algorithm`.
pub fn sri<D: Digest>(algorithm: &str, bytes: &[u8]) -> String {
    format!("{algorithm}-{}", base64::engine::general_purpose::STANDARD.encode(D::digest(bytes)))
}

/// esbuild (from `tools/`, installed by setup) minifies the loader; Trunk does not minify
/// copied files.
fn minify(env: &Env, source: &str) -> Result<String, String> {
    let esbuild = env.root.join("tools/node_modules/.bin/esbuild");
    let mut child = std::process::Command::new(&esbuild)
        .args(["--minify", "--loader=js", "--target=es2020", "--legal-comments=none"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {} ({e}); run `cargo xtask setup`", esbuild.display()))?;
    child
        .stdin
        .take()
        .ok_or("esbuild has no stdin")?
        .write_all(source.as_bytes())
        .map_err(|e| format!("esbuild: {e}"))?;
    let output = child.wait_with_output().map_err(|e| format!("esbuild: {e}"))?;
    if !output.status.success() {
        return Err(format!("esbuild could not minify loader/tandem.js ({})", output.status));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("esbuild: {e}"))
}

/// Writes `<file>.br` (quality 11) and `<file>.gz` (best) beside `file`.
fn compress(file: &Path) -> Result<(), String> {
    let bytes = read(file)?;
    let mut brotli = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut brotli, &params).map_err(|e| format!("brotli: {e}"))?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&bytes).map_err(|e| format!("gzip: {e}"))?;
    let gzip = gzip.finish().map_err(|e| format!("gzip: {e}"))?;
    let with = |suffix: &str| PathBuf::from(format!("{}.{suffix}", file.display()));
    write(&with("br"), &brotli)?;
    write(&with("gz"), &gzip)
}

/// Minifies the app's JS glue in place.
fn minify_glue(env: &Env, dist: &Path, js: &str) -> Result<(), String> {
    rehashed_in_index(dist, js, |path| write(path, minify(env, &text(path)?)?.as_bytes()))
}

/// Trunk names the app's glue and wasm by its build, before publishing minifies the one and
/// trims the other: they are renamed by what they now hold, since a name must change with the
/// content for the file to be cached for good. One hash for both, as Trunk's, which the loader
/// carries twice and brotli compresses once.
fn named_by_content(dist: &Path, files: &AppFiles) -> Result<AppFiles, String> {
    let mut both = read(&dist.join(&files.js))?;
    both.extend(read(&dist.join(&files.wasm))?);
    let hash = hex16(&both);
    let named =
        AppFiles { js: format!("tandem-widget-{hash}.js"), wasm: format!("tandem-widget-{hash}_bg.wasm") };
    let mut index = text(&dist.join("index.html"))?;
    for (before, after) in [(&files.js, &named.js), (&files.wasm, &named.wasm)] {
        std::fs::rename(dist.join(before), dist.join(after))
            .map_err(|e| format!("cannot rename dist/{before} ({e})"))?;
        index = index.replace(before.as_str(), after);
    }
    write(&dist.join("index.html"), index.as_bytes())?;
    Ok(named)
}

/// Changes `dist/<name>` in place with `change`, and gives `index.html`'s preload of it the new
/// hash.
pub fn rehashed_in_index(
    dist: &Path,
    name: &str,
    change: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), String> {
    let path = dist.join(name);
    let before = integrity(&read(&path)?);
    let index = text(&dist.join("index.html"))?;
    if !index.contains(&before) {
        return Err(format!("dist/index.html does not preload {name} with its hash; rebuild with trunk"));
    }
    change(&path)?;
    write(&dist.join("index.html"), index.replace(&before, &integrity(&read(&path)?)).as_bytes())
}

/// Writes `content` as `<stem>-<16 hex of its hash>.js` and removes `source`: a name that
/// changes with the content, so it may be cached for good.
fn hashed_copy(dist: &Path, source: &str, stem: &str, content: &str) -> Result<String, String> {
    let hash = hex16(content.as_bytes());
    let name = format!("{stem}-{hash}.js");
    write(&dist.join(&name), content.as_bytes())?;
    std::fs::remove_file(dist.join(source)).map_err(|e| format!("cannot remove dist/{source} ({e})"))?;
    Ok(name)
}

pub fn hex16(bytes: &[u8]) -> String {
    Sha384::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

pub fn text(path: &Path) -> Result<String, String> {
    String::from_utf8(read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {} ({e})", path.display()))
}

pub fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {} ({e})", path.display()))
}
