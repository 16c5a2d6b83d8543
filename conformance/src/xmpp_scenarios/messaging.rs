//! Messages between two of our clients, presence to one's own resources,
//! roster pushes, and the stanza errors for unroutable iqs.

use xmpp_codec::stanza::NS_CLIENT;
use xmpp_codec::stanza::jid::Jid;
use xmpp_codec::{Element, Event};

use super::{
    Ctx, NS_ROSTER, NS_VERSION, Outcome, WAIT, chat, close, ensure, error_condition, iq, presence,
    wait_message,
};
use crate::xmpp_driver::XmppStream;

/// Sends presence and waits until the server has handled it (a ping
/// answered after it), so messages to the bare JID find the resource.
fn available(s: &mut XmppStream) -> Result<(), String> {
    s.send(&presence()).map_err(|e| e.to_string())?;
    let id = s.conn().send_ping(None).map_err(|e| e.to_string())?;
    s.wait(WAIT, "the ping's response", |e| match e {
        Event::IqResponse { id: got, .. } if *got == id => Some(()),
        _ => None,
    })
    .map_err(|e| e.to_string())
}

fn bound(s: &XmppStream) -> Result<Jid, String> {
    s.jid().cloned().ok_or_else(|| "no bound JID".to_owned())
}

fn from_is(m: &Element, want: &Jid) -> Result<(), String> {
    ensure(m.attr("from") == Some(want.to_string().as_str()), || {
        format!("message from {:?}, expected {want}", m.attr("from"))
    })
}

/// A → B to B's full JID and to B's bare JID, then B → A, all our clients.
pub(super) fn message(ctx: &Ctx) -> Outcome {
    let peer = match ctx.peer() {
        Ok(p) => p,
        Err(o) => return o,
    };
    let r = (|| {
        let mut a = ctx.connect(&ctx.account)?;
        let mut b = ctx.connect(peer)?;
        available(&mut a)?;
        available(&mut b)?;
        let (a_jid, b_jid) = (bound(&a)?, bound(&b)?);
        let full = ctx.token("to full JID");
        a.send(&chat(&b_jid, &full)).map_err(|e| e.to_string())?;
        from_is(&wait_message(&mut b, &full, WAIT)?, &a_jid)?;
        let bare = ctx.token("to bare JID");
        a.send(&chat(&b_jid.bare(), &bare))
            .map_err(|e| e.to_string())?;
        from_is(&wait_message(&mut b, &bare, WAIT)?, &a_jid)?;
        let reply = ctx.token("reply");
        b.send(&chat(&a_jid, &reply)).map_err(|e| e.to_string())?;
        from_is(&wait_message(&mut a, &reply, WAIT)?, &b_jid)?;
        close(a)?;
        close(b)?;
        Ok(format!("{a_jid} <-> {b_jid}: 3 messages"))
    })();
    r.into()
}

fn roster_item(jid: &Jid, remove: bool) -> Element {
    let mut item = Element::new("item", NS_ROSTER).with_attr("jid", jid.to_string());
    if remove {
        item.set_attr("subscription", "remove");
    } else {
        item.set_attr("name", "xmpp-peer test");
    }
    Element::new("query", NS_ROSTER).with_child(item)
}

/// Waits for a roster push about `contact` and answers it (RFC 6121
/// §2.1.6); returns the item's subscription.
fn roster_push(s: &mut XmppStream, contact: &Jid) -> Result<String, String> {
    let want = contact.to_string();
    let push = s
        .wait(WAIT, &format!("a roster push for {want}"), |e| match e {
            Event::Iq(el) if el.attr("type") == Some("set") => {
                let item = el.child("query", NS_ROSTER)?.child("item", NS_ROSTER)?;
                (item.attr("jid") == Some(want.as_str())).then(|| el.clone())
            }
            _ => None,
        })
        .map_err(|e| e.to_string())?;
    let mut reply = Element::new("iq", NS_CLIENT)
        .with_attr("type", "result")
        .with_attr("id", push.attr("id").unwrap_or_default().to_owned());
    if let Some(from) = push.attr("from") {
        reply.set_attr("to", from.to_owned());
    }
    s.send(&reply).map_err(|e| e.to_string())?;
    let sub = push
        .child("query", NS_ROSTER)
        .and_then(|q| q.child("item", NS_ROSTER))
        .and_then(|i| i.attr("subscription"))
        .unwrap_or("none");
    Ok(sub.to_owned())
}

