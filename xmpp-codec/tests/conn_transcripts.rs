//! Replays of the recorded sessions in `../shared/vectors/xmpp/` through
//! the connection machines: our client must accept every recorded server
//! side, our server every recorded client side, and the two s2s roles each
//! side of the Prosody <-> ejabberd dialback tap. Whole reads, byte by
//! byte, and random split points (proptest).
//!
//! Passwords are not in the SCRAM files; they are the accounts' PLAIN
//! passwords recorded in `sm_resume_*.json` and `ws_*_transcript.txt`
//! (`secret-alice` on a.localhost, `secret-carol` on b.localhost), and the
//! recorded SCRAM proofs verify with them. The client nonce comes from the
//! recorded `<auth/>`, the server nonce suffix from the recorded
//! `<challenge/>`, through the caller-supplied [`RandomSource`], so our
//! SCRAM messages must equal the recorded ones byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use common::{Json, Lcg, random_chunks, vector};
use proptest::prelude::*;
use xmpp_codec::conn::{ClientConfig, RandomSource, S2sConfig, ServerConfig, SmState, TlsPolicy};
use xmpp_codec::event::{AuthRequest, CloseReason, Event};
use xmpp_codec::sasl::Mechanism;
use xmpp_codec::sasl::scram::StoredCredentials;
use xmpp_codec::{Connection, Element, Framing, Limits, Namespaces};

/// One recorded read or write: `up` is initiator (client) to receiver.
#[derive(Debug, Clone)]
struct Step {
    conn: String,
    up: bool,
    data: String,
}

fn tcp_file(name: &str) -> (Json, Vec<Step>) {
    let j = Json::parse(&vector(&format!("xmpp/{name}")));
    let steps = j
        .get("transcript")
        .unwrap()
        .arr()
        .iter()
        .filter_map(|e| {
            let (dir, data) = (e.arr()[0].str(), e.arr()[1].str());
            let (conn, up) = match dir {
                "C" => ("", true),
                "S" => ("", false),
                "#" => return None,
                d => (d.trim_end_matches(['<', '>']), d.ends_with('>')),
            };
            Some(Step {
                conn: conn.to_owned(),
                up,
                data: data.to_owned(),
            })
        })
        .collect();
    (j, steps)
}

fn ws_file(name: &str) -> Vec<Step> {
    vector(&format!("xmpp/{name}"))
        .lines()
        .filter_map(|l| {
            let (dir, data) = l.split_once(": ")?;
            match dir {
                "C" | "S" => Some(Step {
                    conn: String::new(),
                    up: dir == "C",
                    data: data.to_owned(),
                }),
                _ => None,
            }
        })
        .collect()
}

fn password(domain: &str) -> &'static str {
    if domain == "a.localhost" {
        "secret-alice"
    } else {
        "secret-carol"
    }
}

/// The base64 text of the first `<tag ...>TEXT</tag>` among `steps`.
fn sasl_text(steps: &[Step], tag: &str) -> Option<String> {
    steps.iter().find_map(|s| {
        let start = s.data.find(&format!("<{tag} "))?;
        let rest = &s.data[start..];
        let open = rest.find('>')?;
        let close = rest.find(&format!("</{tag}>"))?;
        Some(rest[open + 1..close].to_owned())
    })
}

fn decoded(b64: &str) -> String {
    String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
}

/// How each recorded read is cut.
#[derive(Debug, Clone, Copy)]
enum Split {
    Whole,
    Bytes,
    Random(u64),
}

fn feed(c: &mut Connection, ws: bool, data: &[u8], split: Split, rng: &mut Lcg) {
    let chunks: Vec<Vec<u8>> = match (ws, split) {
        (true, _) | (false, Split::Whole) => vec![data.to_vec()],
        (false, Split::Bytes) => data.iter().map(|b| vec![*b]).collect(),
        (false, Split::Random(_)) => random_chunks(data, rng),
    };
    for ch in chunks {
        let r = if ws {
            c.handle_message(&ch)
        } else {
            c.handle_input(&ch)
        };
        r.unwrap_or_else(|e| panic!("{e} on {:?}", String::from_utf8_lossy(data)));
    }
}

fn drain(c: &mut Connection, out: &mut String) {
    while let Some(b) = c.poll_transmit() {
        out.push_str(std::str::from_utf8(&b).unwrap());
    }
}

/// What the machine wrote, checked in order against recorded writes.
struct Written {
    text: String,
    checked: usize,
}

