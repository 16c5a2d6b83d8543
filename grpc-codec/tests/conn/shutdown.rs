//! GOAWAY, graceful shutdown and abort (§6.8); deadlines and API misuse.

use std::time::Duration;

use bytes::Bytes;
use grpc_codec::frame::GoAway;
use grpc_codec::{Config, Error, ErrorCode, Event, Frame};

use crate::conn_support::*;

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
