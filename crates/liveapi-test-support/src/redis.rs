//! Real Redis for the tests beside the shared one ([`service::redis_url`](crate::service::redis_url)):
//! private `redis-server`s that a test may stop and start again, with a password or TLS if it
//! asks ([`RedisOptions`]), and key prefixes that keep tests sharing one server apart. With the
//! `redis-tls` feature, [`TestCa`] makes the certificates: a CA of the test's own, and a server
//! certificate it signs.
//!
//! A `redis-server` that cannot be run is a missing service, under the rule of
//! [`service`](crate::service): skipped with a notice, a failure in CI.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::service::unavailable;

/// A key prefix (or egress label) no other test, run or process uses.
#[must_use]
pub fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("liveapi-test:{test}:{}:{nanos}", std::process::id())
}

/// Whether a Redis is ready at `port` on loopback: it answers `PING` (after `AUTH` with a
/// password), or, over TLS, which this std-only check cannot speak, accepts a connection.
fn answers(port: u16, options: &RedisOptions) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if options.tls.is_some() {
        return true;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let (ask, expected) = match &options.password {
        Some(password) => (
            format!("AUTH {password}\r\nPING\r\n"),
            &b"+OK\r\n+PONG\r\n"[..],
        ),
        None => ("PING\r\n".to_owned(), &b"+PONG\r\n"[..]),
    };
    let mut reply = vec![0; expected.len()];
    stream.write_all(ask.as_bytes()).is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && reply == expected
}

/// A server's TLS identity, in PEM: its certificate, its key, and the CA that signed it.
#[derive(Clone, Debug)]
pub struct ServerTls {
    /// The server's certificate.
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
    /// The CA certificate that signed it.
    pub ca_pem: String,
}

/// How a private `redis-server` runs: plain and open unless asked otherwise.
#[derive(Clone, Debug, Default)]
pub struct RedisOptions {
    password: Option<String>,
    tls: Option<ServerTls>,
}

impl RedisOptions {
    /// Requires this password (`requirepass`).
    #[must_use]
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.to_owned());
        self
    }

    /// Speaks TLS only (`--tls-port`, no plain port), with this identity; clients need no
    /// certificate of their own.
    #[must_use]
    pub fn tls(mut self, identity: ServerTls) -> Self {
        self.tls = Some(identity);
        self
    }
}

/// A `redis-server` of the test's own on a free loopback port, keeping nothing on disk, that
/// the test may kill and start again.
#[derive(Debug)]
pub struct PrivateRedis {
    port: u16,
    dir: PathBuf,
    options: RedisOptions,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts a plain one without a password: [`start_with`](Self::start_with) the default
    /// options.
    pub fn start() -> Option<Self> {
        Self::start_with(RedisOptions::default())
    }

    /// Starts one, or `None` where `redis-server` cannot be run (which a CI run treats as a
    /// failure). `LIVEAPI_TEST_REDIS_SERVER` names another binary than the `redis-server` on
    /// the `PATH`.
    pub fn start_with(options: RedisOptions) -> Option<Self> {
        let port = match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => addr.port(),
            Err(e) => return unavailable(&format!("no free loopback port for redis-server: {e}")),
        };
        let dir = std::env::temp_dir().join(format!("liveapi-redis-{}-{port}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return unavailable(&format!("cannot make {}: {e}", dir.display()));
        }
        if let Some(tls) = &options.tls {
            for (file, pem) in [
                ("server.pem", &tls.cert_pem),
                ("server.key", &tls.key_pem),
                ("ca.pem", &tls.ca_pem),
            ] {
                if let Err(e) = std::fs::write(dir.join(file), pem) {
                    return unavailable(&format!("cannot write {}: {e}", dir.display()));
                }
            }
        }
        let mut redis = Self {
            port,
            dir,
            options,
            child: None,
        };
        match redis.spawn() {
            Ok(()) => Some(redis),
            Err(why) => unavailable(&why),
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let binary =
            std::env::var("LIVEAPI_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let port = self.port.to_string();
        let mut command = Command::new(&binary);
        command.args(["--bind", "127.0.0.1"]);
        if self.options.tls.is_some() {
            command
                .args([
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-auth-clients",
                    "no",
                ])
                .arg("--tls-cert-file")
                .arg(self.dir.join("server.pem"))
                .arg("--tls-key-file")
                .arg(self.dir.join("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(self.dir.join("ca.pem"));
        } else {
            command.args(["--port", &port]);
        }
        if let Some(password) = &self.options.password {
            command.args(["--requirepass", password]);
        }
        let child = command
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run `{binary}`: {e}"))?;
        self.child = Some(child);
        let started = Instant::now();
        while !answers(self.port, &self.options) {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!("`{binary}` did not answer on port {}", self.port));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// `redis://127.0.0.1:PORT/0`, or `rediss://` over TLS, with the password if there is
    /// one (`redis://:PASSWORD@127.0.0.1:PORT/0`).
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = if self.options.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        let password = self
            .options
            .password
            .as_ref()
            .map_or_else(String::new, |p| format!(":{p}@"));
        format!("{scheme}://{password}127.0.0.1:{}/0", self.port)
    }

    /// The loopback port it listens on (its TLS port over TLS).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (as a crash would) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    ///
    /// # Errors
    /// Why it did not come back.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.spawn()
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A certificate authority of the test's own, to sign a private Redis's certificate (and, as
/// a second one, to be the CA a client wrongly trusts).
#[cfg(feature = "redis-tls")]
pub struct TestCa {
    pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

#[cfg(feature = "redis-tls")]
impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

#[cfg(feature = "redis-tls")]
impl TestCa {
    /// A new CA, valid for signing server certificates.
    ///
    /// # Panics
    /// If rcgen cannot make a key or certificate: the test cannot go on.
    #[must_use]
    pub fn new(name: &str) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("a CA certificate");
        Self {
            pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// The CA's certificate, in PEM.
    #[must_use]
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A server identity this CA signs for `names` (host names, or IP addresses such as
    /// `127.0.0.1`, which become IP address names).
    ///
    /// # Panics
    /// If rcgen cannot make the key or certificate.
    #[must_use]
    pub fn server(&self, names: &[&str]) -> ServerTls {
        let key = rcgen::KeyPair::generate().expect("a server key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let cert = rcgen::CertificateParams::new(names)
            .expect("server parameters")
            .signed_by(&key, &self.issuer)
            .expect("a server certificate");
        ServerTls {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            ca_pem: self.pem.clone(),
        }
    }
}
