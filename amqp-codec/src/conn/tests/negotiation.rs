use super::*;
use crate::config::Capabilities;
use crate::sasl::{Credentials, Mechanism, Sasl};

#[test]
fn full_negotiation() {
    let mut c = Connection::client(ClientConfig::new(Sasl::plain("u", "pw"), "vh"), t0());
    let mut s = Connection::server(ServerConfig::default(), t0());
    assert_eq!(c.role(), Role::Client);
    assert_eq!(s.role(), Role::Server);
    let header = c.poll_transmit().unwrap();
    assert_eq!(&header[..], b"AMQP\x00\x00\x09\x01");
    s.handle_input(&header, t0()).unwrap();
    let start = s.poll_transmit().unwrap();
    let Method::ConnectionStart(st) = &methods(&start)[0].1 else {
        panic!("no start")
    };
    assert_eq!(st.mechanisms.as_bytes(), b"PLAIN AMQPLAIN");
    assert_eq!(
        Capabilities::from_properties(&st.server_properties),
        Capabilities::ALL
    );
    c.handle_input(&start, t0()).unwrap();
    s.handle_input(&c.poll_transmit().unwrap(), t0()).unwrap();
    let ev = events(&mut s);
    let [
        Event::Authenticate {
            mechanism,
            credentials:
                Some(Credentials::Password {
                    username, password, ..
                }),
            ..
        },
    ] = ev.as_slice()
    else {
        panic!("{ev:?}")
    };
    assert_eq!((mechanism.as_str(), username.as_str()), ("PLAIN", "u"));
    assert_eq!(password, "pw");
    assert_eq!(
        Capabilities::from_properties(s.peer_properties()),
        Capabilities::ALL
    );
    assert!(!s.is_connected() && !c.is_connected());
    s.accept_auth().unwrap();
    c.handle_input(&s.poll_transmit().unwrap(), t0()).unwrap();
    assert_eq!(c.tune(), Some(Tune::default()));
    s.handle_input(&c.poll_transmit().unwrap(), t0()).unwrap();
    assert_eq!(events(&mut s), [Event::OpenVhost { vhost: "vh".into() }]);
    s.accept_vhost().unwrap();
    let ev = events(&mut s);
    assert!(
        matches!(&ev[..], [Event::Connected { tune, vhost, .. }] if *tune == Tune::default() && vhost == "vh")
    );
    c.handle_input(&s.poll_transmit().unwrap(), t0()).unwrap();
    let ev = events(&mut c);
    let [
        Event::Connected {
            peer_properties,
            vhost,
            ..
        },
    ] = ev.as_slice()
    else {
        panic!("{ev:?}")
    };
    assert_eq!(vhost, "vh");
    assert_eq!(
        peer_properties.get("product").and_then(|v| v.as_str()),
        Some("amqp-codec")
    );
    assert!(c.is_connected() && s.is_connected());
    assert_eq!(c.vhost(), "vh");
    assert_eq!(s.vhost(), "vh");
    assert_eq!(c.free_channel(), Some(1));
}

fn login_with(credentials: Sasl, offered: Vec<Mechanism>) -> (Connection, Connection) {
    let mut c = Connection::client(ClientConfig::new(credentials, "/"), t0());
    let mut s = Connection::server(
        ServerConfig {
            mechanisms: offered,
            ..ServerConfig::default()
        },
        t0(),
    );
    for _ in 0..2 {
        if let Some(b) = c.poll_transmit() {
            let _ = s.handle_input(&b, t0());
        }
        if let Some(b) = s.poll_transmit() {
            let _ = c.handle_input(&b, t0());
        }
    }
    (c, s)
}

#[test]
fn amqplain_and_external() {
    let amq = Sasl::AmqPlain {
        username: "guest".into(),
        password: "secret".into(),
    };
    let (_, mut s) = login_with(amq, vec![Mechanism::AmqPlain]);
    let ev = events(&mut s);
    assert!(
        matches!(&ev[..], [Event::Authenticate { mechanism, credentials: Some(Credentials::Password { username, password, .. }), .. }]
            if mechanism == "AMQPLAIN" && username == "guest" && password == "secret"),
        "{ev:?}"
    );
    let ext = Sasl::External {
        authzid: String::new(),
    };
    let (_, mut s) = login_with(ext, vec![Mechanism::Plain, Mechanism::External]);
    let ev = events(&mut s);
    assert!(
        matches!(&ev[..], [Event::Authenticate { mechanism, credentials: Some(Credentials::External { authzid }), .. }]
            if mechanism == "EXTERNAL" && authzid.is_empty()),
        "{ev:?}"
    );
}

