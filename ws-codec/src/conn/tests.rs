use super::*;
use crate::codec::encode_header;
use crate::config::Limits;
#[cfg(feature = "deflate")]
use crate::deflate::DeflateConfig;
use proptest::prelude::*;

const REQ: &[u8] = b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn open_server(cfg: Config) -> Connection {
    let mut s = Connection::server(cfg);
    s.handle_input(REQ).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Request(_))));
    s.accept().unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Connected { .. })));
    let head = s.poll_transmit().unwrap();
    assert!(head.starts_with(b"HTTP/1.1 101"));
    s
}

/// A client and a server wired together through their buffers.
fn pair(cfg: Config) -> (Connection, Connection) {
    let mut c = Connection::client(
        cfg.clone(),
        &ClientRequest::new("h", "/"),
        MaskSource::Seed(7),
    );
    let mut s = Connection::server(cfg);
    s.handle_input(&c.poll_transmit().unwrap()).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Request(_))));
    s.accept().unwrap();
    c.handle_input(&s.poll_transmit().unwrap()).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Connected { .. })));
    assert!(matches!(c.poll_event(), Some(Event::Connected { .. })));
    (c, s)
}

fn masked(fin: bool, op: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_parts(fin, false, op, payload, Some([1, 2, 3, 4]), &mut b);
    b.to_vec()
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn closed_code(evs: &[Event]) -> Option<u16> {
    evs.iter().find_map(|e| match e {
        Event::Closed { code, .. } => Some(code.0),
        _ => None,
    })
}

/// The close code in the frame the server queued.
fn sent_close_code(s: &mut Connection) -> Option<u16> {
    // The close frame is written once the events before it are taken.
    events(s);
    let out = s.poll_transmit()?;
    let mut d = Decoder::new(Role::Client, 1 << 20);
    let mut buf = BytesMut::from(&out[..]);
    while let Ok(Some(f)) = d.decode(&mut buf) {
        if f.opcode == OpCode::Close {
            return f.payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
        }
    }
    None
}

#[test]
fn echo_text_binary_ping_close() {
    let (mut c, mut s) = pair(Config::default());
    c.send_text("héllo").unwrap();
    c.send_binary(&[0, 1, 2]).unwrap();
    c.send_ping(b"p").unwrap();
    s.handle_input(&c.poll_transmit().unwrap()).unwrap();
    let ev = events(&mut s);
    assert_eq!(ev[0], Event::Message(Message::Text("héllo".into())));
    assert_eq!(
        ev[1],
        Event::Message(Message::Binary(Bytes::from_static(&[0, 1, 2])))
    );
    assert_eq!(ev[2], Event::Ping(Bytes::from_static(b"p")));
    c.handle_input(&s.poll_transmit().unwrap()).unwrap();
    assert_eq!(events(&mut c), [Event::Pong(Bytes::from_static(b"p"))]);
    c.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(c.send_text("x"), Err(Error::Closed));
    s.handle_input(&c.poll_transmit().unwrap()).unwrap();
    let ev = events(&mut s);
    assert!(
        matches!(&ev[0], Event::Closed { code: CloseCode::NORMAL, by_peer: true, reason, error: None } if reason == "bye")
    );
    c.handle_input(&s.poll_transmit().unwrap()).unwrap();
    assert!(matches!(
        &events(&mut c)[0],
        Event::Closed {
            code: CloseCode::NORMAL,
            by_peer: false,
            ..
        }
    ));
    assert!(c.is_closed() && s.is_closed());
}

#[test]
fn fragments_with_interleaved_ping() {
    let mut s = open_server(Config::default());
    let mut input = masked(false, OpCode::Text, "κό".as_bytes());
    input.extend(masked(true, OpCode::Ping, b""));
    input.extend(masked(false, OpCode::Continuation, &"σμε".as_bytes()[..3]));
    input.extend(masked(true, OpCode::Continuation, &"σμε".as_bytes()[3..]));
    s.handle_input(&input).unwrap();
    let ev = events(&mut s);
    assert_eq!(ev[0], Event::Ping(Bytes::new()));
    assert_eq!(ev[1], Event::Message(Message::Text("κόσμε".into())));
}

#[test]
fn invalid_utf8_fails_fast_mid_frame() {
    let mut s = open_server(Config::default());
    let mut frame = masked(true, OpCode::Text, &[b'a'; 1000]);
    // Corrupt byte 10 of the payload (header is 2+2+4 bytes): 0xFF is never UTF-8.
    frame[8 + 10] = 0xFF ^ [1, 2, 3, 4][10 % 4];
    // Only the first 30 bytes arrive: the error must show already.
    assert_eq!(s.handle_input(&frame[..30]), Err(Error::InvalidUtf8));
    assert_eq!(closed_code(&events(&mut s)), Some(1007));
    assert_eq!(sent_close_code(&mut s), Some(1007));
    // Sticky.
    assert_eq!(s.handle_input(b"x"), Err(Error::InvalidUtf8));
    assert_eq!(s.send_text("x"), Err(Error::Closed));
}

#[test]
fn messages_before_an_error_are_delivered() {
    let mut s = open_server(Config::default());
    let mut input = masked(true, OpCode::Binary, b"one");
    input.extend(masked(true, OpCode::Text, b"two"));
    input.extend([0x83, 0x80, 0, 0, 0, 0]); // reserved opcode 3
    assert_eq!(s.handle_input(&input), Err(Error::ReservedOpcode(3)));
    let ev = events(&mut s);
    assert_eq!(ev.len(), 3);
    assert_eq!(closed_code(&ev), Some(1002));
}

#[test]
fn close_codes() {
    for (code, expect) in [
        (1000u16, 1000u16),
        (1003, 1003),
        (1011, 1011),
        (3000, 3000),
        (4999, 4999),
        (999, 1002),
        (1004, 1002),
        (1005, 1002),
        (1006, 1002),
        (1012, 1002),
        (1015, 1002),
        (2999, 1002),
        (5000, 1002),
    ] {
        let mut s = open_server(Config::default());
        let _ = s.handle_input(&masked(true, OpCode::Close, &code.to_be_bytes()));
        assert_eq!(sent_close_code(&mut s), Some(expect), "code {code}");
    }
    let mut s = open_server(Config::default());
    assert_eq!(
        s.handle_input(&masked(true, OpCode::Close, &[3])),
        Err(Error::InvalidClosePayload)
    );
    let mut s = open_server(Config::default());
    assert_eq!(
        s.handle_input(&masked(true, OpCode::Close, &[3, 232, 0xff])),
        Err(Error::InvalidUtf8)
    );
    let mut s = open_server(Config::default());
    s.handle_input(&masked(true, OpCode::Close, &[])).unwrap();
    assert_eq!(closed_code(&events(&mut s)), Some(1005));
    assert_eq!(s.poll_transmit().unwrap()[..], [0x88, 0x00]);
}

/// Autobahn 3.2 / 7.1.6: a message followed by a bad frame (or a close) in
/// one read is echoed before the close frame goes out.
#[test]
fn messages_before_close_can_still_be_answered() {
    for tail in [
        vec![0xA1u8, 0x80, 0, 0, 0, 0],
        masked(true, OpCode::Close, &1000u16.to_be_bytes()),
    ] {
        let mut s = open_server(Config::default());
        let mut input = masked(true, OpCode::Text, b"Hi");
        input.extend(&tail);
        let _ = s.handle_input(&input);
        let Some(Event::Message(Message::Text(t))) = s.poll_event() else {
            panic!()
        };
        s.send_text(t.as_str()).unwrap();
        assert!(matches!(s.poll_event(), Some(Event::Closed { .. })));
        assert_eq!(s.send_text("late"), Err(Error::Closed));
        let out = s.poll_transmit().unwrap();
        assert_eq!(&out[..4], &[0x81, 0x02, b'H', b'i']);
        assert_eq!(out[4], 0x88);
        assert!(s.poll_transmit().is_none());
    }
}

#[test]
fn frame_after_close_is_an_error() {
    let mut s = open_server(Config::default());
    let mut input = masked(true, OpCode::Close, &1000u16.to_be_bytes());
    input.extend(masked(true, OpCode::Text, b"late"));
    assert_eq!(s.handle_input(&input), Err(Error::FrameAfterClose));
    assert_eq!(events(&mut s).len(), 1);
}

#[test]
fn limits_close_with_1009() {
    let cfg = Config {
        limits: Limits {
            max_frame_size: 100,
            max_message_size: 150,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut s = open_server(cfg.clone());
    assert!(matches!(
        s.handle_input(&masked(true, OpCode::Binary, &[0; 101])),
        Err(Error::FrameTooLarge { .. })
    ));
    assert_eq!(sent_close_code(&mut s), Some(1009));
    let mut s = open_server(cfg);
    let mut input = masked(false, OpCode::Binary, &[0; 100]);
    input.extend(masked(true, OpCode::Continuation, &[0; 51]));
    assert_eq!(
        s.handle_input(&input),
        Err(Error::MessageTooLarge { limit: 150 })
    );
    assert_eq!(sent_close_code(&mut s), Some(1009));
}

#[test]
fn handshake_errors_answer_http() {
    let mut s = Connection::server(Config::default());
    let bad = String::from_utf8(REQ.to_vec())
        .unwrap()
        .replace("Version: 13", "Version: 7");
    assert!(matches!(
        s.handle_input(bad.as_bytes()),
        Err(Error::Handshake(HandshakeError::UnsupportedVersion(_)))
    ));
    let out = s.poll_transmit().unwrap();
    assert!(out.starts_with(b"HTTP/1.1 426"));
    assert_eq!(closed_code(&events(&mut s)), Some(1006));
}

#[test]
fn bytes_after_handshake_are_kept() {
    let mut s = Connection::server(Config::default());
    let mut input = REQ.to_vec();
    input.extend(masked(true, OpCode::Text, b"early"));
    s.handle_input(&input).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Request(_))));
    s.accept().unwrap();
    let ev = events(&mut s);
    assert_eq!(ev[1], Event::Message(Message::Text("early".into())));
    // And on the client side: frames in the same read as the 101.
    let mut c = Connection::client(
        Config::default(),
        &ClientRequest::new("h", "/"),
        MaskSource::Seed(3),
    );
    let req = c.poll_transmit().unwrap();
    let mut s = Connection::server(Config::default());
    s.handle_input(&req).unwrap();
    s.accept().unwrap();
    s.send_text("hi").unwrap();
    c.handle_input(&s.poll_transmit().unwrap()).unwrap();
    let ev = events(&mut c);
    assert_eq!(ev[1], Event::Message(Message::Text("hi".into())));
}

