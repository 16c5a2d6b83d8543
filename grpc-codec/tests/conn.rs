//! The connection state machine, client and server wired in memory, and
//! against hand-written peers for the rules of RFC 9113 §3-§8.
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
use grpc_codec::frame::{GoAway, Ping, PrioritySpec, PushPromise, RstStream, WindowUpdate};
use grpc_codec::frame::{Headers, SettingsFrame};
use grpc_codec::hpack::Header;
use grpc_codec::{
    Config, Connection, Error, ErrorCode, Event, FlowControl, Frame, Response, Setting, SettingId,
    StreamState,
};

/// Serves every request on `s`: 200, then `body` and a grpc-status
/// trailer. Returns the requests' bodies by stream.
fn serve(s: &mut Connection, body: &'static [u8]) -> Vec<(u32, Vec<u8>)> {
    let mut bodies: Vec<(u32, Vec<u8>)> = Vec::new();
    for ev in events(s) {
        match ev {
            Event::Request {
                stream, end_stream, ..
            } => {
                bodies.push((stream.value(), Vec::new()));
                if end_stream {
                    respond(s, stream, body);
                }
            }
            Event::Data {
                stream,
                data,
                end_stream,
            } => {
                let b = bodies
                    .iter_mut()
                    .find(|(i, _)| *i == stream.value())
                    .unwrap();
                b.1.extend_from_slice(&data);
                if end_stream {
                    respond(s, stream, body);
                }
            }
            _ => {}
        }
    }
    bodies
}

fn respond(s: &mut Connection, stream: grpc_codec::StreamId, body: &'static [u8]) {
    s.send_response(stream, &ok_response(), false).unwrap();
    s.send_data(stream, Bytes::from_static(body), false)
        .unwrap();
    s.send_trailers(stream, &[h("grpc-status", "0")]).unwrap();
}

#[test]
fn get_round_trip() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let id = c.send_request(&get("/"), true).unwrap();
    assert_eq!(id, sid(1));
    assert_eq!(c.stream_state(id), StreamState::HalfClosedLocal);
    pump(&mut c, &mut s);
    let ev = events(&mut s);
    let [
        Event::Request {
            stream,
            request,
            end_stream: true,
        },
    ] = ev.as_slice()
    else {
        panic!("{ev:?}")
    };
    assert_eq!(*stream, id);
    assert_eq!(&request.method[..], b"GET");
    assert_eq!(request.path.as_deref(), Some(&b"/"[..]));
    s.send_response(id, &Response::new(200).header("x-a", "1"), false)
        .unwrap();
    s.send_data(id, Bytes::from_static(b"hello"), true).unwrap();
    pump(&mut c, &mut s);
    let ev = events(&mut c);
    assert!(
        matches!(&ev[0], Event::Response { response, end_stream: false, .. }
        if response.status == 200 && response.headers == vec![h("x-a", "1")])
    );
    assert!(matches!(&ev[1], Event::Data { data, end_stream: true, .. } if &data[..] == b"hello"));
    assert_eq!(c.stream_state(id), StreamState::Closed);
    assert_eq!(s.stream_state(id), StreamState::Closed);
    assert_eq!((c.active_streams(), s.active_streams()), (0, 0));
}

#[test]
fn post_with_body_and_trailers() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let id = c.send_request(&post("/echo"), false).unwrap();
    c.send_data(id, Bytes::from_static(b"abc"), false).unwrap();
    c.send_data(id, Bytes::from_static(b"def"), false).unwrap();
    c.send_trailers(id, &[h("x-t", "1")]).unwrap();
    assert!(matches!(
        c.send_data(id, Bytes::from_static(b"late"), false),
        Err(Error::InvalidState(_))
    ));
    pump(&mut c, &mut s);
    let ev = events(&mut s);
    assert!(matches!(
        &ev[0],
        Event::Request {
            end_stream: false,
            ..
        }
    ));
    let body: Vec<u8> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Data { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .concat();
    assert_eq!(body, b"abcdef");
    assert!(
        matches!(ev.last(), Some(Event::Trailers { headers, .. }) if *headers == vec![h("x-t", "1")])
    );
    respond(&mut s, id, b"ok");
    pump(&mut c, &mut s);
    let ev = events(&mut c);
    assert!(matches!(ev.last(), Some(Event::Trailers { .. })));
    assert_eq!((c.active_streams(), s.active_streams()), (0, 0));
}

