//! The driver never hangs on a hostile or silent server.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use super::{XmppError, XmppStream, client_config};

/// A server that answers the client's header with `reply`, then reads
/// and stays silent for three seconds.
fn hostile(reply: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = tcp.read(&mut buf);
        let _ = tcp.write_all(reply);
        tcp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let _ = tcp.read(&mut buf);
        thread::sleep(Duration::from_secs(3));
    });
    addr
}

fn login(addr: &str) -> (Result<XmppStream, XmppError>, Duration) {
    let cfg = client_config("a@localhost/r".parse().unwrap(), "pw");
    let started = Instant::now();
    let r = XmppStream::connect(addr, cfg, Duration::from_secs(1));
    (r, started.elapsed())
}

#[test]
fn silent_server_times_out() {
    let (r, took) = login(&hostile(b""));
    assert!(matches!(r, Err(XmppError::Timeout(_))), "{r:?}");
    assert!(took < Duration::from_millis(1600), "{took:?}");
}

#[test]
fn garbage_fails_the_stream_at_once() {
    let (r, took) = login(&hostile(b"<<<\x00not xml at all"));
    assert!(matches!(r, Err(XmppError::Closed(_))), "{r:?}");
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[test]
fn endless_header_attributes_hit_a_limit_or_the_deadline() {
    // A header that never ends: the limit on its size or the deadline ends
    // the wait, never a hang.
    let mut junk = b"<stream:stream xmlns='jabber:client' ".to_vec();
    junk.extend(std::iter::repeat_n(b'a', 200_000));
    let junk: &'static [u8] = Box::leak(junk.into_boxed_slice());
    let (r, took) = login(&hostile(junk));
    assert!(r.is_err());
    assert!(took < Duration::from_millis(1600), "{took:?}");
}
