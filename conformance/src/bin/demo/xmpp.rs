//! The demo's XMPP rows: our client against our in-memory server
//! (`xmpp-peer server`, in process), and against Prosody and ejabberd when
//! Debian's packages are installed (private instances on free loopback
//! ports, started and stopped with `conformance/peers/xmpp.sh`).

use std::cell::RefCell;
use std::net::TcpListener;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use conformance::child::free_port;
use conformance::xmpp_scenarios::{self, Account, Ctx as ScenarioCtx};
use conformance::xmpp_server;

use super::peer_shell::PeerShell;
use super::{Ctx, Outcome, Row};

const XMPP: &str = "XMPP";
const PROSODY: &str = "/usr/bin/prosody";
const EJABBERDCTL: &str = "/usr/sbin/ejabberdctl";

/// The scenarios shown, one row each, and what they do.
const SCENARIOS: [(&str, &str); 4] = [
    (
        "smoke",
        "smoke: best SASL offered (SCRAM signature checked), bind, presence",
    ),
    ("message", "alice -> bob chat message, both our clients"),
    ("sm", "XEP-0198 enable, <r/> and <a h=.../>"),
    (
        "resume",
        "XEP-0198 resumption after a dropped TCP connection",
    ),
];

pub(super) fn xmpp_rows(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let peer = "xmpp-codec server";
    match our_server() {
        Ok(server) => rows.extend(scenario_rows(ctx, peer, &server)),
        Err(e) => rows.push(Row::new(XMPP, peer, "start", Outcome::Fail(e))),
    }
    let prosody = r#". conformance/peers/xmpp.sh || exit 1
        trap prosody_stop EXIT
        { prosody_start "$1" "$2" "$3" && prosody_register alice localhost pw-a &&
          prosody_register bob localhost pw-b; } >&2 || exit 1
        echo ready
        read -r _"#;
    rows.extend(real_server_rows(ctx, "Prosody", PROSODY, prosody, 3, 15));
    let ejabberd = r#". conformance/peers/xmpp.sh || exit 1
        trap ejabberd_stop EXIT
        { ejabberd_start "$1" && ejabberd_register alice localhost pw-a &&
          ejabberd_register bob localhost pw-b; } >&2 || exit 1
        echo ready
        read -r _"#;
    rows.extend(real_server_rows(
        ctx,
        "ejabberd",
        EJABBERDCTL,
        ejabberd,
        1,
        30,
    ));
    rows
}

/// Our server for `localhost` on a free loopback port, serving for the rest
/// of the run; returns its `HOST:PORT`.
fn our_server() -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let users = [
        ("alice".to_owned(), "pw-a".to_owned()),
        ("bob".to_owned(), "pw-b".to_owned()),
    ];
    let handle = xmpp_server::spawn(listener, "localhost", &users)?;
    Ok(handle.addr.to_string())
}

/// Rows against a real server whose `binary` shows it is installed,
/// started by `script` (which gets `ports` free ports and prints `ready`)
/// when `need` seconds of the budget are left.
fn real_server_rows(
    ctx: &Ctx,
    name: &str,
    binary: &str,
    script: &str,
    ports: usize,
    need: u64,
) -> Vec<Row> {
    let workload = "smoke, message, XEP-0198";
    if !Path::new(binary).exists() {
        let why = format!("{name} not installed (test.sh installs it)");
        return vec![Row::new(XMPP, name, workload, Outcome::Skip(why))];
    }
    if let Some(skip) = ctx.out_of_time(Duration::from_secs(need)) {
        return vec![Row::new(XMPP, name, workload, skip)];
    }
    let ports: Result<Vec<String>, String> = (0..ports)
        .map(|_| free_port().map(|p| p.to_string()))
        .collect();
    let ports = match ports {
        Ok(p) => p,
        Err(e) => return vec![Row::new(XMPP, name, "start", Outcome::Fail(e))],
    };
    match PeerShell::start(ctx, script, &ports).and_then(|(shell, line)| {
        if line == "ready" {
            Ok(shell)
        } else {
            shell.stop();
            Err("the server did not start".to_owned())
        }
    }) {
        Ok(shell) => {
            let server = format!("127.0.0.1:{}", ports.first().map_or("", String::as_str));
            let rows = scenario_rows(ctx, name, &server);
            shell.stop();
            rows
        }
        Err(e) => vec![Row::new(
            XMPP,
            name,
            "start",
            Outcome::Fail(format!(
                "{e} (test.sh's xmpp logs under target/peers show why)"
            )),
        )],
    }
}

/// Each of [`SCENARIOS`] as alice (with bob as the second user) against
/// the c2s listener at `server`, one row each.
fn scenario_rows(ctx: &Ctx, peer: &str, server: &str) -> Vec<Row> {
    let account = |name: &str, pw: &str| -> Result<Account, String> {
        Ok(Account {
            jid: format!("{name}@localhost")
                .parse()
                .map_err(|e| format!("{e:?}"))?,
            password: pw.to_owned(),
            server: None,
        })
    };
    let (alice, bob) = match (account("alice", "pw-a"), account("bob", "pw-b")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return vec![Row::new(XMPP, peer, "jid", Outcome::Fail(e))],
    };
    let mut rows = Vec::new();
    for (name, workload) in SCENARIOS {
        if let Some(skip) = ctx.out_of_time(Duration::from_secs(8)) {
            rows.push(Row::new(XMPP, peer, workload, skip));
            continue;
        }
        let lines = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&lines);
        let mut sctx = ScenarioCtx::new(server, alice.clone())
            .with_output(move |l| sink.borrow_mut().push(l.to_owned()));
        sctx.peer = Some(bob.clone());
        sctx.smoke_time = Duration::from_secs(1);
        let outcome = match xmpp_scenarios::run(&sctx, &[name.to_owned()]) {
            Ok(r) if r.failed == 0 && r.passed > 0 => Outcome::Pass(String::new()),
            Ok(r) if r.failed == 0 => Outcome::Skip(lines.borrow().join("; ")),
            Ok(_) => Outcome::Fail(lines.borrow().join("; ")),
            Err(e) => Outcome::Fail(e),
        };
        rows.push(Row::new(XMPP, peer, workload, outcome));
    }
    rows
}
