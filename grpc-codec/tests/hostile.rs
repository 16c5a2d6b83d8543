//! Hostile peers (RFC 9113 §10.5 and the HTTP/2 CVE families): each must
//! cost bounded memory and work and end with the right code, GOAWAY
//! ENHANCE_YOUR_CALM where the peer is merely abusive.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

mod conn_support;

use std::time::Duration;

use bytes::Bytes;
use conn_support::*;
use grpc_codec::frame::{
    Continuation, Headers, Ping, RstStream, SettingsFrame, StreamId, WindowUpdate,
};
use grpc_codec::{Config, Connection, Error, ErrorCode, Event, Frame, Limits, Setting, SettingId};

/// Feeds `bytes` to `s` one frame-sized piece at a time, without reading
/// its output; returns how many pieces went in before it failed, and the
/// error.
fn feed_until_error(s: &mut Connection, pieces: &[Vec<u8>]) -> (usize, Error) {
    for (i, p) in pieces.iter().enumerate() {
        if let Err(e) = s.handle_input(p, t0()) {
            return (i, e);
        }
    }
    panic!("no error after {} pieces", pieces.len());
}

#[track_caller]
fn assert_goaway(s: &mut Connection, code: ErrorCode) {
    let out = drain(s);
    assert!(
        out.len() <= Limits::default().max_queued_output + 512,
        "{} bytes queued",
        out.len()
    );
    assert_eq!(goaway(&out).expect("a GOAWAY").code, code);
    let closed = events(s)
        .into_iter()
        .filter(|e| matches!(e, Event::Closed { .. }))
        .count();
    assert_eq!(closed, 1);
}

