//! A private PostgreSQL cluster per test: `initdb` in a temporary directory (as the
//! `postgres` user when the test runs as root, since PostgreSQL refuses to run as root), a
//! free loopback port, password authentication and, on request, TLS with a certificate the test
//! made; stopped and removed when dropped. For the tests of what a client is told when the
//! server refuses it (a wrong password, a missing database or role, TLS), which the shared
//! server of [`service::postgres_url`] cannot be set up for.
//!
//! The server binaries are those under `/usr/lib/postgresql/*/bin` (the newest) or
//! `LIVEAPI_TEST_PG_BIN`. Without them a test is skipped with a notice, and in CI it fails
//! ([`service::unavailable`]); `.ci/run` installs them.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::service;

/// The variable that names the directory of the server binaries, over the newest
/// `/usr/lib/postgresql/*/bin`.
pub const PG_BIN: &str = "LIVEAPI_TEST_PG_BIN";

/// How a private cluster is set up.
#[derive(Clone, Debug, Default)]
pub struct ClusterOptions {
    /// The superuser `postgres`'s password (for connections over TCP).
    pub password: String,
    /// The server's certificate chain and key (PEM): TLS is on (`ssl = on`) when given.
    pub tls: Option<(String, String)>,
    /// The `pg_hba.conf` lines for TCP connections, in order (a line for the Unix socket,
    /// trusted, comes first, for the test's own administration). Empty: every database and
    /// user over TCP from loopback with a password (`scram-sha-256`).
    pub hba: Vec<String>,
}

/// A running private cluster; stopped (immediately) and removed when dropped.
#[derive(Debug)]
pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PgCluster {
    /// Starts a cluster set up by `options`, or `None` (after a notice) when the binaries
    /// are missing.
    ///
    /// # Panics
    /// In CI without the binaries, or when the cluster cannot be made or started (the
    /// message carries the server's log).
    #[must_use]
    pub fn start(options: &ClusterOptions) -> Option<Self> {
        let bin = binaries()?;
        let as_postgres = running_as_root();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "liveapi-pg-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let port = free_port();
        let cluster = Self {
            bin,
            dir,
            port,
            as_postgres,
        };
        cluster.chown(&cluster.dir);
        let pwfile = cluster.dir.join("pwfile");
        fs::write(&pwfile, &options.password).unwrap_or_else(|e| panic!("{e}"));
        cluster.chown(&pwfile);
        let data = cluster.data();
        cluster.run_ok(
            "initdb",
            &[
                "-D",
                path(&data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                &format!("--pwfile={}", path(&pwfile)),
                "--no-sync",
            ],
        );
        let mut conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 40\n",
            path(&cluster.dir)
        );
        if let Some((cert, key)) = &options.tls {
            let (cert_file, key_file) = (
                cluster.dir.join("server.crt"),
                cluster.dir.join("server.key"),
            );
            fs::write(&cert_file, cert).unwrap_or_else(|e| panic!("{e}"));
            fs::write(&key_file, key).unwrap_or_else(|e| panic!("{e}"));
            set_mode(&key_file, 0o600);
            cluster.chown(&cert_file);
            cluster.chown(&key_file);
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                path(&cert_file),
                path(&key_file)
            ));
        }
        append(&data.join("postgresql.conf"), &conf);
        let mut hba = String::from("local all all trust\n");
        if options.hba.is_empty() {
            hba.push_str("host all all 127.0.0.1/32 scram-sha-256\n");
        }
        for line in &options.hba {
            hba.push_str(line);
            hba.push('\n');
        }
        fs::write(data.join("pg_hba.conf"), hba).unwrap_or_else(|e| panic!("{e}"));
        cluster.chown(&data.join("pg_hba.conf"));
        let log = cluster.dir.join("log");
        let started = cluster.run(
            "pg_ctl",
            &[
                "-D",
                path(&data),
                "-l",
                path(&log),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        if !started.status.success() {
            let log = fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "the private PostgreSQL did not start: {}\n{log}",
                String::from_utf8_lossy(&started.stderr)
            );
        }
        Some(cluster)
    }

    /// The port it listens on (127.0.0.1).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL of it for `user` with `password` and `database`, and `options` (`k=v&…`,
    /// possibly empty).
    #[must_use]
    pub fn url(&self, user: &str, password: &str, database: &str, options: &str) -> String {
        let query = if options.is_empty() {
            String::new()
        } else {
            format!("?{options}")
        };
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/{database}{query}",
            self.port
        )
    }

    /// Runs `sql` as the superuser over the Unix socket (trusted) in `database`; answers what
    /// it printed (unaligned, tuples only).
    ///
    /// # Errors
    /// What `psql` said when it failed.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                path(&self.dir),
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
            ])
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs a server binary, as `postgres` when this process is root.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
    }

    fn run_ok(&self, program: &str, args: &[&str]) {
        let output = self.run(program, args);
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn chown(&self, target: &Path) {
        if self.as_postgres {
            let _ = Command::new("chown")
                .args(["postgres:postgres", path(target)])
                .status();
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run(
            "pg_ctl",
            &["-D", path(&data), "-m", "immediate", "-w", "stop"],
        );
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The directory of the server binaries, or `None` after the notice (a panic in CI).
fn binaries() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(PG_BIN) {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Some(bin),
        None => service::unavailable(&format!(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (nor {PG_BIN}) for a private cluster"
        )),
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

fn path(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", path.display()))
}

fn append(file: &Path, text: &str) {
    let mut old = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    old.push_str(text);
    fs::write(file, old).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
}

fn set_mode(file: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(file, fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = (file, mode);
}
