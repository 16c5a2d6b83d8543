use std::time::Instant;

use crate::conn::{Connection, Role, S2sConfig};
use crate::element::Element;
use crate::event::{CloseReason, Event};

const SECRET_A: &str = "secret-of-a";
const SECRET_B: &str = "secret-of-b";

fn pump(x: &mut Connection, y: &mut Connection, xev: &mut Vec<Event>, yev: &mut Vec<Event>) {
    loop {
        let mut moved = false;
        while let Some(b) = x.poll_transmit() {
            moved = true;
            let _ = y.handle_input(&b);
        }
        while let Some(b) = y.poll_transmit() {
            moved = true;
            let _ = x.handle_input(&b);
        }
        while let Some(e) = x.poll_event() {
            moved = true;
            xev.push(e);
        }
        while let Some(e) = y.poll_event() {
            moved = true;
            yev.push(e);
        }
        if !moved {
            return;
        }
    }
}

fn presence(from: &str) -> Element {
    Element::new("presence", "jabber:server")
        .with_attr("from", from.to_owned())
        .with_attr("to", "carol@b.example")
}

/// a.example connects to b.example; b.example checks the key with
/// a.example (the Authoritative Server) over a second stream.
#[test]
fn dialback_between_two_of_our_servers() {
    let now = Instant::now();
    let mut a_out =
        Connection::s2s_originating(S2sConfig::new("a.example", "b.example", SECRET_A), now);
    let mut b_in = Connection::s2s_receiving(S2sConfig::new("b.example", "", SECRET_B), now);
    assert_eq!(
        (a_out.role(), b_in.role()),
        (Role::S2sOriginating, Role::S2sReceiving)
    );
    let (mut aev, mut bev) = (Vec::new(), Vec::new());
    pump(&mut a_out, &mut b_in, &mut aev, &mut bev);
    let Some(Event::DialbackResult {
        from,
        to,
        key,
        stream_id,
    }) = bev.first().cloned()
    else {
        panic!("{bev:?}")
    };
    assert_eq!((from.as_str(), to.as_str()), ("a.example", "b.example"));
    assert!(a_out.send_stanza(&presence("alice@a.example")).is_err());

    // b.example asks a.example whether the key is right.
    let mut cfg = S2sConfig::new("b.example", "a.example", SECRET_B);
    cfg.authenticate = false;
    let mut b_verify = Connection::s2s_originating(cfg, now);
    b_verify.send_dialback_verify(&stream_id, &key).unwrap();
    let mut a_auth = Connection::s2s_receiving(S2sConfig::new("a.example", "", SECRET_A), now);
    let (mut vev, mut aaev) = (Vec::new(), Vec::new());
    pump(&mut b_verify, &mut a_auth, &mut vev, &mut aaev);
    assert!(
        vev.contains(&Event::DialbackVerified {
            from: "a.example".into(),
            to: "b.example".into(),
            id: stream_id.clone(),
            valid: true
        }),
        "{vev:?}"
    );
    // A wrong key is invalid.
    b_verify.send_dialback_verify(&stream_id, "00").unwrap();
    pump(&mut b_verify, &mut a_auth, &mut vev, &mut aaev);
    assert!(
        vev.iter()
            .any(|e| matches!(e, Event::DialbackVerified { valid: false, .. }))
    );
    b_verify.close().unwrap();
    pump(&mut b_verify, &mut a_auth, &mut vev, &mut aaev);
    assert!(aaev.contains(&Event::Closed {
        reason: CloseReason::Normal
    }));

    b_in.dialback_verdict("a.example", true).unwrap();
    pump(&mut a_out, &mut b_in, &mut aev, &mut bev);
    assert!(aev.contains(&Event::DomainAuthenticated {
        domain: "a.example".into()
    }));
    assert!(bev.contains(&Event::DomainAuthenticated {
        domain: "a.example".into()
    }));
    a_out.send_stanza(&presence("alice@a.example/x")).unwrap();
    pump(&mut a_out, &mut b_in, &mut aev, &mut bev);
    assert!(
        bev.iter().any(
            |e| matches!(e, Event::Presence(p) if p.attr("from") == Some("alice@a.example/x"))
        )
    );

    // A stanza from a domain that was not authenticated ends the stream.
    a_out
        .send_stanza(&presence("mallory@evil.example"))
        .unwrap();
    pump(&mut a_out, &mut b_in, &mut aev, &mut bev);
    assert!(aev.iter().any(|e| matches!(e, Event::Closed { reason: CloseReason::PeerError(se) } if se.condition.as_str() == "invalid-from")), "{aev:?}");
}

#[test]
fn stanza_before_dialback_is_not_authorized() {
    let now = Instant::now();
    let mut b_in = Connection::s2s_receiving(S2sConfig::new("b.example", "", SECRET_B), now);
    let e = b_in.handle_input(b"<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='a.example' to='b.example' version='1.0'><presence from='a@a.example' to='c@b.example'/>");
    assert_eq!(
        e.unwrap_err().stream_condition().unwrap().as_str(),
        "not-authorized"
    );
    let out = b_in.poll_transmit().unwrap();
    let out = std::str::from_utf8(&out).unwrap();
    assert!(
        out.contains("<dialback xmlns='urn:xmpp:features:dialback'>"),
        "{out}"
    );
    assert!(out.ends_with("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"), "{out}");
}

#[test]
fn sasl_external_on_s2s() {
    let now = Instant::now();
    let mut cfg = S2sConfig::new("a.example", "b.example", SECRET_A);
    cfg.use_external = true;
    let mut a_out = Connection::s2s_originating(cfg, now);
    let mut cfg = S2sConfig::new("b.example", "", SECRET_B);
    cfg.offer_external = true;
    let mut b_in = Connection::s2s_receiving(cfg, now);
    let (mut aev, mut bev) = (Vec::new(), Vec::new());
    pump(&mut a_out, &mut b_in, &mut aev, &mut bev);
    assert!(bev.iter().any(|e| matches!(e, Event::Authenticate(crate::event::AuthRequest::External { authzid: Some(a) }) if a == "a.example")), "{bev:?}");
    b_in.accept_auth().unwrap();
    pump(&mut a_out, &mut b_in, &mut aev, &mut bev);
    assert!(
        aev.contains(&Event::DomainAuthenticated {
            domain: "a.example".into()
        }),
        "{aev:?}"
    );
    a_out.send_stanza(&presence("alice@a.example")).unwrap();
    pump(&mut a_out, &mut b_in, &mut aev, &mut bev);
    assert!(bev.iter().any(|e| matches!(e, Event::Presence(_))));
}