#[test]
fn large_bodies_over_small_windows() {
    let small = Config {
        initial_window_size: 1000,
        connection_window_size: 65_535,
        ..Config::default()
    };
    let (mut c, mut s) = pair(small, small);
    let body: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
    let id = c.send_request(&post("/up"), false).unwrap();
    c.send_data(id, Bytes::from(body.clone()), true).unwrap();
    let mut got = Vec::new();
    for _ in 0..10_000 {
        pump(&mut c, &mut s);
        for ev in events(&mut s) {
            if let Event::Data { data, .. } = ev {
                got.extend_from_slice(&data);
            }
        }
        if got.len() == body.len() {
            break;
        }
    }
    assert_eq!(got, body);
    assert_eq!(c.send_buffered(), 0);
    // And the other way, with the response frames cut to the window.
    s.send_response(id, &ok_response(), false).unwrap();
    s.send_data(id, Bytes::from(body.clone()), true).unwrap();
    let out = drain(&mut s);
    assert!(frames(&out).iter().all(|f| f.payload_len() <= 1000));
    c.handle_input(&out, t0()).unwrap();
    let mut got = Vec::new();
    for _ in 0..10_000 {
        pump(&mut c, &mut s);
        for ev in events(&mut c) {
            if let Event::Data { data, .. } = ev {
                got.extend_from_slice(&data);
            }
        }
        if got.len() == body.len() {
            break;
        }
    }
    assert_eq!(got, body);
    assert_eq!((c.active_streams(), s.active_streams()), (0, 0));
}

#[test]
fn data_respects_peer_max_frame_size() {
    let big = Config {
        initial_window_size: 1 << 20,
        connection_window_size: 1 << 20,
        ..Config::default()
    };
    let (mut c, mut s) = pair(big, big);
    let id = c.send_request(&post("/"), false).unwrap();
    c.send_data(id, Bytes::from(vec![7; 100_000]), true)
        .unwrap();
    let out = drain(&mut c);
    let fs = frames(&out);
    assert!(fs.iter().all(|f| f.payload_len() <= 16_384));
    let data: usize = fs
        .iter()
        .filter(|f| matches!(f, Frame::Data(_)))
        .map(Frame::payload_len)
        .sum();
    assert_eq!(data, 100_000);
    s.handle_input(&out, t0()).unwrap();
}

#[test]
fn many_concurrent_streams() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let ids: Vec<_> = (0..50)
        .map(|_| {
            let id = c.send_request(&post("/"), false).unwrap();
            c.send_data(id, Bytes::from(vec![1; 3000]), true).unwrap();
            id
        })
        .collect();
    pump(&mut c, &mut s);
    let bodies = serve(&mut s, b"response");
    assert_eq!(bodies.len(), 50);
    assert!(bodies.iter().all(|(_, b)| b.len() == 3000));
    pump(&mut c, &mut s);
    let done = events(&mut c)
        .iter()
        .filter(|e| matches!(e, Event::Trailers { .. }))
        .count();
    assert_eq!(done, ids.len());
    assert_eq!((c.active_streams(), s.active_streams()), (0, 0));
}

#[test]
fn peer_concurrency_limit_is_respected() {
    let limited = Config {
        max_concurrent_streams: 2,
        ..Config::default()
    };
    let (mut c, mut s) = pair(Config::default(), limited);
    let a = c.send_request(&get("/"), true).unwrap();
    c.send_request(&get("/"), true).unwrap();
    assert!(!c.can_open_stream());
    assert_eq!(
        c.send_request(&get("/"), true),
        Err(Error::StreamLimit { limit: 2 })
    );
    pump(&mut c, &mut s);
    events(&mut s);
    s.send_response(a, &ok_response(), true).unwrap();
    pump(&mut c, &mut s);
    assert!(c.can_open_stream());
    c.send_request(&get("/"), true).unwrap();
}

