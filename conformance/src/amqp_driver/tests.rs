//! The driver over loopback against its own server role.

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use amqp_codec::ServerConfig;

use super::{AmqpStream, AmqpUrl, CloseInfo, DriverError};

fn users() -> Vec<(String, String)> {
    vec![("u".to_owned(), "pw".to_owned())]
}

#[test]
fn silent_peer_is_dropped_after_two_heartbeat_intervals() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut cfg = ServerConfig::default();
        cfg.tune.heartbeat = 1;
        let (s, user) =
            AmqpStream::accept_users(tcp, cfg, &users(), Duration::from_secs(5)).unwrap();
        assert_eq!(user, "u");
        // Silent from here on: the socket stays open, nothing is sent.
        thread::sleep(Duration::from_secs(3));
        drop(s);
    });
    let url = AmqpUrl::parse(&format!("amqp://u:pw@{addr}/")).unwrap();
    let mut cfg = url.client_config();
    cfg.tune.heartbeat = 1;
    let mut c = AmqpStream::connect(&url, cfg, Duration::from_secs(5)).unwrap();
    assert_eq!(c.tune().map(|t| t.heartbeat), Some(1));
    let started = Instant::now();
    let err = c.idle(Duration::from_secs(10)).unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(
            &err,
            DriverError::Closed(CloseInfo {
                error: Some(amqp_codec::Error::HeartbeatTimeout),
                ..
            })
        ),
        "{err}"
    );
    assert!(
        waited >= Duration::from_millis(1800) && waited < Duration::from_millis(2600),
        "dead peer detected after {waited:?}"
    );
    server.join().unwrap();
}

#[test]
fn wrong_password_is_refused_with_403() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        AmqpStream::accept_users(
            tcp,
            ServerConfig::default(),
            &users(),
            Duration::from_secs(5),
        )
        .map(|_| ())
    });
    let url = AmqpUrl::parse(&format!("amqp://u:wrong@{addr}/")).unwrap();
    let err = AmqpStream::connect(&url, url.client_config(), Duration::from_secs(5)).unwrap_err();
    match err {
        DriverError::Closed(c) => {
            assert!(c.by_peer && c.reply_code == 403, "{c}");
            assert!(c.reply_text.starts_with("ACCESS_REFUSED"), "{c}");
        }
        e => panic!("expected a 403 close, got {e}"),
    }
    match server.join().unwrap() {
        Err(DriverError::Closed(c)) => assert_eq!(c.reply_code, 403),
        other => panic!("server side: {other:?}"),
    }
}
