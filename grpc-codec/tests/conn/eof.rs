//! The end of the transport (`handle_eof`): clean after a GOAWAY exchange,
//! an error if the peer vanished; open streams reported reset; sticky.

use grpc_codec::{Config, Error, ErrorCode, Event, Reason, StreamState};

use crate::conn_support::*;

#[track_caller]
fn assert_eof(e: &Error, goaway: bool, open_streams: usize, partial_frame: bool) {
    assert_eq!(
        *e,
        Error::connection(
            ErrorCode::CANCEL,
            Reason::UnexpectedEof {
                goaway,
                open_streams,
                partial_frame,
            }
        )
    );
}

#[test]
fn peer_vanishing_with_a_stream_open_is_an_error() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let id = c.send_request(&post("/upload"), false).unwrap();
    pump(&mut c, &mut s);
    assert_eq!(events(&mut s).len(), 1);
    let e = s.handle_eof().unwrap_err();
    assert_eof(&e, false, 1, false);
    assert!(e.to_string().contains("without GOAWAY"), "{e}");
    assert_eq!(
        events(&mut s),
        vec![
            Event::Reset {
                stream: id,
                code: ErrorCode::CANCEL,
                by_peer: true
            },
            Event::Closed {
                code: ErrorCode::CANCEL,
                reason: e.to_string(),
                by_peer: true,
                error: Some(e.clone()),
            }
        ]
    );
    // Nothing is sent to a peer that is gone, and the error sticks.
    assert!(drain(&mut s).is_empty());
    assert!(s.is_closed());
    assert_eq!(s.error(), Some(&e));
    assert_eq!(s.handle_eof(), Err(e.clone()));
    assert_eq!(s.handle_input(b"", t0()), Err(e));
    assert_eq!(
        s.send_response(id, &ok_response(), true),
        Err(Error::Closed)
    );
    assert_eq!(s.stream_state(id), StreamState::Closed);
    assert_eq!(s.poll_timeout(), None);
    assert!(events(&mut s).is_empty());
}

#[test]
fn idle_connection_closed_without_goaway_is_an_error() {
    let (mut c, _s) = pair(Config::default(), Config::default());
    assert_eof(&c.handle_eof().unwrap_err(), false, 0, false);
    assert!(matches!(
        events(&mut c).as_slice(),
        [Event::Closed {
            error: Some(_),
            by_peer: true,
            ..
        }]
    ));
    // A server the client never spoke to.
    let mut s = grpc_codec::Connection::server(Config::default(), t0());
    assert_eof(&s.handle_eof().unwrap_err(), false, 0, false);
}

#[test]
fn input_cut_inside_a_frame_is_an_error_even_after_goaway() {
    let mut s = grpc_codec::Connection::server(Config::default(), t0());
    s.handle_input(&RawPeer::client().take(), t0()).unwrap();
    s.shutdown().unwrap();
    let mut p = RawPeer::new();
    p.request(1, true);
    s.handle_input(&p.take()[..5], t0()).unwrap();
    assert_eof(&s.handle_eof().unwrap_err(), true, 0, true);
}

#[test]
fn eof_after_the_client_goaway_is_clean() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    c.shutdown().unwrap();
    pump(&mut c, &mut s);
    assert!(s.is_closed(), "client GOAWAY with no streams: done");
    events(&mut s);
    assert_eq!(s.handle_eof(), Ok(()));
    assert!(events(&mut s).is_empty());
}

#[test]
fn eof_after_graceful_goaway_is_clean() {
    // The server's two-phase shutdown: the client closes the transport on
    // its first GOAWAY without answering the PING.
    let (mut c, mut s) = pair(Config::default(), Config::default());
    s.shutdown().unwrap();
    c.handle_input(&drain(&mut s), t0()).unwrap();
    assert!(c.is_closed());
    assert!(!s.is_closed());
    assert_eq!(s.handle_eof(), Ok(()));
    assert_eq!(
        events(&mut s),
        vec![Event::Closed {
            code: ErrorCode::NO_ERROR,
            reason: "transport closed after GOAWAY".to_owned(),
            by_peer: true,
            error: None,
        }]
    );
    assert!(s.is_closed() && s.error().is_none());
    assert_eq!(s.handle_eof(), Ok(()));
    assert!(events(&mut s).is_empty());
}

#[test]
fn eof_after_goaway_with_streams_left_cuts_them_off() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let id = c.send_request(&get("/"), true).unwrap();
    pump(&mut c, &mut s);
    events(&mut s);
    s.shutdown().unwrap();
    pump(&mut c, &mut s);
    assert!(
        events(&mut c)
            .iter()
            .all(|e| matches!(e, Event::GoAway { .. }))
    );
    let e = c.handle_eof().unwrap_err();
    assert_eof(&e, true, 1, false);
    let ev = events(&mut c);
    assert_eq!(
        ev[0],
        Event::Reset {
            stream: id,
            code: ErrorCode::CANCEL,
            by_peer: true
        }
    );
    assert!(matches!(&ev[1], Event::Closed { error: Some(_), .. }));
}