#[test]
fn no_common_mechanism_fails_the_client_silently() {
    let ext = Sasl::External {
        authzid: String::new(),
    };
    let (mut c, _) = login_with(ext, vec![Mechanism::Plain]);
    let ev = events(&mut c);
    assert!(matches!(
        closed_error(&ev),
        Some(Error::NoCommonMechanism { offered }) if offered == "PLAIN"
    ));
    assert!(c.poll_transmit().is_none(), "no close before start-ok");
    assert!(c.is_closed());
}

#[test]
fn unknown_mechanism_from_client_is_command_invalid() {
    let mut s = Connection::server(ServerConfig::default(), t0());
    s.handle_input(b"AMQP\x00\x00\x09\x01", t0()).unwrap();
    s.poll_transmit();
    let start_ok = ConnectionStartOk {
        mechanism: short("EXTERNAL"),
        ..ConnectionStartOk::default()
    };
    let e = s
        .handle_input(&method_frame(0, start_ok), t0())
        .unwrap_err();
    assert_eq!(e.reply_code(), 503);
    assert_eq!(sent_close(&mut s).unwrap().reply_code, 503);
}

#[test]
fn rejected_login_closes_with_403() {
    let (mut c, mut s) = login_with(Sasl::plain("u", "bad"), vec![Mechanism::Plain]);
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Authenticate { .. }]
    ));
    assert!(s.accept_vhost().is_err(), "no vhost is pending");
    s.reject_auth("bad password").unwrap();
    assert!(s.accept_auth().is_err(), "verdict given");
    c.handle_input(&s.poll_transmit().unwrap(), t0()).unwrap();
    let ev = events(&mut c);
    let [
        Event::Closed {
            reply_code: 403,
            reply_text,
            by_peer: true,
            error: None,
            ..
        },
    ] = ev.as_slice()
    else {
        panic!("{ev:?}")
    };
    // RabbitMQ's wording, no "access refused:" in between.
    assert_eq!(
        reply_text,
        "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. bad password"
    );
    assert!(c.is_closed());
    assert!(events(&mut s).is_empty(), "Closed waits for close-ok");
    s.handle_input(&c.poll_transmit().unwrap(), t0()).unwrap();
    let ev = events(&mut s);
    assert!(matches!(
        &ev[..],
        [Event::Closed {
            reply_code: 403,
            by_peer: false,
            error: Some(Error::AccessRefused { .. }),
            ..
        }]
    ));
    assert!(s.is_closed());
}

#[test]
fn rejected_vhost_closes_with_530() {
    let mut c = Connection::client(ClientConfig::new(Sasl::default(), "nope"), t0());
    let mut s = Connection::server(ServerConfig::default(), t0());
    let step = |c: &mut Connection, s: &mut Connection| {
        if let Some(b) = c.poll_transmit() {
            s.handle_input(&b, t0()).unwrap();
        }
        if let Some(b) = s.poll_transmit() {
            c.handle_input(&b, t0()).unwrap();
        }
    };
    step(&mut c, &mut s);
    step(&mut c, &mut s);
    s.accept_auth().unwrap();
    step(&mut c, &mut s);
    step(&mut c, &mut s);
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Authenticate { .. }, Event::OpenVhost { vhost }] if vhost == "nope"
    ));
    s.reject_vhost("vhost nope not found").unwrap();
    step(&mut c, &mut s);
    let ev = events(&mut c);
    assert!(
        matches!(
            &ev[..],
            [Event::Closed {
                reply_code: 530,
                class_id: 10,
                method_id: 40,
                by_peer: true,
                ..
            }]
        ),
        "{ev:?}"
    );
    step(&mut c, &mut s);
    assert!(s.is_closed() && c.is_closed());
}

