//! A real `redis-server` for the scale-out tests: its own free loopback port, its own
//! temporary directory, AOF on (as production should run it), killed when dropped. Debian's
//! `redis-server` must be installed (`scripts/test.sh` installs it).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct RedisServer {
    child: Option<Child>,
    pub(crate) port: u16,
    /// The data directory (AOF): kept across [`RedisServer::restart`].
    pub(crate) dir: tempfile::TempDir,
}

/// A free loopback port below the kernel's ephemeral range (32768 and up on Linux). A
/// restarted Redis takes its port again; a port from the ephemeral range could meanwhile be
/// handed to another test's `bind(0)` (a node or a Redis), and the restarted Redis would fail
/// to start while the test talked to the other one. Ports here are never handed out by the
/// kernel; each is taken once per test process (a counter), starting at an offset from the pid.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 400) as u16 * 25;
    for _ in 0..10_000 {
        let port = 20_000 + (base - 20_000 + NEXT.fetch_add(1, Ordering::Relaxed)) % 10_000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 20000..30000");
}

impl RedisServer {
    /// Starts a fresh server and waits (at most 10 s) until it answers `PING`.
    pub(crate) async fn start() -> Self {
        let mut server = Self { child: None, port: free_port(), dir: tempfile::tempdir().expect("temp dir") };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(self.dir.path().join("redis.log")).expect("log file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (Debian: apt-get install redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = self.client().get_multiplexed_async_connection().await {
                let pong: Result<String, _> = redis::cmd("PING").query_async(&mut c).await;
                if pong.is_ok_and(|p| p == "PONG") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING on {} within 10 s",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(crate) fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("a valid URL")
    }

    /// A connection for the test's own checks.
    pub(crate) async fn conn(&self) -> redis::aio::MultiplexedConnection {
        self.client().get_multiplexed_async_connection().await.expect("redis answers")
    }

    /// SIGKILLs the server (its AOF stays in `dir`).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server the way an operator does (SIGTERM: it flushes its AOF and exits),
    /// waiting for it to exit.
    pub(crate) fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and directory: it loads its AOF.
    pub(crate) async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// Starts it again after [`RedisServer::kill`] or [`RedisServer::terminate`].
    pub(crate) async fn start_again(&mut self) {
        self.spawn().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