#[test]
fn rapid_reset_is_stopped() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::client();
    s.handle_input(&p.take(), t0()).unwrap();
    let pieces: Vec<Vec<u8>> = (0..5000u32)
        .map(|i| {
            let id = 2 * i + 1;
            p.request(id, false).frame(Frame::RstStream(RstStream {
                stream_id: sid(id),
                code: ErrorCode::CANCEL,
            }));
            p.take()
        })
        .collect();
    let mut seen = 0;
    let mut result = None;
    for piece in &pieces {
        match s.handle_input(piece, t0()) {
            Ok(()) => seen += 1,
            Err(e) => {
                result = Some(e);
                break;
            }
        }
        // A well-behaved application drains; the attack still costs only
        // the counted streams.
        events(&mut s);
        drain(&mut s);
        assert_eq!(s.active_streams(), 0);
    }
    assert_eq!(seen, 1000);
    assert_conn_error(&result.unwrap(), ErrorCode::ENHANCE_YOUR_CALM);
    assert_goaway(&mut s, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn resets_spread_over_time_are_fine() {
    let cfg = Config {
        limits: Limits {
            max_resets: 10,
            reset_window: Duration::from_secs(1),
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut s = Connection::server(cfg, t0());
    let mut p = RawPeer::client();
    for i in 0..100u32 {
        let id = 2 * i + 1;
        p.request(id, false).frame(Frame::RstStream(RstStream {
            stream_id: sid(id),
            code: ErrorCode::CANCEL,
        }));
        // Ten resets a second, the most allowed.
        s.handle_input(&p.take(), at(u64::from(i) * 100)).unwrap();
        drain(&mut s);
    }
}

#[test]
fn continuation_flood_of_empty_frames() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::client();
    let block = p.block(&request_fields());
    let mut first = Headers::new(sid(1), block, true);
    first.end_headers = false;
    p.frame(Frame::Headers(first));
    let mut pieces = vec![p.take()];
    for _ in 0..100_000 {
        p.frame(Frame::Continuation(Continuation {
            stream_id: sid(1),
            fragment: Bytes::new(),
            end_headers: false,
        }));
        pieces.push(p.take());
    }
    let (n, e) = feed_until_error(&mut s, &pieces);
    // The HEADERS, then the 32 CONTINUATIONs the limit allows.
    assert_eq!(n, 1 + Limits::default().max_continuation_frames);
    assert_conn_error(&e, ErrorCode::ENHANCE_YOUR_CALM);
    assert_goaway(&mut s, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn continuation_flood_over_the_block_limit() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::client();
    let mut first = Headers::new(sid(1), Bytes::from(vec![0x80; 16_000]), true);
    first.end_headers = false;
    p.frame(Frame::Headers(first));
    let mut pieces = vec![p.take()];
    for _ in 0..100 {
        p.frame(Frame::Continuation(Continuation {
            stream_id: sid(1),
            fragment: Bytes::from(vec![0x80; 16_000]),
            end_headers: false,
        }));
        pieces.push(p.take());
    }
    let (n, e) = feed_until_error(&mut s, &pieces);
    // 64 KiB hold four 16000-byte fragments; the fifth is refused before
    // its payload is buffered.
    assert_eq!(n, 4);
    assert_conn_error(&e, ErrorCode::ENHANCE_YOUR_CALM);
    assert_goaway(&mut s, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn hpack_bomb_header_list_is_refused_per_stream() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::client();
    // One 3.9 KB entry into the table (literal with incremental indexing,
    // new name), then a block of 1000 one-byte references to it: 4 MB of
    // header list from a 4 KB block.
    let mut block = vec![0x40, 5];
    block.extend_from_slice(b"x-big");
    block.extend_from_slice(&[0x7f, 0xc1, 0x1d]); // length 3904 (127 + 3777)
    block.extend(std::iter::repeat_n(b'a', 3904));
    let mut bomb = request_fields_raw();
    bomb.extend_from_slice(&block);
    bomb.extend(std::iter::repeat_n(0xbe, 1000)); // index 62
    p.frame(Frame::Headers(Headers::new(
        sid(1),
        Bytes::from(bomb),
        true,
    )));
    s.handle_input(&p.take(), t0()).unwrap();
    let out = drain(&mut s);
    assert_eq!(resets(&out), vec![(1, ErrorCode::PROTOCOL_ERROR)]);
    assert!(
        events(&mut s)
            .iter()
            .all(|e| !matches!(e, Event::Request { .. }))
    );
    // The table stayed in step: the next request decodes, and can use
    // the entry.
    let mut next = request_fields_raw();
    next.push(0xbe);
    p.frame(Frame::Headers(Headers::new(
        sid(3),
        Bytes::from(next),
        true,
    )));
    s.handle_input(&p.take(), t0()).unwrap();
    let ev = events(&mut s);
    let Some(Event::Request { request, .. }) = ev.first() else {
        panic!("{ev:?}")
    };
    assert_eq!(request.headers[0].value.len(), 3904);
}

/// The request pseudo-headers as static-table references.
fn request_fields_raw() -> Vec<u8> {
    // :method GET, :scheme https, :path /, :authority (literal, no index).
    let mut v = vec![0x82, 0x87, 0x84, 0x01, 1];
    v.push(b'a');
    v
}

#[test]
fn hpack_bomb_repeated_ends_the_connection() {
    let cfg = Config {
        limits: Limits {
            max_header_list_size: 1000,
            max_resets: 20,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut s = Connection::server(cfg, t0());
    let mut p = RawPeer::client();
    let big = vec![
        h(
            "x-a",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        );
        10
    ];
    let fields = [request_fields(), big].concat();
    let pieces: Vec<Vec<u8>> = (0..100u32)
        .map(|i| {
            p.headers(2 * i + 1, &fields, true);
            p.take()
        })
        .collect();
    let (n, e) = feed_until_error(&mut s, &[vec![p.take()], pieces].concat());
    assert_eq!(n, 21);
    assert_conn_error(&e, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn hpack_table_size_update_beyond_ours_is_a_compression_error() {
    let mut p = RawPeer::client();
    // Size update to 1 MiB: 0x3f then 1048576 - 31 as an HPACK integer.
    let mut block = vec![0x3f, 0xe1, 0xff, 0x3f];
    block.extend_from_slice(&request_fields_raw());
    p.frame(Frame::Headers(Headers::new(
        sid(1),
        Bytes::from(block),
        true,
    )));
    let (r, _, out) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::COMPRESSION_ERROR);
    assert_eq!(goaway(&out).unwrap().code, ErrorCode::COMPRESSION_ERROR);
}

#[test]
fn settings_flood_from_a_peer_that_does_not_read() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::client();
    let pieces: Vec<Vec<u8>> = std::iter::once(p.take())
        .chain((0..100_000).map(|_| {
            p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
                SettingId::MAX_CONCURRENT_STREAMS,
                7,
            )])));
            p.take()
        }))
        .collect();
    let (n, e) = feed_until_error(&mut s, &pieces);
    assert!(n <= Limits::default().max_pending_control + 1, "{n}");
    assert_conn_error(&e, ErrorCode::ENHANCE_YOUR_CALM);
    assert_goaway(&mut s, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn ping_flood_from_a_peer_that_does_not_read() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::client();
    let pieces: Vec<Vec<u8>> = std::iter::once(p.take())
        .chain((0..100_000).map(|_| {
            p.frame(Frame::Ping(Ping {
                ack: false,
                data: [1; 8],
            }));
            p.take()
        }))
        .collect();
    let (n, e) = feed_until_error(&mut s, &pieces);
    assert!(n <= Limits::default().max_pending_control + 1, "{n}");
    assert_conn_error(&e, ErrorCode::ENHANCE_YOUR_CALM);
    assert_goaway(&mut s, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn pings_from_a_peer_that_reads_are_answered() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::client();
    s.handle_input(&p.take(), t0()).unwrap();
    drain(&mut s);
    for _ in 0..5000 {
        p.frame(Frame::Ping(Ping {
            ack: false,
            data: [2; 8],
        }));
        s.handle_input(&p.take(), t0()).unwrap();
        assert_eq!(drain(&mut s).len() % 17, 0);
    }
}

#[test]
fn empty_data_flood() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::client();
    p.request(1, false);
    let mut pieces = vec![p.take()];
    for _ in 0..10_000 {
        p.data(1, b"", false);
        pieces.push(p.take());
    }
    let (n, e) = feed_until_error(&mut s, &pieces);
    assert_eq!(n, 1 + 100);
    assert_conn_error(&e, ErrorCode::ENHANCE_YOUR_CALM);
    assert_goaway(&mut s, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn our_stream_ids_run_out() {
    let cfg = Config {
        initial_stream_id: Some(StreamId::MAX.value() - 2),
        ..Config::default()
    };
    let (mut c, mut s) = pair(cfg, Config::default());
    let a = c.send_request(&get("/"), true).unwrap();
    let b = c.send_request(&get("/"), true).unwrap();
    assert_eq!((a.value(), b), (StreamId::MAX.value() - 2, StreamId::MAX));
    assert!(!c.can_open_stream());
    assert_eq!(
        c.send_request(&get("/"), true),
        Err(Error::StreamIdsExhausted)
    );
    pump(&mut c, &mut s);
    assert_eq!(events(&mut s).len(), 2);
}

#[test]
fn peer_stream_ids_at_the_top() {
    let mut p = RawPeer::client();
    p.request(StreamId::MAX.value(), true);
    let mut s = Connection::server(Config::default(), t0());
    s.handle_input(&p.take(), t0()).unwrap();
    assert!(
        matches!(events(&mut s).last(), Some(Event::Request { stream, .. }) if *stream == StreamId::MAX)
    );
    // Nothing can follow: every lower id is spent.
    p.request(1, true);
    assert_conn_error(
        &s.handle_input(&p.take(), t0()).unwrap_err(),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn window_update_overflow() {
    let mut p = RawPeer::client();
    p.frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: sid(0),
        increment: 0x7fff_ffff,
    }));
    let (r, _, out) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::FLOW_CONTROL_ERROR);
    assert_eq!(goaway(&out).unwrap().code, ErrorCode::FLOW_CONTROL_ERROR);

    let mut p = RawPeer::client();
    p.request(1, false).frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: sid(1),
        increment: 0x7fff_ffff,
    }));
    p.request(3, true);
    let (r, ev, out) = server_after(Config::default(), &p.take());
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::FLOW_CONTROL_ERROR)]);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Request { stream, .. } if *stream == sid(3)))
    );
}

