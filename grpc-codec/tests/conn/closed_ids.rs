//! HEADERS on closed stream ids (§5.1, §5.1.1): every id at or below the
//! highest used that is not open is closed; how it ended is remembered for
//! a bounded number of streams, and forgotten ones get a stream error.

use grpc_codec::{Config, Connection, ErrorCode, Event, Limits, StreamState};

use crate::conn_support::*;

/// A server that took and answered requests on `ids` (END_STREAM both
/// ways), one after the other.
fn served(cfg: Config, ids: &[u32]) -> (Connection, RawPeer) {
    let mut s = Connection::server(cfg, t0());
    let mut p = RawPeer::client();
    for &id in ids {
        p.request(id, true);
        s.handle_input(&p.take(), t0()).unwrap();
        for ev in events(&mut s) {
            if let Event::Request { stream, .. } = ev {
                s.send_response(stream, &ok_response(), true).unwrap();
            }
        }
        drain(&mut s);
    }
    (s, p)
}

#[test]
fn forgotten_closed_streams_get_a_stream_error() {
    let ids: Vec<u32> = (0..300).map(|i| 2 * i + 1).collect();
    let (mut s, mut p) = served(Config::default(), &ids);
    assert_eq!(s.stream_state(sid(1)), StreamState::Closed);
    assert_eq!(s.active_streams(), 0);
    // Stream 1 ended long ago (300 streams back): a stream error.
    p.request(1, true);
    s.handle_input(&p.take(), t0()).unwrap();
    let out = drain(&mut s);
    assert_eq!(resets(&out), vec![(1, ErrorCode::STREAM_CLOSED)]);
    assert!(goaway(&out).is_none() && !s.is_closed());
    // Stream 599 ended lately and normally: a connection error (§5.1).
    p.request(599, true);
    let e = s.handle_input(&p.take(), t0()).unwrap_err();
    assert_conn_error(&e, ErrorCode::STREAM_CLOSED);
}

#[test]
fn skipped_ids_cannot_be_opened_later() {
    let (mut s, mut p) = served(Config::default(), &[1, 7]);
    assert_eq!(s.stream_state(sid(3)), StreamState::Closed);
    assert_eq!(s.stream_state(sid(9)), StreamState::Idle);
    p.request(3, true);
    let e = s.handle_input(&p.take(), t0()).unwrap_err();
    assert_conn_error(&e, ErrorCode::PROTOCOL_ERROR);
    assert_eq!(
        goaway(&drain(&mut s)).unwrap().code,
        ErrorCode::PROTOCOL_ERROR
    );
}

#[test]
fn memory_of_skipped_ids_is_bounded_too() {
    let cfg = Config {
        limits: Limits {
            max_closed_streams: 2,
            ..Limits::default()
        },
        ..Config::default()
    };
    // Skips 3, 7, 11: the first is forgotten.
    let (mut s, mut p) = served(cfg, &[1, 5, 9, 13]);
    p.request(3, true);
    s.handle_input(&p.take(), t0()).unwrap();
    assert_eq!(resets(&drain(&mut s)), vec![(3, ErrorCode::STREAM_CLOSED)]);
    p.request(11, true);
    let e = s.handle_input(&p.take(), t0()).unwrap_err();
    assert_conn_error(&e, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn a_client_answers_forgotten_streams_with_a_stream_error() {
    let cfg = Config {
        limits: Limits {
            max_closed_streams: 1,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut c = Connection::client(cfg, t0());
    let mut p = RawPeer::server();
    for _ in 0..2 {
        c.send_request(&get("/"), true).unwrap();
    }
    let resp = [h(":status", "200")];
    p.headers(1, &resp, true).headers(3, &resp, true);
    c.handle_input(&p.take(), t0()).unwrap();
    assert_eq!(c.active_streams(), 0);
    p.headers(1, &resp, true);
    c.handle_input(&p.take(), t0()).unwrap();
    assert_eq!(resets(&drain(&mut c)), vec![(1, ErrorCode::STREAM_CLOSED)]);
    assert!(!c.is_closed());
}
