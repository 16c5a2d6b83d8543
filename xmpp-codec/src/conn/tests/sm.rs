use super::{Pair, bodies, client_config, message, server_config};
use crate::config::Framing;
use crate::conn::SmState;
use crate::event::Event;
use crate::sasl::Mechanism;

fn online_pair() -> Pair {
    let mut p = Pair::with_mechanisms(&[Mechanism::Plain]);
    p.run();
    assert!(p.client_online());
    p
}

#[test]
fn enable_and_ack() {
    let mut p = online_pair();
    let Some(Event::SmEnabled { id: Some(id), .. }) = p
        .cev
        .iter()
        .find(|e| matches!(e, Event::SmEnabled { .. }))
        .cloned()
    else {
        panic!("{:?}", p.cev)
    };
    assert!(p.sev.contains(&Event::SmEnabled {
        id: Some(id),
        max: None
    }));
    for i in 0..3 {
        p.c.send_stanza(&message("romeo@example.net", &i.to_string()))
            .unwrap();
    }
    assert_eq!(p.c.unacked().count(), 3);
    p.c.request_ack().unwrap();
    p.run();
    assert!(p.cev.contains(&Event::Acked { h: 3 }));
    assert_eq!(p.c.unacked().count(), 0);
    // The server's stanzas are counted by the client the same way.
    p.s.send_stanza(&message("juliet@example.com/balcony", "x"))
        .unwrap();
    p.s.request_ack().unwrap();
    p.run();
    assert!(p.sev.contains(&Event::Acked { h: 1 }));
}

#[test]
fn automatic_ack_requests() {
    let mut c = client_config("juliet@example.com/balcony", Framing::Tcp);
    c.common.ack_request_every = 2;
    let mut p = Pair::new(c, server_config(Framing::Tcp));
    p.run();
    for i in 0..4 {
        p.c.send_stanza(&message("romeo@example.net", &i.to_string()))
            .unwrap();
    }
    p.run();
    assert!(p.cev.contains(&Event::Acked { h: 2 }) && p.cev.contains(&Event::Acked { h: 4 }));
}

#[test]
fn unacked_queue_is_bounded() {
    let mut c = client_config("juliet@example.com/balcony", Framing::Tcp);
    c.common.max_unacked = 2;
    let mut p = Pair::new(c, server_config(Framing::Tcp));
    p.run();
    p.c.send_stanza(&message("a@b", "1")).unwrap();
    p.c.send_stanza(&message("a@b", "2")).unwrap();
    assert!(matches!(
        p.c.send_stanza(&message("a@b", "3")),
        Err(crate::Error::InvalidState(_))
    ));
    p.c.request_ack().unwrap();
    p.run();
    p.c.send_stanza(&message("a@b", "3")).unwrap();
}

/// A session dropped with unacknowledged stanzas both ways, then resumed
/// on new connections with the exported states.
#[test]
fn resume_resends_what_was_not_acknowledged() {
    let mut p = online_pair();
    p.c.send_stanza(&message("romeo@example.net", "lost-c2s"))
        .unwrap();
    p.s.send_stanza(&message("juliet@example.com/balcony", "lost-s2c"))
        .unwrap();
    // The transport dies before anything is delivered.
    let _ = (p.c.poll_transmit(), p.s.poll_transmit());
    let client_state = p.c.sm_state().unwrap();
    let server_state = p.s.sm_state().unwrap();
    assert_eq!(client_state.unacked.len(), 1);
    assert_eq!(server_state.unacked.len(), 1);

    let mut c = client_config("juliet@example.com/balcony", Framing::Tcp);
    c.resume = Some(client_state.clone());
    let mut p2 = Pair::new(c, server_config(Framing::Tcp));
    p2.run();
    let Some(Event::ResumeRequest { previd, h }) = p2
        .sev
        .iter()
        .find(|e| matches!(e, Event::ResumeRequest { .. }))
        .cloned()
    else {
        panic!("{:?}", p2.sev)
    };
    assert_eq!((previd.as_str(), h), (client_state.id.as_str(), 0));
    p2.s.accept_resume(&server_state).unwrap();
    p2.run();
    assert!(
        p2.cev
            .iter()
            .any(|e| matches!(e, Event::Resumed { resent: 1, .. })),
        "{:?}",
        p2.cev
    );
    assert!(
        p2.sev
            .iter()
            .any(|e| matches!(e, Event::Resumed { resent: 1, .. }))
    );
    assert_eq!(bodies(&p2.cev), ["lost-s2c"]);
    assert_eq!(bodies(&p2.sev), ["lost-c2s"]);
    assert_eq!(
        p2.c.jid().unwrap().to_string(),
        "juliet@example.com/balcony"
    );
    p2.c.request_ack().unwrap();
    p2.s.request_ack().unwrap();
    p2.run();
    assert_eq!(p2.c.unacked().count() + p2.s.unacked().count(), 0);
}

#[test]
fn rejected_resume_binds_anew_and_returns_the_unacked() {
    let state = SmState {
        id: "gone".to_owned(),
        unacked: vec![message("a@b", "old")],
        ..SmState::default()
    };
    let mut c = client_config("juliet@example.com/balcony", Framing::Tcp);
    c.resume = Some(state);
    let mut p = Pair::new(c, server_config(Framing::Tcp));
    p.run();
    p.s.reject_resume().unwrap();
    p.run();
    assert!(p.cev.contains(&Event::ResumeFailed {
        unacked: vec![message("a@b", "old")]
    }));
    assert!(p.client_online());
}

/// Counters are modulo 2^32 (XEP-0198 §4): a session resumed near the top
/// wraps through zero.
#[test]
fn counters_wrap_through_zero() {
    let p = online_pair();
    let mut server_state = p.s.sm_state().unwrap();
    let mut client_state = p.c.sm_state().unwrap();
    server_state.inbound = u32::MAX - 1;
    client_state.acked = u32::MAX - 1;
    let mut c = client_config("juliet@example.com/balcony", Framing::Tcp);
    c.resume = Some(client_state);
    let mut p2 = Pair::new(c, server_config(Framing::Tcp));
    p2.run();
    p2.s.accept_resume(&server_state).unwrap();
    p2.run();
    for i in 0..3 {
        p2.c.send_stanza(&message("a@b", &i.to_string())).unwrap();
    }
    p2.c.request_ack().unwrap();
    p2.run();
    assert!(p2.cev.contains(&Event::Acked { h: 1 }), "{:?}", p2.cev);
    assert_eq!(p2.c.unacked().count(), 0);
    assert_eq!(p2.s.sm_state().unwrap().inbound, 1);
}

#[test]
fn ack_for_more_than_sent_is_a_stream_error() {
    let mut p = online_pair();
    p.c.handle_input(b"<a xmlns='urn:xmpp:sm:3' h='5'/>")
        .unwrap_err();
    let out = p.c.poll_transmit().unwrap();
    assert!(
        std::str::from_utf8(&out)
            .unwrap()
            .contains("<undefined-condition")
    );
}
