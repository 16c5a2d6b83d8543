//! Requests and responses end to end: bodies, windows, concurrency,
//! cancellation, interim responses.

use bytes::Bytes;
use grpc_codec::{Config, Error, ErrorCode, Event, Frame, Response, StreamState};

use crate::conn_support::*;
use crate::{respond, serve};

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