#[test]
fn secure_challenge_round_trip() {
    let (mut c, mut s) = login_with(Sasl::plain("u", "p"), vec![Mechanism::Plain]);
    events(&mut s);
    assert!(c.answer_challenge(b"x").is_err(), "no challenge yet");
    s.send_challenge(b"nonce").unwrap();
    c.handle_input(&s.poll_transmit().unwrap(), t0()).unwrap();
    assert_eq!(
        events(&mut c),
        [Event::Challenge {
            challenge: bytes::Bytes::from_static(b"nonce")
        }]
    );
    c.answer_challenge(b"\0u\0p").unwrap();
    s.handle_input(&c.poll_transmit().unwrap(), t0()).unwrap();
    let ev = events(&mut s);
    assert!(
        matches!(&ev[..], [Event::Authenticate { mechanism, credentials: Some(_), .. }] if mechanism == "PLAIN")
    );
    s.accept_auth().unwrap();
    c.handle_input(&s.poll_transmit().unwrap(), t0()).unwrap();
    assert!(c.tune().is_some());
}

#[test]
fn tune_smaller_nonzero_wins() {
    let t = |channel_max, frame_max, heartbeat| Tune {
        channel_max,
        frame_max,
        heartbeat,
    };
    assert_eq!(
        t(2047, 131_072, 60).negotiate(t(100, 8192, 10)),
        t(100, 8192, 10)
    );
    assert_eq!(
        t(0, 0, 0).negotiate(t(100, 8192, 10)),
        t(100, 8192, 10),
        "0 means no limit"
    );
    assert_eq!(t(5, 4096, 30).negotiate(t(0, 0, 0)), t(5, 4096, 30));
    assert_eq!(t(0, 0, 0).negotiate(t(0, 0, 0)), t(0, 0, 0));

    // Over the wire: the client's smaller values win, and the server
    // accepts them.
    let (c, s) = (
        ClientConfig {
            tune: t(10, 8192, 0),
            ..ClientConfig::default()
        },
        ServerConfig {
            tune: t(0, 131_072, 30),
            ..ServerConfig::default()
        },
    );
    let p = Pair::connected(c, s);
    assert_eq!(p.c.tune(), Some(t(10, 8192, 30)));
    assert_eq!(p.s.tune(), Some(t(10, 8192, 30)));
    assert_eq!(p.s.decoder.frame_max(), 8192);
}

/// A server that got the header and start-ok, and accepted the login.
fn server_at_tune(tune: Tune) -> Connection {
    let mut s = Connection::server(
        ServerConfig {
            tune,
            ..ServerConfig::default()
        },
        t0(),
    );
    s.handle_input(b"AMQP\x00\x00\x09\x01", t0()).unwrap();
    let start_ok = ConnectionStartOk {
        mechanism: short("PLAIN"),
        response: "\0u\0p".into(),
        ..ConnectionStartOk::default()
    };
    s.handle_input(&method_frame(0, start_ok), t0()).unwrap();
    s.accept_auth().unwrap();
    s.poll_transmit();
    events(&mut s);
    s
}

#[test]
fn server_refuses_raised_tune_values() {
    let ours = Tune::default();
    for (theirs, ok) in [
        ((2047, 131_072, 0), true),
        ((1, 4096, 600), true),
        ((2048, 131_072, 60), false),
        ((0, 131_072, 60), false),
        ((2047, 131_073, 60), false),
        ((2047, 0, 60), false),
        ((2047, 4095, 60), false),
    ] {
        let mut s = server_at_tune(ours);
        let tune_ok = ConnectionTuneOk {
            channel_max: theirs.0,
            frame_max: theirs.1,
            heartbeat: theirs.2,
        };
        let r = s.handle_input(&method_frame(0, tune_ok), t0());
        assert_eq!(r.is_ok(), ok, "{theirs:?}: {r:?}");
        if !ok {
            assert_eq!(r.unwrap_err().reply_code(), 530);
            assert_eq!(sent_close(&mut s).unwrap().reply_code, 530);
        }
    }
    // A server without limits takes the client's.
    let mut s = server_at_tune(Tune {
        channel_max: 0,
        frame_max: 0,
        heartbeat: 0,
    });
    let tune_ok = ConnectionTuneOk {
        channel_max: 0,
        frame_max: 0,
        heartbeat: 0,
    };
    s.handle_input(&method_frame(0, tune_ok), t0()).unwrap();
    assert_eq!(s.channel_max(), u16::MAX);
}

