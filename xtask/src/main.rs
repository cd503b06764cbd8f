//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `setup`: installs whatever is missing (wasm target, Trunk, wasm-bindgen, wasm-opt, Chromium).
//! - `demo`:  setup, release builds of widget and console, then the server with demo data.
//! - `test`:  setup, then every check CI runs.
//! - `size`:  release build of the widget and its download sizes against the budgets.
//! - `bot-eval`: the demo bot flow against the labelled utterances, per language.

mod budgets;
mod run;
mod setup;
mod size;

use std::process::ExitCode;

use run::{Env, cargo};

const USAGE: &str = "usage: cargo xtask <setup | demo | test | size | bot-eval [--misses] | sim [--agents N --customers N | --arrivals-per-hour N, --hours H --seed S --offer-timeout SECS]>";

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    let env = Env::new();
    let result = match task.as_deref() {
        Some("setup") => setup::run(&env),
        Some("demo") => demo(&env),
        Some("test") => test(&env),
        Some("size") => setup::run(&env).and_then(|()| build_web(&env)).and_then(|()| size::report(&env)),
        Some("bot-eval") => cargo(&env)
            .args(["run", "--quiet", "--release", "--package", "tandem-bot", "--example", "bot_eval", "--"])
            .args(std::env::args().skip(2))
            .run(),
        Some("sim") => cargo(&env)
            .args(["run", "--quiet", "--package", "tandem-dispatch", "--example", "simulate", "--"])
            .args(std::env::args().skip(2))
            .run(),
        Some(other) => Err(format!("unknown task {other:?}; {USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Release builds of the widget (dist/) and the console (console/dist/).
fn build_web(env: &Env) -> Result<(), String> {
    env.step("building the widget (release)");
    env.command("trunk").args(["build", "--release"]).current_dir(&env.root).run()?;
    env.step("building the agent console (release)");
    env.command("trunk").args(["build", "--release"]).current_dir(env.root.join("console")).run()
}

fn demo(env: &Env) -> Result<(), String> {
    setup::run(env)?;
    build_web(env)?;
    env.step("starting the server with the demo merchant (Ctrl-C stops it)");
    cargo(env).args(["run", "--package", "tandem-server", "--bin", "tandem", "--", "serve", "--demo"]).run()
}

fn test(env: &Env) -> Result<(), String> {
    setup::run(env)?;
    env.step("formatting (cargo fmt --check)");
    cargo(env).args(["fmt", "--all", "--check"]).run()?;
    env.step("lints, native (clippy -D warnings)");
    cargo(env).args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]).run()?;
    env.step("lints, wasm32 (clippy -D warnings)");
    cargo(env)
        .args(["clippy", "--target", "wasm32-unknown-unknown", "--all-targets", "--locked"])
        .args(["--package", "tandem-widget", "--package", "tandem-console", "--package", "tandem-protocol"])
        .args(["--package", "tandem-browser", "--package", "tandem-bot"])
        .args(["--", "-D", "warnings"])
        .run()?;
    build_web(env)?;
    env.step("download sizes against the budgets");
    size::report(env)?;
    env.step("unit, integration and browser end-to-end tests (native)");
    // At most two tests of a binary at once: each browser test drives up to two Chromiums, and
    // CI has 2 cores.
    cargo(env).args(["test", "--workspace", "--locked", "--", "--test-threads=2"]).run()?;
    env.step("widget component tests in headless Chromium (wasm-bindgen-test)");
    // The runner has been seen to hang, rarely, while starting its browser (the tests take
    // under a second): stop it after 5 minutes and try once more.
    let component_tests = || {
        cargo(env)
            .args([
                "test",
                "--target",
                "wasm32-unknown-unknown",
                "--package",
                "tandem-widget",
                "--lib",
                "--locked",
            ])
            .run_within(std::time::Duration::from_secs(300))
    };
    component_tests().or_else(|first| {
        if !first.contains("did not finish") {
            return Err(first);
        }
        env.step(&format!("{first}; trying once more"));
        component_tests()
    })?;
    env.step("all checks passed");
    Ok(())
}