/// Two resources of one account: the second one's presence reaches the
/// first (RFC 6121 §4.2.2); both ask for the roster, and a roster set is
/// pushed to both, shows in a
/// roster get, and is removed again (pushed with `remove`).
pub(super) fn presence_roster(ctx: &Ctx) -> Outcome {
    let r = (|| {
        let mut r1 = ctx.connect(&ctx.account)?;
        available(&mut r1)?;
        let mut r2 = ctx.connect(&ctx.account)?;
        let r2_jid = bound(&r2)?;
        available(&mut r2)?;
        let want = r2_jid.to_string();
        r1.wait(WAIT, &format!("presence from {want}"), |e| match e {
            Event::Presence(p) if p.attr("from") == Some(want.as_str()) => Some(()),
            _ => None,
        })
        .map_err(|e| e.to_string())?;
        // Pushes go to interested resources: those that asked for the
        // roster (RFC 6121 §2.1.6).
        for (n, s) in [&mut r1, &mut r2].into_iter().enumerate() {
            let get = iq(
                "get",
                &format!("roster-init{n}"),
                None,
                Element::new("query", NS_ROSTER),
            );
            let res = s.iq(&get, WAIT).map_err(|e| e.to_string())?;
            ensure(res.attr("type") == Some("result"), || {
                format!("roster get answered with {res}")
            })?;
        }
        let contact = match &ctx.peer {
            Some(p) => p.jid.bare(),
            None => format!(
                "roster-test-{}@{}",
                ctx.resource(),
                ctx.account.jid.domain()
            )
            .parse()
            .map_err(|e| format!("{e}"))?,
        };
        let set = iq("set", "roster-add", None, roster_item(&contact, false));
        let res = r1.iq(&set, WAIT).map_err(|e| e.to_string())?;
        ensure(res.attr("type") == Some("result"), || {
            format!("roster set answered with {res}")
        })?;
        roster_push(&mut r1, &contact)?;
        roster_push(&mut r2, &contact)?;
        let get = iq("get", "roster-get", None, Element::new("query", NS_ROSTER));
        let roster = r2.iq(&get, WAIT).map_err(|e| e.to_string())?;
        let listed = roster.child("query", NS_ROSTER).is_some_and(|q| {
            q.children()
                .any(|i| i.attr("jid") == Some(contact.to_string().as_str()))
        });
        ensure(listed, || {
            format!("roster get does not list {contact}: {roster}")
        })?;
        let remove = iq("set", "roster-remove", None, roster_item(&contact, true));
        let res = r1.iq(&remove, WAIT).map_err(|e| e.to_string())?;
        ensure(res.attr("type") == Some("result"), || {
            format!("roster remove answered with {res}")
        })?;
        let sub = roster_push(&mut r2, &contact)?;
        ensure(sub == "remove", || {
            format!("the removal was pushed with subscription {sub:?}")
        })?;
        close(r1)?;
        close(r2)?;
        Ok(format!(
            "presence {want} seen; roster item {contact} pushed, listed, removed"
        ))
    })();
    r.into()
}

/// One unroutable iq and the conditions RFC 6120/6121 allow for it.
struct Case {
    what: &'static str,
    to: Jid,
    accept: &'static [&'static str],
}

/// Iq requests to a user that does not exist, to a resource that does not
/// exist, and to a domain that does not exist get the stanza error RFC
/// 6121 §8.5 (`service-unavailable`; `item-not-found` is what RFC 6120
/// §10.5 allows for an unknown resource) and RFC 6120 §10.4.3
/// (`remote-server-not-found`, or `remote-server-timeout`) prescribe, with
/// the request's id.
pub(super) fn iq_errors(ctx: &Ctx) -> Outcome {
    let r = (|| {
        let domain = ctx.account.jid.domain().to_owned();
        let parse = |s: String| s.parse::<Jid>().map_err(|e| format!("{s}: {e}"));
        let cases = [
            Case {
                what: "unknown user",
                to: parse(format!("nobody-{}@{domain}", ctx.resource()))?,
                accept: &["service-unavailable", "item-not-found"],
            },
            Case {
                what: "unknown resource",
                to: ctx
                    .account
                    .jid
                    .with_resource("no-such-resource")
                    .map_err(|e| e.to_string())?,
                accept: &[
                    "service-unavailable",
                    "item-not-found",
                    "recipient-unavailable",
                ],
            },
            Case {
                what: "unknown domain",
                to: parse("nonexistent.invalid".to_owned())?,
                accept: &["remote-server-not-found", "remote-server-timeout"],
            },
        ];
        let mut s = ctx.connect(&ctx.account)?;
        let mut seen = Vec::new();
        for (n, case) in cases.iter().enumerate() {
            let id = format!("err{n}");
            let req = iq(
                "get",
                &id,
                Some(&case.to),
                Element::new("query", NS_VERSION),
            );
            let res = s
                .iq(&req, WAIT * 2)
                .map_err(|e| format!("{}: {e}", case.what))?;
            let cond = error_condition(&res)
                .ok_or_else(|| format!("{}: expected an error, got {res}", case.what))?;
            ensure(case.accept.contains(&cond.as_str()), || {
                format!(
                    "{} ({}): {cond}, expected one of {}",
                    case.what,
                    case.to,
                    case.accept.join(", ")
                )
            })?;
            seen.push(format!("{} -> {cond}", case.what));
        }
        close(s)?;
        Ok(seen.join(", "))
    })();
    r.into()
}
