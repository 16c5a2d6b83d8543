//! `h2-peer`: HTTP/2 (h2c, prior knowledge) over loopback with
//! grpc-codec's connection machine.
//!
//! * `h2-peer server --listen ADDR`: `GET /` → 200 and a short body,
//!   `GET /large` → 1 MiB, `POST /echo` → the request body, 404 otherwise;
//!   a thread per connection. On SIGINT/SIGTERM (or after `--seconds N`)
//!   it prints one summary line and exits 0 if no connection failed.
//! * `h2-peer client --url http://HOST:PORT [--streams N] [--window BYTES]
//!   [--echo-len BYTES] [--no-echo-check]`: N rounds at once of `GET /`,
//!   `GET /large` (checked by SHA-256) and `POST /echo` (body checked),
//!   one connection; prints one summary line last, exits 1 on any failure.
//! * `h2-peer body small|large`: writes that body to stdout (to fill a
//!   real server's docroot with the same files).

use std::io::Write as _;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use conformance::cli::Flags;
use conformance::h2_peer::{self, ClientOptions, ServerStats};

const USAGE: &str = "usage:
  h2-peer server --listen ADDR [--seconds N]
  h2-peer client --url http://HOST:PORT [--streams N] [--window BYTES] [--echo-len BYTES] [--no-echo-check]
  h2-peer body small|large";

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: i32) {
    STOP.store(true, Ordering::Relaxed);
}

unsafe extern "C" {
    fn signal(signum: i32, handler: usize) -> usize;
}

/// SIGINT and SIGTERM set [`STOP`], so the server can print its summary.
fn catch_signals() {
    const SIGINT: i32 = 2;
    const SIGTERM: i32 = 15;
    for sig in [SIGINT, SIGTERM] {
        // SAFETY: libc's signal(2) with a handler that only stores to an
        // atomic, which is async-signal-safe.
        unsafe {
            signal(sig, on_signal as extern "C" fn(i32) as usize);
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        return usage("missing command");
    };
    let flags = match cmd.as_str() {
        "server" => Flags::parse(rest, &["--listen", "--seconds"], &[]),
        "client" => Flags::parse(
            rest,
            &["--url", "--streams", "--window", "--echo-len"],
            &["--no-echo-check"],
        ),
        "body" => {
            let body = match rest.first().map(String::as_str) {
                Some("small") => bytes::Bytes::from_static(h2_peer::SMALL_BODY),
                Some("large") => h2_peer::large_body(),
                _ => return usage("body small|large"),
            };
            return match std::io::stdout().write_all(&body) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            };
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => return usage(&format!("unknown command {other:?}")),
    };
    let f = match flags {
        Ok(f) => f,
        Err(e) => return usage(&e),
    };
    if cmd == "server" {
        let Some(addr) = f.value("--listen") else {
            return usage("server needs --listen ADDR");
        };
        let seconds = match f.value("--seconds").map(str::parse::<u64>).transpose() {
            Ok(s) => s,
            Err(_) => return usage("--seconds needs a number"),
        };
        return server(addr, seconds);
    }
    let Some(url) = f.value("--url") else {
        return usage("client needs --url http://HOST:PORT");
    };
    let Some(hostport) = url
        .strip_prefix("http://")
        .map(|r| r.split('/').next().unwrap_or(r))
    else {
        return usage("--url must be http://HOST:PORT (h2c prior knowledge)");
    };
    let num = |name: &str, default: usize| -> Result<usize, String> {
        f.value(name).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("{name} needs a number"))
        })
    };
    let (streams, echo_len) = match (num("--streams", 8), num("--echo-len", 256 * 1024)) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return usage(&e),
    };
    let window = match f.value("--window").map(str::parse::<u32>).transpose() {
        Ok(w) => w,
        Err(_) => return usage("--window needs a number of bytes"),
    };
    let opts = ClientOptions {
        addr: hostport.to_owned(),
        authority: hostport.to_owned(),
        streams,
        window,
        check_echo: !f.has("--no-echo-check"),
        echo_len,
    };
    match h2_peer::run_client(&opts) {
        Ok(report) => {
            for failure in report.failures.iter().skip(1).take(10) {
                eprintln!("h2-peer client: {failure}");
            }
            println!("{}", report.summary(&opts));
            if report.failures.is_empty() && report.ok == report.total {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            println!("h2-peer client: FAIL cannot run against {hostport}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn server(addr: &str, seconds: Option<u64>) -> ExitCode {
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("h2-peer server: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener
        .local_addr()
        .map_or_else(|_| addr.to_owned(), |a| a.to_string());
    eprintln!("h2-peer server: listening on {local} (h2c prior knowledge)");
    catch_signals();
    let start = Instant::now();
    if let Some(s) = seconds {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(s));
            STOP.store(true, Ordering::Relaxed);
        });
    }
    let stats = Arc::new(ServerStats::default());
    let r = h2_peer::serve(&listener, &stats, &STOP);
    println!("{}", stats.summary(start.elapsed()));
    match r {
        Ok(()) if stats.errors.load(Ordering::Relaxed) == 0 => ExitCode::SUCCESS,
        Ok(()) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("h2-peer server: accept failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("h2-peer: {why}\n{USAGE}");
    ExitCode::from(2)
}
