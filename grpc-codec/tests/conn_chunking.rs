//! Chunk-split invariance of the connection machine: the same byte stream
//! fed in any chunking gives the same events and the same output bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

mod conn_support;

use bytes::Bytes;
use conn_support::*;
use grpc_codec::{Config, Connection, ErrorCode, Event, Response};
use proptest::prelude::*;

/// What a client sends in a busy session: requests with bodies and
/// trailers, a cancel, a PING, padding-free DATA over several frames.
fn client_bytes() -> Vec<u8> {
    let mut c = Connection::client(Config::default(), t0());
    let mut wire = drain(&mut c);
    let a = c.send_request(&get("/a"), true).unwrap();
    let b = c.send_request(&post("/b"), false).unwrap();
    c.send_data(b, Bytes::from(vec![3; 40_000]), false).unwrap();
    c.send_trailers(b, &[h("x-t", "1")]).unwrap();
    let d = c.send_request(&post("/d"), false).unwrap();
    c.send_data(d, Bytes::from_static(b"partial"), false)
        .unwrap();
    c.send_ping(*b"pingpong").unwrap();
    wire.extend(drain(&mut c));
    c.reset_stream(d, ErrorCode::CANCEL).unwrap();
    wire.extend(drain(&mut c));
    let _ = a;
    wire
}

/// What a server sends back to [`client_bytes`]' requests, captured by
/// running the real pair.
fn server_bytes() -> (Vec<u8>, Vec<u8>) {
    let to_server = client_bytes();
    let mut s = Connection::server(Config::default(), t0());
    let mut wire = drain(&mut s);
    s.handle_input(&to_server, t0()).unwrap();
    for ev in events(&mut s) {
        // Stream 5 was cancelled before the server saw it.
        if let Event::Request { stream, .. } = ev {
            if s.stream_state(stream) == grpc_codec::StreamState::Closed {
                continue;
            }
            s.send_response(stream, &Response::new(200).header("x-r", "1"), false)
                .unwrap();
            s.send_data(stream, Bytes::from(vec![9; 20_000]), false)
                .unwrap();
            s.send_trailers(stream, &[h("grpc-status", "0")]).unwrap();
        }
    }
    wire.extend(drain(&mut s));
    (to_server, wire)
}

/// Feeds `data` cut at `cuts` (sorted offsets) to `conn`; returns the
/// events and output.
fn run(mut conn: Connection, data: &[u8], cuts: &[usize]) -> (Vec<Event>, Vec<u8>) {
    let mut evs = Vec::new();
    let mut out = drain(&mut conn);
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
        let cut = cut.clamp(start, data.len());
        conn.handle_input(&data[start..cut], t0()).unwrap();
        evs.extend(events(&mut conn));
        out.extend(drain(&mut conn));
        start = cut;
    }
    (evs, out)
}

fn client_for_server_bytes() -> Connection {
    let mut c = Connection::client(Config::default(), t0());
    c.send_request(&get("/a"), true).unwrap();
    let b = c.send_request(&post("/b"), false).unwrap();
    c.send_data(b, Bytes::from(vec![3; 40_000]), false).unwrap();
    c.send_trailers(b, &[h("x-t", "1")]).unwrap();
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn server_events_do_not_depend_on_chunking(mut cuts in prop::collection::vec(0usize..50_000, 0..40)) {
        let data = client_bytes();
        cuts.sort_unstable();
        let whole = run(Connection::server(Config::default(), t0()), &data, &[]);
        let chunked = run(Connection::server(Config::default(), t0()), &data, &cuts);
        let has_trailers = whole.0.iter().any(|e| matches!(e, Event::Trailers { .. }));
        prop_assert!(has_trailers);
        prop_assert_eq!(whole, chunked);
    }

    #[test]
    fn client_events_do_not_depend_on_chunking(mut cuts in prop::collection::vec(0usize..70_000, 0..40)) {
        let (_, data) = server_bytes();
        cuts.sort_unstable();
        let whole = run(client_for_server_bytes(), &data, &[]);
        let chunked = run(client_for_server_bytes(), &data, &cuts);
        let has_response = whole.0.iter().any(|e| matches!(e, Event::Response { .. }));
        prop_assert!(has_response);
        prop_assert_eq!(whole, chunked);
    }
}

#[test]
fn byte_at_a_time_matches_whole() {
    let data = client_bytes();
    let cuts: Vec<usize> = (1..data.len()).collect();
    let whole = run(Connection::server(Config::default(), t0()), &data, &[]);
    let bytes = run(Connection::server(Config::default(), t0()), &data, &cuts);
    assert_eq!(whole, bytes);
}
