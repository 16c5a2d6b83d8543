use std::time::{Duration, Instant};

use super::{Pair, bodies, client_config, message, server_config};
use crate::config::Framing;
use crate::conn::core::NS_PING;
use crate::conn::{Connection, TlsOffer, TlsPolicy};
use crate::element::Element;
use crate::event::{AuthRequest, CloseReason, Event};
use crate::sasl::{Mechanism, SaslCondition};
use crate::stanza::iq::{Iq, IqPayload};

#[test]
fn login_with_each_mechanism() {
    for m in [
        Mechanism::Plain,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
    ] {
        let mut p = Pair::with_mechanisms(&[m]);
        p.run();
        assert!(p.client_online(), "{m:?}: {:?}", p.cev);
        assert_eq!(p.c.jid().unwrap().to_string(), "juliet@example.com/balcony");
        assert_eq!(p.s.jid().unwrap().to_string(), "juliet@example.com/balcony");
        let auth = p.sev.iter().find_map(|e| match e {
            Event::Authenticate(r) => Some(r.clone()),
            _ => None,
        });
        match (m, auth.unwrap()) {
            (Mechanism::Plain, AuthRequest::Plain { username, .. })
            | (
                Mechanism::ScramSha1 | Mechanism::ScramSha256,
                AuthRequest::Scram { username, .. },
            ) => {
                assert_eq!(username, "juliet");
            }
            other => panic!("{other:?}"),
        }
        assert!(p.c.is_online() && p.s.is_online());
    }
}

#[test]
fn best_mechanism_is_chosen() {
    let mut p = Pair::with_mechanisms(&[
        Mechanism::Plain,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
    ]);
    p.run();
    assert!(p.sev.iter().any(|e| matches!(
        e,
        Event::Authenticate(AuthRequest::Scram {
            hash: crate::sasl::scram::ScramHash::Sha256,
            ..
        })
    )));
}

#[test]
fn wrong_password_fails_the_login() {
    for m in [
        Mechanism::Plain,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
    ] {
        let mut p = Pair::with_mechanisms(&[m]);
        p.password = "not-the-password".to_owned();
        p.run();
        assert!(!p.client_online());
        assert!(
            p.cev.contains(&Event::AuthFailed {
                condition: SaslCondition::NotAuthorized
            }),
            "{m:?}"
        );
        assert!(p.cev.iter().any(|e| matches!(
            e,
            Event::Closed {
                reason: CloseReason::LocalError(crate::Error::Sasl { .. })
            }
        )));
        assert!(p.c.send_stanza(&message("a@b", "x")).is_err());
    }
}

#[test]
fn server_assigned_resource() {
    let mut p = Pair::new(
        client_config("juliet@example.com", Framing::Tcp),
        server_config(Framing::Tcp),
    );
    p.run();
    let jid = p.c.jid().unwrap();
    assert!(jid.resource().is_some_and(|r| !r.is_empty()));
    assert_eq!(Some(jid), p.s.jid());
}

#[test]
fn messages_both_ways_and_from_is_stamped() {
    let mut p = Pair::with_mechanisms(&[Mechanism::ScramSha1]);
    p.run();
    p.c.send_stanza(&message("romeo@example.net", "hi"))
        .unwrap();
    p.run();
    let Some(Event::Message(m)) = p.sev.iter().rev().find(|e| matches!(e, Event::Message(_)))
    else {
        panic!("{:?}", p.sev)
    };
    assert_eq!(m.attr("from"), Some("juliet@example.com/balcony"));
    p.s.send_stanza(&message("juliet@example.com/balcony", "back"))
        .unwrap();
    p.run();
    assert_eq!(bodies(&p.cev), ["back"]);
}

#[test]
fn pings_are_answered_both_ways() {
    let mut p = Pair::with_mechanisms(&[Mechanism::Plain]);
    p.run();
    let id = p.c.send_ping(None).unwrap();
    p.run();
    assert!(p.cev.iter().any(|e| matches!(e, Event::IqResponse { id: i, element } if *i == id && element.attr("type") == Some("result"))));
    let sid =
        p.s.send_ping(Some(&"juliet@example.com/balcony".parse().unwrap()))
            .unwrap();
    p.run();
    assert!(
        p.sev
            .iter()
            .any(|e| matches!(e, Event::IqResponse { id: i, .. } if *i == sid))
    );
    assert_eq!(p.c.pending_iqs() + p.s.pending_iqs(), 0);
}

fn version_query(id: &'static str) -> Element {
    let mut iq = Iq::new(
        id,
        IqPayload::Get(Element::new("query", "jabber:iq:version")),
    );
    iq.common.to = Some("example.com".parse().unwrap());
    iq.to_element(&"jabber:client".into())
}