#[test]
fn client_refuses_tiny_frame_max() {
    let mut c = Connection::client(ClientConfig::default(), t0());
    c.poll_transmit();
    c.handle_input(&method_frame(0, ConnectionStart::default()), t0())
        .unwrap();
    c.poll_transmit();
    let tune = ConnectionTune {
        channel_max: 0,
        frame_max: 512,
        heartbeat: 0,
    };
    let e = c.handle_input(&method_frame(0, tune), t0()).unwrap_err();
    assert!(matches!(e, Error::NotAllowed { .. }));
    assert_eq!(sent_close(&mut c).unwrap().reply_code, 530);
}

#[test]
fn out_of_order_negotiation_is_503() {
    let mut c = Connection::client(ClientConfig::default(), t0());
    c.poll_transmit();
    c.handle_input(&method_frame(0, ConnectionStart::default()), t0())
        .unwrap();
    c.poll_transmit();
    let e = c
        .handle_input(&method_frame(0, ConnectionOpenOk::default()), t0())
        .unwrap_err();
    assert_eq!(e.reply_code(), 503);
    assert_eq!(e.failing_method(), (10, 41));
    assert_eq!(sent_close(&mut c).unwrap().reply_code, 503);
}

#[test]
fn wrong_protocol_header_gets_ours() {
    let mut s = Connection::server(ServerConfig::default(), t0());
    let e = s.handle_input(b"AMQP\x01\x01\x00\x0a", t0()).unwrap_err();
    assert!(matches!(e, Error::UnsupportedProtocol(_)));
    assert_eq!(&s.poll_transmit().unwrap()[..], b"AMQP\x00\x00\x09\x01");
    assert!(s.is_closed());
    let mut s = Connection::server(ServerConfig::default(), t0());
    assert!(matches!(
        s.handle_input(b"GET / HTTP/1.1\r\n", t0()),
        Err(Error::NotAmqp { .. })
    ));
    // A server refusing our version answers with its header.
    let mut c = Connection::client(ClientConfig::default(), t0());
    c.poll_transmit();
    let e = c.handle_input(b"AMQP\x00\x01\x00\x00", t0()).unwrap_err();
    assert!(matches!(e, Error::ProtocolRefused(_)));
    assert!(c.poll_transmit().is_none() && c.is_closed());
}

#[test]
fn pending_verdict_bounds_pipelined_input() {
    let mut s = Connection::server(ServerConfig::default(), t0());
    s.handle_input(b"AMQP\x00\x00\x09\x01", t0()).unwrap();
    let start_ok = ConnectionStartOk {
        mechanism: short("PLAIN"),
        response: "\0u\0p".into(),
        ..ConnectionStartOk::default()
    };
    s.handle_input(&method_frame(0, start_ok), t0()).unwrap();
    let hb = heartbeat_frame();
    for _ in 0..1000 {
        s.handle_input(&hb, t0()).unwrap();
    }
    let flood = vec![0u8; 200_000];
    assert!(s.handle_input(&flood, t0()).is_err());
    assert!(s.inbuf.is_empty());
}

#[test]
fn negotiation_sends_nothing_channel_related_early() {
    let mut c = Connection::client(ClientConfig::default(), t0());
    assert!(matches!(c.open_channel(1), Err(Error::InvalidState(_))));
    assert!(matches!(
        c.send_method(1, &Method::from(TxSelect)),
        Err(Error::InvalidState(_))
    ));
    assert_eq!(c.free_channel(), None);
    // Channel frames before open-ok fail the connection.
    let mut s = Connection::server(ServerConfig::default(), t0());
    s.handle_input(b"AMQP\x00\x00\x09\x01", t0()).unwrap();
    let e = s
        .handle_input(&method_frame(1, ChannelOpen::default()), t0())
        .unwrap_err();
    assert_eq!(e.reply_code(), 503);
}

#[test]
fn close_before_anything_is_exchanged() {
    let mut c = Connection::client(ClientConfig::default(), t0());
    c.close(200, "bye").unwrap();
    assert!(c.is_closed());
    assert!(matches!(
        events(&mut c).as_slice(),
        [Event::Closed {
            reply_code: 200,
            by_peer: false,
            ..
        }]
    ));
    assert!(matches!(c.close(200, "again"), Err(Error::Closed)));
}