#[test]
fn streams_beyond_our_limit_are_refused() {
    let limited = Config {
        max_concurrent_streams: 1,
        ..Config::default()
    };
    let mut p = RawPeer::client();
    p.request(1, true).request(3, true);
    let (r, ev, out) = server_after(limited, &p.take());
    r.unwrap();
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, Event::Request { .. }))
            .count(),
        1
    );
    assert_eq!(resets(&out), vec![(3, ErrorCode::REFUSED_STREAM)]);
}

#[test]
fn cancel_resets_and_drops_late_frames() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let id = c.send_request(&post("/"), false).unwrap();
    pump(&mut c, &mut s);
    events(&mut s);
    s.send_response(id, &ok_response(), false).unwrap();
    s.send_data(id, Bytes::from_static(b"in flight"), false)
        .unwrap();
    let late = drain(&mut s);
    c.reset_stream(id, ErrorCode::CANCEL).unwrap();
    assert_eq!(c.stream_state(id), StreamState::Closed);
    // The server's frames crossed our RST_STREAM: dropped quietly.
    c.handle_input(&late, t0()).unwrap();
    assert!(events(&mut c).is_empty());
    let out = drain(&mut c);
    assert_eq!(resets(&out), vec![(1, ErrorCode::CANCEL)]);
    s.handle_input(&out, t0()).unwrap();
    assert_eq!(
        events(&mut s),
        vec![Event::Reset {
            stream: id,
            code: ErrorCode::CANCEL,
            by_peer: true
        }]
    );
    assert!(matches!(
        s.send_data(id, Bytes::new(), true),
        Err(Error::InvalidState(_))
    ));
}

#[test]
fn informational_then_final_response() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let id = c.send_request(&post("/"), false).unwrap();
    pump(&mut c, &mut s);
    s.send_response(id, &Response::new(100), false).unwrap();
    assert!(s.send_response(id, &Response::new(103), true).is_err());
    s.send_response(id, &Response::new(200), true).unwrap();
    pump(&mut c, &mut s);
    let ev = events(&mut c);
    assert!(matches!(&ev[0], Event::Informational { response, .. } if response.status == 100));
    assert!(
        matches!(&ev[1], Event::Response { response, end_stream: true, .. } if response.status == 200)
    );
}

#[test]
fn ping_is_answered_and_ours_acknowledged() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    c.send_ping(*b"12345678").unwrap();
    pump(&mut c, &mut s);
    assert_eq!(events(&mut c), vec![Event::PingAck { data: *b"12345678" }]);
    assert!(events(&mut s).is_empty());
    for _ in 0..16 {
        c.send_ping([0; 8]).unwrap();
    }
    assert_eq!(c.send_ping([0; 8]), Err(Error::TooManyPings));
}

#[test]
fn settings_ack_timeout() {
    let mut c = Connection::client(Config::default(), t0());
    let deadline = c.poll_timeout().unwrap();
    assert_eq!(deadline, at(10_000));
    c.handle_timeout(at(9_999));
    assert!(!c.is_closed());
    c.handle_timeout(deadline);
    assert!(c.is_closed());
    let ev = events(&mut c);
    assert!(matches!(
        &ev[..],
        [Event::Closed {
            code: ErrorCode::SETTINGS_TIMEOUT,
            ..
        }]
    ));
    let g = goaway(&drain(&mut c)).unwrap();
    assert_eq!(g.code, ErrorCode::SETTINGS_TIMEOUT);
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.send_request(&get("/"), true), Err(Error::Closed));
}

