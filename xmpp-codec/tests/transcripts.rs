//! Replays the recorded XMPP sessions in `../shared/vectors/xmpp/`
//! (Prosody 0.12 and ejabberd 23.01: c2s over TCP with SCRAM, bind and
//! stream management, XEP-0198 resumption, s2s dialback, RFC 7395
//! WebSocket): every direction of every connection frames into elements
//! without error at the recorded read boundaries, whole, byte by byte and
//! at random split points, all alike; every element re-serializes (in the
//! stream's scope and standalone) to XML that parses back to an equal
//! element.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use common::{Json, Lcg, decode_segments, random_chunks, vector};
use xmpp_codec::{Element, Frame, Framing, Limits, Namespaces};

/// One direction of one connection: its reads, grouped into segments at
/// stream restarts.
struct Direction {
    name: String,
    framing: Framing,
    segments: Vec<Vec<Vec<u8>>>,
}

fn push_read(map: &mut BTreeMap<String, Vec<Vec<Vec<u8>>>>, key: String, data: &str) {
    let segs = map.entry(key).or_default();
    let restart = data.starts_with("<?xml") || data.starts_with("<stream:stream");
    if restart || segs.is_empty() {
        segs.push(Vec::new());
    }
    segs.last_mut().unwrap().push(data.as_bytes().to_vec());
}

fn tcp_directions() -> Vec<Direction> {
    let mut map = BTreeMap::new();
    for file in [
        "tcp_prosody_scram1.json",
        "tcp_ejabberd_scram1.json",
        "tcp_ejabberd_scram256.json",
        "sm_resume_prosody.json",
        "sm_resume_ejabberd.json",
    ] {
        let j = Json::parse(&vector(&format!("xmpp/{file}")));
        for entry in j.get("transcript").unwrap().arr() {
            let e = entry.arr();
            let label = e[0].str();
            if label == "#" {
                continue;
            }
            // "C"/"S" (one connection) or "A1>"/"A1<" (several).
            let key = match label {
                "C" => format!("{file} client->server"),
                "S" => format!("{file} server->client"),
                l if l.ends_with('>') => format!("{file} {} client->server", &l[..l.len() - 1]),
                l => format!("{file} {} server->client", &l[..l.len() - 1]),
            };
            push_read(&mut map, key, e[1].str());
        }
    }
    for line in vector("xmpp/s2s_dialback_tap.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let j = Json::parse(line);
        let key = format!("s2s {} {}", j.s("conn"), j.s("dir"));
        push_read(&mut map, key, j.s("data"));
    }
    map.into_iter()
        .map(|(name, segments)| Direction {
            name,
            framing: Framing::Tcp,
            segments,
        })
        .collect()
}

fn ws_directions() -> Vec<Direction> {
    let mut out = Vec::new();
    for file in ["ws_prosody_transcript.txt", "ws_ejabberd_transcript.txt"] {
        let text = vector(&format!("xmpp/{file}"));
        for (tag, dir) in [("C: ", "client->server"), ("S: ", "server->client")] {
            let msgs: Vec<Vec<u8>> = text
                .lines()
                .filter_map(|l| l.strip_prefix(tag))
                .map(|m| m.as_bytes().to_vec())
                .collect();
            assert!(!msgs.is_empty(), "{file}: no {dir} messages");
            out.push(Direction {
                name: format!("{file} {dir}"),
                framing: Framing::WebSocket,
                segments: vec![msgs],
            });
        }
    }
    out
}

fn all_directions() -> Vec<Direction> {
    let mut v = tcp_directions();
    v.extend(ws_directions());
    assert!(
        v.len() >= 20,
        "expected every recorded direction, got {}",
        v.len()
    );
    v
}

fn whole(segments: &[Vec<Vec<u8>>]) -> Vec<Vec<Vec<u8>>> {
    segments.iter().map(|s| vec![s.concat()]).collect()
}

fn bytewise(segments: &[Vec<Vec<u8>>]) -> Vec<Vec<Vec<u8>>> {
    segments
        .iter()
        .map(|s| s.concat().into_iter().map(|b| vec![b]).collect())
        .collect()
}

