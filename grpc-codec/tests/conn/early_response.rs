//! A server's response that ends before the request does (§8.1): the
//! optional RST_STREAM(NO_ERROR) after it, on by default, so the client
//! stops sending; the client keeps the complete response.

use bytes::Bytes;
use grpc_codec::{Config, Connection, Error, ErrorCode, Event, Frame, StreamState};

use crate::conn_support::*;

/// A client that opened `POST /upload` and sent part of the body, and the
/// server that saw it.
fn uploading(server_cfg: Config) -> (Connection, Connection, grpc_codec::StreamId) {
    let (mut c, mut s) = pair(Config::default(), server_cfg);
    let id = c.send_request(&post("/upload"), false).unwrap();
    c.send_data(id, Bytes::from_static(b"part one"), false)
        .unwrap();
    pump(&mut c, &mut s);
    assert_eq!(events(&mut s).len(), 2);
    (c, s, id)
}

/// The frame types in `bytes`, as (type, stream) pairs.
fn kinds(bytes: &[u8]) -> Vec<(&'static str, u32)> {
    frames(bytes)
        .into_iter()
        .map(|f| match f {
            Frame::Headers(h) => ("HEADERS", h.stream_id.value()),
            Frame::Data(d) => ("DATA", d.stream_id.value()),
            Frame::RstStream(r) => ("RST_STREAM", r.stream_id.value()),
            _ => ("other", 0),
        })
        .collect()
}

#[test]
fn complete_response_to_an_unfinished_request_resets_it() {
    let (mut c, mut s, id) = uploading(Config::default());
    s.send_response(id, &grpc_codec::Response::new(413), true)
        .unwrap();
    let out = drain(&mut s);
    assert_eq!(kinds(&out), vec![("HEADERS", 1), ("RST_STREAM", 1)]);
    assert_eq!(resets(&out), vec![(1, ErrorCode::NO_ERROR)]);
    assert_eq!(
        events(&mut s),
        vec![Event::Reset {
            stream: id,
            code: ErrorCode::NO_ERROR,
            by_peer: false
        }]
    );
    assert_eq!(s.stream_state(id), StreamState::Closed);
    // The client has the whole response, then the reset.
    c.handle_input(&out, t0()).unwrap();
    let ev = events(&mut c);
    assert!(
        matches!(&ev[0], Event::Response { response, end_stream: true, .. }
        if response.status == 413)
    );
    assert_eq!(
        ev[1],
        Event::Reset {
            stream: id,
            code: ErrorCode::NO_ERROR,
            by_peer: true
        }
    );
    assert_eq!(
        c.send_data(id, Bytes::new(), true),
        Err(Error::InvalidState("stream is not open for sending"))
    );
    // Body the client sent before it saw the reset is dropped quietly.
    let mut late = RawPeer::new();
    late.data(1, b"part two", true);
    s.handle_input(&late.take(), t0()).unwrap();
    assert!(events(&mut s).is_empty());
    assert!(drain(&mut s).is_empty());
}

#[test]
fn reset_follows_queued_body_and_trailers() {
    let (mut c, mut s, id) = uploading(Config::default());
    s.send_response(id, &ok_response(), false).unwrap();
    s.send_data(id, Bytes::from(vec![7; 40_000]), false)
        .unwrap();
    s.send_trailers(id, &[h("grpc-status", "0")]).unwrap();
    let out = drain(&mut s);
    let k = kinds(&out);
    assert_eq!(k.last(), Some(&("RST_STREAM", 1)));
    assert_eq!(k[k.len() - 2], ("HEADERS", 1), "trailers, then the reset");
    c.handle_input(&out, t0()).unwrap();
    let ev = events(&mut c);
    let body: usize = ev
        .iter()
        .map(|e| match e {
            Event::Data { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(body, 40_000);
    assert!(matches!(ev[ev.len() - 2], Event::Trailers { .. }));
    assert!(matches!(
        ev[ev.len() - 1],
        Event::Reset {
            code: ErrorCode::NO_ERROR,
            ..
        }
    ));
}

#[test]
fn echo_that_ends_after_the_request_is_not_reset() {
    let (mut c, mut s, id) = uploading(Config::default());
    s.send_response(id, &ok_response(), false).unwrap();
    s.send_data(id, Bytes::from_static(b"part one"), false)
        .unwrap();
    c.send_data(id, Bytes::from_static(b"part two"), true)
        .unwrap();
    pump(&mut c, &mut s);
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Data {
            end_stream: true,
            ..
        }]
    ));
    s.send_data(id, Bytes::from_static(b"part two"), true)
        .unwrap();
    let out = drain(&mut s);
    assert!(resets(&out).is_empty());
    c.handle_input(&out, t0()).unwrap();
    assert!(
        !events(&mut c)
            .iter()
            .any(|e| matches!(e, Event::Reset { .. }))
    );
    assert_eq!(c.active_streams(), 0);
}

#[test]
fn the_reset_can_be_turned_off() {
    let cfg = Config {
        reset_after_response: false,
        ..Config::default()
    };
    let (mut c, mut s, id) = uploading(cfg);
    s.send_response(id, &ok_response(), true).unwrap();
    assert!(resets(&drain(&mut s)).is_empty());
    assert_eq!(s.stream_state(id), StreamState::HalfClosedLocal);
    c.send_data(id, Bytes::from_static(b"part two"), true)
        .unwrap();
    pump(&mut c, &mut s);
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Data {
            end_stream: true,
            ..
        }]
    ));
    assert_eq!(s.active_streams(), 0);
}
