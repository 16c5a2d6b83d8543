//! Child processes the runners start (real peers: Python and Node scripts,
//! Chromium): output captured by reader threads, a readiness line awaited
//! with a deadline, and a stop by PID (or by the process group the child
//! leads) when the handle is dropped.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A loopback port that was free a moment ago, for a peer to listen on.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Runs `f` on its own thread and waits at most `limit` for it; a run that
/// overstays is abandoned (its thread ends with the process).
pub fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .map_err(|_| format!("no result within {:.0} s", limit.as_secs_f64()))
}

/// A child process we started: its output is collected by reader threads,
/// and it is stopped by PID when dropped.
pub struct Proc {
    child: Child,
    name: String,
    output: Arc<Mutex<String>>,
    /// Stop the whole process group (Chromium's helpers), not just the PID.
    group: bool,
}

impl Proc {
    /// Starts `cmd` with its output captured; with `ready`, waits until a
    /// line of its output contains that text.
    pub fn start(
        name: &str,
        mut cmd: Command,
        ready: Option<&str>,
        wait: Duration,
        group: bool,
    ) -> Result<Self, String> {
        if group {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let output = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<()>();
        let pipes: [Option<Box<dyn Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ];
        for pipe in pipes.into_iter().flatten() {
            let (out, tx, ready) = (Arc::clone(&output), tx.clone(), ready.map(str::to_owned));
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    // The line is kept before readiness is signalled, so
                    // the caller finds it in `output()`.
                    let is_ready = ready.as_deref().is_some_and(|r| line.contains(r));
                    if let Ok(mut o) = out.lock() {
                        o.push_str(&line);
                        o.push('\n');
                    }
                    if is_ready {
                        let _ = tx.send(());
                    }
                }
            });
        }
        let mut p = Self {
            child,
            name: name.to_owned(),
            output,
            group,
        };
        if ready.is_some() && rx.recv_timeout(wait).is_err() {
            return Err(format!(
                "{name} not ready within {:.0} s: {}",
                wait.as_secs_f64(),
                p.last_line()
            ));
        }
        if let Ok(Some(status)) = p.child.try_wait() {
            return Err(format!("{name} exited ({status}): {}", p.last_line()));
        }
        Ok(p)
    }

    /// Waits for the child to exit, at most `limit`; true if it exited with
    /// status 0.
    pub fn wait_success(&mut self, limit: Duration) -> Result<bool, String> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    // Let the reader threads take the last lines.
                    thread::sleep(Duration::from_millis(50));
                    return Ok(status.success());
                }
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!(
            "{} still running after {:.0} s",
            self.name,
            limit.as_secs_f64()
        ))
    }

    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    pub fn last_line(&self) -> String {
        self.output()
            .lines()
            .last()
            .unwrap_or("no output")
            .to_owned()
    }

    /// The runner's final `N passed, N failed` line.
    pub fn summary(&self) -> Option<(u32, u32)> {
        self.output().lines().rev().find_map(|l| {
            let (p, rest) = l.split_once(" passed, ")?;
            let f = rest.strip_suffix(" failed")?;
            Some((p.trim().parse().ok()?, f.trim().parse().ok()?))
        })
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if self.group {
                // SIGTERM to the group we created lets Chromium end its
                // helper processes too.
                let _ = Command::new("kill")
                    .args(["-TERM", "--", &format!("-{}", self.child.id())])
                    .stderr(Stdio::null())
                    .status();
                let deadline = Instant::now() + Duration::from_secs(5);
                while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                    thread::sleep(Duration::from_millis(20));
                }
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
