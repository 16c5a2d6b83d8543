//! The scenarios against a real server, when one is configured.

use std::cell::RefCell;
use std::rc::Rc;

use super::{Account, Ctx, run};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn account(jid: &str, password: String, server: Option<String>) -> Account {
    Account {
        jid: jid.parse().unwrap(),
        password,
        server,
    }
}

/// `XMPP_SERVER=HOST:PORT XMPP_JID=.. XMPP_PASSWORD=..` (and optionally
/// `XMPP_PEER_JID`, `XMPP_PEER_PASSWORD`, `XMPP_PEER_SERVER`, `XMPP_WS_URL`,
/// `XMPP_SLIXMPP`, `XMPP_SLIXMPP_SCRIPT`) name the server; `cargo test -p conformance -- --ignored
/// real_server` runs every scenario against it. Without a server this test
/// is reported as ignored, never as passed.
#[test]
#[ignore = "needs a real XMPP server: set XMPP_SERVER, XMPP_JID, XMPP_PASSWORD and run with --ignored"]
fn real_server_passes_every_scenario() {
    let (Some(server), Some(jid), Some(password)) =
        (env("XMPP_SERVER"), env("XMPP_JID"), env("XMPP_PASSWORD"))
    else {
        panic!("XMPP_SERVER, XMPP_JID and XMPP_PASSWORD must name a real server");
    };
    let lines = Rc::new(RefCell::new(Vec::<String>::new()));
    let out = Rc::clone(&lines);
    let mut ctx = Ctx::new(server, account(&jid, password, None))
        .with_output(move |l| out.borrow_mut().push(l.to_owned()));
    if let (Some(j), Some(p)) = (env("XMPP_PEER_JID"), env("XMPP_PEER_PASSWORD")) {
        ctx.peer = Some(account(&j, p, env("XMPP_PEER_SERVER")));
    }
    ctx.ws_url = env("XMPP_WS_URL").map(|u| crate::ws_driver::WsUrl::parse(&u).unwrap());
    ctx.python = env("XMPP_SLIXMPP");
    if let Some(script) = env("XMPP_SLIXMPP_SCRIPT") {
        ctx.slixmpp_script = script.into();
    }
    let report = run(&ctx, &["all".to_owned()]).unwrap();
    let text = lines.borrow().join("\n");
    println!("{text}");
    assert_eq!(report.failed, 0, "{text}");
    assert!(report.passed > 0, "{text}");
}