#[test]
fn settings_are_validated_and_applied() {
    for (setting, code) in [
        (
            Setting::new(SettingId::ENABLE_PUSH, 2),
            ErrorCode::PROTOCOL_ERROR,
        ),
        (
            Setting::new(SettingId::INITIAL_WINDOW_SIZE, 1 << 31),
            ErrorCode::FLOW_CONTROL_ERROR,
        ),
        (
            Setting::new(SettingId::MAX_FRAME_SIZE, 16_383),
            ErrorCode::PROTOCOL_ERROR,
        ),
        (
            Setting::new(SettingId::MAX_FRAME_SIZE, 1 << 24),
            ErrorCode::PROTOCOL_ERROR,
        ),
    ] {
        let mut p = RawPeer::client();
        p.frame(Frame::Settings(SettingsFrame::new(vec![setting])));
        let (r, _, out) = server_after(Config::default(), &p.take());
        assert_conn_error(&r.unwrap_err(), code);
        assert_eq!(goaway(&out).unwrap().code, code);
    }
    // Unknown ids are ignored; a server may not enable push for us.
    let mut p = RawPeer::server();
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId(0xfe03),
        9,
    )])));
    let mut c = Connection::client(Config::default(), t0());
    c.handle_input(&p.take(), t0()).unwrap();
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId::ENABLE_PUSH,
        1,
    )])));
    assert_conn_error(
        &c.handle_input(&p.take(), t0()).unwrap_err(),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn first_frame_must_be_settings_and_acks_must_match() {
    let mut p = RawPeer::new();
    p.raw(grpc_codec::PREFACE).frame(Frame::Ping(Ping {
        ack: false,
        data: [0; 8],
    }));
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    let mut p = RawPeer::client();
    p.frame(Frame::Settings(SettingsFrame::ack()))
        .frame(Frame::Settings(SettingsFrame::ack()));
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    let (r, _, out) = server_after(Config::default(), b"GET / HTTP/1.1\r\n\r\n");
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    assert!(goaway(&out).is_some());
}

#[test]
fn initial_window_change_applies_to_open_streams() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let id = c.send_request(&post("/"), false).unwrap();
    pump(&mut c, &mut s);
    assert_eq!(c.send_window(id), Some(65_535));
    let mut p = RawPeer::new();
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId::INITIAL_WINDOW_SIZE,
        100,
    )])));
    c.handle_input(&p.take(), t0()).unwrap();
    assert_eq!(c.send_window(id), Some(100));
    // Raising a stream to 2^31-1, then the initial window: overflow.
    p.frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: id,
        increment: 0x7fff_ffff - 100,
    }));
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId::INITIAL_WINDOW_SIZE,
        101,
    )])));
    assert_conn_error(
        &c.handle_input(&p.take(), t0()).unwrap_err(),
        ErrorCode::FLOW_CONTROL_ERROR,
    );
}

