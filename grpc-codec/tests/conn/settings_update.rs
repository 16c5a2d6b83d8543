//! Local settings changed after the first SETTINGS (§6.5.3): sent at once,
//! in force for what we accept once the peer acknowledges them, the larger
//! of old and new accepted until then (§6.9.2); one ACK timeout each.

use bytes::{Bytes, BytesMut};
use grpc_codec::frame::{Data, Headers, SettingsFrame};
use grpc_codec::{Config, Connection, ErrorCode, Event, FlowControl, Frame, SettingId, Settings};

use crate::conn_support::*;

/// A server whose first SETTINGS the raw client has acknowledged.
fn acked_server(cfg: Config) -> (Connection, RawPeer) {
    let mut s = Connection::server(cfg, t0());
    let mut p = RawPeer::client();
    p.frame(Frame::Settings(SettingsFrame::ack()));
    s.handle_input(&p.take(), t0()).unwrap();
    drain(&mut s);
    events(&mut s);
    (s, p)
}

/// Feeds what `p` wrote: the result, events and output.
fn feed(
    s: &mut Connection,
    p: &mut RawPeer,
) -> (Result<(), grpc_codec::Error>, Vec<Event>, Vec<u8>) {
    let r = s.handle_input(&p.take(), t0());
    (r, events(s), drain(s))
}

fn data(p: &mut RawPeer, id: u32, len: usize) {
    p.frame(Frame::Data(Data::new(
        sid(id),
        Bytes::from(vec![0; len]),
        false,
    )));
}

fn ack(p: &mut RawPeer) {
    p.frame(Frame::Settings(SettingsFrame::ack()));
}

/// The SETTINGS frames (not ACKs) in `out`.
fn settings_sent(out: &[u8]) -> Vec<SettingsFrame> {
    frames(out)
        .into_iter()
        .filter_map(|f| match f {
            Frame::Settings(s) if !s.ack => Some(s),
            _ => None,
        })
        .collect()
}

fn data_bytes(ev: &[Event]) -> usize {
    ev.iter()
        .map(|e| match e {
            Event::Data { data, .. } => data.len(),
            _ => 0,
        })
        .sum()
}

#[test]
fn only_changes_are_sent_and_push_stays_off() {
    let (mut s, _) = acked_server(Config::default());
    let mut next = *s.local_settings();
    s.update_settings(next).unwrap();
    assert!(drain(&mut s).is_empty(), "nothing changed, nothing sent");
    next.max_frame_size = 1 << 20;
    next.enable_push = true;
    next.initial_window_size = u32::MAX;
    next.max_header_list_size = Some(u32::MAX);
    s.update_settings(next).unwrap();
    let sent = settings_sent(&drain(&mut s));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].get(SettingId::MAX_FRAME_SIZE), Some(1 << 20));
    assert_eq!(
        sent[0].get(SettingId::INITIAL_WINDOW_SIZE),
        Some((1 << 31) - 1)
    );
    assert_eq!(sent[0].get(SettingId::ENABLE_PUSH), None);
    // The header list size stays within what we enforce.
    assert_eq!(sent[0].get(SettingId::MAX_HEADER_LIST_SIZE), None);
    assert!(!s.local_settings().enable_push);
    s.abort(ErrorCode::NO_ERROR, "").unwrap();
    assert_eq!(s.update_settings(next), Err(grpc_codec::Error::Closed));
}