#[test]
fn unknown_iq_is_feature_not_implemented_unless_handled() {
    let mut p = Pair::with_mechanisms(&[Mechanism::Plain]);
    p.run();
    p.c.send_stanza(&version_query("v1")).unwrap();
    p.run();
    let Some(Event::IqResponse { element, .. }) =
        p.cev.iter().find(|e| matches!(e, Event::IqResponse { .. }))
    else {
        panic!("{:?}", p.cev)
    };
    assert_eq!(element.attr("type"), Some("error"));
    let err = element.child("error", "jabber:client").unwrap();
    assert!(
        err.child(
            "feature-not-implemented",
            crate::stanza::error::NS_STANZA_ERRORS
        )
        .is_some()
    );

    let mut s = server_config(Framing::Tcp);
    s.common.iq_namespaces.push("jabber:iq:version".to_owned());
    let mut p = Pair::new(client_config("juliet@example.com/b", Framing::Tcp), s);
    p.run();
    p.c.send_stanza(&version_query("v2")).unwrap();
    p.run();
    assert!(
        p.sev
            .iter()
            .any(|e| matches!(e, Event::Iq(el) if el.attr("id") == Some("v2")))
    );
    // Unanswered, the request times out at the client.
    let later = Instant::now() + Duration::from_secs(61);
    assert!(p.c.poll_timeout().is_some_and(|t| t <= later));
    p.c.handle_timeout(later);
    assert!(matches!(p.c.poll_event(), Some(Event::IqTimeout { id }) if id == "v2"));
}

#[test]
fn close_both_ways() {
    let mut p = Pair::with_mechanisms(&[Mechanism::Plain]);
    p.run();
    p.c.close().unwrap();
    assert!(matches!(
        p.c.send_stanza(&message("a@b", "x")),
        Err(crate::Error::Closed)
    ));
    p.run();
    assert!(p.cev.contains(&Event::Closed {
        reason: CloseReason::Normal
    }));
    assert!(p.sev.contains(&Event::Closed {
        reason: CloseReason::Normal
    }));
    assert!(p.c.is_closed() && p.s.is_closed());
    assert_eq!(p.c.poll_transmit(), None);
}

#[test]
fn close_times_out_without_an_answer() {
    let mut p = Pair::with_mechanisms(&[Mechanism::Plain]);
    p.run();
    p.c.close().unwrap();
    let _ = p.c.poll_transmit();
    let t = p.c.poll_timeout().unwrap();
    p.c.handle_timeout(t);
    assert_eq!(
        p.c.poll_event(),
        Some(Event::Closed {
            reason: CloseReason::Timeout
        })
    );
}

#[test]
fn starttls_is_a_signal_then_a_restart() {
    let mut c = client_config("juliet@example.com/balcony", Framing::Tcp);
    c.tls = TlsPolicy::Required;
    let mut s = server_config(Framing::Tcp);
    s.tls = TlsOffer::Required;
    let mut p = Pair::new(c, s);
    p.run();
    assert!(p.cev.contains(&Event::StartTls) && p.sev.contains(&Event::StartTls));
    assert!(!p.client_online());
    // (The TLS handshake would run here.)
    p.c.tls_established().unwrap();
    p.s.tls_established().unwrap();
    p.run();
    assert!(p.client_online(), "{:?}", p.cev);
}

#[test]
fn client_requiring_tls_refuses_a_plaintext_server() {
    let mut c = client_config("juliet@example.com/balcony", Framing::Tcp);
    c.tls = TlsPolicy::Required;
    let mut p = Pair::new(c, server_config(Framing::Tcp));
    p.run();
    assert!(p.cev.iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: CloseReason::LocalError(crate::Error::Stream { .. })
        }
    )));
    assert!(!p.sev.iter().any(|e| matches!(e, Event::Authenticate(_))));
}