#[test]
fn zero_window_increment_stream_vs_connection() {
    let mut p = RawPeer::client();
    p.request(1, false).frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: sid(1),
        increment: 0,
    }));
    let (r, ev, out) = server_after(Config::default(), &p.take());
    r.unwrap();
    assert!(ev.contains(&Event::Reset {
        stream: sid(1),
        code: ErrorCode::PROTOCOL_ERROR,
        by_peer: false
    }));
    assert_eq!(resets(&out), vec![(1, ErrorCode::PROTOCOL_ERROR)]);
    let mut p = RawPeer::client();
    p.frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: sid(0),
        increment: 0,
    }));
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn flow_control_violations() {
    // More DATA than the stream window: stream error; than the connection
    // window: connection error.
    let small = Config {
        initial_window_size: 10,
        connection_window_size: 65_535,
        ..Config::default()
    };
    let mut p = RawPeer::client();
    p.request(1, false).data(1, b"0123456789x", false);
    let (r, _, out) = server_after(small, &p.take());
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::FLOW_CONTROL_ERROR)]);
    let mut p = RawPeer::client();
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId::MAX_FRAME_SIZE,
        1 << 20,
    )])));
    let big = Config {
        initial_window_size: 1 << 20,
        connection_window_size: 65_535,
        limits: grpc_codec::Limits {
            max_frame_size: 1 << 20,
            ..grpc_codec::Limits::default()
        },
        ..Config::default()
    };
    p.request(1, false)
        .frame(Frame::Data(grpc_codec::frame::Data::new(
            sid(1),
            Bytes::from(vec![0; 65_536]),
            false,
        )));
    let (r, _, _) = server_after(big, &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn manual_flow_control_waits_for_release() {
    let manual = Config {
        flow_control: FlowControl::Manual,
        initial_window_size: 100,
        ..Config::default()
    };
    let (mut c, mut s) = pair(Config::default(), manual);
    let id = c.send_request(&post("/"), false).unwrap();
    c.send_data(id, Bytes::from(vec![1; 250]), true).unwrap();
    pump(&mut c, &mut s);
    let got: usize = events(&mut s)
        .iter()
        .map(|e| match e {
            Event::Data { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(got, 100);
    assert_eq!(c.send_buffered(), 150);
    s.release_capacity(id, 100).unwrap();
    pump(&mut c, &mut s);
    s.release_capacity(id, 100).unwrap();
    pump(&mut c, &mut s);
    assert_eq!(c.send_buffered(), 0);
    assert!(matches!(
        events(&mut s).last(),
        Some(Event::Data {
            end_stream: true,
            ..
        })
    ));
}

#[test]
fn malformed_requests_reset_the_stream() {
    let cases: Vec<Vec<Header>> = vec![
        vec![h(":method", "GET"), h(":path", "/")],
        [request_fields(), vec![h("connection", "close")]].concat(),
        [request_fields(), vec![h("te", "gzip")]].concat(),
        [vec![h("x", "1")], request_fields()].concat(),
        [request_fields(), vec![h(":unknown", "1")]].concat(),
        [request_fields(), vec![h("Upper", "1")]].concat(),
    ];
    for fields in cases {
        let mut p = RawPeer::client();
        p.headers(1, &fields, true);
        let (r, ev, out) = server_after(Config::default(), &p.take());
        r.unwrap();
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Request { .. })),
            "{fields:?}"
        );
        assert_eq!(
            resets(&out),
            vec![(1, ErrorCode::PROTOCOL_ERROR)],
            "{fields:?}"
        );
    }
}

#[test]
fn content_length_is_checked() {
    let mut fields = request_fields();
    fields[0] = h(":method", "POST");
    fields.push(h("content-length", "5"));
    for (body, ok) in [(&b"12345"[..], true), (b"1234", false), (b"123456", false)] {
        let mut p = RawPeer::client();
        p.headers(1, &fields, false)
            .frame(Frame::Data(grpc_codec::frame::Data::new(
                sid(1),
                Bytes::from_static(body),
                true,
            )));
        let (r, ev, out) = server_after(Config::default(), &p.take());
        r.unwrap();
        assert_eq!(resets(&out).is_empty(), ok, "{body:?}");
        assert_eq!(
            ev.iter().any(|e| matches!(
                e,
                Event::Data {
                    end_stream: true,
                    ..
                }
            )),
            ok
        );
    }
}

#[test]
fn trailers_must_end_the_stream_and_have_no_pseudo_headers() {
    for (fields, end) in [
        (vec![h("x", "1")], false),
        (vec![h(":status", "200")], true),
    ] {
        let mut p = RawPeer::client();
        p.request(1, false).headers(1, &fields, end);
        let (r, _, out) = server_after(Config::default(), &p.take());
        r.unwrap();
        assert_eq!(resets(&out), vec![(1, ErrorCode::PROTOCOL_ERROR)]);
    }
}

#[test]
fn stream_state_rules() {
    // DATA on an idle stream: connection error.
    let mut p = RawPeer::client();
    p.data(1, b"x", false);
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    // DATA after the peer's END_STREAM: stream error STREAM_CLOSED.
    let mut p = RawPeer::client();
    p.request(1, true).data(1, b"x", false);
    let (r, _, out) = server_after(Config::default(), &p.take());
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::STREAM_CLOSED)]);
    // A stream id lower than the last: connection error.
    let mut p = RawPeer::client();
    p.request(5, true).request(3, true);
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    // An even stream from a client.
    let mut p = RawPeer::client();
    p.request(2, true);
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    // HEADERS after the peer reset the stream: a stream error
    // STREAM_CLOSED (§5.1 "closed").
    let mut p = RawPeer::client();
    p.request(1, false)
        .frame(Frame::RstStream(RstStream {
            stream_id: sid(1),
            code: ErrorCode::CANCEL,
        }))
        .request(1, true);
    let (r, ev, out) = server_after(Config::default(), &p.take());
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::STREAM_CLOSED)]);
    assert!(ev.contains(&Event::Reset {
        stream: sid(1),
        code: ErrorCode::CANCEL,
        by_peer: true
    }));
    // WINDOW_UPDATE and RST_STREAM on a closed stream are fine; on an idle
    // one they are not.
    let mut p = RawPeer::client();
    p.request(1, true)
        .frame(Frame::RstStream(RstStream {
            stream_id: sid(1),
            code: ErrorCode::CANCEL,
        }))
        .frame(Frame::WindowUpdate(WindowUpdate {
            stream_id: sid(1),
            increment: 5,
        }))
        .frame(Frame::RstStream(RstStream {
            stream_id: sid(1),
            code: ErrorCode::CANCEL,
        }));
    server_after(Config::default(), &p.take()).0.unwrap();
    let mut p = RawPeer::client();
    p.frame(Frame::RstStream(RstStream {
        stream_id: sid(1),
        code: ErrorCode::CANCEL,
    }));
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn priority_is_ignored_but_self_dependency_is_a_stream_error() {
    let mut p = RawPeer::client();
    let block = p.block(&request_fields());
    let mut hd = Headers::new(sid(1), block, true);
    hd.priority = Some(PrioritySpec {
        exclusive: false,
        dependency: sid(1),
        weight: 0,
    });
    p.frame(Frame::Headers(hd)).request(3, true);
    let (r, ev, out) = server_after(Config::default(), &p.take());
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::PROTOCOL_ERROR)]);
    // The HPACK table stayed in step: stream 3 decodes.
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Request { stream, .. } if *stream == sid(3)))
    );
}

