//! The demo: every protocol over loopback, our client and server against
//! each other and against whichever real peers are installed, in one table.
//!
//! `cargo run --release -p conformance --bin demo` needs no setup: peers
//! that are not installed (test.sh puts them under `target/peers/`) give
//! SKIP rows. Each protocol contributes rows through one function in
//! [`PROTOCOLS`]; the run stays within [`BUDGET`]. Exits 1 if any row
//! failed; skips do not count.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

mod amqp;
mod h2;
mod peer_shell;
mod xmpp;

use conformance::child::{Proc, free_port, within};
use conformance::ws_driver::{self, WsUrl};
use conformance::ws_echo::{self, Workload};

/// The whole run's time limit.
const BUDGET: Duration = Duration::from_secs(100);

/// The protocols in the table, in order: each returns its rows.
const PROTOCOLS: &[fn(&Ctx) -> Vec<Row>] = &[
    websocket_rows,
    amqp::amqp_rows,
    h2::h2_rows,
    // Last: starting ejabberd and Prosody is the slowest part of the run.
    xmpp::xmpp_rows,
];

fn main() -> ExitCode {
    let ctx = Ctx {
        root: workspace_root(),
        deadline: Instant::now() + BUDGET,
    };
    println!("demo: loopback runs, workspace {}", ctx.root.display());
    let start = Instant::now();
    let mut rows = Vec::new();
    for protocol in PROTOCOLS {
        rows.extend(protocol(&ctx));
    }
    print_table(&rows);
    let count = |f: fn(&Outcome) -> bool| rows.iter().filter(|r| f(&r.outcome)).count();
    let passed = count(|o| matches!(o, Outcome::Pass(_)));
    let failed = count(|o| matches!(o, Outcome::Fail(_)));
    let skipped = count(|o| matches!(o, Outcome::Skip(_)));
    println!(
        "bytes: payload sent, each message echoed back once; MB/s: payload bytes per second one \
         way, handshake excluded; total time {:.1} s",
        start.elapsed().as_secs_f64()
    );
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

// ---- the table ----------------------------------------------------------

/// A row's verdict and its detail.
#[derive(Clone)]
enum Outcome {
    Pass(String),
    Fail(String),
    Skip(String),
}

/// One line of the table.
struct Row {
    protocol: &'static str,
    peer: String,
    workload: String,
    /// Messages echoed, bytes sent and the time taken, for throughput runs.
    measured: Option<(u64, u64, Duration)>,
    outcome: Outcome,
}

impl Row {
    fn new(protocol: &'static str, peer: &str, workload: &str, outcome: Outcome) -> Self {
        Self {
            protocol,
            peer: peer.to_owned(),
            workload: workload.to_owned(),
            measured: None,
            outcome,
        }
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn print_table(rows: &[Row]) {
    let header = [
        "protocol", "peer", "workload", "messages", "bytes", "MB/s", "result",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let (messages, bytes, rate) = match r.measured {
                Some((m, b, t)) => (
                    m.to_string(),
                    human_bytes(b),
                    format!("{:.1}", b as f64 / t.as_secs_f64().max(1e-9) / 1e6),
                ),
                None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
            };
            let result = match &r.outcome {
                Outcome::Pass(d) if d.is_empty() => "PASS".to_owned(),
                Outcome::Pass(d) => format!("PASS ({d})"),
                Outcome::Fail(d) => format!("FAIL ({d})"),
                Outcome::Skip(d) => format!("SKIP ({d})"),
            };
            [
                r.protocol.to_owned(),
                r.peer.clone(),
                r.workload.clone(),
                messages,
                bytes,
                rate,
                result,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            // Numbers right-aligned, text left-aligned; the last column bare.
            match i {
                3..=5 => s.push_str(&format!("{c:>w$} | ")),
                6 => s.push_str(c),
                _ => s.push_str(&format!("{c:<w$} | ")),
            }
        }
        println!("{}", s.trim_end());
    };
    println!();
    line(&header.map(str::to_owned));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule);
    for row in &cells {
        line(row);
    }
    println!();
}

// ---- shared context and helpers ------------------------------------------

/// What every protocol's rows need.
struct Ctx {
    /// The workspace root: peer scripts and `target/peers/` are found here.
    root: PathBuf,
    /// When the whole run must be over.
    deadline: Instant,
}

impl Ctx {
    /// Time left in the budget, at most `cap`.
    fn left(&self, cap: Duration) -> Duration {
        self.deadline
            .saturating_duration_since(Instant::now())
            .min(cap)
    }

    /// `Some(skip outcome)` when less than `need` is left.
    fn out_of_time(&self, need: Duration) -> Option<Outcome> {
        (self.left(need) < need).then(|| Outcome::Skip("time budget used up".to_owned()))
    }
}

/// The workspace root: the build-time location when it still exists, else
/// the current directory (or its parent, when run from `conformance/`).
fn workspace_root() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cwd = std::env::current_dir().unwrap_or_default();
    [built, cwd.clone(), cwd.join("..")]
        .into_iter()
        .find(|p| p.join("conformance/peers").is_dir())
        .and_then(|p| p.canonicalize().ok())
        .unwrap_or(cwd)
}

// ---- WebSocket -------------------------------------------------------------

const WS: &str = "WebSocket";

const WORKLOADS: [Workload; 3] = [
    Workload {
        count: 10_000,
        size: 64,
        text: true,
    },
    Workload {
        count: 1_000,
        size: 16 << 10,
        text: false,
    },
    Workload {
        count: 16,
        size: 1 << 20,
        text: false,
    },
];

/// A WebSocket echo server for our client: ours in-process, or a peer's.
struct WsTarget {
    name: String,
    /// Where it listens, or why its rows are skipped or failed.
    url: Result<WsUrl, Outcome>,
    /// Keeps a peer's server running while its rows run.
    _proc: Option<Proc>,
}

fn websocket_rows(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let python = ctx.root.join("target/peers/venv/bin/python");
    let node_ws = ctx.root.join("target/peers/node/node_modules/ws");
    let scripts = ctx.root.join("conformance/peers");
    let py_skip = (!python.is_file()
        || !succeeds(Command::new(&python).args(["-c", "import websockets"])))
    .then(|| format!("no Python websockets at {}", python.display()));
    let node_skip = (!node_ws.is_dir() || !succeeds(Command::new("node").arg("--version")))
        .then(|| format!("no node, or no ws at {}", node_ws.display()));

    for deflate in [false, true] {
        let mode = if deflate { "deflate" } else { "plain" };
        let mut targets = vec![WsTarget {
            name: "ws-codec server".to_owned(),
            url: our_server(deflate).map_err(Outcome::Fail),
            _proc: None,
        }];
        let py_args = if deflate {
            vec![]
        } else {
            vec!["--no-deflate"]
        };
        targets.push(peer_target(
            ctx,
            "Python websockets server",
            py_skip.as_ref(),
            &python,
            &scripts.join("py_server.py"),
            &py_args,
        ));
        let node_args = if deflate { vec!["--deflate"] } else { vec![] };
        targets.push(peer_target(
            ctx,
            "Node ws server",
            node_skip.as_ref(),
            Path::new("node"),
            &scripts.join("node_server.cjs"),
            &node_args,
        ));
        for t in &targets {
            let peer = format!("ws-codec client -> {}", t.name);
            let url = match &t.url {
                Ok(u) => u.clone(),
                Err(why) => {
                    rows.push(Row::new(WS, &peer, &format!("all, {mode}"), why.clone()));
                    continue;
                }
            };
            rows.push(ws_checks_row(ctx, &peer, &url, deflate, mode));
            for w in WORKLOADS {
                rows.push(ws_workload_row(ctx, &peer, &url, deflate, w, mode));
            }
        }
    }

    // Their clients against our server.
    for deflate in [true, false] {
        let mode = if deflate { "deflate" } else { "plain" };
        let py_flags: &[&str] = if deflate { &[] } else { &["--no-deflate"] };
        rows.push(peer_client_row(
            ctx,
            "Python websockets client -> ws-codec server",
            py_skip.as_ref(),
            &python,
            &scripts.join("py_client.py"),
            py_flags,
            mode,
        ));
        let node_flags: &[&str] = if deflate { &["--deflate"] } else { &[] };
        rows.push(peer_client_row(
            ctx,
            "Node ws client -> ws-codec server",
            node_skip.as_ref(),
            Path::new("node"),
            &scripts.join("node_client.cjs"),
            node_flags,
            mode,
        ));
    }
    for deflate in [true, false] {
        rows.push(chromium_row(ctx, &scripts.join("chromium.html"), deflate));
    }
    rows
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts our echo server on a loopback port, serving until the demo ends.
fn our_server(deflate: bool) -> Result<WsUrl, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    thread::spawn(move || {
        let _ = ws_driver::serve(&listener, None, move |tcp| {
            ws_echo::serve_echo(tcp, deflate, false, false);
        });
    });
    WsUrl::parse(&format!("ws://{addr}/"))
}

/// Starts a peer's echo server script on a free port.
fn peer_target(
    ctx: &Ctx,
    name: &str,
    skip: Option<&String>,
    interpreter: &Path,
    script: &Path,
    args: &[&str],
) -> WsTarget {
    let mut t = WsTarget {
        name: name.to_owned(),
        url: Err(Outcome::Skip(String::new())),
        _proc: None,
    };
    if let Some(why) = skip {
        t.url = Err(Outcome::Skip(why.clone()));
        return t;
    }
    if !script.is_file() {
        t.url = Err(Outcome::Skip(format!("no {}", script.display())));
        return t;
    }
    let started = free_port().and_then(|port| {
        let mut cmd = Command::new(interpreter);
        cmd.arg(script)
            .args(["--port", &port.to_string()])
            .args(args);
        let wait = ctx.left(Duration::from_secs(15));
        let p = Proc::start(name, cmd, Some("listening on"), wait, false)?;
        Ok((p, port))
    });
    match started {
        Ok((p, port)) => {
            t.url = WsUrl::parse(&format!("ws://127.0.0.1:{port}/")).map_err(Outcome::Fail);
            t._proc = Some(p);
        }
        // An installed peer that does not start fails its rows.
        Err(e) => t.url = Err(Outcome::Fail(e)),
    }
    t
}

fn ws_checks_row(ctx: &Ctx, peer: &str, url: &WsUrl, deflate: bool, mode: &str) -> Row {
    let workload = format!("echo checks, {mode}");
    if let Some(skip) = ctx.out_of_time(Duration::from_secs(5)) {
        return Row::new(WS, peer, &workload, skip);
    }
    let url = url.clone();
    let r = within(ctx.left(Duration::from_secs(40)), move || {
        let mut failures = Vec::new();
        let report = ws_echo::run_checks(&url, deflate, &mut |line| {
            if line.starts_with("FAIL") {
                failures.push(line.to_owned());
            }
        });
        (report, failures)
    });
    let outcome = match r {
        Ok((report, failures)) => {
            let n = report.passed + report.failed;
            let ext = report.extensions.unwrap_or_default();
            if report.failed == 0 && (ext != "none") == deflate {
                Outcome::Pass(format!("{n}/{n} checks"))
            } else if report.failed == 0 {
                Outcome::Fail(format!("extensions agreed: {ext}"))
            } else {
                Outcome::Fail(format!(
                    "{}/{n} failed: {}",
                    report.failed,
                    failures.join("; ")
                ))
            }
        }
        Err(e) => Outcome::Fail(e),
    };
    Row::new(WS, peer, &workload, outcome)
}

fn ws_workload_row(
    ctx: &Ctx,
    peer: &str,
    url: &WsUrl,
    deflate: bool,
    w: Workload,
    mode: &str,
) -> Row {
    let workload = format!("{w}, {mode}");
    if let Some(skip) = ctx.out_of_time(Duration::from_secs(5)) {
        return Row::new(WS, peer, &workload, skip);
    }
    let url = url.clone();
    let r = within(ctx.left(Duration::from_secs(30)), move || {
        ws_echo::run_workload(&url, deflate, w)
    })
    .and_then(|r| r);
    let mut row = Row::new(WS, peer, &workload, Outcome::Pass(String::new()));
    match r {
        Ok(t) => row.measured = Some((t.messages, t.bytes, t.elapsed)),
        Err(e) => row.outcome = Outcome::Fail(e),
    }
    row
}

/// Runs a peer's echo client script against our server.
fn peer_client_row(
    ctx: &Ctx,
    peer: &str,
    skip: Option<&String>,
    interpreter: &Path,
    script: &Path,
    flags: &[&str],
    mode: &str,
) -> Row {
    let workload = format!("echo checks, {mode}");
    let outcome = (|| {
        if let Some(why) = skip {
            return Outcome::Skip(why.clone());
        }
        if !script.is_file() {
            return Outcome::Skip(format!("no {}", script.display()));
        }
        if let Some(skip) = ctx.out_of_time(Duration::from_secs(5)) {
            return skip;
        }
        let url = match our_server(mode == "deflate") {
            Ok(u) => u,
            Err(e) => return Outcome::Fail(e),
        };
        let mut cmd = Command::new(interpreter);
        cmd.arg(script)
            .arg(format!("ws://{}{}", url.authority(), url.path))
            .args(flags);
        let result = Proc::start(peer, cmd, None, Duration::ZERO, false)
            .and_then(|mut p| Ok((p.wait_success(ctx.left(Duration::from_secs(40)))?, p)));
        match result {
            Ok((ok, p)) => match p.summary() {
                Some((n, 0)) if ok => Outcome::Pass(format!("{n}/{n} checks")),
                Some((pass, fail)) => Outcome::Fail(format!(
                    "{fail}/{} failed: {}",
                    pass + fail,
                    fail_lines(&p.output())
                )),
                None => Outcome::Fail(format!("no summary: {}", p.last_line())),
            },
            Err(e) => Outcome::Fail(e),
        }
    })();
    Row::new(WS, peer, &workload, outcome)
}

fn fail_lines(output: &str) -> String {
    let fails: Vec<&str> = output.lines().filter(|l| l.starts_with("FAIL")).collect();
    fails.join("; ")
}

/// Headless Chromium loads `chromium.html`, which echoes through our server
/// and reports its result in a `VERDICT ...` text message.
fn chromium_row(ctx: &Ctx, page: &Path, deflate: bool) -> Row {
    let mode = if deflate { "deflate" } else { "plain" };
    let peer = "Chromium -> ws-codec server";
    let workload = format!("echo checks, {mode}");
    let chromium = Path::new("/usr/bin/chromium");
    let outcome = (|| {
        if !chromium.exists() {
            return Outcome::Skip(format!("no {}", chromium.display()));
        }
        if !page.is_file() {
            return Outcome::Skip(format!("no {}", page.display()));
        }
        if let Some(skip) = ctx.out_of_time(Duration::from_secs(15)) {
            return skip;
        }
        let listener = match TcpListener::bind("127.0.0.1:0").and_then(|l| Ok((l.local_addr()?, l)))
        {
            Ok(l) => l,
            Err(e) => return Outcome::Fail(e.to_string()),
        };
        let (addr, listener) = listener;
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            if let Ok((tcp, _)) = listener.accept() {
                let _ = tx.send(ws_echo::serve_echo(tcp, deflate, true, false));
            }
        });
        let profile = std::env::temp_dir().join(format!(
            "ws-demo-chromium-{}-{}",
            std::process::id(),
            addr.port()
        ));
        let mut cmd = Command::new(chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!(
            "file://{}?port={}&deflate={}",
            page.display(),
            addr.port(),
            u8::from(deflate)
        ));
        let proc = match Proc::start("chromium", cmd, None, Duration::ZERO, true) {
            Ok(p) => p,
            Err(e) => return Outcome::Fail(e),
        };
        let outcome = match rx.recv_timeout(ctx.left(Duration::from_secs(30))) {
            Ok(out) => match (out.verdict, out.clean_close, out.error) {
                (Some(v), Some(_), None) if v == "VERDICT pass" => {
                    Outcome::Pass(format!("{} echoes", out.messages))
                }
                (Some(v), _, None) => Outcome::Fail(v),
                (v, _, err) => Outcome::Fail(format!(
                    "{}; {}",
                    v.unwrap_or_else(|| "no verdict".to_owned()),
                    err.unwrap_or_else(|| "no clean close".to_owned())
                )),
            },
            Err(_) => Outcome::Fail(format!("no verdict in time: {}", proc.last_line())),
        };
        drop(proc);
        let _ = std::fs::remove_dir_all(&profile);
        outcome
    })();
    Row::new(WS, peer, &workload, outcome)
}
