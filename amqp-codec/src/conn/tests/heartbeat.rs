use super::*;

fn pair_with_heartbeat(secs: u16) -> Pair {
    let (c, s) = configs(Tune {
        heartbeat: secs,
        ..Tune::default()
    });
    Pair::connected(c, s)
}

fn is_heartbeat(out: Option<bytes::Bytes>) -> bool {
    out.is_some_and(|b| b[..] == heartbeat_frame()[..])
}

#[test]
fn sends_after_half_an_idle_interval() {
    let mut p = pair_with_heartbeat(10);
    assert_eq!(p.c.poll_timeout(), Some(at(5)));
    p.c.handle_timeout(at(4));
    assert!(p.c.poll_transmit().is_none(), "not yet");
    p.c.handle_timeout(at(5));
    assert!(is_heartbeat(p.c.poll_transmit()));
    assert_eq!(p.c.poll_timeout(), Some(at(10)));
    p.c.handle_timeout(at(10));
    assert!(is_heartbeat(p.c.poll_transmit()));
    // Peer dead at 20 s: the next deadline is the earlier one, 15 s.
    assert_eq!(p.c.poll_timeout(), Some(at(15)));
}

#[test]
fn any_frame_sent_restarts_the_idle_timer() {
    let mut p = pair_with_heartbeat(10);
    p.c.handle_input(&[], at(3)).unwrap();
    p.c.send_method(0, &Method::from(ConnectionUpdateSecret::default()))
        .unwrap();
    assert_eq!(p.c.poll_timeout(), Some(at(8)));
    assert!(p.c.poll_transmit().is_some());
    p.c.handle_timeout(at(5));
    assert!(p.c.poll_transmit().is_none(), "no heartbeat yet");
}

#[test]
fn peer_dead_after_two_silent_intervals() {
    let mut p = pair_with_heartbeat(10);
    for t in [5, 10, 15] {
        p.c.handle_timeout(at(t));
        assert!(is_heartbeat(p.c.poll_transmit()));
    }
    p.c.handle_timeout(at(20));
    let ev = events(&mut p.c);
    assert!(
        matches!(
            &ev[..],
            [Event::Closed {
                reply_code: 320,
                by_peer: false,
                error: Some(Error::HeartbeatTimeout),
                ..
            }]
        ),
        "{ev:?}"
    );
    assert!(p.c.poll_transmit().is_none(), "no close to a dead peer");
    assert!(p.c.is_closed());
    assert_eq!(p.c.poll_timeout(), None);
    assert!(matches!(p.c.open_channel(1), Err(Error::Closed)));
    assert_eq!(
        p.c.handle_input(&heartbeat_frame(), at(21)),
        Err(Error::HeartbeatTimeout)
    );
}

#[test]
fn any_received_bytes_count_as_liveness() {
    let mut p = pair_with_heartbeat(10);
    // One byte of a frame that is not complete yet.
    p.c.handle_input(&heartbeat_frame()[..1], at(15)).unwrap();
    p.c.handle_timeout(at(20));
    assert!(p.c.is_connected());
    assert_eq!(p.c.heartbeat.dead_at(), Some(at(35)));
    p.c.handle_input(&heartbeat_frame()[1..], at(30)).unwrap();
    p.c.handle_timeout(at(49));
    assert!(p.c.is_connected());
    p.c.handle_timeout(at(50));
    assert!(matches!(
        closed_error(&events(&mut p.c)),
        Some(Error::HeartbeatTimeout)
    ));
}

#[test]
fn heartbeats_keep_a_pair_alive() {
    let mut p = pair_with_heartbeat(4);
    for t in 1..=60 {
        p.now = at(t);
        p.c.handle_timeout(p.now);
        p.s.handle_timeout(p.now);
        p.pump();
    }
    assert!(p.c.is_connected() && p.s.is_connected());
    assert!(events(&mut p.c).is_empty() && events(&mut p.s).is_empty());
}

#[test]
fn no_heartbeat_no_timer() {
    let mut p = pair_with_heartbeat(0);
    assert_eq!(p.c.tune().unwrap().heartbeat, 0);
    assert_eq!(p.c.poll_timeout(), None);
    assert_eq!(p.s.poll_timeout(), None);
    p.c.handle_timeout(at(100_000));
    assert!(p.c.is_connected());
}

#[test]
fn handshake_timeout() {
    let mut s = Connection::server(ServerConfig::default(), t0());
    assert_eq!(s.poll_timeout(), Some(at(10)));
    s.handle_timeout(at(9));
    assert!(!s.is_closed());
    s.handle_timeout(at(10));
    assert!(s.is_closed());
    assert!(matches!(
        closed_error(&events(&mut s)),
        Some(Error::HandshakeTimeout)
    ));
    assert!(s.poll_transmit().is_none());

    // A server stuck waiting for the application's verdict times out too.
    let mut c = Connection::client(ClientConfig::default(), t0());
    let mut s = Connection::server(ServerConfig::default(), t0());
    s.handle_input(&c.poll_transmit().unwrap(), t0()).unwrap();
    c.handle_input(&s.poll_transmit().unwrap(), t0()).unwrap();
    s.handle_input(&c.poll_transmit().unwrap(), t0()).unwrap();
    s.handle_timeout(at(11));
    assert!(matches!(
        closed_error(&events(&mut s)),
        Some(Error::HandshakeTimeout)
    ));
}

#[test]
fn no_heartbeats_while_closing() {
    let mut p = pair_with_heartbeat(10);
    p.c.close(200, "bye").unwrap();
    p.c.poll_transmit();
    assert_eq!(p.c.poll_timeout(), Some(at(10)), "only the close timeout");
    p.c.handle_timeout(at(9));
    assert!(p.c.poll_transmit().is_none());
    p.c.handle_timeout(at(10));
    assert!(p.c.is_closed());
    assert!(matches!(
        events(&mut p.c).as_slice(),
        [Event::Closed {
            reply_code: 200,
            by_peer: false,
            error: None,
            ..
        }]
    ));
}