impl Written {
    fn expect(&mut self, needle: &str, recorded: &str) {
        match self.text[self.checked..].find(needle) {
            Some(i) => self.checked += i + needle.len(),
            None => panic!(
                "recorded {recorded:?}: expected {needle:?} in our output {:?}",
                &self.text[self.checked..]
            ),
        }
    }
}

fn stanza(data: &str, ws: bool) -> Element {
    let scope = if ws {
        Namespaces::default()
    } else {
        Namespaces::new("jabber:client")
    };
    Element::parse_in(
        Bytes::copy_from_slice(data.as_bytes()),
        &scope,
        Limits::default(),
    )
    .unwrap()
}

fn attr<'a>(data: &'a str, name: &str) -> Option<&'a str> {
    let i = data.find(&format!(" {name}="))? + name.len() + 2;
    let q = &data[i..i + 1];
    let rest = &data[i + 1..];
    Some(&rest[..rest.find(q)?])
}

/// Replays one connection's server side into our client; the recorded
/// client's application actions (messages, pings, `<r/>`, close) are
/// replayed as API calls, and its protocol writes must match ours.
fn replay_client(
    steps: &[Step],
    mut cfg: ClientConfig,
    ws: bool,
    split: Split,
) -> (Vec<Event>, Connection) {
    let mut rng = Lcg(match split {
        Split::Random(s) => s,
        _ => 1,
    });
    if let Some(first) = sasl_text(steps, "auth")
        .map(|a| decoded(&a))
        .filter(|a| a.contains(",r="))
    {
        let nonce = first.rsplit_once(",r=").unwrap().1.to_owned();
        cfg.common.random = RandomSource::Fn(Box::new(move || nonce.clone()));
    }
    cfg.tls = TlsPolicy::Disabled;
    cfg.common.framing = if ws { Framing::WebSocket } else { Framing::Tcp };
    let mut c = Connection::client(cfg, Instant::now());
    let mut out = Written {
        text: String::new(),
        checked: 0,
    };
    let mut events = Vec::new();
    for s in steps {
        drain(&mut c, &mut out.text);
        let d = s.data.as_str();
        if s.up {
            let t = d.trim_start();
            if t.is_empty() {
            } else if t.starts_with("<?xml")
                || t.starts_with("<stream:stream")
                || t.starts_with("<open")
            {
                out.expect(if ws { "<open" } else { "<stream:stream" }, d);
            } else if t.starts_with("<auth") || t.starts_with("<response") {
                let tag = if t.starts_with("<auth") {
                    "auth"
                } else {
                    "response"
                };
                let text = sasl_text(std::slice::from_ref(s), tag).unwrap();
                out.expect(&format!(">{text}</{tag}>"), d);
            } else if t.contains("<bind") {
                out.expect("<bind", d);
            } else if t.starts_with("<enable") {
                out.expect("<enable", d);
            } else if t.starts_with("<resume") {
                out.expect(&format!("previd='{}'", attr(d, "previd").unwrap()), d);
            } else if t.contains("urn:xmpp:ping") {
                let to = attr(d, "to").map(|t| t.parse().unwrap());
                assert_eq!(c.send_ping(to.as_ref()).unwrap(), attr(d, "id").unwrap());
            } else if t.starts_with("<message") || t.starts_with("<presence") {
                c.send_stanza(&stanza(d, ws)).unwrap();
            } else if t.starts_with("<r ") {
                c.request_ack().unwrap();
            } else if t.starts_with("</stream:stream") || t.starts_with("<close") {
                c.close().unwrap();
            } else {
                panic!("unclassified client write {d:?}");
            }
        } else {
            feed(&mut c, ws, d.as_bytes(), split, &mut rng);
        }
        drain(&mut c, &mut out.text);
        while let Some(e) = c.poll_event() {
            events.push(e);
        }
    }
    (events, c)
}

fn client_config(jid: &str, mech: Mechanism) -> ClientConfig {
    let jid: xmpp_codec::stanza::jid::Jid = jid.parse().unwrap();
    let mut cfg = ClientConfig::new(jid.clone(), password(jid.domain()));
    cfg.mechanisms = vec![mech];
    cfg
}

fn no_failure(events: &[Event]) {
    assert!(
        !events.iter().any(|e| matches!(
            e,
            Event::Closed {
                reason: CloseReason::LocalError(_) | CloseReason::PeerError(_)
            }
        )),
        "{events:?}"
    );
}

