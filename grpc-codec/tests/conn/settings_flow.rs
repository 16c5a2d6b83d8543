//! SETTINGS and PING exchanges and flow control (§6.5, §6.7, §6.9).

use bytes::Bytes;
use grpc_codec::frame::{Ping, SettingsFrame, WindowUpdate};
use grpc_codec::{
    Config, Connection, Error, ErrorCode, Event, FlowControl, Frame, Setting, SettingId,
};

use crate::conn_support::*;

#[test]
fn ping_is_answered_and_ours_acknowledged() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    c.send_ping(*b"12345678").unwrap();
    pump(&mut c, &mut s);
    assert_eq!(events(&mut c), vec![Event::PingAck { data: *b"12345678" }]);
    assert!(events(&mut s).is_empty());
    for _ in 0..16 {
        c.send_ping([0; 8]).unwrap();
    }
    assert_eq!(c.send_ping([0; 8]), Err(Error::TooManyPings));
}

#[test]
fn settings_ack_timeout() {
    let mut c = Connection::client(Config::default(), t0());
    let deadline = c.poll_timeout().unwrap();
    assert_eq!(deadline, at(10_000));
    c.handle_timeout(at(9_999));
    assert!(!c.is_closed());
    c.handle_timeout(deadline);
    assert!(c.is_closed());
    let ev = events(&mut c);
    assert!(matches!(
        &ev[..],
        [Event::Closed {
            code: ErrorCode::SETTINGS_TIMEOUT,
            ..
        }]
    ));
    let g = goaway(&drain(&mut c)).unwrap();
    assert_eq!(g.code, ErrorCode::SETTINGS_TIMEOUT);
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.send_request(&get("/"), true), Err(Error::Closed));
}

#[test]
fn settings_are_validated_and_applied() {
    for (setting, code) in [
        (
            Setting::new(SettingId::ENABLE_PUSH, 2),
            ErrorCode::PROTOCOL_ERROR,
        ),
        (
            Setting::new(SettingId::INITIAL_WINDOW_SIZE, 1 << 31),
            ErrorCode::FLOW_CONTROL_ERROR,
        ),
        (
            Setting::new(SettingId::MAX_FRAME_SIZE, 16_383),
            ErrorCode::PROTOCOL_ERROR,
        ),
        (
            Setting::new(SettingId::MAX_FRAME_SIZE, 1 << 24),
            ErrorCode::PROTOCOL_ERROR,
        ),
    ] {
        let mut p = RawPeer::client();
        p.frame(Frame::Settings(SettingsFrame::new(vec![setting])));
        let (r, _, out) = server_after(Config::default(), &p.take());
        assert_conn_error(&r.unwrap_err(), code);
        assert_eq!(goaway(&out).unwrap().code, code);
    }
    // Unknown ids are ignored; a server may not enable push for us.
    let mut p = RawPeer::server();
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId(0xfe03),
        9,
    )])));
    let mut c = Connection::client(Config::default(), t0());
    c.handle_input(&p.take(), t0()).unwrap();
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId::ENABLE_PUSH,
        1,
    )])));
    assert_conn_error(
        &c.handle_input(&p.take(), t0()).unwrap_err(),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn first_frame_must_be_settings_and_acks_must_match() {
    let mut p = RawPeer::new();
    p.raw(grpc_codec::PREFACE).frame(Frame::Ping(Ping {
        ack: false,
        data: [0; 8],
    }));
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    let mut p = RawPeer::client();
    p.frame(Frame::Settings(SettingsFrame::ack()))
        .frame(Frame::Settings(SettingsFrame::ack()));
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    let (r, _, out) = server_after(Config::default(), b"GET / HTTP/1.1\r\n\r\n");
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    assert!(goaway(&out).is_some());
}

#[test]
fn initial_window_change_applies_to_open_streams() {
    let (mut c, mut s) = pair(Config::default(), Config::default());
    let id = c.send_request(&post("/"), false).unwrap();
    pump(&mut c, &mut s);
    assert_eq!(c.send_window(id), Some(65_535));
    let mut p = RawPeer::new();
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId::INITIAL_WINDOW_SIZE,
        100,
    )])));
    c.handle_input(&p.take(), t0()).unwrap();
    assert_eq!(c.send_window(id), Some(100));
    // Raising a stream to 2^31-1, then the initial window: overflow.
    p.frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: id,
        increment: 0x7fff_ffff - 100,
    }));
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId::INITIAL_WINDOW_SIZE,
        101,
    )])));
    assert_conn_error(
        &c.handle_input(&p.take(), t0()).unwrap_err(),
        ErrorCode::FLOW_CONTROL_ERROR,
    );
}

