use super::*;

/// Raw frame bytes: type, channel, payload, frame-end.
fn raw(ty: u8, channel: u16, payload: &[u8], end: u8) -> Vec<u8> {
    let mut v = vec![ty];
    v.extend_from_slice(&channel.to_be_bytes());
    v.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    v.extend_from_slice(payload);
    v.push(end);
    v
}

/// A method payload: class, method, arguments.
fn args(class_id: u16, method_id: u16, rest: &[u8]) -> Vec<u8> {
    let mut v = class_id.to_be_bytes().to_vec();
    v.extend_from_slice(&method_id.to_be_bytes());
    v.extend_from_slice(rest);
    v
}

/// What, the bytes, the reply code, the failing class and method.
type Case = (&'static str, Vec<u8>, u16, (u16, u16));

#[test]
fn bad_input_gets_the_right_close() {
    let oversize = {
        let mut v = vec![1, 0, 1];
        v.extend_from_slice(&(1u32 << 20).to_be_bytes());
        v
    };
    let cases: Vec<Case> = vec![
        (
            "bad frame-end",
            raw(1, 1, &args(60, 10, &[0, 0, 0, 0, 0]), 0xCD),
            501,
            (0, 0),
        ),
        ("unknown frame type", raw(9, 1, &[], 0xCE), 501, (0, 0)),
        ("oversize frame", oversize, 501, (0, 0)),
        (
            "unknown method",
            raw(1, 1, &args(60, 200, &[]), 0xCE),
            540,
            (60, 200),
        ),
        (
            "truncated arguments",
            raw(1, 1, &args(60, 10, &[0, 0]), 0xCE),
            501,
            (60, 10),
        ),
        (
            // queue.declare: ticket, queue "q", flags, table claiming 10
            // bytes that are not there.
            "truncated field table",
            raw(
                1,
                1,
                &args(50, 10, &[0, 0, 1, b'q', 0, 0, 0, 0, 10, b'k']),
                0xCE,
            ),
            501,
            (50, 10),
        ),
        (
            "bad field type in table",
            raw(
                1,
                1,
                &args(50, 10, &[0, 0, 1, b'q', 0, 0, 0, 0, 3, 1, b'k', b'Z']),
                0xCE,
            ),
            502,
            (50, 10),
        ),
        (
            "bad UTF-8 in shortstr",
            raw(1, 1, &args(50, 10, &[0, 0, 1, 0xFF, 0, 0, 0, 0, 0]), 0xCE),
            501,
            (50, 10),
        ),
        ("heartbeat on a channel", raw(8, 1, &[], 0xCE), 501, (0, 0)),
        (
            "connection method on a channel",
            method_frame(1, ConnectionUnblocked),
            503,
            (10, 61),
        ),
        (
            "channel method on channel 0",
            method_frame(0, ChannelFlow::default()),
            504,
            (20, 20),
        ),
        ("content on channel 0", content_frames(0, b"x"), 504, (0, 0)),
    ];
    for (what, bytes, code, failing) in cases {
        let mut p = Pair::with_channel();
        let e = p.s.handle_input(&bytes, t0()).unwrap_err();
        assert_eq!(e.reply_code(), code, "{what}: {e}");
        assert!(e.is_peer_error(), "{what}");
        let out = p.s.poll_transmit().unwrap();
        let [(0, Method::ConnectionClose(close))] = &methods(&out)[..] else {
            panic!("{what}: no close")
        };
        assert_eq!(close.reply_code, code, "{what}");
        assert_eq!((close.class_id, close.method_id), failing, "{what}");
        let ev = events(&mut p.s);
        assert!(
            matches!(&ev[..], [Event::Closed { reply_code, by_peer: false, error: Some(err), .. }]
                if *reply_code == code && *err == e),
            "{what}: {ev:?}"
        );
        // The client sees the close, answers close-ok, and is done.
        p.c.handle_input(&out, t0()).unwrap();
        p.pump();
        let ev = events(&mut p.c);
        assert!(
            matches!(&ev[..], [Event::Closed { reply_code, by_peer: true, error: None, .. }] if *reply_code == code),
            "{what}: {ev:?}"
        );
        assert!(p.c.is_closed() && p.s.is_closed(), "{what}");
    }
}

#[test]
fn hard_errors_are_sticky() {
    let mut p = Pair::with_channel();
    let e =
        p.s.handle_input(&content_frames(1, b"x"), t0())
            .unwrap_err();
    assert!(!p.s.is_closed(), "waiting for close-ok");
    assert_eq!(p.s.error(), Some(&e));
    // Nothing more is accepted: not methods, not heartbeats...
    for input in [method_frame(1, BasicQos::default()), heartbeat_frame()] {
        assert_eq!(p.s.handle_input(&input, t0()), Err(e.clone()));
    }
    assert!(events(&mut p.s).len() == 1, "Closed reported once");
    assert_eq!(p.s.send_method(1, &BasicQosOk.into()), Err(Error::Closed));
    assert_eq!(p.s.close(200, ""), Err(Error::Closed));
    // ...until close-ok, which ends the connection.
    assert_eq!(
        p.s.handle_input(&method_frame(0, ConnectionCloseOk), t0()),
        Err(e.clone())
    );
    assert!(p.s.is_closed());
    assert!(events(&mut p.s).is_empty());
    assert_eq!(p.s.handle_input(b"more", t0()), Err(e));
}

#[test]
fn peer_that_never_sends_close_ok() {
    let mut p = Pair::with_channel();
    let _ = p.s.handle_input(&content_frames(1, b"x"), t0());
    p.s.poll_transmit();
    // Megabytes of frames and garbage: memory stays bounded.
    let qos = method_frame(1, BasicQos::default());
    for _ in 0..10_000 {
        let _ = p.s.handle_input(&qos, t0());
    }
    assert!(p.s.inbuf.len() < 64);
    assert!(p.s.poll_transmit().is_none(), "no answers while closing");
    let _ = p.s.handle_input(&vec![0xAB; 1 << 20], t0());
    assert!(
        p.s.inbuf.is_empty() && p.s.is_closed(),
        "garbage ends the wait"
    );

    // Or silence: the close timeout ends the wait.
    let mut p = Pair::with_channel();
    let _ = p.s.handle_input(&content_frames(1, b"x"), t0());
    assert_eq!(p.s.poll_timeout(), Some(at(10)));
    p.s.handle_timeout(at(10));
    assert!(p.s.is_closed());
    assert_eq!(p.s.poll_timeout(), None);
}

#[test]
fn peer_closes_the_connection() {
    let mut p = Pair::with_channel();
    p.s.close(320, "CONNECTION_FORCED - shutdown").unwrap();
    assert!(matches!(p.s.open_channel(1), Err(Error::Closed)));
    p.pump();
    let ev = events(&mut p.c);
    assert!(
        matches!(&ev[..], [Event::Closed { reply_code: 320, reply_text, by_peer: true, error: None, .. }] if reply_text == "CONNECTION_FORCED - shutdown"),
        "{ev:?}"
    );
    let ev = events(&mut p.s);
    assert!(matches!(
        &ev[..],
        [Event::Closed {
            reply_code: 320,
            by_peer: false,
            error: None,
            ..
        }]
    ));
    assert!(p.c.is_closed() && p.s.is_closed());
    assert_eq!(p.c.handle_input(b"late bytes", t0()), Ok(()));
    assert!(matches!(
        p.c.send_method(1, &BasicQos::default().into()),
        Err(Error::Closed)
    ));
}

#[test]
fn closing_discards_everything_but_close_ok() {
    let mut p = Pair::with_channel();
    p.c.close(200, "bye").unwrap();
    p.c.poll_transmit();
    let deliver = method_frame(1, BasicDeliver::default());
    p.c.handle_input(&deliver, t0()).unwrap();
    p.c.handle_input(&content_frames(1, b"x"), t0()).unwrap();
    assert!(events(&mut p.c).is_empty());
    p.c.handle_input(&method_frame(0, ConnectionCloseOk), t0())
        .unwrap();
    assert!(matches!(
        events(&mut p.c).as_slice(),
        [Event::Closed {
            reply_code: 200,
            by_peer: false,
            ..
        }]
    ));
    // Crossing closes: the peer's close is answered and ends it too.
    let mut p = Pair::new();
    p.c.close(200, "bye").unwrap();
    p.c.poll_transmit();
    let close = ConnectionClose {
        reply_code: 320,
        ..ConnectionClose::default()
    };
    p.c.handle_input(&method_frame(0, close), t0()).unwrap();
    assert!(matches!(
        &methods(&p.c.poll_transmit().unwrap())[..],
        [(0, Method::ConnectionCloseOk(_))]
    ));
    assert!(p.c.is_closed());
}

#[test]
fn unexpected_close_ok_is_503() {
    let mut p = Pair::new();
    let e =
        p.c.handle_input(&method_frame(0, ConnectionCloseOk), t0())
            .unwrap_err();
    assert_eq!(e.reply_code(), 503);
    let mut p = Pair::with_channel();
    let e =
        p.c.handle_input(&method_frame(1, ChannelCloseOk), t0())
            .unwrap_err();
    assert_eq!(e.reply_code(), 503);
}

#[test]
fn channel_error_then_connection_error() {
    // A soft error closes the channel; a hard one later still closes the
    // connection.
    let mut p = Pair::with_channel();
    p.s.close_channel(1, 404, "NOT_FOUND").unwrap();
    p.pump();
    assert!(p.c.is_connected());
    let e =
        p.c.handle_input(&method_frame(1, BasicQosOk), t0())
            .unwrap_err();
    assert_eq!(e.reply_code(), 504, "the channel is gone");
}