#[test]
fn smaller_initial_window_applies_to_open_streams_after_the_ack() {
    let (mut s, mut p) = acked_server(Config::default());
    p.request(1, false);
    feed(&mut s, &mut p).0.unwrap();
    s.update_settings(Settings {
        initial_window_size: 10,
        ..*s.local_settings()
    })
    .unwrap();
    let sent = settings_sent(&drain(&mut s));
    assert_eq!(sent[0].get(SettingId::INITIAL_WINDOW_SIZE), Some(10));
    // Before its ACK the peer may still send under the old window.
    data(&mut p, 1, 100);
    let (r, ev, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert_eq!(data_bytes(&ev), 100);
    assert!(resets(&out).is_empty());
    // After it, stream 1's window is 65535 - 100 + (10 - 65535) < 0.
    ack(&mut p);
    data(&mut p, 1, 1);
    // A new stream starts at 10.
    p.request(3, false);
    data(&mut p, 3, 11);
    let (r, _, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert_eq!(
        resets(&out),
        vec![
            (1, ErrorCode::FLOW_CONTROL_ERROR),
            (3, ErrorCode::FLOW_CONTROL_ERROR)
        ]
    );
}

#[test]
fn larger_initial_window_is_usable_before_the_ack() {
    let cfg = Config {
        initial_window_size: 10,
        flow_control: FlowControl::Manual,
        ..Config::default()
    };
    let (mut s, mut p) = acked_server(cfg);
    p.request(1, false);
    feed(&mut s, &mut p).0.unwrap();
    s.update_settings(Settings {
        initial_window_size: 1000,
        ..*s.local_settings()
    })
    .unwrap();
    drain(&mut s);
    // The peer took the new window at once: 500 of its 1000 before the ACK.
    data(&mut p, 1, 500);
    ack(&mut p);
    data(&mut p, 1, 500);
    let (r, ev, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert_eq!(data_bytes(&ev), 1000);
    assert!(resets(&out).is_empty());
    data(&mut p, 1, 1);
    let (r, _, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::FLOW_CONTROL_ERROR)]);
    // More than the larger of old and new is refused before the ACK too.
    let (mut s, mut p) = acked_server(cfg);
    p.request(1, false);
    feed(&mut s, &mut p).0.unwrap();
    s.update_settings(Settings {
        initial_window_size: 1000,
        ..*s.local_settings()
    })
    .unwrap();
    data(&mut p, 1, 1001);
    let (r, _, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::FLOW_CONTROL_ERROR)]);
}