#[test]
fn server_rejects_unmasked_client_rejects_masked() {
    let mut s = open_server(Config::default());
    assert_eq!(s.handle_input(&[0x81, 0x00]), Err(Error::UnmaskedFrame));
    let (mut c, _) = pair(Config::default());
    assert_eq!(
        c.handle_input(&masked(true, OpCode::Text, b"")),
        Err(Error::MaskedFrame)
    );
}

#[test]
fn every_ping_answered_in_order_and_a_flood_is_bounded() {
    let mut s = open_server(Config::default());
    let mut input = Vec::new();
    for i in 0..10u8 {
        input.extend(masked(true, OpCode::Ping, &[i]));
    }
    input.extend(masked(true, OpCode::Close, &1000u16.to_be_bytes()));
    s.handle_input(&input).unwrap();
    events(&mut s);
    let mut expect = Vec::new();
    for i in 0..10u8 {
        expect.extend([0x8A, 0x01, i]);
    }
    expect.extend([0x88, 0x02, 0x03, 0xE8]);
    assert_eq!(&s.poll_transmit().unwrap()[..], &expect[..]);

    // A peer that pings but never reads gets pongs up to the output limit,
    // then only the latest one.
    let cfg = Config {
        limits: Limits {
            max_queued_output: 100,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut s = open_server(cfg);
    for i in 0..1000u16 {
        s.handle_input(&masked(true, OpCode::Ping, &i.to_be_bytes()))
            .unwrap();
        assert!(s.queued_output() <= 100);
    }
    let out = s.poll_transmit().unwrap();
    assert!(out.len() <= 100);
    assert_eq!(&out[..4], &[0x8A, 0x02, 0x00, 0x00]);
    assert_eq!(&s.poll_transmit().unwrap()[..], &[0x8A, 0x02, 0x03, 0xE7]);
}

#[test]
fn output_limit() {
    let cfg = Config {
        limits: Limits {
            max_queued_output: 1000,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut s = open_server(cfg);
    s.send_binary(&[0; 600]).unwrap();
    assert_eq!(s.send_binary(&[0; 600]), Err(Error::OutputFull));
    assert!(s.poll_transmit().is_some());
    s.send_binary(&[0; 600]).unwrap();
}

#[test]
fn fragment_sending_sequence() {
    let (mut c, mut s) = pair(Config::default());
    assert!(c.send_fragment(OpCode::Continuation, b"x", true).is_err());
    c.send_fragment(OpCode::Text, b"ab", false).unwrap();
    assert!(c.send_text("no").is_err());
    c.send_fragment(OpCode::Continuation, b"cd", true).unwrap();
    s.handle_input(&c.poll_transmit().unwrap()).unwrap();
    assert_eq!(
        events(&mut s),
        [Event::Message(Message::Text("abcd".into()))]
    );
}

#[cfg(feature = "deflate")]
#[test]
fn deflate_round_trip_both_ways() {
    for (c_bits, s_bits) in [(15u8, 15u8), (12, 12), (9, 10)] {
        let cfg = Config {
            deflate: Some(DeflateConfig {
                client_max_window_bits: c_bits,
                server_max_window_bits: s_bits,
                ..DeflateConfig::default()
            }),
            ..Config::default()
        };
        let (mut c, mut s) = pair(cfg);
        assert_eq!(c.extensions().len(), 1);
        let big = "abc".repeat(100_000);
        for msg in ["hello", "", &big, "hello"] {
            c.send_text(msg).unwrap();
            let wire = c.poll_transmit().unwrap();
            if msg.len() > 100 {
                assert!(wire.len() < msg.len() / 10);
            }
            s.handle_input(&wire).unwrap();
            assert_eq!(events(&mut s), [Event::Message(Message::Text(msg.into()))]);
            s.send_text(msg).unwrap();
            c.handle_input(&s.poll_transmit().unwrap()).unwrap();
            assert_eq!(events(&mut c), [Event::Message(Message::Text(msg.into()))]);
        }
    }
}

#[cfg(feature = "deflate")]
#[test]
fn deflate_bomb_closes_1009() {
    let cfg = Config {
        limits: Limits {
            max_message_size: 1 << 20,
            ..Limits::default()
        },
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    };
    let (mut c, mut s) = pair(cfg);
    let mut big = Config::default();
    big.limits.max_message_size = 1 << 30;
    c.send_binary(&vec![0u8; 50 << 20]).unwrap();
    let wire = c.poll_transmit().unwrap();
    assert!(wire.len() < 100_000);
    assert_eq!(
        s.handle_input(&wire),
        Err(Error::MessageTooLarge { limit: 1 << 20 })
    );
    assert_eq!(sent_close_code(&mut s), Some(1009));
}

#[cfg(feature = "deflate")]
#[test]
fn rsv1_without_deflate_is_1002() {
    let mut s = open_server(Config::default());
    let mut b = BytesMut::new();
    encode_parts(true, true, OpCode::Text, b"x", Some([0; 4]), &mut b);
    assert_eq!(s.handle_input(&b), Err(Error::ReservedBits(4)));
}

#[test]
fn reserved_header_bits_and_control_rules() {
    for (bytes, err) in [
        (vec![0xA1u8, 0x80, 0, 0, 0, 0], Error::ReservedBits(2)),
        (vec![0x09, 0x80, 0, 0, 0, 0], Error::FragmentedControlFrame),
        (vec![0x89, 0xFE, 0, 126], Error::ControlFrameTooLong(126)),
        (vec![0x82, 0xFE, 0, 125], Error::NonMinimalLength),
        (
            vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0],
            Error::LengthMsbSet,
        ),
        (vec![0x80, 0x80, 0, 0, 0, 0], Error::UnexpectedContinuation),
    ] {
        let mut s = open_server(Config::default());
        assert_eq!(s.handle_input(&bytes), Err(err.clone()), "{bytes:?}");
        assert_eq!(sent_close_code(&mut s), Some(1002));
    }
    let mut h = BytesMut::new();
    encode_header(false, false, OpCode::Text, 0, Some([0; 4]), &mut h);
    encode_header(true, false, OpCode::Text, 0, Some([0; 4]), &mut h);
    let mut s = open_server(Config::default());
    assert_eq!(s.handle_input(&h), Err(Error::ExpectedContinuation));
}

proptest! {
    /// Any split of a client's output into reads gives the server the same
    /// events, and the reverse direction too.
    #[test]
    fn chunk_split_invariance(
        msgs in proptest::collection::vec(
            prop_oneof![
                "\\PC{0,300}".prop_map(|s| (true, s.into_bytes())),
                proptest::collection::vec(any::<u8>(), 0..3000).prop_map(|b| (false, b)),
            ],
            1..6,
        ),
        cuts in proptest::collection::vec(1usize..500, 1..20),
        deflate in any::<bool>(),
    ) {
        let cfg = Config {
            #[cfg(feature = "deflate")]
            deflate: deflate.then(DeflateConfig::default),
            ..Config::default()
        };
        let _ = deflate;
        let (mut c, mut s) = pair(cfg);
        for (text, m) in &msgs {
            if *text {
                c.send_text(std::str::from_utf8(m).unwrap()).unwrap();
            } else {
                c.send_binary(m).unwrap();
            }
        }
        c.close(CloseCode::NORMAL, "").unwrap();
        let wire = c.poll_transmit().unwrap();
        let mut at = 0;
        let mut i = 0;
        while at < wire.len() {
            let n = cuts[i % cuts.len()].min(wire.len() - at);
            s.handle_input(&wire[at..at + n]).unwrap();
            at += n;
            i += 1;
        }
        let ev = events(&mut s);
        prop_assert_eq!(ev.len(), msgs.len() + 1);
        for ((text, m), e) in msgs.iter().zip(&ev) {
            let got = match e { Event::Message(m) => m.clone(), other => panic!("{other:?}") };
            prop_assert_eq!(matches!(got, Message::Text(_)), *text);
            prop_assert_eq!(got.as_bytes(), &m[..]);
        }
    }
}