#[test]
fn reader_that_never_opens_its_window() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::new();
    p.raw(grpc_codec::PREFACE)
        .frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
            SettingId::INITIAL_WINDOW_SIZE,
            0,
        )])))
        .request(1, true);
    s.handle_input(&p.take(), t0()).unwrap();
    events(&mut s);
    s.send_response(sid(1), &ok_response(), false).unwrap();
    let chunk = Bytes::from(vec![0; 64 * 1024]);
    let mut refused = None;
    for i in 0..1000 {
        match s.send_data(sid(1), chunk.clone(), false) {
            Ok(()) => {}
            Err(e) => {
                refused = Some((i, e));
                break;
            }
        }
        drain(&mut s);
    }
    let (i, e) = refused.expect("send_data never refused");
    assert!(e.is_retryable());
    assert!(matches!(e, Error::SendBufferFull { .. }));
    assert_eq!(i, Limits::default().max_send_buffer / chunk.len());
    assert_eq!(s.send_buffered(), Limits::default().max_send_buffer);
    assert!(s.queued_output() < 1024);
    // The window opens: data flows, and the stream is writable again.
    p.frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: sid(1),
        increment: 3 << 20,
    }))
    .frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: sid(0),
        increment: 3 << 20,
    }));
    s.handle_input(&p.take(), t0()).unwrap();
    let out = drain(&mut s);
    assert!(out.len() >= 3 << 20);
    assert!(events(&mut s).contains(&Event::Writable { stream: sid(1) }));
}

#[test]
fn frames_for_unknown_types_and_priority_cost_nothing() {
    let mut s = Connection::server(Config::default(), t0());
    let mut p = RawPeer::client();
    for i in 0..10_000u32 {
        p.frame(Frame::Unknown(grpc_codec::frame::Unknown {
            frame_type: 0xfa,
            flags: 0,
            stream_id: sid(i),
            payload: Bytes::from_static(b"xx"),
        }));
    }
    s.handle_input(&p.take(), t0()).unwrap();
    assert!(events(&mut s).len() <= 1);
    assert!(drain(&mut s).len() < 100);
}