#[test]
fn push_promise_is_a_connection_error() {
    let mut p = RawPeer::server();
    let block = p.block(&request_fields());
    p.frame(Frame::PushPromise(PushPromise {
        stream_id: sid(1),
        promised_id: sid(2),
        fragment: block,
        end_headers: true,
        pad_len: None,
    }));
    let mut c = Connection::client(Config::default(), t0());
    c.send_request(&get("/"), true).unwrap();
    let e = c.handle_input(&p.take(), t0()).unwrap_err();
    assert_conn_error(&e, ErrorCode::PROTOCOL_ERROR);
    // Sticky: more input returns the same error; the Closed event once.
    assert_eq!(c.handle_input(b"", t0()), Err(e));
    let closed: Vec<_> = events(&mut c)
        .into_iter()
        .filter(|e| matches!(e, Event::Closed { .. }))
        .collect();
    assert_eq!(closed.len(), 1);
    // The client said ENABLE_PUSH = 0.
    let mut fresh = Connection::client(Config::default(), t0());
    let out = drain(&mut fresh);
    let Frame::Settings(s) = &frames(&out)[0] else {
        panic!()
    };
    assert_eq!(s.get(SettingId::ENABLE_PUSH), Some(0));
}

#[test]
fn goaway_from_server_refuses_later_streams() {
    let (mut c, s) = pair(Config::default(), Config::default());
    let a = c.send_request(&get("/a"), true).unwrap();
    let b = c.send_request(&get("/b"), true).unwrap();
    drain(&mut c);
    let mut p = RawPeer::new();
    p.frame(Frame::GoAway(GoAway::new(a, ErrorCode::NO_ERROR)));
    c.handle_input(&p.take(), t0()).unwrap();
    let ev = events(&mut c);
    assert!(matches!(&ev[0], Event::GoAway { last_stream_id, .. } if *last_stream_id == a));
    assert_eq!(
        ev[1],
        Event::Reset {
            stream: b,
            code: ErrorCode::REFUSED_STREAM,
            by_peer: true
        }
    );
    assert_eq!(c.send_request(&get("/c"), true), Err(Error::GoingAway));
    assert!(!c.is_closed());
    let _ = s;
    // Stream a finishes; then the connection is done.
    let mut p = RawPeer::new();
    p.headers(a.value(), &[h(":status", "200")], true);
    c.handle_input(&p.take(), t0()).unwrap();
    let ev = events(&mut c);
    assert!(matches!(
        ev.last(),
        Some(Event::Closed {
            by_peer: true,
            code: ErrorCode::NO_ERROR,
            ..
        })
    ));
    assert!(c.is_closed());
}

