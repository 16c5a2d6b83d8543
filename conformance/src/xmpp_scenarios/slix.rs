//! Interop with slixmpp (`peers/slixmpp_peer.py`, the peer account) on
//! the other end of a conversation with our client.

use std::process::Command;
use std::time::Duration;

use xmpp_codec::stanza::jid::Jid;

use super::{Account, Ctx, Outcome, WAIT, chat, close, ensure, presence, wait_message};
use crate::amqp_scenarios::json::Json;
use crate::child::Proc;

/// How long the slixmpp peer may run.
const SLIX_TIME: Duration = Duration::from_secs(25);

/// The Python to run the peer with, or why the scenario is skipped.
fn python(ctx: &Ctx) -> Result<&str, Outcome> {
    let Some(python) = &ctx.python else {
        return Err(Outcome::Skip("needs --slixmpp PYTHON".to_owned()));
    };
    if !ctx.slixmpp_script.exists() {
        return Err(Outcome::Skip(format!(
            "{} is missing",
            ctx.slixmpp_script.display()
        )));
    }
    Ok(python)
}

fn slixmpp(ctx: &Ctx, account: &Account, args: &[&str]) -> Result<Proc, String> {
    let python = python(ctx).map_err(|o| format!("{o:?}"))?;
    let mut cmd = Command::new(python);
    cmd.arg(&ctx.slixmpp_script)
        .args(["--jid", &account.jid.to_string()])
        .args(["--password", &account.password])
        .args(["--server", account.server(ctx)])
        .args(["--timeout", &SLIX_TIME.as_secs().to_string()])
        .args(args);
    Proc::start("slixmpp_peer.py", cmd, Some("\"ready\""), WAIT * 2, false)
}

/// The JSON lines of `event` the peer printed.
fn events(p: &Proc, event: &str) -> Vec<Json> {
    p.output()
        .lines()
        .filter_map(|l| Json::parse(l).ok())
        .filter(|j| j.get("event").and_then(Json::as_str) == Some(event))
        .collect()
}

fn field(j: &Json, key: &str) -> String {
    j.get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Waits for the peer to exit 0.
fn finished(mut p: Proc) -> Result<Proc, String> {
    let ok = p.wait_success(SLIX_TIME + Duration::from_secs(5))?;
    ensure(ok, || format!("slixmpp_peer.py failed: {}", p.last_line()))?;
    Ok(p)
}

/// Our client → slixmpp (echo mode) → our client: slixmpp receives our
/// message and sends its body back.
pub(super) fn slixmpp_recv(ctx: &Ctx) -> Outcome {
    let peer = match ctx.peer() {
        Ok(p) => p,
        Err(o) => return o,
    };
    if let Err(o) = python(ctx) {
        return o;
    }
    let p = match slixmpp(ctx, peer, &["--mode", "echo", "--count", "1"]) {
        Ok(p) => p,
        Err(e) => return Outcome::Fail(e),
    };
    let r = (|| {
        let ready = events(&p, "ready");
        let slix: Jid = ready
            .first()
            .map(|j| field(j, "jid"))
            .unwrap_or_default()
            .parse()
            .map_err(|e| format!("slixmpp's ready line has no JID: {e}"))?;
        let mut s = ctx.connect(&ctx.account)?;
        s.send(&presence()).map_err(|e| e.to_string())?;
        let text = ctx.token("to slixmpp");
        s.send(&chat(&slix, &text)).map_err(|e| e.to_string())?;
        let echo = wait_message(&mut s, &text, WAIT)?;
        ensure(echo.attr("from") == Some(slix.to_string().as_str()), || {
            format!("echo from {:?}, expected {slix}", echo.attr("from"))
        })?;
        close(s)?;
        let p = finished(p)?;
        let got = events(&p, "message");
        ensure(got.iter().any(|m| field(m, "body") == text), || {
            format!("slixmpp did not report our body: {}", p.output())
        })?;
        let mech = events(&p, "summary")
            .first()
            .map(|j| field(j, "mech"))
            .unwrap_or_default();
        Ok(format!("{slix} ({mech}) received and echoed our message"))
    })();
    r.into()
}

/// slixmpp (send mode) → our client.
pub(super) fn slixmpp_send(ctx: &Ctx) -> Outcome {
    let peer = match ctx.peer() {
        Ok(p) => p,
        Err(o) => return o,
    };
    if let Err(o) = python(ctx) {
        return o;
    }
    let r = (|| {
        let mut s = ctx.connect(&ctx.account)?;
        s.send(&presence()).map_err(|e| e.to_string())?;
        let me = s.jid().cloned().ok_or("no bound JID")?.to_string();
        let text = ctx.token("from slixmpp");
        let p = slixmpp(ctx, peer, &["--mode", "send", "--to", &me, "--body", &text])?;
        let m = wait_message(&mut s, &text, WAIT)?;
        let from = m.attr("from").unwrap_or_default().to_owned();
        ensure(from.starts_with(&peer.jid.bare().to_string()), || {
            format!("message from {from}, expected {}", peer.jid)
        })?;
        close(s)?;
        finished(p)?;
        Ok(format!("from {from}"))
    })();
    r.into()
}