#[test]
fn max_frame_size_follows_the_ack() {
    let cfg = Config {
        limits: grpc_codec::Limits {
            max_frame_size: 1 << 20,
            ..grpc_codec::Limits::default()
        },
        connection_window_size: 1 << 24,
        initial_window_size: 1 << 24,
        ..Config::default()
    };
    let (mut s, mut p) = acked_server(cfg);
    p.request(1, false);
    s.update_settings(Settings {
        max_frame_size: 16_384,
        ..*s.local_settings()
    })
    .unwrap();
    data(&mut p, 1, 20_000);
    let (r, ev, _) = feed(&mut s, &mut p);
    r.unwrap();
    assert_eq!(data_bytes(&ev), 20_000);
    ack(&mut p);
    data(&mut p, 1, 20_000);
    let (r, _, out) = feed(&mut s, &mut p);
    assert_conn_error(&r.unwrap_err(), ErrorCode::FRAME_SIZE_ERROR);
    assert_eq!(goaway(&out).unwrap().code, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn stream_limit_lowered_at_the_ack_raised_at_once() {
    let (mut s, mut p) = acked_server(Config::default());
    s.update_settings(Settings {
        max_concurrent_streams: Some(1),
        ..*s.local_settings()
    })
    .unwrap();
    p.request(1, false).request(3, false);
    let (r, _, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert!(resets(&out).is_empty(), "the peer may not have seen it yet");
    ack(&mut p);
    p.request(5, false);
    let (r, _, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert_eq!(resets(&out), vec![(5, ErrorCode::REFUSED_STREAM)]);
    s.update_settings(Settings {
        max_concurrent_streams: Some(3),
        ..*s.local_settings()
    })
    .unwrap();
    p.request(7, false);
    let (r, ev, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert!(resets(&out).is_empty());
    assert!(matches!(ev.as_slice(), [Event::Request { .. }]));
}

#[test]
fn header_table_size_reaches_the_hpack_decoder() {
    // Raised: the peer's encoder may grow its table before the ACK.
    let (mut s, mut p) = acked_server(Config::default());
    s.update_settings(Settings {
        header_table_size: 8192,
        ..*s.local_settings()
    })
    .unwrap();
    p.encoder = grpc_codec::hpack::Encoder::with_cap(8192);
    p.encoder.set_max_table_size(8192);
    p.request(1, true);
    let (r, ev, _) = feed(&mut s, &mut p);
    r.unwrap();
    assert!(matches!(ev.as_slice(), [Event::Request { .. }]));
    ack(&mut p);
    // Lowered to 0: after the ACK a block must start with a size update
    // to at most 0 (RFC 7541 §4.2).
    s.update_settings(Settings {
        header_table_size: 0,
        ..*s.local_settings()
    })
    .unwrap();
    p.request(3, true);
    ack(&mut p);
    let (r, _, _) = feed(&mut s, &mut p);
    r.unwrap();
    let mut block = BytesMut::new();
    p.encoder.encode(&request_fields(), &mut block);
    p.frame(Frame::Headers(Headers::new(sid(5), block.freeze(), true)));
    let (r, _, _) = feed(&mut s, &mut p);
    assert_conn_error(&r.unwrap_err(), ErrorCode::COMPRESSION_ERROR);
    // A peer that follows it is fine.
    let (mut s, mut p) = acked_server(Config::default());
    s.update_settings(Settings {
        header_table_size: 0,
        ..*s.local_settings()
    })
    .unwrap();
    ack(&mut p);
    p.encoder.set_max_table_size(0);
    p.request(1, true);
    let (r, ev, _) = feed(&mut s, &mut p);
    r.unwrap();
    assert!(matches!(ev.as_slice(), [Event::Request { .. }]));
}

#[test]
fn each_settings_frame_has_its_own_ack_timeout() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(at(1_000));
    c.update_settings(Settings {
        initial_window_size: 1 << 20,
        ..*c.local_settings()
    })
    .unwrap();
    c.handle_timeout(at(2_000));
    c.update_settings(Settings {
        initial_window_size: 1 << 21,
        ..*c.local_settings()
    })
    .unwrap();
    assert_eq!(c.poll_timeout(), Some(at(11_000)));
    // The server acknowledges the first only.
    let sent = drain(&mut c);
    let mut first = sent.clone();
    first.truncate(sent.len() / 2);
    s.handle_input(&first, t0()).unwrap();
    c.handle_input(&drain(&mut s), at(3_000)).unwrap();
    assert_eq!(c.poll_timeout(), Some(at(12_000)));
    c.handle_timeout(at(12_000));
    let ev = events(&mut c);
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Closed {
            code: ErrorCode::SETTINGS_TIMEOUT,
            ..
        }
    )));
    assert!(c.is_closed());
}

#[test]
fn first_settings_window_before_and_after_its_ack() {
    // Larger than the default: a client that took our SETTINGS may use it
    // before we see its ACK.
    let cfg = Config {
        initial_window_size: 1 << 20,
        connection_window_size: 1 << 24,
        flow_control: FlowControl::Manual,
        ..Config::default()
    };
    let mut s = Connection::server(cfg, t0());
    let mut p = RawPeer::client();
    p.request(1, false);
    for _ in 0..8 {
        data(&mut p, 1, 16_384);
    }
    let (r, ev, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert_eq!(data_bytes(&ev), 8 * 16_384);
    assert!(resets(&out).is_empty());
    // After the ACK the stream has exactly 1 MiB in all.
    ack(&mut p);
    let left = (1 << 20) - 8 * 16_384;
    for _ in 0..left / 16_384 {
        data(&mut p, 1, 16_384);
    }
    let (r, _, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert!(resets(&out).is_empty());
    data(&mut p, 1, 1);
    let (r, _, out) = feed(&mut s, &mut p);
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::FLOW_CONTROL_ERROR)]);
}
