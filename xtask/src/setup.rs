//! Installs each missing tool, idempotently, from the registries these machines reach
//! (crates.io, npm, Debian): nothing is downloaded from elsewhere. Checks versions, since
//! Trunk refuses a wasm-bindgen CLI that differs from the crate by even a patch.

use std::path::Path;

use crate::run::{Env, cargo};

pub const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen (108) emits wasm that crashes in the browser; npm's 132 is right.
pub const WASM_OPT_MAJOR: &str = "132";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub fn run(env: &Env) -> Result<(), String> {
    env.step("setup: checking tools");
    wasm_target(env)?;
    rust_components(env)?;
    trunk(env)?;
    wasm_bindgen(env)?;
    wasm_opt(env)?;
    chromium(env)?;
    postgresql(env)?;
    // Trunk runs cargo with --offline (Trunk.toml): every dependency must already be here.
    cargo(env).args(["fetch", "--locked"]).run()?;
    env.step("setup: done");
    Ok(())
}

fn wasm_target(env: &Env) -> Result<(), String> {
    let installed = env.command("rustup").args(["target", "list", "--installed"]).output();
    if installed.is_some_and(|list| list.lines().any(|t| t.trim() == "wasm32-unknown-unknown")) {
        return Ok(());
    }
    env.step("setup: adding the wasm32-unknown-unknown target (seconds)");
    env.command("rustup").args(["target", "add", "wasm32-unknown-unknown"]).run()
}

fn rust_components(env: &Env) -> Result<(), String> {
    let have_fmt = cargo(env).args(["fmt", "--version"]).output().is_some();
    let have_clippy = cargo(env).args(["clippy", "--version"]).output().is_some();
    if have_fmt && have_clippy {
        return Ok(());
    }
    env.step("setup: adding rustfmt and clippy");
    env.command("rustup").args(["component", "add", "rustfmt", "clippy"]).run()
}

fn trunk(env: &Env) -> Result<(), String> {
    let version = env.command("trunk").arg_version().output().unwrap_or_default();
    if version.split_whitespace().nth(1) == Some(TRUNK_VERSION) {
        return Ok(());
    }
    env.step(&format!("setup: installing trunk {TRUNK_VERSION} from crates.io (about 6 minutes on 2 cores)"));
    cargo(env).args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]).run()
}

fn wasm_bindgen(env: &Env) -> Result<(), String> {
    let wanted = locked_version(&env.root, "wasm-bindgen")?;
    let version = env.command("wasm-bindgen").arg_version().output().unwrap_or_default();
    let runner = env.command("wasm-bindgen-test-runner").arg_version().output().unwrap_or_default();
    let matches = |out: &str| out.split_whitespace().nth(1) == Some(wanted.as_str());
    if matches(&version) && matches(&runner) {
        return Ok(());
    }
    env.step(&format!(
        "setup: installing wasm-bindgen-cli {wanted} from crates.io (about 3 minutes on 2 cores)"
    ));
    // Not --locked: that release's lockfile names a webpki-roots version crates.io no longer has.
    cargo(env).args(["install", "wasm-bindgen-cli", "--version", &wanted, "--force"]).run()
}

fn wasm_opt(env: &Env) -> Result<(), String> {
    let local = env.root.join("tools/node_modules/.bin/wasm-opt");
    let version = env.command(&local).arg_version().output().unwrap_or_default();
    // axe-core (the accessibility tests' engine) and esbuild (the loader's minifier) come from
    // the same lockfile.
    let axe = env.root.join("tools/node_modules/axe-core/axe.min.js").is_file();
    let esbuild =
        env.command(env.root.join("tools/node_modules/.bin/esbuild")).arg_version().output().is_some();
    if version.split_whitespace().nth(2) == Some(WASM_OPT_MAJOR) && axe && esbuild {
        return Ok(());
    }
    env.step(&format!(
        "setup: installing wasm-opt (binaryen {WASM_OPT_MAJOR}), esbuild and test tools from npm"
    ));
    env.command("npm").args(["ci", "--prefix", "tools", "--no-audit", "--no-fund"]).run()
}

fn chromium(env: &Env) -> Result<(), String> {
    let have = |binary: &str| env.command(binary).arg_version().output().is_some();
    if have(CHROMIUM) && have(CHROMEDRIVER) {
        return Ok(());
    }
    env.step("setup: installing chromium and chromium-driver from Debian (about a minute)");
    apt_install(env, &["chromium", "chromium-driver"])
}

/// The tests' throwaway clusters need Debian's server programs (initdb, pg_ctl).
fn postgresql(env: &Env) -> Result<(), String> {
    if crate::postgres::bin_dir().is_ok() {
        return Ok(());
    }
    env.step("setup: installing postgresql from Debian (seconds)");
    apt_install(env, &["postgresql"])
}

fn apt_install(env: &Env, packages: &[&str]) -> Result<(), String> {
    let is_root = env.command("id").args(["-u"]).output().is_some_and(|uid| uid.trim() == "0");
    let apt = |args: &[&str]| {
        let command = if is_root {
            env.command("apt-get").args(args)
        } else {
            env.command("sudo").args(["apt-get"]).args(args)
        };
        command
            .run()
            .map_err(|error| format!("{error}; install it by hand: apt-get install {}", packages.join(" ")))
    };
    apt(&["update", "-qq"])?;
    apt(&[&["install", "-y", "-qq"][..], packages].concat())
}

/// The version of `package` in Cargo.lock: the one pin every tool must agree with.
fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|error| format!("cannot read Cargo.lock: {error}"))?;
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == name_line
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err(format!("Cargo.lock has no {package}; run `cargo generate-lockfile`"))
}

trait VersionArg {
    fn arg_version(self) -> Self;
}

impl VersionArg for crate::run::Cmd {
    fn arg_version(self) -> Self {
        self.args(["--version"])
    }
}