#[test]
fn websocket_framing_one_element_per_message() {
    let mut p = Pair::new(
        client_config("juliet@example.com/ws", Framing::WebSocket),
        server_config(Framing::WebSocket),
    );
    let mut c = Connection::client(
        client_config("juliet@example.com/ws", Framing::WebSocket),
        Instant::now(),
    );
    let open = c.poll_transmit().unwrap();
    assert!(
        open.starts_with(b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'"),
        "{open:?}"
    );
    assert_eq!(c.poll_transmit(), None);
    p.run();
    assert!(p.client_online(), "{:?}", p.cev);
    p.c.send_stanza(&message("juliet@example.com/ws", "ws"))
        .unwrap();
    let m = p.c.poll_transmit().unwrap();
    Element::parse(m.clone()).unwrap();
    assert!(m.starts_with(b"<message xmlns='jabber:client'"), "{m:?}");
    p.s.handle_message(&m).unwrap();
    p.c.close().unwrap();
    assert_eq!(
        &p.c.poll_transmit().unwrap()[..],
        b"<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"
    );
}

#[test]
fn legacy_session_when_not_optional() {
    let mut config = client_config("juliet@example.com/r", Framing::Tcp);
    config.mechanisms = vec![Mechanism::Plain];
    let mut c2 = Connection::client(config, Instant::now());
    let header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='1' version='1.0'>";
    c2.handle_input(format!("{header}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features><success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>{header}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features><iq type='result' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@example.com/r</jid></bind></iq>").as_bytes()).unwrap();
    let out = c2.poll_transmit().unwrap();
    let out = std::str::from_utf8(&out).unwrap();
    assert!(
        out.ends_with(
            "<iq id='s1' type='set'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>"
        ),
        "{out}"
    );
    assert!(!c2.is_online());
    c2.handle_input(b"<iq type='result' id='s1'/>").unwrap();
    assert!(c2.is_online());
}

/// An iq `get` with `child` to `to` (none if empty).
fn iq_get(id: &'static str, to: &str, child: Element) -> Element {
    let mut iq = Iq::new(id, IqPayload::Get(child));
    if !to.is_empty() {
        iq.common.to = Some(to.parse().unwrap());
    }
    iq.to_element(&"jabber:client".into())
}

/// Sends `iq` from the client; what the server application saw of it and
/// the answer the client got, if any.
fn server_side(p: &mut Pair, iq: &Element) -> (Option<Element>, Option<Element>) {
    let id = iq.attr("id").unwrap().to_owned();
    p.c.send_stanza(iq).unwrap();
    p.run();
    let routed = p.sev.iter().find_map(|e| match e {
        Event::Iq(el) if el.attr("id") == Some(id.as_str()) => Some(el.clone()),
        _ => None,
    });
    let answer = p.cev.iter().find_map(|e| match e {
        Event::IqResponse { id: i, element } if i.as_str() == id => Some(element.clone()),
        _ => None,
    });
    (routed, answer)
}

#[test]
fn server_answers_only_pings_addressed_to_itself() {
    let mut p = Pair::with_mechanisms(&[Mechanism::Plain]);
    p.run();
    let ping = || Element::new("ping", NS_PING);
    for (id, to) in [
        ("own-none", ""),
        ("own-domain", "example.com"),
        ("own-bare", "juliet@example.com"),
    ] {
        let (routed, answer) = server_side(&mut p, &iq_get(id, to, ping()));
        assert!(routed.is_none(), "{to}");
        assert_eq!(answer.unwrap().attr("type"), Some("result"), "{to}");
    }
    // Another client, a JID that may not exist, another server, the
    // sender's other resource: the application routes them.
    for (id, to) in [
        ("c2c", "romeo@example.com/orchard"),
        ("nobody", "nobody@example.com"),
        ("remote", "other.org"),
        ("remote-user", "romeo@other.org"),
        ("own-full", "juliet@example.com/other"),
    ] {
        let (routed, answer) = server_side(&mut p, &iq_get(id, to, ping()));
        let routed = routed.unwrap_or_else(|| panic!("{to} not routed"));
        assert_eq!(routed.attr("to"), Some(to));
        assert_eq!(routed.attr("from"), Some("juliet@example.com/balcony"));
        assert!(answer.is_none(), "{to} answered by the machine");
    }
}

#[test]
fn unknown_iqs_to_others_are_routed_not_refused() {
    let mut p = Pair::with_mechanisms(&[Mechanism::Plain]);
    p.run();
    let version = || Element::new("query", "jabber:iq:version");
    let (routed, answer) = server_side(&mut p, &iq_get("v-other", "romeo@example.com", version()));
    assert!(routed.is_some() && answer.is_none());
    for (id, to) in [("v-own", "juliet@example.com"), ("v-none", "")] {
        let (routed, answer) = server_side(&mut p, &iq_get(id, to, version()));
        assert!(routed.is_none(), "{to}");
        let answer = answer.unwrap();
        assert_eq!(answer.attr("type"), Some("error"));
        let err = answer.child("error", "jabber:client").unwrap();
        assert!(
            err.child(
                "feature-not-implemented",
                crate::stanza::error::NS_STANZA_ERRORS
            )
            .is_some()
        );
    }
}
