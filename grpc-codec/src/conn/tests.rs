//! Unit tests of the connection's internals: what the integration tests in
//! `tests/conn.rs` and `tests/hostile.rs` cannot see from outside.

use std::time::Duration;

use super::*;
use crate::frame::{Data, Headers, SettingsFrame};
use crate::hpack::Header;

fn t0() -> Instant {
    use std::sync::OnceLock;
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}

/// A server past the preface and SETTINGS, its output and events taken.
fn server(config: Config) -> (Connection, hpack::Encoder) {
    let mut s = Connection::server(config, t0());
    let mut wire = BytesMut::from(&PREFACE[..]);
    encode(&Frame::Settings(SettingsFrame::default()), &mut wire).unwrap();
    encode(&Frame::Settings(SettingsFrame::ack()), &mut wire).unwrap();
    s.handle_input(&wire, t0()).unwrap();
    while s.poll_event().is_some() {}
    while s.poll_transmit().is_some() {}
    (s, hpack::Encoder::new())
}

fn request(enc: &mut hpack::Encoder, id: u32, end_stream: bool) -> Vec<u8> {
    let fields = [
        Header::new(":method", "POST"),
        Header::new(":scheme", "https"),
        Header::new(":path", "/"),
    ];
    let mut block = BytesMut::new();
    enc.encode(&fields, &mut block);
    let mut wire = BytesMut::new();
    let h = Headers::new(StreamId::new(id), block.freeze(), end_stream);
    encode(&Frame::Headers(h), &mut wire).unwrap();
    wire.to_vec()
}

fn data(id: u32, n: usize, end_stream: bool) -> Vec<u8> {
    let mut wire = BytesMut::new();
    let d = Data::new(StreamId::new(id), Bytes::from(vec![0; n]), end_stream);
    encode(&Frame::Data(d), &mut wire).unwrap();
    wire.to_vec()
}

#[test]
fn goaway_names_the_rule_and_last_stream() {
    let (mut s, mut enc) = server(Config::default());
    s.handle_input(&request(&mut enc, 5, true), t0()).unwrap();
    let e = s.handle_input(&data(7, 1, false), t0()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::PROTOCOL_ERROR);
    let out = s.poll_transmit().unwrap();
    let mut buf = BytesMut::from(&out[..]);
    let Some(Frame::GoAway(g)) = Decoder::default().decode(&mut buf).unwrap() else {
        panic!("no GOAWAY");
    };
    assert_eq!(g.last_stream_id, StreamId::new(5));
    let text = String::from_utf8(g.debug_data.to_vec()).unwrap();
    assert!(
        text.contains("idle stream 7") && text.contains("§5.1"),
        "{text}"
    );
    assert!(s.is_closed() && s.streams.map.is_empty());
}

#[test]
fn settings_ack_brings_our_table_size_into_force() {
    let cfg = Config {
        header_table_size: 256,
        ..Config::default()
    };
    let (s, _) = server(cfg);
    assert_eq!(s.acked.header_table_size, 256);
    assert_eq!(s.hpack_decoder.max_table_size(), 256);
    assert!(s.unacked.is_empty());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn reset_streams_are_forgotten_after_the_grace_period() {
    let cfg = Config {
        reset_stream_duration: Duration::from_secs(1),
        ..Config::default()
    };
    let (mut s, mut enc) = server(cfg);
    s.handle_input(&request(&mut enc, 1, false), t0()).unwrap();
    s.reset_stream(StreamId::new(1), ErrorCode::CANCEL).unwrap();
    while s.poll_transmit().is_some() {}
    // In flight: dropped quietly (no RST), its bytes counted against the
    // connection window and released for the next WINDOW_UPDATE.
    s.handle_input(&data(1, 100, false), t0()).unwrap();
    assert!(s.poll_transmit().is_none());
    let target = i64::from(s.config.connection_window_size);
    assert_eq!(s.recv_window.available(), target - 100);
    // Long after: STREAM_CLOSED.
    let later = t0() + Duration::from_secs(2);
    s.handle_input(&data(1, 1, false), later).unwrap();
    let out = s.poll_transmit().unwrap();
    let mut buf = BytesMut::from(&out[..]);
    let Some(Frame::RstStream(r)) = Decoder::default().decode(&mut buf).unwrap() else {
        panic!("no RST_STREAM");
    };
    assert_eq!(r.code, ErrorCode::STREAM_CLOSED);
}

#[test]
fn auto_refill_at_half_the_window() {
    let cfg = Config {
        initial_window_size: 1000,
        connection_window_size: 65_535,
        ..Config::default()
    };
    let (mut s, mut enc) = server(cfg);
    s.handle_input(&request(&mut enc, 1, false), t0()).unwrap();
    s.handle_input(&data(1, 499, false), t0()).unwrap();
    assert!(s.poll_transmit().is_none());
    s.handle_input(&data(1, 1, false), t0()).unwrap();
    let out = s.poll_transmit().unwrap();
    let mut buf = BytesMut::from(&out[..]);
    let f = Decoder::default().decode(&mut buf).unwrap();
    assert_eq!(
        f,
        Some(Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::new(1),
            increment: 500
        }))
    );
    assert_eq!(
        s.streams.map[&StreamId::new(1)].recv_window.available(),
        1000
    );
}

#[test]
fn a_stream_error_leaves_other_streams_alone() {
    let cfg = Config {
        initial_window_size: 10,
        ..Config::default()
    };
    let (mut s, mut enc) = server(cfg);
    s.handle_input(&request(&mut enc, 1, false), t0()).unwrap();
    s.handle_input(&request(&mut enc, 3, false), t0()).unwrap();
    s.handle_input(&data(1, 11, false), t0()).unwrap();
    assert_eq!(s.stream_state(StreamId::new(1)), StreamState::Closed);
    assert_eq!(s.stream_state(StreamId::new(3)), StreamState::Open);
    s.handle_input(&data(3, 10, true), t0()).unwrap();
    assert_eq!(
        s.stream_state(StreamId::new(3)),
        StreamState::HalfClosedRemote
    );
    assert_eq!(s.streams.peer_active, 1);
}

#[test]
fn truncation_keeps_characters_whole() {
    let mut s = "aé".repeat(200);
    truncate_utf8(&mut s, 256);
    assert!(s.len() <= 256 && s.len() >= 254);
}
