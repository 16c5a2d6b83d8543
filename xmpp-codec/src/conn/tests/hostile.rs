use std::time::Instant;

use super::{Pair, server_config};
use crate::Limits;
use crate::config::Framing;
use crate::conn::Connection;
use crate::event::{CloseReason, Event};
use crate::sasl::Mechanism;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

fn server() -> Connection {
    Connection::server(server_config(Framing::Tcp), Instant::now())
}

fn output(c: &mut Connection) -> String {
    let mut s = String::new();
    while let Some(b) = c.poll_transmit() {
        s.push_str(std::str::from_utf8(&b).unwrap());
    }
    s
}

fn closed_with(c: &mut Connection, condition: &str) {
    let mut events = Vec::new();
    while let Some(e) = c.poll_event() {
        events.push(e);
    }
    let n = events
        .iter()
        .filter(|e| matches!(e, Event::Closed { .. }))
        .count();
    assert_eq!(n, 1, "{events:?}");
    assert!(events.iter().any(|e| matches!(e,
        Event::Closed { reason: CloseReason::LocalError(err) } if err.stream_condition().map(|c| c.as_str()) == Some(condition)
    )), "{events:?}");
}

#[test]
fn stanza_before_auth_is_not_authorized() {
    let mut s = server();
    let e = s.handle_input(
        format!("{HEADER}<message to='x@example.com'><body>hi</body></message>").as_bytes(),
    );
    assert_eq!(
        e.unwrap_err().stream_condition().unwrap().as_str(),
        "not-authorized"
    );
    let out = output(&mut s);
    assert!(out.contains("<stream:features>"), "{out}");
    assert!(out.ends_with("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"), "{out}");
    closed_with(&mut s, "not-authorized");
    // Sticky.
    assert!(s.handle_input(b"<presence/>").is_err());
    assert!(matches!(
        s.send_stanza(&super::message("a@b", "x")),
        Err(crate::Error::Closed)
    ));
}

#[test]
fn bad_namespace_on_the_header() {
    let mut s = server();
    let e = s.handle_input(b"<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>");
    assert_eq!(e.unwrap_err(), crate::Error::InvalidNamespace);
    let out = output(&mut s);
    assert!(
        out.starts_with("<?xml version='1.0'?><stream:stream"),
        "our header comes first: {out}"
    );
    assert!(out.contains("<invalid-namespace"), "{out}");
    closed_with(&mut s, "invalid-namespace");

    let mut s = server();
    let e = s.handle_input(b"<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='example.com' version='1.0'>");
    assert_eq!(e.unwrap_err(), crate::Error::InvalidNamespace);
    assert!(output(&mut s).contains("<invalid-namespace"));
}

#[test]
fn unknown_host_and_version() {
    let mut s = server();
    let e = s
        .handle_input(HEADER.replace("example.com", "other.org").as_bytes())
        .unwrap_err();
    assert_eq!(e.stream_condition().unwrap().as_str(), "host-unknown");
    let mut s = server();
    let e = s
        .handle_input(HEADER.replace("version='1.0'", "").as_bytes())
        .unwrap_err();
    assert_eq!(
        e.stream_condition().unwrap().as_str(),
        "unsupported-version"
    );
}

#[test]
fn limits_are_policy_violation_after_what_completed() {
    let mut sc = server_config(Framing::Tcp);
    sc.common.limits = Limits {
        max_stanza_size: 512,
        ..Limits::default()
    };
    let mut p = Pair::new(
        super::client_config("juliet@example.com/b", Framing::Tcp),
        sc,
    );
    p.run();
    assert!(p.client_online());
    let big = "x".repeat(100_000);
    let input = format!(
        "<message to='a@b'><body>first</body></message><message><body>{big}</body></message>"
    );
    let e = p.s.handle_input(input.as_bytes()).unwrap_err();
    assert!(matches!(e, crate::Error::LimitExceeded { .. }), "{e:?}");
    let mut events = Vec::new();
    while let Some(e) = p.s.poll_event() {
        events.push(e);
    }
    assert_eq!(
        super::bodies(&events),
        ["first"],
        "the stanza completed before the fault is delivered"
    );
    assert!(matches!(events.last(), Some(Event::Closed { .. })));
    let out = output(&mut p.s);
    assert!(out.contains("<policy-violation"), "{out}");
}

#[test]
fn huge_input_while_waiting_for_a_verdict_is_bounded() {
    let mut sc = server_config(Framing::Tcp);
    sc.common.limits = Limits {
        max_stanza_size: 1024,
        ..Limits::default()
    };
    sc.mechanisms = vec![Mechanism::Plain];
    let mut s = Connection::server(sc, Instant::now());
    s.handle_input(HEADER.as_bytes()).unwrap();
    s.handle_input(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABwZW5jaWw=</auth>").unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Authenticate(_))));
    let e = s.handle_input(&[b' '; 4096]).unwrap_err();
    assert!(matches!(e, crate::Error::LimitExceeded { .. }));
}

#[test]
fn sasl_out_of_order_and_bad_mechanism() {
    let mut s = server();
    s.handle_input(HEADER.as_bytes()).unwrap();
    s.handle_input(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='DIGEST-MD5'/>")
        .unwrap();
    assert!(output(&mut s).ends_with(
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><invalid-mechanism/></failure>"
    ));
    let e = s
        .handle_input(b"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>=</response>")
        .unwrap_err();
    assert_eq!(e.stream_condition().unwrap().as_str(), "policy-violation");
}

#[test]
fn too_many_failed_logins() {
    let mut s = server();
    s.handle_input(HEADER.as_bytes()).unwrap();
    for i in 0..3 {
        let r = s.handle_input(
            b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>bm90LXBsYWlu</auth>",
        );
        assert_eq!(r.is_err(), i == 2, "{r:?}");
    }
    closed_with(&mut s, "not-authorized");
}

#[test]
fn peer_stream_error_is_reported_and_answered() {
    let mut p = Pair::with_mechanisms(&[Mechanism::Plain]);
    p.run();
    p.c.handle_input(b"<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>").unwrap();
    assert_eq!(output(&mut p.c), "</stream:stream>");
    let Some(Event::Closed {
        reason: CloseReason::PeerError(se),
    }) = p.c.poll_event()
    else {
        panic!()
    };
    assert_eq!(se.condition.as_str(), "system-shutdown");
    assert!(p.c.handle_input(b"<presence/>").is_ok());
}

#[test]
fn websocket_message_must_be_one_element() {
    let mut s = Connection::server(server_config(Framing::WebSocket), Instant::now());
    s.handle_message(
        b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>",
    )
    .unwrap();
    assert!(
        s.handle_message(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>")
            .is_err()
    );
    let mut s = Connection::server(server_config(Framing::WebSocket), Instant::now());
    let e = s
        .handle_message(b"<open xmlns='urn:wrong' to='example.com' version='1.0'/>")
        .unwrap_err();
    assert_eq!(e, crate::Error::InvalidNamespace);
}
