//! The demo's HTTP/2 rows: our client against our server (`h2-peer`'s
//! code, in process) with default and 16-byte windows, our client against
//! `nghttpd`, and curl and nghttp against our server, when Debian's
//! nghttp2 tools and curl are installed.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use conformance::child::{Proc, free_port};
use conformance::h2_peer::{self, ClientOptions, ServerStats};

use super::{Ctx, Outcome, Row};

const H2: &str = "HTTP/2 (h2c)";
const NGHTTPD: &str = "/usr/sbin/nghttpd";
const NGHTTP: &str = "/usr/bin/nghttp";
const CURL: &str = "/usr/bin/curl";
const CURL_PEER: &str = "curl -> grpc-codec server";
const NGHTTP_PEER: &str = "nghttp -> grpc-codec server";
const NGHTTPD_PEER: &str = "grpc-codec client -> nghttpd";

pub(super) fn h2_rows(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let server = match OurServer::start() {
        Ok(s) => s,
        Err(e) => {
            rows.push(Row::new(H2, "grpc-codec server", "start", Outcome::Fail(e)));
            return rows;
        }
    };
    let peer = "grpc-codec client -> grpc-codec server";
    rows.push(client_row(peer, &server.addr, 8, None, true));
    rows.push(client_row(peer, &server.addr, 2, Some(16), true));
    rows.push(curl_row(ctx, &server.addr));
    rows.push(nghttp_row(ctx, &server.addr));
    rows.push(nghttpd_row(ctx));
    server.stop();
    rows
}

/// `h2-peer server` on a free port, in this process.
struct OurServer {
    addr: String,
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<()>,
}

impl OurServer {
    fn start() -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let addr = listener
            .local_addr()
            .map_err(|e| e.to_string())?
            .to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let stats = Arc::new(ServerStats::default());
            let _ = h2_peer::serve(&listener, &stats, &flag);
        });
        Ok(Self { addr, stop, thread })
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// Our client's rounds against `addr`.
fn client_row(peer: &str, addr: &str, streams: usize, window: Option<u32>, echo: bool) -> Row {
    let opts = ClientOptions {
        addr: addr.to_owned(),
        authority: addr.to_owned(),
        streams,
        window,
        check_echo: echo,
        echo_len: 256 * 1024,
    };
    let workload = format!(
        "{streams} x (GET /, GET /large 1 MiB, POST /echo), window {}",
        window.map_or_else(|| "default".to_owned(), |w| format!("{w} B"))
    );
    let mut row = Row::new(H2, peer, &workload, Outcome::Pass(String::new()));
    match h2_peer::run_client(&opts) {
        Ok(r) if r.failures.is_empty() && r.ok == r.total => {
            row.measured = Some((r.total as u64, (r.bytes_in + r.bytes_out) as u64, r.elapsed));
            row.outcome = Outcome::Pass(format!("{} streams at once", r.max_open));
        }
        Ok(r) => row.outcome = Outcome::Fail(r.summary(&opts)),
        Err(e) => row.outcome = Outcome::Fail(e.to_string()),
    }
    row
}

fn run(cmd: &mut Command, limit: Duration) -> Result<Vec<u8>, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    if let Some(mut so) = child.stdout.take() {
        let start = Instant::now();
        let reader = thread::spawn(move || {
            let mut v = Vec::new();
            let _ = std::io::Read::read_to_end(&mut so, &mut v);
            v
        });
        while child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s", limit.as_secs()));
            }
            thread::sleep(Duration::from_millis(10));
        }
        out = reader.join().unwrap_or_default();
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(out)
    } else {
        Err(format!("exited with {status}"))
    }
}

