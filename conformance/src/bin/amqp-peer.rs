//! AMQP 0-9-1 conformance peer over blocking `std::net`.
//!
//! ```text
//! amqp-peer client --url amqp://USER:PASS@HOST:PORT/VHOST --scenario NAME|all
//!                  [--scenario NAME...] [--pika PYTHON] [--pika-script PATH]
//!                  [--blocked-cmd CMD --unblocked-cmd CMD] [--throughput-count N]
//! amqp-peer broker --listen ADDR --user NAME:PASSWORD [...]
//! amqp-peer list
//! ```
//!
//! `client` runs the scenarios named (comma-separated or repeated, `all`
//! for every one) against the broker at URL and prints `PASS name`,
//! `FAIL name: why` or `SKIP name: why` for each, then `N passed, N failed,
//! N skipped` last; it exits 1 on any failure. `--pika` names a Python with
//! pika for the scenarios that need it (skipped without it);
//! `--blocked-cmd`/`--unblocked-cmd` are shell commands (run with `sh -c`)
//! that raise and clear the broker's resource alarm for `blocked`
//! (skipped without them).
//!
//! `broker` runs the in-memory broker (`conformance::amqp_broker`).

use std::process::ExitCode;

use conformance::amqp_driver::AmqpUrl;
use conformance::amqp_scenarios::{self, Ctx, SCENARIOS};
use conformance::cli::Flags;

const USAGE: &str = "usage:
  amqp-peer client --url amqp://USER:PASS@HOST:PORT/VHOST --scenario NAME|all
                   [--pika PYTHON] [--pika-script PATH]
                   [--blocked-cmd CMD --unblocked-cmd CMD] [--throughput-count N]
  amqp-peer broker --listen ADDR --user NAME:PASSWORD [...]
  amqp-peer list";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        return usage("missing command");
    };
    match cmd.as_str() {
        "client" => client(rest),
        "broker" => {
            let code = conformance::amqp_broker::main(rest.to_vec());
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        "list" => {
            for (name, _) in SCENARIOS {
                println!("{name}");
            }
            ExitCode::SUCCESS
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => usage(&format!("unknown command {other:?}")),
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("amqp-peer: {why}\n{USAGE}");
    ExitCode::from(2)
}

const VALUED: &[&str] = &[
    "--url",
    "--scenario",
    "--pika",
    "--pika-script",
    "--blocked-cmd",
    "--unblocked-cmd",
    "--throughput-count",
];

fn client(args: &[String]) -> ExitCode {
    let flags = match Flags::parse(args, VALUED, &[]) {
        Ok(f) => f,
        Err(e) => return usage(&e),
    };
    let value = |name: &str| flags.value(name).map(str::to_owned);
    let Some(url) = value("--url") else {
        return usage("client needs --url URL");
    };
    let url = match AmqpUrl::parse(&url) {
        Ok(u) => u,
        Err(e) => return usage(&e),
    };
    let names = flags.list("--scenario");
    if names.is_empty() {
        return usage("client needs --scenario NAME|all");
    }
    if let Err(e) = amqp_scenarios::check_names(&names) {
        return usage(&e);
    }
    let mut ctx = Ctx::new(url);
    ctx.python = value("--pika").filter(|p| !p.is_empty());
    if let Some(p) = value("--pika-script") {
        ctx.pika_script = p.into();
    }
    ctx.blocked_cmd = value("--blocked-cmd").filter(|c| !c.is_empty());
    ctx.unblocked_cmd = value("--unblocked-cmd").filter(|c| !c.is_empty());
    if let Some(n) = value("--throughput-count") {
        match n.parse() {
            Ok(n) if n > 0 => ctx.throughput_count = n,
            _ => return usage(&format!("bad --throughput-count {n:?}")),
        }
    }
    println!(
        "amqp-peer client: {} scenario(s) {} against {}{}",
        if names.iter().any(|n| n == "all") {
            SCENARIOS.len()
        } else {
            names.len()
        },
        names.join(","),
        ctx.url,
        ctx.python
            .as_deref()
            .map_or_else(String::new, |p| format!(", pika via {p}"))
    );
    let report = match amqp_scenarios::run(&ctx, &names) {
        Ok(r) => r,
        Err(e) => return usage(&e),
    };
    println!(
        "{} passed, {} failed, {} skipped",
        report.passed, report.failed, report.skipped
    );
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
