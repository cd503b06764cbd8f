//! A throwaway PostgreSQL cluster for the tests: initialised in a directory under `target/`,
//! listening only on a Unix socket there, and stopped and removed when dropped, so that a
//! failing test run does not leave it behind. `initdb` refuses to run as root, so as root the
//! cluster belongs to the `postgres` user.

use std::path::{Path, PathBuf};

use crate::run::{Cmd, Env};

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    pub fn start(env: &Env) -> Result<Self, String> {
        let bin = bin_dir()?;
        let dir = env.root.join("target").join(format!("postgres-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
        let as_postgres = env.command("id").args(["-u"]).output().is_some_and(|uid| uid.trim() == "0");
        if as_postgres {
            env.command("chown").args(["postgres"]).args([&dir]).run()?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| format!("no free port for PostgreSQL: {error}"))?
            .port();
        let cluster = Self { dir, bin, port, as_postgres };
        let data = cluster.dir.join("data");
        cluster
            .pg(env, "initdb")
            .args(["-D"])
            .args([&data])
            .args(["-A", "trust", "-U", "tandem", "--no-sync"])
            .run_quiet()?;
        let options = format!(
            "-k {} -p {} -c listen_addresses= -c fsync=off -c max_connections=200",
            cluster.dir.display(),
            port
        );
        cluster
            .pg(env, "pg_ctl")
            .args(["-D"])
            .args([&data])
            .args(["-o", &options, "-l"])
            .args([cluster.dir.join("log")])
            .args(["-w", "-s", "start"])
            .run()?;
        Ok(cluster)
    }

    /// The cluster's `postgres` database, over its socket; tests create their own databases.
    pub fn url(&self) -> String {
        format!("postgres://tandem@localhost:{}/postgres?host={}", self.port, self.dir.display())
    }

    /// A new, empty database `name` in the cluster: its URL.
    pub fn database(&self, env: &Env, name: &str) -> Result<String, String> {
        let port = self.port.to_string();
        self.pg(env, "createdb")
            .args(["-h"])
            .args([&self.dir])
            .args(["-p", &port, "-U", "tandem", name])
            .run_quiet()?;
        Ok(self.url().replacen("/postgres?", &format!("/{name}?"), 1))
    }

    /// One of PostgreSQL's programs, as the cluster's owner.
    fn pg(&self, env: &Env, program: &str) -> Cmd {
        let program = self.bin.join(program);
        if self.as_postgres {
            env.command("runuser").args(["-u", "postgres", "--"]).args([program])
        } else {
            env.command(program)
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let env = Env::new();
        let data = self.dir.join("data");
        let _ = self
            .pg(&env, "pg_ctl")
            .args(["-D"])
            .args([&data])
            .args(["-m", "immediate", "-s", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Debian's PostgreSQL programs (`/usr/lib/postgresql/<major>/bin`), the newest installed.
pub fn bin_dir() -> Result<PathBuf, String> {
    let root = Path::new("/usr/lib/postgresql");
    let mut majors: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path().join("bin"))
                .filter(|bin| bin.join("initdb").is_file())
                .collect()
        })
        .unwrap_or_default();
    majors.sort();
    majors.pop().ok_or_else(|| {
        "PostgreSQL is not installed; run `cargo xtask setup` (it installs Debian's postgresql)".to_owned()
    })
}