fn online_jid(events: &[Event]) -> String {
    events
        .iter()
        .find_map(|e| match e {
            Event::Online { jid } => Some(jid.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("never online: {events:?}"))
}

const TCP: [(&str, Mechanism); 3] = [
    ("tcp_prosody_scram1.json", Mechanism::ScramSha1),
    ("tcp_ejabberd_scram1.json", Mechanism::ScramSha1),
    ("tcp_ejabberd_scram256.json", Mechanism::ScramSha256),
];

fn client_tcp(split: Split) {
    for (file, mech) in TCP {
        let (j, steps) = tcp_file(file);
        let jid = j.s("jid");
        let resource_less = jid.split('/').next().unwrap();
        let (events, _) = replay_client(
            &steps,
            client_config(&format!("{resource_less}/probe"), mech),
            false,
            split,
        );
        no_failure(&events);
        assert_eq!(online_jid(&events), jid, "{file}");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Authenticated { .. })),
            "{file}: server signature verified"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::SmEnabled { id: Some(_), .. })),
            "{file}"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::IqResponse { id, .. } if id == "p1")),
            "{file}"
        );
        assert!(
            events.iter().any(|e| matches!(e, Event::Message(_))),
            "{file}"
        );
        assert!(events.contains(&Event::Acked { h: 2 }), "{file}");
        assert_eq!(
            events.last(),
            Some(&Event::Closed {
                reason: CloseReason::Normal
            }),
            "{file}"
        );
    }
}

fn client_sm_resume(split: Split) {
    for (file, domain, user) in [
        ("sm_resume_prosody.json", "a.localhost", "alice"),
        ("sm_resume_ejabberd.json", "b.localhost", "carol"),
    ] {
        let (j, steps) = tcp_file(file);
        let conn = |c: &str| {
            steps
                .iter()
                .filter(|s| s.conn == c)
                .cloned()
                .collect::<Vec<_>>()
        };
        let (ev1, c1) = replay_client(
            &conn("A1"),
            client_config(&format!("{user}@{domain}/victim"), Mechanism::Plain),
            false,
            split,
        );
        no_failure(&ev1);
        assert!(
            ev1.iter()
                .any(|e| matches!(e, Event::SmEnabled { id: Some(_), .. }))
        );
        let state = c1.sm_state().unwrap();
        assert_eq!(
            state.unacked.len(),
            1,
            "{file}: our presence is unacknowledged"
        );
        let (evb, _) = replay_client(
            &conn("B"),
            client_config(&format!("{user}@{domain}/sender"), Mechanism::Plain),
            false,
            split,
        );
        no_failure(&evb);
        let mut cfg = client_config(&format!("{user}@{domain}/victim"), Mechanism::Plain);
        cfg.resume = Some(state);
        let (ev2, c2) = replay_client(&conn("A2"), cfg, false, split);
        no_failure(&ev2);
        assert!(
            ev2.iter()
                .any(|e| matches!(e, Event::Resumed { resent: 0, .. })),
            "{file}: {ev2:?}"
        );
        let bodies: Vec<String> = ev2
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => {
                    Some(m.child("body", "jabber:client")?.text().as_str().to_owned())
                }
                _ => None,
            })
            .collect();
        let expected: Vec<String> = j
            .get("redelivered")
            .unwrap()
            .arr()
            .iter()
            .map(|b| b.str().to_owned())
            .collect();
        assert_eq!(bodies, expected, "{file}");
        assert!(c2.jid().is_some());
    }
}

fn client_ws() {
    for (file, jid) in [
        ("ws_prosody_transcript.txt", "alice@a.localhost/ws"),
        ("ws_ejabberd_transcript.txt", "carol@b.localhost/ws"),
    ] {
        let (events, _) = replay_client(
            &ws_file(file),
            client_config(jid, Mechanism::Plain),
            true,
            Split::Whole,
        );
        no_failure(&events);
        assert_eq!(online_jid(&events), jid);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::IqResponse { id, .. } if id == "p1"))
        );
        assert_eq!(
            events.last(),
            Some(&Event::Closed {
                reason: CloseReason::Normal
            }),
            "{file}"
        );
    }
}

