//! Running commands with the project's tools on PATH, and failing with one clear line.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Where things are, and the PATH under which the project's tools are found.
pub struct Env {
    pub root: PathBuf,
    path: std::ffi::OsString,
    started: Instant,
}

impl Env {
    pub fn new() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default();
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
            .unwrap_or_default();
        // npm's wasm-opt (binaryen 132) must come before any system one: Debian's miscompiles.
        let mut dirs = vec![root.join("tools/node_modules/.bin"), cargo_home.join("bin")];
        dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        let path = std::env::join_paths(dirs).unwrap_or_default();
        Self { root, path, started: Instant::now() }
    }

    /// Prints a progress line with the time since the task started.
    pub fn step(&self, what: &str) {
        let secs = self.started.elapsed().as_secs();
        println!("==> [{:>2}:{:02}] {what}", secs / 60, secs % 60);
    }

    pub fn command(&self, program: impl AsRef<OsStr>) -> Cmd {
        let mut command = Command::new(program);
        command.env("PATH", &self.path).current_dir(&self.root);
        Cmd(command)
    }
}

pub fn cargo(env: &Env) -> Cmd {
    env.command(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

pub struct Cmd(Command);

impl Cmd {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.0.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.0.env(key, value);
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.0.current_dir(dir.into());
        self
    }

    /// Runs with inherited output; fails when the command cannot start or exits non-zero.
    pub fn run(mut self) -> Result<(), String> {
        let shown = self.describe();
        let status = self.0.status().map_err(|error| format!("cannot run `{shown}`: {error}"))?;
        if status.success() { Ok(()) } else { Err(format!("`{shown}` failed ({status})")) }
    }

    /// Like [`Self::run`], but stops the command and everything it started when it takes longer
    /// than `limit`, so that a stuck tool fails the run instead of hanging it.
    pub fn run_within(mut self, limit: std::time::Duration) -> Result<(), String> {
        let shown = self.describe();
        // Its own process group: the whole tree (cargo, the test runner, chromedriver, the
        // browser) can be stopped together.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut self.0, 0);
        let mut child = self.0.spawn().map_err(|error| format!("cannot run `{shown}`: {error}"))?;
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().map_err(|error| error.to_string())? {
                return if status.success() { Ok(()) } else { Err(format!("`{shown}` failed ({status})")) };
            }
            if std::time::Instant::now() >= deadline {
                let group = format!("-{}", child.id());
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`{shown}` did not finish within {} s and was stopped", limit.as_secs()));
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// Like [`Self::run`], but what the command prints is shown only when it fails.
    pub fn run_quiet(mut self) -> Result<(), String> {
        let shown = self.describe();
        let output = self.0.output().map_err(|error| format!("cannot run `{shown}`: {error}"))?;
        if output.status.success() {
            return Ok(());
        }
        eprint!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        Err(format!("`{shown}` failed ({})", output.status))
    }

    /// Runs quietly and returns stdout, or `None` when the command is missing or fails.
    pub fn output(mut self) -> Option<String> {
        let output = self.0.stderr(Stdio::null()).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn describe(&self) -> String {
        let mut words = vec![self.0.get_program().to_string_lossy().into_owned()];
        words.extend(self.0.get_args().map(|arg| arg.to_string_lossy().into_owned()));
        words.join(" ")
    }
}
