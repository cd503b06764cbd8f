//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `setup`: installs whatever is missing (wasm target, Trunk, wasm-bindgen, wasm-opt, Chromium).
//! - `demo`:  setup, release builds of widget and console, then the server with demo data.
//! - `test`:  setup, then every check CI runs.
//! - `size`:  release build of the widget and its download sizes against the budgets.
//! - `bench`: the real server under load from outside, beside a bare WebSocket relay.
//! - `dist`:  the self-contained `tandem` (release, widget and console inside), and its size.
//! - `bot-eval`: the demo bot flow against the labelled utterances, per language.

mod budgets;
mod postgres;
mod publish;
mod run;
mod setup;
mod size;
mod split;
mod trim;

use std::process::ExitCode;

use run::{Env, cargo};

const USAGE: &str = "usage: cargo xtask <setup | demo | test | size | dist | bench [--waiting N --senders N --seconds S --accepts N] | timing | bot-eval [--misses] | sim [--agents N --customers N | --arrivals-per-hour N, --hours H --seed S --offer-timeout SECS]>";

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    let env = Env::new();
    let result = match task.as_deref() {
        Some("setup") => setup::run(&env),
        Some("demo") => demo(&env),
        Some("test") => test(&env),
        Some("size") => setup::run(&env).and_then(|()| build_web(&env)).and_then(|()| size(&env, true)),
        Some("bot-eval") => cargo(&env)
            .args(["run", "--quiet", "--release", "--package", "tandem-bot", "--example", "bot_eval", "--"])
            .args(std::env::args().skip(2))
            .run(),
        Some("bench") => bench(&env),
        Some("timing") => timing(&env),
        Some("dist") => dist(&env),
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

/// One file to deploy: the server built for speed with the published widget and the console
/// compiled in (`--features embed`).
fn dist(env: &Env) -> Result<(), String> {
    setup::run(env)?;
    build_web(env)?;
    env.step("building the self-contained server (release profile, widget and console inside)");
    cargo(env)
        .args(["build", "--release", "--locked", "--package", "tandem-server", "--bin", "tandem"])
        .args(["--features", "embed"])
        .run()?;
    let binary = env.root.join("target/release/tandem");
    let bytes = std::fs::metadata(&binary).map_err(|error| format!("{}: {error}", binary.display()))?.len();
    println!(
        "{}: {bytes} bytes ({:.1} MiB), widget and console inside",
        binary.display(),
        bytes as f64 / 1_048_576.0
    );
    Ok(())
}

/// Release builds of the widget (dist/, then published: see `publish`) and the console
/// (console/dist/).
fn build_web(env: &Env) -> Result<(), String> {
    env.step("building the widget (release)");
    env.command("trunk").args(["build", "--release"]).current_dir(&env.root).run()?;
    publish::widget(env)?;
    env.step("building the agent console (release)");
    env.command("trunk").args(["build", "--release"]).current_dir(env.root.join("console")).run()
}

/// Download sizes as the real server sends them, against the budgets. `build` first builds
/// the `tandem` binary; `cargo test --workspace` has already built it (same features) otherwise.
fn size(env: &Env, build: bool) -> Result<(), String> {
    if build {
        env.step("building the server to measure what it sends");
        cargo(env).args(["build", "--package", "tandem-server", "--bin", "tandem", "--locked"]).run()?;
    }
    env.step("download sizes, fetched from the server, against the budgets");
    size::report(env, &env.root.join("target/debug/tandem"))
}

/// Fails when a Chromium started by the browser tests (profile in a `tempfile` directory) is
/// still running: each test's browser must end with it, or runs would exhaust the machine.
/// Killed processes take a moment to go: up to 5 s are allowed for that.
fn left_over_browsers() -> Result<(), String> {
    let profile = format!("--user-data-dir={}", std::env::temp_dir().join(".tmp").display());
    let count = || -> Result<usize, String> {
        let entries =
            std::fs::read_dir("/proc").map_err(|error| format!("cannot list processes: {error}"))?;
        Ok(entries
            .flatten()
            .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
            .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
            .filter(|cmdline| cmdline.contains("chromium") && cmdline.contains(&profile))
            .count())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let left = count()?;
        if left == 0 {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "{left} Chromium processes started by the browser tests are still running; the tests' `Browser` must end them"
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The server and the load generator built for speed (the release profile), then the load
/// (crates/bench): one table, each figure beside the bare relay's.
fn bench(env: &Env) -> Result<(), String> {
    env.step("building the server and the load generator (release profile: optimised for speed)");
    cargo(env)
        .args(["build", "--locked", "--release", "--package", "tandem-server", "--package", "tandem-bench"])
        .args(["--bin", "tandem", "--bin", "tandem-bench"])
        .run()?;
    let bin = env.root.join("target/release");
    let load = || {
        env.command(bin.join("tandem-bench"))
            .args(["run", "--server"])
            .args([bin.join("tandem")])
            .args(std::env::args().skip(2))
    };
    env.step("loading the server on SQLite, then the bare relay");
    load().env("TANDEM_DATABASE_URL", "").run()?;
    // The same load with the store on PostgreSQL: every `tandem` the bench starts (the admin
    // commands that seed it, the server) reads the URL from the environment.
    env.step("a throwaway PostgreSQL cluster, and the same load on it");
    let cluster = postgres::Cluster::start(env)?;
    load().env("TANDEM_DATABASE_URL", cluster.database(env, "one_instance")?).run()?;
    env.step("the same load spread over two instances on one PostgreSQL database");
    load()
        .env("TANDEM_DATABASE_URL", cluster.database(env, "two_instances")?)
        .args(["--instances", "2"])
        .run()
}

/// How soon the opened widget is usable, in headless Chromium, on this machine and as a slow
/// phone (`tests/e2e/timing.rs`): medians over fresh browsers, against the targets.
fn timing(env: &Env) -> Result<(), String> {
    setup::run(env)?;
    build_web(env)?;
    env.step("timing the widget from the launcher's click, in headless Chromium");
    cargo(env)
        .args(["test", "--package", "tandem-widget", "--test", "e2e", "--locked", "--"])
        .args(["--ignored", "--nocapture", "--test-threads=1", "timing::"])
        .run()
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
        // As the release build has it: the live chat behind its split point (src/live.rs).
        .args(["--features", "tandem-widget/lazy"])
        .args(["--", "-D", "warnings"])
        .run()?;
    build_web(env)?;
    env.step("a throwaway PostgreSQL cluster for the store suite");
    let cluster = postgres::Cluster::start(env)?;
    env.step("unit, integration and browser end-to-end tests (native)");
    // At most two tests of a binary at once: each browser test drives up to two Chromiums, and
    // CI has 2 cores.
    cargo(env)
        .env("TANDEM_TEST_POSTGRES", cluster.url())
        .args(["test", "--workspace", "--locked", "--", "--test-threads=2"])
        .run()?;
    // Stopped and removed here, and by the `?` above when a test fails.
    drop(cluster);
    // Measured from the server the tests just built, so nothing is built twice.
    size(env, false)?;
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
    left_over_browsers()?;
    env.step("all checks passed");
    Ok(())
}
