//! A real pika 1.4.4 <-> RabbitMQ 3.10.8 handshake: each side of it
//! replayed into our other side.

use super::*;
use crate::sasl::{Credentials, Sasl};

/// `(from_client, name, bytes)` for each recorded frame.
fn recorded() -> Vec<(bool, String, Vec<u8>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/amqp/handshake_rabbitmq-3.10.8.txt"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("cannot read {path}: {e} (shared vectors beside the workspace)")
    });
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split_whitespace();
            let (side, name, hex) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (side == "C", name.to_owned(), bytes)
        })
        .collect()
}

fn frame_named(name: &str) -> Vec<u8> {
    recorded()
        .into_iter()
        .find(|(_, n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in the vector"))
        .2
}

fn pika_like_client() -> ClientConfig {
    ClientConfig {
        tune: Tune {
            channel_max: 2047,
            frame_max: 131_072,
            heartbeat: 10,
        },
        ..ClientConfig::new(Sasl::plain("codec", "codecpw"), "codec")
    }
}

fn only_method(bytes: &[u8]) -> Method {
    let mut m = methods(bytes);
    assert_eq!(m.len(), 1, "{m:?}");
    m.remove(0).1
}

#[test]
fn rabbitmq_server_side_into_our_client() {
    let mut c = Connection::client(pika_like_client(), t0());
    assert_eq!(
        c.poll_transmit().unwrap().to_vec(),
        frame_named("protocol-header")
    );

    c.handle_input(&frame_named("connection.start"), t0())
        .unwrap();
    let ours = only_method(&c.poll_transmit().unwrap());
    let theirs = only_method(&frame_named("connection.start-ok"));
    let (Method::ConnectionStartOk(ours), Method::ConnectionStartOk(theirs)) = (ours, theirs)
    else {
        panic!("not start-ok")
    };
    assert_eq!(ours.mechanism, theirs.mechanism);
    assert_eq!(ours.response, theirs.response);
    assert_eq!(ours.locale, theirs.locale);
    // We announce what pika does, and three more.
    let caps = crate::Capabilities::from_properties(&ours.client_properties);
    assert_eq!(
        crate::Capabilities {
            consumer_priorities: false,
            per_consumer_qos: false,
            direct_reply_to: false,
            ..caps
        },
        crate::Capabilities::from_properties(&theirs.client_properties)
    );

    c.handle_input(&frame_named("connection.tune"), t0())
        .unwrap();
    let out = c.poll_transmit().unwrap();
    let tune_ok = frame_named("connection.tune-ok");
    assert_eq!(&out[..tune_ok.len()], &tune_ok[..], "tune-ok byte for byte");
    let Method::ConnectionOpen(open) = only_method(&out[tune_ok.len()..]) else {
        panic!("no open")
    };
    let Method::ConnectionOpen(pika_open) = only_method(&frame_named("connection.open")) else {
        panic!("no open")
    };
    // pika sets the deprecated insist bit; we leave it clear.
    assert_eq!(open.virtual_host, pika_open.virtual_host);
    assert_eq!(open.capabilities, pika_open.capabilities);

    c.handle_input(&frame_named("connection.open-ok"), t0())
        .unwrap();
    let ev = events(&mut c);
    let [
        Event::Connected {
            peer_properties,
            tune,
            vhost,
        },
    ] = ev.as_slice()
    else {
        panic!("{ev:?}")
    };
    assert_eq!(vhost, "codec");
    assert_eq!(
        *tune,
        Tune {
            channel_max: 2047,
            frame_max: 131_072,
            heartbeat: 10
        }
    );
    assert_eq!(
        peer_properties.get("version").and_then(|v| v.as_str()),
        Some("3.10.8")
    );
    assert!(crate::Capabilities::from_properties(peer_properties).publisher_confirms);

    c.open_channel(1).unwrap();
    assert_eq!(
        c.poll_transmit().unwrap().to_vec(),
        frame_named("channel.open"),
        "channel.open byte for byte"
    );
    c.handle_input(&frame_named("channel.open-ok"), t0())
        .unwrap();
    assert_eq!(events(&mut c), [Event::ChannelOpened { channel: 1 }]);
}

#[test]
fn pika_client_side_into_our_server() {
    let mut s = Connection::server(ServerConfig::default(), t0());
    s.handle_input(&frame_named("protocol-header"), t0())
        .unwrap();
    let Method::ConnectionStart(start) = only_method(&s.poll_transmit().unwrap()) else {
        panic!("no start")
    };
    let Method::ConnectionStart(rabbit) = only_method(&frame_named("connection.start")) else {
        panic!("no start")
    };
    assert_eq!(start.mechanisms, rabbit.mechanisms);
    assert_eq!(start.locales, rabbit.locales);
    assert_eq!(
        (start.version_major, start.version_minor),
        (rabbit.version_major, rabbit.version_minor)
    );

    s.handle_input(&frame_named("connection.start-ok"), t0())
        .unwrap();
    let ev = events(&mut s);
    assert!(
        matches!(&ev[..], [Event::Authenticate { credentials: Some(Credentials::Password { username, password, .. }), .. }]
            if username == "codec" && password == "codecpw"),
        "{ev:?}"
    );
    assert_eq!(
        s.peer_properties().get("product").and_then(|v| v.as_str()),
        Some("Pika Python Client Library")
    );
    s.accept_auth().unwrap();
    assert_eq!(
        s.poll_transmit().unwrap().to_vec(),
        frame_named("connection.tune"),
        "tune byte for byte"
    );

    s.handle_input(&frame_named("connection.tune-ok"), t0())
        .unwrap();
    s.handle_input(&frame_named("connection.open"), t0())
        .unwrap();
    assert_eq!(
        events(&mut s),
        [Event::OpenVhost {
            vhost: "codec".into()
        }]
    );
    s.accept_vhost().unwrap();
    assert_eq!(
        s.poll_transmit().unwrap().to_vec(),
        frame_named("connection.open-ok"),
        "open-ok byte for byte"
    );
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Connected { tune, .. }] if tune.heartbeat == 10
    ));

    s.handle_input(&frame_named("channel.open"), t0()).unwrap();
    assert_eq!(
        s.poll_transmit().unwrap().to_vec(),
        frame_named("channel.open-ok"),
        "channel.open-ok byte for byte"
    );
    assert_eq!(events(&mut s), [Event::ChannelOpened { channel: 1 }]);
}

#[test]
fn whole_client_side_in_one_read() {
    // pika's frames back to back, as one read: the server stops at the
    // login and the vhost and picks up where it left off.
    let mut all = Vec::new();
    for (from_client, _, bytes) in recorded() {
        if from_client {
            all.extend_from_slice(&bytes);
        }
    }
    let mut s = Connection::server(ServerConfig::default(), t0());
    s.handle_input(&all, t0()).unwrap();
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Authenticate { .. }]
    ));
    s.accept_auth().unwrap();
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::OpenVhost { .. }]
    ));
    s.accept_vhost().unwrap();
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Connected { .. }, Event::ChannelOpened { channel: 1 }]
    ));
}