fn curl_row(ctx: &Ctx, addr: &str) -> Row {
    let workload = "curl --http2-prior-knowledge GET /large, POST /echo 256 KiB";
    if !Path::new(CURL).exists() {
        return Row::new(
            H2,
            "curl",
            workload,
            Outcome::Skip("curl not installed".to_owned()),
        );
    }
    if let Some(skip) = ctx.out_of_time(Duration::from_secs(5)) {
        return Row::new(H2, CURL_PEER, workload, skip);
    }
    let start = Instant::now();
    let want = h2_peer::sha256_hex(&h2_peer::large_body());
    let large = run(
        Command::new(CURL).args([
            "-s",
            "--http2-prior-knowledge",
            &format!("http://{addr}/large"),
        ]),
        Duration::from_secs(20),
    );
    let body: Vec<u8> = (0..256 * 1024).map(|i: usize| (i % 251) as u8).collect();
    let file = std::env::temp_dir().join(format!("demo-h2-post-{}.bin", std::process::id()));
    let echo = std::fs::write(&file, &body)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            run(
                Command::new(CURL).args([
                    "-s",
                    "--http2-prior-knowledge",
                    "--data-binary",
                    &format!("@{}", file.display()),
                    &format!("http://{addr}/echo"),
                ]),
                Duration::from_secs(20),
            )
        });
    let _ = std::fs::remove_file(&file);
    let outcome = match (large, echo) {
        (Ok(l), Ok(e)) if h2_peer::sha256_hex(&l) == want && e == body => {
            Outcome::Pass(String::new())
        }
        (Ok(l), Ok(e)) => Outcome::Fail(format!(
            "/large {} bytes, echo {} bytes: mismatch",
            l.len(),
            e.len()
        )),
        (Err(e), _) | (_, Err(e)) => Outcome::Fail(e),
    };
    let mut row = Row::new(H2, CURL_PEER, workload, outcome);
    row.measured = Some((
        2,
        (h2_peer::LARGE_LEN + 2 * body.len()) as u64,
        start.elapsed(),
    ));
    row
}

fn nghttp_row(ctx: &Ctx, addr: &str) -> Row {
    let workload = "nghttp -w 16 -W 16 GET /large";
    if !Path::new(NGHTTP).exists() {
        return Row::new(
            H2,
            "nghttp",
            workload,
            Outcome::Skip("nghttp2-client not installed".to_owned()),
        );
    }
    if let Some(skip) = ctx.out_of_time(Duration::from_secs(5)) {
        return Row::new(H2, NGHTTP_PEER, workload, skip);
    }
    let start = Instant::now();
    let want = h2_peer::sha256_hex(&h2_peer::large_body());
    let outcome = match run(
        Command::new(NGHTTP).args(["-w", "16", "-W", "16", &format!("http://{addr}/large")]),
        Duration::from_secs(20),
    ) {
        Ok(b) if h2_peer::sha256_hex(&b) == want => Outcome::Pass(String::new()),
        Ok(b) => Outcome::Fail(format!("{} bytes, not the 1 MiB body", b.len())),
        Err(e) => Outcome::Fail(e),
    };
    let mut row = Row::new(H2, NGHTTP_PEER, workload, outcome);
    row.measured = Some((1, h2_peer::LARGE_LEN as u64, start.elapsed()));
    row
}

fn nghttpd_row(ctx: &Ctx) -> Row {
    let workload = "8 x (GET /, GET /large 1 MiB, POST /echo), window default";
    if !Path::new(NGHTTPD).exists() {
        return Row::new(
            H2,
            "nghttpd",
            workload,
            Outcome::Skip("nghttp2-server not installed".to_owned()),
        );
    }
    if let Some(skip) = ctx.out_of_time(Duration::from_secs(10)) {
        return Row::new(H2, NGHTTPD_PEER, workload, skip);
    }
    let started = (|| -> Result<(Proc, String, std::path::PathBuf), String> {
        let docroot = std::env::temp_dir().join(format!("demo-h2-docroot-{}", std::process::id()));
        std::fs::create_dir_all(&docroot).map_err(|e| e.to_string())?;
        for (name, body) in [
            ("index.html", h2_peer::SMALL_BODY),
            ("echo", h2_peer::SMALL_BODY),
            ("large", &h2_peer::large_body()[..]),
        ] {
            std::fs::write(docroot.join(name), body).map_err(|e| e.to_string())?;
        }
        let port = free_port()?;
        let mut cmd = Command::new(NGHTTPD);
        cmd.arg("--no-tls")
            .arg("-d")
            .arg(&docroot)
            .arg(port.to_string());
        let proc = Proc::start("nghttpd", cmd, None, Duration::from_secs(5), false)?;
        let addr = format!("127.0.0.1:{port}");
        let until = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(&addr).is_err() {
            if Instant::now() > until {
                return Err("nghttpd did not listen".to_owned());
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok((proc, addr, docroot))
    })();
    match started {
        Ok((proc, addr, docroot)) => {
            // nghttpd serves files: the echo is not checked, only the status.
            let mut row = client_row(NGHTTPD_PEER, &addr, 8, None, false);
            row.workload = format!("{workload} (echo not checked)");
            drop(proc);
            let _ = std::fs::remove_dir_all(docroot);
            row
        }
        Err(e) => Row::new(H2, NGHTTPD_PEER, workload, Outcome::Fail(e)),
    }
}