#[test]
fn graceful_server_shutdown_in_two_phases() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let a = c.send_request(&get("/a"), true).unwrap();
    pump(&mut c, &mut s);
    events(&mut s);
    s.shutdown().unwrap();
    let first = drain(&mut s);
    let fs = frames(&first);
    assert!(matches!(&fs[0], Frame::GoAway(g) if g.last_stream_id == grpc_codec::StreamId::MAX));
    // A request that crossed the first GOAWAY is still taken.
    let b = c.send_request(&get("/b"), true).unwrap();
    let req = drain(&mut c);
    s.handle_input(&req, t0()).unwrap();
    c.handle_input(&first, t0()).unwrap();
    pump(&mut c, &mut s);
    let ev = events(&mut s);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Request { stream, .. } if *stream == b))
    );
    // The PING came back: the final GOAWAY names stream b.
    assert!(
        events(&mut c)
            .iter()
            .any(|e| matches!(e, Event::GoAway { last_stream_id, .. } if *last_stream_id == b))
    );
    s.send_response(a, &ok_response(), true).unwrap();
    s.send_response(b, &ok_response(), true).unwrap();
    pump(&mut c, &mut s);
    assert!(s.is_closed() && c.is_closed());
    assert!(matches!(
        events(&mut s).last(),
        Some(Event::Closed {
            code: ErrorCode::NO_ERROR,
            by_peer: false,
            ..
        })
    ));
}

#[test]
fn shutdown_without_ping_answer_sends_final_goaway_after_timeout() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    c.send_request(&get("/"), true).unwrap();
    pump(&mut c, &mut s);
    s.shutdown().unwrap();
    drain(&mut s);
    let deadline = s.poll_timeout().unwrap();
    s.handle_timeout(deadline);
    let g = goaway(&drain(&mut s)).unwrap();
    assert_eq!(g.last_stream_id, sid(1));
}

#[test]
fn client_shutdown_and_abort() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    c.shutdown().unwrap();
    assert!(c.is_closed());
    pump(&mut c, &mut s);
    assert!(s.is_closed());
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::GoAway { .. }, Event::Closed { by_peer: true, .. }]
    ));

    let (mut c, _s) = pair(Config::default(), Config::default());
    c.send_request(&get("/"), true).unwrap();
    c.abort(ErrorCode::INTERNAL_ERROR, "bye").unwrap();
    assert!(matches!(
        events(&mut c).as_slice(),
        [Event::Closed {
            code: ErrorCode::INTERNAL_ERROR,
            ..
        }]
    ));
    let g = goaway(&drain(&mut c)).unwrap();
    assert_eq!(
        (g.code, &g.debug_data[..]),
        (ErrorCode::INTERNAL_ERROR, &b"bye"[..])
    );
    assert_eq!(c.send_ping([0; 8]), Err(Error::Closed));
}

#[test]
fn goaway_with_error_closes_at_once() {
    let (mut c, _s) = pair(Config::default(), Config::default());
    c.send_request(&get("/"), true).unwrap();
    let mut p = RawPeer::new();
    p.frame(Frame::GoAway(GoAway::new(
        sid(1),
        ErrorCode::ENHANCE_YOUR_CALM,
    )));
    c.handle_input(&p.take(), t0()).unwrap();
    assert!(c.is_closed());
    assert!(matches!(
        events(&mut c).last(),
        Some(Event::Closed {
            code: ErrorCode::ENHANCE_YOUR_CALM,
            by_peer: true,
            ..
        })
    ));
}

#[test]
fn deadlines_are_reported_once() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    pump(&mut c, &mut s);
    let id = c.send_request(&get("/"), true).unwrap();
    c.set_deadline(id, Some(at(500))).unwrap();
    assert_eq!(c.poll_timeout(), Some(at(500)));
    c.handle_timeout(at(499));
    assert!(events(&mut c).is_empty());
    c.handle_timeout(at(500));
    assert_eq!(events(&mut c), vec![Event::DeadlineExceeded { stream: id }]);
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(at(600));
    assert!(events(&mut c).is_empty());
}

#[test]
fn role_misuse_is_an_api_error() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    assert!(matches!(
        s.send_request(&get("/"), true),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        c.send_response(sid(1), &ok_response(), true),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        c.send_request(&get("/").header("connection", "x"), true),
        Err(Error::InvalidHeaders(_))
    ));
    let id = c.send_request(&get("/"), true).unwrap();
    pump(&mut c, &mut s);
    assert!(matches!(
        s.send_data(id, Bytes::new(), true),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        s.send_response(sid(99), &ok_response(), true),
        Err(Error::InvalidState(_))
    ));
    let _ = Duration::ZERO;
}
