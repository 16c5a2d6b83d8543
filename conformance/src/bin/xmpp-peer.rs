//! XMPP conformance peer over blocking `std::net`.
//!
//! ```text
//! xmpp-peer client --jid JID --password PW --server HOST:PORT --scenario NAME|all
//!                  [--peer-jid JID --peer-password PW [--peer-server HOST:PORT]] [--slixmpp PYTHON]
//!                  [--slixmpp-script PATH] [--ws-url URL] [--smoke-time SECS]
//! xmpp-peer server --listen ADDR --domain DOMAIN --user NAME:PASSWORD [...] [--ws-listen ADDR]
//!                  [--s2s-listen ADDR --s2s-secret S [--s2s-peer DOMAIN=HOST:PORT]]
//! xmpp-peer list
//! ```
//!
//! `client` runs the scenarios named (comma-separated or repeated, `all`
//! for every one) and prints `PASS name`, `FAIL name: why` or `SKIP name:
//! why` for each, then `N passed, N failed, N skipped` last; it exits 1 on
//! any failure. `--scenario smoke` alone is the minimal client any server
//! can serve: it exits 0 when the session started and ended cleanly.
//!
//! The peer account logs in at `--peer-server` when given: a user of
//! another, federated, server (the two-user scenarios then cross s2s).
//!
//! `server` runs the in-memory c2s server (`conformance::xmpp_server`).

use std::process::ExitCode;

use conformance::cli::Flags;
use conformance::ws_driver::WsUrl;
use conformance::xmpp_scenarios::{self, Account, Ctx, SCENARIOS};

const USAGE: &str = "usage:
  xmpp-peer client --jid JID --password PW --server HOST:PORT --scenario NAME|all
                   [--peer-jid JID --peer-password PW [--peer-server HOST:PORT]] [--slixmpp PYTHON]
                   [--slixmpp-script PATH] [--ws-url URL] [--smoke-time SECS]
  xmpp-peer server --listen ADDR --domain DOMAIN --user NAME:PASSWORD [...] [--ws-listen ADDR]
                   [--s2s-listen ADDR --s2s-secret S [--s2s-peer DOMAIN=HOST:PORT]...]
  xmpp-peer list";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        return usage("missing command");
    };
    match cmd.as_str() {
        "client" => client(rest),
        "server" => {
            let code = conformance::xmpp_server::main(rest);
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
    eprintln!("xmpp-peer: {why}\n{USAGE}");
    ExitCode::from(2)
}

const VALUED: &[&str] = &[
    "--jid",
    "--password",
    "--server",
    "--scenario",
    "--peer-jid",
    "--peer-password",
    "--peer-server",
    "--slixmpp",
    "--slixmpp-script",
    "--ws-url",
    "--smoke-time",
];

fn account(jid: &str, password: String) -> Result<Account, String> {
    let jid = jid.parse().map_err(|e| format!("bad JID {jid:?}: {e}"))?;
    Ok(Account {
        jid,
        password,
        server: None,
    })
}

fn client(args: &[String]) -> ExitCode {
    let flags = match Flags::parse(args, VALUED, &[]) {
        Ok(f) => f,
        Err(e) => return usage(&e),
    };
    let value = |name: &str| flags.value(name).map(str::to_owned);
    let (Some(jid), Some(password), Some(server)) =
        (value("--jid"), value("--password"), value("--server"))
    else {
        return usage("client needs --jid, --password and --server");
    };
    let main_account = match account(&jid, password) {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    let names = flags.list("--scenario");
    if names.is_empty() {
        return usage("client needs --scenario NAME|all");
    }
    if let Err(e) = xmpp_scenarios::check_names(&names) {
        return usage(&e);
    }
    let mut ctx = Ctx::new(server, main_account);
    match (value("--peer-jid"), value("--peer-password")) {
        (Some(j), Some(p)) => match account(&j, p) {
            Ok(mut a) => {
                a.server = value("--peer-server").filter(|s| !s.is_empty());
                ctx.peer = Some(a);
            }
            Err(e) => return usage(&e),
        },
        (None, None) => {}
        _ => return usage("--peer-jid and --peer-password go together"),
    }
    ctx.python = value("--slixmpp").filter(|p| !p.is_empty());
    if let Some(p) = value("--slixmpp-script") {
        ctx.slixmpp_script = p.into();
    }
    if let Some(u) = value("--ws-url").filter(|u| !u.is_empty()) {
        match WsUrl::parse(&u) {
            Ok(u) => ctx.ws_url = Some(u),
            Err(e) => return usage(&e),
        }
    }
    if let Some(t) = value("--smoke-time") {
        match t.parse::<f64>() {
            Ok(t) if t > 0.0 && t < 3600.0 => {
                ctx.smoke_time = std::time::Duration::from_secs_f64(t);
            }
            _ => return usage(&format!("bad --smoke-time {t:?}")),
        }
    }
    println!(
        "xmpp-peer client: {} scenario(s) {} as {} against {}",
        if names.iter().any(|n| n == "all") {
            SCENARIOS.len()
        } else {
            names.len()
        },
        names.join(","),
        ctx.account.jid,
        ctx.server,
    );
    let report = match xmpp_scenarios::run(&ctx, &names) {
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