#[test]
fn every_direction_frames_alike_under_any_chunking() {
    let limits = Limits::default();
    for d in all_directions() {
        let (frames, err, left) = decode_segments(d.framing, limits, &d.segments);
        assert!(
            err.is_none(),
            "{}: {err:?} after {} frames",
            d.name,
            frames.len()
        );
        assert_eq!(left, 0, "{}: {left} bytes left over", d.name);
        let elements = frames
            .iter()
            .filter(|f| matches!(f, Frame::Element(_)))
            .count();
        assert!(elements > 0, "{}: no elements", d.name);
        if d.framing == Framing::Tcp {
            let opens = frames
                .iter()
                .filter(|f| matches!(f, Frame::StreamOpen(_)))
                .count();
            assert_eq!(opens, d.segments.len(), "{}: one header per stream", d.name);
        }
        for (how, segs) in [
            ("whole", whole(&d.segments)),
            ("bytewise", bytewise(&d.segments)),
        ] {
            let (again, err, _) = decode_segments(d.framing, limits, &segs);
            assert!(err.is_none(), "{} {how}: {err:?}", d.name);
            assert_eq!(again, frames, "{} {how}", d.name);
        }
        let mut rng = Lcg(0x5eed);
        for _ in 0..20 {
            let segs: Vec<_> = d
                .segments
                .iter()
                .map(|s| random_chunks(&s.concat(), &mut rng))
                .collect();
            let (again, err, _) = decode_segments(d.framing, limits, &segs);
            assert!(err.is_none(), "{} random: {err:?}", d.name);
            assert_eq!(again, frames, "{} random", d.name);
        }
    }
}

#[test]
fn every_element_reserializes_to_an_equal_element() {
    let mut checked = 0;
    for d in all_directions() {
        let (frames, err, _) = decode_segments(d.framing, Limits::default(), &d.segments);
        assert!(err.is_none(), "{}: {err:?}", d.name);
        let mut scope = Namespaces::default();
        for f in frames {
            match f {
                Frame::StreamOpen(h) => scope = h.namespaces,
                Frame::Element(el) => {
                    let mut out = BytesMut::new();
                    el.write_in(&scope, &mut out);
                    let again = Element::parse_in(out.freeze(), &scope, Limits::default());
                    assert_eq!(again.as_ref(), Ok(&el), "{}: in scope", d.name);
                    let alone = el.to_bytes();
                    assert_eq!(
                        Element::parse(alone.clone()).as_ref(),
                        Ok(&el),
                        "{}: {alone:?}",
                        d.name
                    );
                    checked += 1;
                }
                _ => {}
            }
        }
    }
    assert!(checked > 100, "only {checked} elements");
}

#[test]
fn spot_checks() {
    // The dialback result inherits `xmlns:db` from the s2s stream header.
    let line = vector("xmpp/s2s_dialback_tap.jsonl");
    let mut buf = BytesMut::new();
    for l in line.lines().take(3) {
        let j = Json::parse(l);
        if j.s("dir") == "initiator" {
            buf.extend_from_slice(j.s("data").as_bytes());
        }
    }
    let mut d = xmpp_codec::Decoder::default();
    let Some(Frame::StreamOpen(h)) = d.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(h.namespaces.default_ns(), "jabber:server");
    assert_eq!(
        h.namespaces.lookup(b"db").unwrap(),
        "jabber:server:dialback"
    );
    let Some(Frame::Element(r)) = d.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert!(r.is("result", "jabber:server:dialback"));
    assert_eq!(r.prefix().unwrap(), "db");
    let mut out = BytesMut::new();
    r.write_in(&h.namespaces, &mut out);
    assert!(out.starts_with(b"<db:result from="), "{out:?}");
    // The recorded message body, references resolved.
    let m = Element::parse(Bytes::from_static(
        "<message xmlns='jabber:client'><body>probe &amp; &lt;self&gt; \u{e9}</body></message>"
            .as_bytes(),
    ))
    .unwrap();
    assert_eq!(
        m.child("body", "jabber:client").unwrap().text(),
        "probe & <self> \u{e9}"
    );
}
