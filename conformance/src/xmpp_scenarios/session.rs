//! The session itself: `smoke`, pings, XEP-0198 acks and resumption, and
//! RFC 7395 over WebSocket.

use std::time::{Duration, Instant};

use xmpp_codec::Event;
use xmpp_codec::event::CloseReason;
use xmpp_codec::sasl::Mechanism;

use super::{Ctx, Outcome, WAIT, body, chat, close, ensure, presence, wait_message};
use crate::xmpp_driver::{XmppError, XmppStream};

/// The mechanism our client picks among `offered` (its preference order).
fn best_mechanism(offered: &[String]) -> Option<&'static str> {
    [
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::Plain,
    ]
    .into_iter()
    .find(|m| offered.iter().any(|o| o == m.name()))
    .map(Mechanism::name)
}

/// Log in with the best mechanism offered (a wrong SCRAM server signature
/// fails the login), bind, send presence, answer pings and unknown iqs
/// (`feature-not-implemented`), print each message received, and leave
/// after [`Ctx::smoke_time`] or when the server ends the stream.
pub(super) fn smoke(ctx: &Ctx) -> Outcome {
    let mech = ctx
        .features()
        .ok()
        .and_then(|f| best_mechanism(&f.mechanisms));
    let r = (|| {
        let mut s = ctx.connect_with(&ctx.account, |c| c.common.iq_namespaces.clear())?;
        let jid = s.jid().map(ToString::to_string).unwrap_or_default();
        ctx.say(&format!(
            "  smoke: session started as {jid}{}",
            mech.map_or_else(String::new, |m| format!(" ({m})"))
        ));
        s.send(&presence()).map_err(|e| e.to_string())?;
        let end = Instant::now() + ctx.smoke_time;
        let mut messages = 0usize;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match s.next_event(left) {
                Ok(Event::Message(m)) => {
                    messages += 1;
                    ctx.say(&format!(
                        "  message from {}: {}",
                        m.attr("from").unwrap_or("?"),
                        body(&m).unwrap_or_default()
                    ));
                }
                Ok(Event::Closed { reason }) => {
                    return match reason {
                        CloseReason::Normal => Ok(format!("{jid}: the server ended the stream")),
                        other => Err(XmppError::Closed(other).to_string()),
                    };
                }
                Ok(_) | Err(XmppError::Timeout(_)) => {}
                Err(XmppError::Eof) => {
                    return Ok(format!("{jid}: the server closed the connection"));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        close(s)?;
        Ok(format!("{jid}, {messages} message(s)"))
    })();
    r.into()
}

/// XEP-0199 pings to the server and to our own full JID (answered by our
/// client through the server).
pub(super) fn ping(ctx: &Ctx) -> Outcome {
    let r = (|| {
        let mut s = ctx.connect(&ctx.account)?;
        let own = s.jid().cloned();
        let mut notes = Vec::new();
        for (what, to) in [("server", None), ("own full JID", own.as_ref())] {
            let started = Instant::now();
            let id = s.conn().send_ping(to).map_err(|e| e.to_string())?;
            let res = s
                .wait(WAIT, &format!("the pong from the {what}"), |e| match e {
                    Event::IqResponse { id: got, element } if *got == id => Some(element.clone()),
                    _ => None,
                })
                .map_err(|e| e.to_string())?;
            ensure(res.attr("type") == Some("result"), || {
                format!("ping to the {what} answered with {res}")
            })?;
            notes.push(format!(
                "{what} {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            ));
        }
        close(s)?;
        Ok(notes.join(", "))
    })();
    r.into()
}

/// Waits for `<enabled/>`; returns its resumption id.
fn sm_enabled(s: &mut XmppStream) -> Result<Option<String>, String> {
    s.wait(WAIT, "<enabled/> (XEP-0198)", |e| match e {
        Event::SmEnabled { id, .. } => Some(Ok(id.clone())),
        Event::SmFailed => Some(Err("the server refused <enable/>".to_owned())),
        _ => None,
    })
    .map_err(|e| e.to_string())?
}

/// XEP-0198: enable, five messages to ourselves, `<r/>` answered with
/// `h = 5`, nothing left unacknowledged, the five received.
pub(super) fn sm(ctx: &Ctx) -> Outcome {
    let r = (|| {
        let mut s = ctx.connect(&ctx.account)?;
        let id = sm_enabled(&mut s)?;
        let me = s.jid().cloned().ok_or("no bound JID")?;
        let bodies: Vec<String> = (0..5).map(|i| ctx.token(&format!("sm #{i}"))).collect();
        for b in &bodies {
            s.send(&chat(&me, b)).map_err(|e| e.to_string())?;
        }
        s.conn().request_ack().map_err(|e| e.to_string())?;
        let h = s
            .wait(WAIT, "<a/>", |e| match e {
                Event::Acked { h } if *h >= 5 => Some(*h),
                _ => None,
            })
            .map_err(|e| e.to_string())?;
        ensure(h == 5, || format!("h = {h} after 5 stanzas"))?;
        let left = s.conn().unacked().count();
        ensure(left == 0, || format!("{left} stanzas still unacknowledged"))?;
        for b in &bodies {
            wait_message(&mut s, b, WAIT)?;
        }
        close(s)?;
        Ok(format!(
            "h = {h}, resumption {}",
            id.map_or_else(|| "not offered".to_owned(), |i| format!("id {i}"))
        ))
    })();
    r.into()
}

/// XEP-0198 §5: enable with resumption, drop the TCP connection, resume
/// on a new one (same JID, counters carried over); with a peer account, a
/// message sent to us while we were away arrives after the resumption.
pub(super) fn resume(ctx: &Ctx) -> Outcome {
    let r = (|| {
        let mut s = ctx.connect(&ctx.account)?;
        let Some(_) = sm_enabled(&mut s)? else {
            return Ok(None);
        };
        let me = s.jid().cloned().ok_or("no bound JID")?;
        s.send(&presence()).map_err(|e| e.to_string())?;
        let before = ctx.token("before the drop");
        s.send(&chat(&me, &before)).map_err(|e| e.to_string())?;
        wait_message(&mut s, &before, WAIT)?;
        s.conn().request_ack().map_err(|e| e.to_string())?;
        s.wait(WAIT, "<a/>", |e| {
            matches!(e, Event::Acked { .. }).then_some(())
        })
        .map_err(|e| e.to_string())?;
        let state = s.conn().sm_state().ok_or("no XEP-0198 state to resume")?;
        s.drop_transport();
        std::thread::sleep(Duration::from_millis(300));
        let away = ctx.token("while away");
        let mut peer = match &ctx.peer {
            Some(p) => {
                let mut b = ctx.connect(p)?;
                b.send(&chat(&me, &away)).map_err(|e| e.to_string())?;
                Some(b)
            }
            None => None,
        };
        let mut cfg = ctx.config(&ctx.account)?;
        cfg.resume = Some(state);
        let mut s = XmppStream::connect(&ctx.server, cfg, WAIT).map_err(|e| e.to_string())?;
        let resumed_as = s.jid().cloned();
        ensure(resumed_as.as_ref() == Some(&me), || {
            format!("resumed as {resumed_as:?}, expected {me}")
        })?;
        if peer.is_some() {
            wait_message(&mut s, &away, WAIT)?;
        }
        close(s)?;
        if let Some(b) = peer.take() {
            close(b)?;
        }
        Ok(Some(format!(
            "resumed {me}{}",
            if ctx.peer.is_some() {
                ", got the message sent while away"
            } else {
                ""
            }
        )))
    })();
    match r {
        Ok(Some(note)) => Outcome::Pass(note),
        Ok(None) => Outcome::Skip("the server does not allow resumption".to_owned()),
        Err(e) => Outcome::Fail(e),
    }
}

/// RFC 7395: log in over a WebSocket (subprotocol `xmpp`), ping the
/// server, a message to ourselves, `<close/>`.
pub(super) fn websocket(ctx: &Ctx) -> Outcome {
    let Some(url) = &ctx.ws_url else {
        return Outcome::Skip("needs --ws-url".to_owned());
    };
    let r = (|| {
        let cfg = ctx.config(&ctx.account)?;
        let mut s = XmppStream::connect_ws(url, cfg, WAIT).map_err(|e| e.to_string())?;
        let me = s.jid().cloned().ok_or("no bound JID")?;
        let id = s.conn().send_ping(None).map_err(|e| e.to_string())?;
        s.wait(WAIT, "the pong", |e| match e {
            Event::IqResponse { id: got, element } if *got == id => {
                Some(element.attr("type") == Some("result"))
            }
            _ => None,
        })
        .map_err(|e| e.to_string())?
        .then_some(())
        .ok_or("the ping was answered with an error")?;
        let text = ctx.token("over WebSocket");
        s.send(&chat(&me, &text)).map_err(|e| e.to_string())?;
        wait_message(&mut s, &text, WAIT)?;
        close(s)?;
        Ok(format!("{me} over {}:{}{}", url.host, url.port, url.path))
    })();
    r.into()
}
