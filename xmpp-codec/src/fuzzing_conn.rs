//! Fuzz entry points for the connection machines (`conn`): arbitrary
//! bytes, in arbitrary chunks, into a client or a server whose
//! application answers every event the way a real one could. Each must
//! hold for any input: no panic, bounded work, at most one
//! [`Event::Closed`], and a failure that stays failed.

use std::time::{Duration, Instant};

use crate::config::{Framing, Limits};
use crate::conn::{
    ClientConfig, Connection, RandomSource, ServerConfig, SmState, TlsOffer, TlsPolicy,
};
use crate::element::Element;
use crate::event::{AuthRequest, Event};
use crate::sasl::SaslCondition;
use crate::sasl::scram::StoredCredentials;

fn limits() -> Limits {
    Limits {
        max_stanza_size: 1 << 14,
        max_depth: 16,
        max_attributes: 16,
        max_text_size: 1 << 12,
    }
}

/// Splits `data` after its control byte into chunks of 1 to 16 bytes
/// (or whole, for chunk size 0), and picks TCP or WebSocket framing.
fn setup(data: &[u8]) -> (u8, Framing, &[u8]) {
    let (ctl, rest) = data.split_first().map_or((0, data), |(c, r)| (*c, r));
    let framing = if ctl & 0x80 == 0 {
        Framing::Tcp
    } else {
        Framing::WebSocket
    };
    (ctl, framing, rest)
}

fn chunks(ctl: u8, data: &[u8]) -> Vec<&[u8]> {
    match usize::from(ctl & 0x0f) {
        0 => vec![data],
        n => data.chunks(n).collect(),
    }
}

/// Feeds, answers events, checks the invariants.
fn drive(
    c: &mut Connection,
    ctl: u8,
    data: &[u8],
    answer: &mut dyn FnMut(&mut Connection, &Event),
) {
    let now = Instant::now();
    let mut closed = 0;
    let mut failed: Option<crate::Error> = None;
    for chunk in chunks(ctl, data) {
        let r = if ctl & 0x80 == 0 {
            c.handle_input(chunk)
        } else {
            c.handle_message(chunk)
        };
        if let Some(prev) = &failed {
            assert_eq!(r.as_ref().err(), Some(prev), "a failure must be sticky");
        } else if let Err(e) = r {
            failed = Some(e);
        }
        while let Some(e) = c.poll_event() {
            if matches!(e, Event::Closed { .. }) {
                closed += 1;
            }
            answer(c, &e);
        }
        if c.is_online() && ctl & 0x40 != 0 {
            let _ = c.send_ping(None);
            let _ = c.send_stanza(&Element::new("message", "jabber:client").with_attr("to", "a@b"));
        }
        while c.poll_transmit().is_some() {}
    }
    if ctl & 0x20 != 0 {
        let _ = c.close();
    }
    c.handle_timeout(now + Duration::from_secs(3600));
    while let Some(e) = c.poll_event() {
        if matches!(e, Event::Closed { .. }) {
            closed += 1;
        }
    }
    assert!(closed <= 1, "Closed reported {closed} times");
    if failed.is_some() {
        assert!(c.is_closed());
    }
}

/// The client: `data[0]` picks framing (bit 7), app actions (bits 6, 5)
/// and the chunk size (bits 0-3); the rest is what the server sends.
pub fn conn_client(data: &[u8]) {
    let (ctl, framing, rest) = setup(data);
    let Ok(jid) = "juliet@example.com/balcony".parse() else {
        return;
    };
    let mut cfg = ClientConfig::new(jid, "pencil");
    cfg.tls = if ctl & 0x10 != 0 {
        TlsPolicy::Optional
    } else {
        TlsPolicy::Disabled
    };
    cfg.scram_iterations = 1..=64;
    cfg.common.framing = framing;
    cfg.common.limits = limits();
    cfg.common.max_unacked = 8;
    cfg.common.random = RandomSource::Seed(u64::from(ctl));
    if ctl & 0x20 != 0 {
        cfg.resume = Some(SmState {
            id: "prev".to_owned(),
            unacked: vec![Element::new("presence", "jabber:client")],
            ..SmState::default()
        });
    }
    let mut c = Connection::client(cfg, Instant::now());
    drive(&mut c, ctl, rest, &mut |c, e| {
        if *e == Event::StartTls {
            let _ = c.tls_established();
        }
    });
}

/// The server: as [`conn_client`], with `data` what the client sends; the
/// application accepts password `pencil` and resumes any session.
pub fn conn_server(data: &[u8]) {
    let (ctl, framing, rest) = setup(data);
    let mut cfg = ServerConfig::new("example.com");
    cfg.tls = if ctl & 0x10 != 0 {
        TlsOffer::Optional
    } else {
        TlsOffer::None
    };
    cfg.common.framing = framing;
    cfg.common.limits = limits();
    cfg.common.max_unacked = 8;
    cfg.common.random = RandomSource::Seed(u64::from(ctl));
    let mut s = Connection::server(cfg, Instant::now());
    drive(&mut s, ctl, rest, &mut |s, e| match e {
        Event::StartTls => {
            let _ = s.tls_established();
        }
        Event::Authenticate(AuthRequest::Plain { password, .. }) => {
            let _ = if password == "pencil" {
                s.accept_auth()
            } else {
                s.reject_auth(SaslCondition::NotAuthorized)
            };
        }
        Event::Authenticate(AuthRequest::Scram { hash, .. }) => {
            if let Ok(creds) = StoredCredentials::derive(*hash, "pencil", b"salt", 2) {
                let _ = s.accept_credentials(&creds);
            }
        }
        Event::ResumeRequest { previd, .. } => {
            let _ = s.accept_resume(&SmState {
                id: previd.clone(),
                ..SmState::default()
            });
        }
        _ => {}
    });
}