/// Replays one connection's client side into our server, answering its
/// events as the recorded server's application did; its protocol writes
/// must match the recorded server's.
fn replay_server(
    steps: &[Step],
    domain: &str,
    ws: bool,
    split: Split,
    resume: Option<&SmState>,
) -> (Vec<Event>, Connection) {
    let mut rng = Lcg(match split {
        Split::Random(s) => s,
        _ => 1,
    });
    let mut cfg = ServerConfig::new(domain);
    cfg.common.framing = if ws { Framing::WebSocket } else { Framing::Tcp };
    let challenge = sasl_text(steps, "challenge").map(|c| decoded(&c));
    let client_nonce = sasl_text(steps, "auth")
        .map(|a| decoded(&a))
        .and_then(|a| Some(a.rsplit_once(",r=")?.1.to_owned()));
    let mut creds_params = None;
    if let (Some(ch), Some(cn)) = (&challenge, &client_nonce) {
        let parts: Vec<&str> = ch.split(',').collect();
        let suffix = parts[0]
            .strip_prefix("r=")
            .unwrap()
            .strip_prefix(cn.as_str())
            .unwrap()
            .to_owned();
        cfg.common.random = RandomSource::Fn(Box::new(move || suffix.clone()));
        let salt = STANDARD
            .decode(parts[1].strip_prefix("s=").unwrap())
            .unwrap();
        let iterations: u32 = parts[2].strip_prefix("i=").unwrap().parse().unwrap();
        creds_params = Some((salt, iterations));
    }
    let mut s = Connection::server(cfg, Instant::now());
    let mut out = Written {
        text: String::new(),
        checked: 0,
    };
    let mut events = Vec::new();
    for st in steps {
        let d = st.data.as_str();
        if st.up {
            feed(&mut s, ws, d.as_bytes(), split, &mut rng);
        } else {
            for piece in d
                .split_inclusive("/>")
                .flat_map(|p| p.split_inclusive("</stream:features>"))
            {
                let t = piece.trim_start();
                if t.starts_with("<challenge")
                    || (t.starts_with("<success") && t.contains("</success>"))
                {
                    let tag = if t.starts_with("<challenge") {
                        "challenge"
                    } else {
                        "success"
                    };
                    let text = sasl_text(
                        &[Step {
                            data: t.to_owned(),
                            ..st.clone()
                        }],
                        tag,
                    )
                    .unwrap();
                    out.expect(&format!(">{text}</{tag}>"), d);
                } else if t.starts_with("<success") {
                    out.expect("<success", d);
                } else if t.starts_with("<a ") {
                    // Prosody also acks unasked at close; the answer to
                    // `<r/>` is what must match.
                    let h = format!("h='{}'", attr(t, "h").unwrap());
                    assert!(
                        out.text.contains(&h),
                        "recorded {d:?}: no {h} in {:?}",
                        out.text
                    );
                } else if t.starts_with("<enabled") || t.starts_with("<resumed") {
                    out.expect(&t[..8], d);
                } else if t.contains("<jid>") {
                    let jid = &t[t.find("<jid>").unwrap()..t.find("</jid>").unwrap() + 6];
                    out.expect(jid, d);
                } else if t.starts_with("<iq") && attr(t, "id") == Some("p1") {
                    out.expect("id='p1'", d);
                }
            }
        }
        drain(&mut s, &mut out.text);
        while let Some(e) = s.poll_event() {
            match &e {
                Event::Authenticate(AuthRequest::Plain { password: p, .. }) => {
                    assert_eq!(p, password(domain));
                    s.accept_auth().unwrap();
                }
                Event::Authenticate(AuthRequest::Scram { hash, .. }) => {
                    let (salt, i) = creds_params.clone().unwrap();
                    s.accept_credentials(
                        &StoredCredentials::derive(*hash, password(domain), &salt, i).unwrap(),
                    )
                    .unwrap();
                }
                Event::ResumeRequest { .. } => s.accept_resume(resume.unwrap()).unwrap(),
                _ => {}
            }
            events.push(e);
            drain(&mut s, &mut out.text);
        }
    }
    (events, s)
}

fn server_tcp(split: Split) {
    for (file, _) in TCP {
        let (j, steps) = tcp_file(file);
        let (events, _) = replay_server(&steps, j.s("domain"), false, split, None);
        no_failure(&events);
        assert_eq!(online_jid(&events), j.s("jid"));
        assert!(events.iter().any(|e| matches!(e, Event::Message(_))));
        assert_eq!(
            events.last(),
            Some(&Event::Closed {
                reason: CloseReason::Normal
            }),
            "{file}"
        );
    }
}