#[test]
fn zero_window_increment_stream_vs_connection() {
    let mut p = RawPeer::client();
    p.request(1, false).frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: sid(1),
        increment: 0,
    }));
    let (r, ev, out) = server_after(Config::default(), &p.take());
    r.unwrap();
    assert!(ev.contains(&Event::Reset {
        stream: sid(1),
        code: ErrorCode::PROTOCOL_ERROR,
        by_peer: false
    }));
    assert_eq!(resets(&out), vec![(1, ErrorCode::PROTOCOL_ERROR)]);
    let mut p = RawPeer::client();
    p.frame(Frame::WindowUpdate(WindowUpdate {
        stream_id: sid(0),
        increment: 0,
    }));
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn flow_control_violations() {
    // More DATA than the stream window, once the peer has acknowledged
    // it: stream error; than the connection window: connection error.
    let small = Config {
        initial_window_size: 10,
        connection_window_size: 65_535,
        ..Config::default()
    };
    let mut p = RawPeer::client();
    p.frame(Frame::Settings(SettingsFrame::ack()))
        .request(1, false)
        .data(1, b"0123456789x", false);
    let (r, _, out) = server_after(small, &p.take());
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::FLOW_CONTROL_ERROR)]);
    // Before the ACK the peer may still use the default 65535 (§6.9.2).
    let mut p = RawPeer::client();
    p.request(1, false).data(1, b"0123456789x", false);
    let (r, ev, out) = server_after(small, &p.take());
    r.unwrap();
    assert!(resets(&out).is_empty());
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Data { data, .. } if data.len() == 11))
    );
    let mut p = RawPeer::client();
    p.frame(Frame::Settings(SettingsFrame::new(vec![Setting::new(
        SettingId::MAX_FRAME_SIZE,
        1 << 20,
    )])));
    let big = Config {
        initial_window_size: 1 << 20,
        connection_window_size: 65_535,
        limits: grpc_codec::Limits {
            max_frame_size: 1 << 20,
            ..grpc_codec::Limits::default()
        },
        ..Config::default()
    };
    p.request(1, false)
        .frame(Frame::Data(grpc_codec::frame::Data::new(
            sid(1),
            Bytes::from(vec![0; 65_536]),
            false,
        )));
    let (r, _, _) = server_after(big, &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn manual_flow_control_waits_for_release() {
    let manual = Config {
        flow_control: FlowControl::Manual,
        initial_window_size: 100,
        ..Config::default()
    };
    let (mut c, mut s) = pair(Config::default(), manual);
    let id = c.send_request(&post("/"), false).unwrap();
    c.send_data(id, Bytes::from(vec![1; 250]), true).unwrap();
    pump(&mut c, &mut s);
    let got: usize = events(&mut s)
        .iter()
        .map(|e| match e {
            Event::Data { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(got, 100);
    assert_eq!(c.send_buffered(), 150);
    s.release_capacity(id, 100).unwrap();
    pump(&mut c, &mut s);
    s.release_capacity(id, 100).unwrap();
    pump(&mut c, &mut s);
    assert_eq!(c.send_buffered(), 0);
    assert!(matches!(
        events(&mut s).last(),
        Some(Event::Data {
            end_stream: true,
            ..
        })
    ));
}
