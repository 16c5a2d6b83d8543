//! WebSocket conformance peer over blocking `std::net`.
//!
//! ```text
//! ws-peer server --listen ADDR [--no-deflate] [--verdict]
//! ws-peer client --url ws://HOST:PORT/PATH [--no-deflate]
//! ws-peer client --url ws://HOST:PORT --autobahn [--agent NAME]
//! ws-peer autobahn [ARGS...]
//! ```
//!
//! `server` echoes every text and binary message with its type, one thread
//! per connection, accepting permessage-deflate when offered unless
//! `--no-deflate`. With `--verdict` it serves one connection and exits with
//! the `VERDICT ...` text message the peer sends (the Chromium page): 0 for
//! `VERDICT pass` after a clean close, 1 otherwise.
//!
//! `client` runs the echo checks against an echo server, prints `PASS name`
//! or `FAIL name: why` per check and `N passed, N failed` last, and exits 1
//! on any failure. With `--autobahn` it instead runs the Autobahn
//! fuzzingserver client sequence against the server at URL (the verdicts are
//! in the fuzzingserver's report).

use std::net::TcpListener;
use std::process::ExitCode;

use conformance::cli::Flags;
use conformance::ws_driver::{self, WsUrl};
use conformance::ws_echo;

const USAGE: &str = "usage:
  ws-peer server --listen ADDR [--no-deflate] [--verdict]
  ws-peer client --url ws://HOST:PORT/PATH [--no-deflate]
  ws-peer client --url ws://HOST:PORT --autobahn [--agent NAME]
  ws-peer autobahn [ARGS...]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        return usage("missing command");
    };
    match cmd.as_str() {
        "server" => match Flags::parse(rest, &["--listen"], &["--no-deflate", "--verdict"]) {
            Ok(f) => match f.value("--listen") {
                Some(addr) => server(addr, !f.has("--no-deflate"), f.has("--verdict")),
                None => usage("server needs --listen ADDR"),
            },
            Err(e) => usage(&e),
        },
        "client" => {
            match Flags::parse(rest, &["--url", "--agent"], &["--no-deflate", "--autobahn"]) {
                Ok(f) => match f.value("--url") {
                    Some(url) if f.has("--autobahn") => {
                        fuzzingserver(url, f.value("--agent").unwrap_or("ws-codec"))
                    }
                    Some(url) => client(url, !f.has("--no-deflate")),
                    None => usage("client needs --url URL"),
                },
                Err(e) => usage(&e),
            }
        }
        "autobahn" => {
            let code = conformance::autobahn::main(rest.to_vec());
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => usage(&format!("unknown command {other:?}")),
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("ws-peer: {why}\n{USAGE}");
    ExitCode::from(2)
}

fn server(addr: &str, deflate: bool, verdict: bool) -> ExitCode {
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ws-peer server: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener
        .local_addr()
        .map_or_else(|_| addr.to_owned(), |a| a.to_string());
    eprintln!(
        "ws-peer server: listening on {local} (permessage-deflate {}{})",
        if deflate { "accepted" } else { "declined" },
        if verdict {
            ", one connection, verdict mode"
        } else {
            ""
        }
    );
    if verdict {
        return serve_verdict(&listener, deflate);
    }
    let r = ws_driver::serve(&listener, None, move |tcp| {
        ws_echo::serve_echo(tcp, deflate, false, true);
    });
    if let Err(e) = r {
        eprintln!("ws-peer server: accept failed: {e}");
    }
    ExitCode::FAILURE
}

/// Serves one connection and turns the page's `VERDICT ...` message into
/// the exit status.
fn serve_verdict(listener: &TcpListener, deflate: bool) -> ExitCode {
    let tcp = match listener.accept() {
        Ok((tcp, _)) => tcp,
        Err(e) => {
            eprintln!("ws-peer server: accept failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = ws_echo::serve_echo(tcp, deflate, true, true);
    match &out.verdict {
        Some(v) => println!("{v}"),
        None => println!("no verdict: the connection ended without a VERDICT message"),
    }
    let mut pass = out.verdict.as_deref() == Some("VERDICT pass");
    if !out.probed {
        println!("the page never asked for the probe (fragments and pings)");
        pass = false;
    }
    for ping in ws_echo::PROBE_PINGS {
        if !out.pongs.iter().any(|p| p == ping) {
            println!("no pong for ping {:?}", String::from_utf8_lossy(ping));
            pass = false;
        } else {
            println!("pong for ping {:?}", String::from_utf8_lossy(ping));
        }
    }
    match (&out.clean_close, &out.error) {
        (Some(_), None) => {}
        (_, err) => println!(
            "close handshake incomplete: {}",
            err.as_deref().unwrap_or("no close frame")
        ),
    }
    if pass && out.clean_close.is_some() && out.error.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn client(url: &str, deflate: bool) -> ExitCode {
    let url = match WsUrl::parse(url) {
        Ok(u) => u,
        Err(e) => return usage(&e),
    };
    let report = ws_echo::run_checks(&url, deflate, &mut |line| println!("{line}"));
    println!("{} passed, {} failed", report.passed, report.failed);
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn fuzzingserver(url: &str, agent: &str) -> ExitCode {
    let url = match WsUrl::parse(url) {
        Ok(u) => u,
        Err(e) => return usage(&e),
    };
    match conformance::fuzzingserver::run(&url, agent, &mut |line| println!("{line}")) {
        Ok(n) => {
            println!("ran {n} cases; updateReports done");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("fuzzingserver sequence failed: {e}");
            ExitCode::FAILURE
        }
    }
}