fn server_sm_resume(split: Split) {
    for (file, domain) in [
        ("sm_resume_prosody.json", "a.localhost"),
        ("sm_resume_ejabberd.json", "b.localhost"),
    ] {
        let (_, steps) = tcp_file(file);
        let conn = |c: &str| {
            steps
                .iter()
                .filter(|s| s.conn == c)
                .cloned()
                .collect::<Vec<_>>()
        };
        let (ev1, s1) = replay_server(&conn("A1"), domain, false, split, None);
        no_failure(&ev1);
        let state = s1.sm_state().unwrap();
        let (evb, _) = replay_server(&conn("B"), domain, false, split, None);
        assert_eq!(
            evb.iter()
                .filter(|e| matches!(e, Event::Message(_)))
                .count(),
            2
        );
        let (ev2, s2) = replay_server(&conn("A2"), domain, false, split, Some(&state));
        no_failure(&ev2);
        assert!(
            ev2.iter()
                .any(|e| matches!(e, Event::ResumeRequest { h: 0, .. })),
            "{ev2:?}"
        );
        assert!(ev2.iter().any(|e| matches!(e, Event::Resumed { .. })));
        assert_eq!(
            s2.jid().map(ToString::to_string).as_deref(),
            Some(&*format!(
                "{}@{domain}/victim",
                if domain == "a.localhost" {
                    "alice"
                } else {
                    "carol"
                }
            ))
        );
    }
}

fn server_ws() {
    for (file, domain) in [
        ("ws_prosody_transcript.txt", "a.localhost"),
        ("ws_ejabberd_transcript.txt", "b.localhost"),
    ] {
        let (events, _) = replay_server(&ws_file(file), domain, true, Split::Whole, None);
        no_failure(&events);
        assert!(online_jid(&events).ends_with("/ws"));
        assert_eq!(
            events.last(),
            Some(&Event::Closed {
                reason: CloseReason::Normal
            }),
            "{file}"
        );
    }
}

fn s2s_steps() -> Vec<Step> {
    vector("xmpp/s2s_dialback_tap.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let j = Json::parse(l);
            Step {
                conn: j.s("conn").to_owned(),
                up: j.s("dir") == "initiator",
                data: j.s("data").to_owned(),
            }
        })
        .collect()
}

/// Each tapped s2s connection: the receiver's writes into our originating
/// machine (with the initiator's application actions as calls), the
/// initiator's writes into our receiving machine (with dialback verdicts
/// as the tap shows them: valid).
fn s2s(split: Split) {
    let steps = s2s_steps();
    let mut conns: Vec<String> = steps.iter().map(|s| s.conn.clone()).collect();
    conns.dedup();
    conns.sort();
    conns.dedup();
    assert_eq!(conns.len(), 3);
    for conn in conns {
        let steps: Vec<Step> = steps.iter().filter(|s| s.conn == conn).cloned().collect();
        let header = &steps[0].data;
        let (from, to) = (attr(header, "from").unwrap(), attr(header, "to").unwrap());
        let verify_only = !steps
            .iter()
            .any(|s| s.up && s.data.starts_with("<db:result"));
        let mut rng = Lcg(match split {
            Split::Random(s) => s,
            _ => 1,
        });
        // Originating side.
        let mut cfg = S2sConfig::new(from, to, "unknown-secret");
        cfg.authenticate = !verify_only;
        let mut o = Connection::s2s_originating(cfg, Instant::now());
        let mut oev = Vec::new();
        // Receiving side.
        let mut r =
            Connection::s2s_receiving(S2sConfig::new(to, "", "unknown-secret"), Instant::now());
        let mut rev = Vec::new();
        for s in &steps {
            let d = s.data.as_str();
            if s.up {
                feed(&mut r, false, d.as_bytes(), split, &mut rng);
                if d.starts_with("<db:verify") {
                    let key = &d[d.find('>').unwrap() + 1..d.find("</").unwrap()];
                    o.send_dialback_verify(attr(d, "id").unwrap(), key).unwrap();
                } else if d.starts_with("</stream:stream") {
                    o.close().unwrap();
                } else if d.starts_with("<presence")
                    || d.starts_with("<message")
                    || d.starts_with("<iq")
                {
                    let el = Element::parse_in(
                        Bytes::copy_from_slice(d.as_bytes()),
                        &Namespaces::new("jabber:server"),
                        Limits::default(),
                    )
                    .unwrap();
                    o.send_stanza(&el).unwrap();
                }
            } else {
                feed(&mut o, false, d.as_bytes(), split, &mut rng);
            }
            while o.poll_transmit().is_some() {}
            while r.poll_transmit().is_some() {}
            while let Some(e) = o.poll_event() {
                oev.push(e);
            }
            while let Some(e) = r.poll_event() {
                if let Event::DialbackResult { from, .. } = &e {
                    r.dialback_verdict(&from.clone(), true).unwrap();
                }
                rev.push(e);
            }
        }
        no_failure(&oev);
        no_failure(&rev);
        if verify_only {
            assert!(
                oev.iter()
                    .any(|e| matches!(e, Event::DialbackVerified { valid: true, .. })),
                "{conn}: {oev:?}"
            );
            assert!(
                rev.contains(&Event::Closed {
                    reason: CloseReason::Normal
                }),
                "{conn}: {rev:?}"
            );
        } else {
            assert!(
                oev.contains(&Event::DomainAuthenticated {
                    domain: from.to_owned()
                }),
                "{conn}: {oev:?}"
            );
            assert!(
                rev.contains(&Event::DomainAuthenticated {
                    domain: from.to_owned()
                }),
                "{conn}: {rev:?}"
            );
            let stanzas = steps
                .iter()
                .filter(|s| {
                    s.up && (s.data.starts_with("<presence")
                        || s.data.starts_with("<message")
                        || s.data.starts_with("<iq"))
                })
                .count();
            let got = rev
                .iter()
                .filter(|e| matches!(e, Event::Presence(_) | Event::Message(_) | Event::Iq(_)))
                .count();
            assert_eq!(got, stanzas, "{conn}");
        }
    }
}

#[test]
fn client_accepts_every_recorded_server_whole_reads() {
    client_tcp(Split::Whole);
    client_sm_resume(Split::Whole);
    client_ws();
}

#[test]
fn client_accepts_every_recorded_server_byte_by_byte() {
    client_tcp(Split::Bytes);
    client_sm_resume(Split::Bytes);
}

#[test]
fn server_accepts_every_recorded_client_whole_reads() {
    server_tcp(Split::Whole);
    server_sm_resume(Split::Whole);
    server_ws();
}

#[test]
fn server_accepts_every_recorded_client_byte_by_byte() {
    server_tcp(Split::Bytes);
    server_sm_resume(Split::Bytes);
}

#[test]
fn s2s_dialback_tap_both_roles() {
    s2s(Split::Whole);
    s2s(Split::Bytes);
}

/// A server whose signature is wrong (it does not know the password) is
/// caught: the login fails and the session never starts.
#[test]
fn client_rejects_a_wrong_server_signature() {
    let (_, mut steps) = tcp_file("tcp_prosody_scram1.json");
    let success = steps
        .iter_mut()
        .find(|s| s.data.starts_with("<success"))
        .unwrap();
    let good = sasl_text(std::slice::from_ref(success), "success").unwrap();
    let mut v = decoded(&good).into_bytes();
    let last = v.len() - 2;
    v[last] = if v[last] == b'A' { b'B' } else { b'A' };
    success.data = success.data.replace(&good, &STANDARD.encode(&v));
    let cut = steps
        .iter()
        .position(|s| s.data.starts_with("<success"))
        .unwrap()
        + 1;
    let mut c = {
        let mut cfg = client_config("alice@a.localhost/probe", Mechanism::ScramSha1);
        let first = decoded(&sasl_text(&steps, "auth").unwrap());
        let nonce = first.rsplit_once(",r=").unwrap().1.to_owned();
        cfg.common.random = RandomSource::Fn(Box::new(move || nonce.clone()));
        cfg.tls = TlsPolicy::Disabled;
        Connection::client(cfg, Instant::now())
    };
    let mut err = None;
    for s in steps[..cut].iter().filter(|s| !s.up) {
        if let Err(e) = c.handle_input(s.data.as_bytes()) {
            err = Some(e);
        }
    }
    let err = err.expect("the wrong signature must fail the login");
    assert_eq!(
        err.sasl_condition().map(|c| c.as_str()),
        Some("not-authorized"),
        "{err}"
    );
    let events: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Authenticated { .. } | Event::Online { .. }))
    );
    assert!(matches!(
        events.last(),
        Some(Event::Closed {
            reason: CloseReason::LocalError(_)
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn replays_at_random_split_points(seed in any::<u64>()) {
        client_tcp(Split::Random(seed));
        client_sm_resume(Split::Random(seed));
        server_tcp(Split::Random(seed));
        server_sm_resume(Split::Random(seed));
        s2s(Split::Random(seed));
    }
}
