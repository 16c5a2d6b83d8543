//! The frame-level rules of RFC 9113 §6.4-§6.9 for RST_STREAM, SETTINGS,
//! PING, GOAWAY and WINDOW_UPDATE, each with its error code and kind
//! (connection or stream error), on hand-built wire bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

mod frame_support;

use bytes::{Bytes, BytesMut};
use frame_support::*;
use grpc_codec::frame::{GoAway, Ping, SettingsFrame, WindowUpdate, flags};
use grpc_codec::{Decoder, ErrorCode, Frame, Reason, Setting, SettingId};

// ---- RST_STREAM (§6.4) ----

#[test]
fn rst_stream() {
    let f = decode_one(&raw(RST_STREAM, 0, 1, &[0xde, 0xad, 0xbe, 0xef]));
    assert!(matches!(f, Frame::RstStream(r) if r.code == ErrorCode(0xdead_beef)));
    for len in [0, 3, 5] {
        let e = err(&raw(RST_STREAM, 0, 1, &vec![0; len]));
        assert_conn(&e, ErrorCode::FRAME_SIZE_ERROR);
    }
}

// ---- SETTINGS (§6.5) ----

fn settings_payload(params: &[(u16, u32)]) -> Vec<u8> {
    params
        .iter()
        .flat_map(|(i, v)| {
            let mut b = i.to_be_bytes().to_vec();
            b.extend(v.to_be_bytes());
            b
        })
        .collect()
}

#[test]
fn settings_keep_unknown_ids_in_order() {
    let p = settings_payload(&[(4, 4_194_304), (5, 4_194_304), (65027, 1), (2, 0)]);
    let f = decode_one(&raw(SETTINGS, 0, 0, &p));
    assert_eq!(
        f,
        Frame::Settings(SettingsFrame::new(vec![
            Setting::new(SettingId::INITIAL_WINDOW_SIZE, 4_194_304),
            Setting::new(SettingId::MAX_FRAME_SIZE, 4_194_304),
            Setting::new(SettingId(65027), 1),
            Setting::new(SettingId::ENABLE_PUSH, 0),
        ]))
    );
    assert_eq!(
        decode_one(&raw(SETTINGS, flags::ACK, 0, b"")),
        Frame::Settings(SettingsFrame::ack())
    );
}

#[test]
fn settings_length_not_a_multiple_of_six_is_a_frame_size_error() {
    for len in [1, 5, 7, 13] {
        let e = err(&raw(SETTINGS, 0, 0, &vec![0; len]));
        assert_conn(&e, ErrorCode::FRAME_SIZE_ERROR);
    }
}

#[test]
fn settings_ack_with_payload_is_a_frame_size_error() {
    let e = err(&raw(SETTINGS, flags::ACK, 0, &settings_payload(&[(1, 0)])));
    assert_conn(&e, ErrorCode::FRAME_SIZE_ERROR);
    assert_eq!(e.reason(), Some(&Reason::SettingsAckWithPayload));
}

#[test]
fn settings_values_out_of_range() {
    for (id, v, code) in [
        (2, 2, ErrorCode::PROTOCOL_ERROR),
        (2, u32::MAX, ErrorCode::PROTOCOL_ERROR),
        (4, 1 << 31, ErrorCode::FLOW_CONTROL_ERROR),
        (4, u32::MAX, ErrorCode::FLOW_CONTROL_ERROR),
        (5, 16_383, ErrorCode::PROTOCOL_ERROR),
        (5, 0, ErrorCode::PROTOCOL_ERROR),
        (5, 1 << 24, ErrorCode::PROTOCOL_ERROR),
        (8, 2, ErrorCode::PROTOCOL_ERROR),
        (9, 2, ErrorCode::PROTOCOL_ERROR),
    ] {
        let e = err(&raw(
            SETTINGS,
            0,
            0,
            &settings_payload(&[(3, 100), (id, v)]),
        ));
        assert_conn(&e, code);
        assert_eq!(
            e.reason(),
            Some(&Reason::InvalidSetting(Setting::new(SettingId(id), v)))
        );
    }
    for (id, v) in [
        (2, 1),
        (4, (1 << 31) - 1),
        (5, 16_384),
        (5, (1 << 24) - 1),
        (1, u32::MAX),
    ] {
        assert!(decode_all(&raw(SETTINGS, 0, 0, &settings_payload(&[(id, v)]))).is_ok());
    }
}

// ---- PING (§6.7) ----

#[test]
fn ping() {
    let f = decode_one(&raw(PING, flags::ACK, 0, b"12345678"));
    let Frame::Ping(p) = f else { panic!() };
    assert!(p.ack);
    assert_eq!(&p.data, b"12345678");
    assert_eq!(Ping { ack: false, ..p }.pong(), p);
    for len in [0, 7, 9] {
        let e = err(&raw(PING, 0, 0, &vec![0; len]));
        assert_conn(&e, ErrorCode::FRAME_SIZE_ERROR);
    }
}

// ---- GOAWAY (§6.8) ----

#[test]
fn goaway() {
    let f = decode_one(&raw(GOAWAY, 0, 0, b"\0\0\0\x07\0\0\0\x0bcalm down"));
    assert_eq!(
        f,
        Frame::GoAway(GoAway {
            last_stream_id: sid(7),
            code: ErrorCode::ENHANCE_YOUR_CALM,
            debug_data: Bytes::from_static(b"calm down"),
        })
    );
    let f = decode_one(&raw(GOAWAY, 0, 0, b"\0\0\0\0\0\0\x01\0"));
    assert!(matches!(f, Frame::GoAway(g) if g.code == ErrorCode(256) && g.debug_data.is_empty()));
    for len in [0, 4, 7] {
        let e = err(&raw(GOAWAY, 0, 0, &vec![0; len]));
        assert_conn(&e, ErrorCode::FRAME_SIZE_ERROR);
    }
}

// ---- WINDOW_UPDATE (§6.9) ----

#[test]
fn window_update() {
    let f = decode_one(&raw(WINDOW_UPDATE, 0, 1, &[0x7f, 0xff, 0xff, 0xff]));
    assert_eq!(
        f,
        Frame::WindowUpdate(WindowUpdate {
            stream_id: sid(1),
            increment: WindowUpdate::MAX_INCREMENT
        })
    );
}

#[test]
fn window_update_zero_on_the_connection_is_a_connection_error() {
    for p in [[0, 0, 0, 0], [0x80, 0, 0, 0]] {
        let e = err(&raw(WINDOW_UPDATE, 0, 0, &p));
        assert_conn(&e, ErrorCode::PROTOCOL_ERROR);
        assert_eq!(e.reason(), Some(&Reason::ZeroWindowIncrement));
    }
}

#[test]
fn window_update_zero_on_a_stream_is_a_stream_error() {
    let mut wire = raw(WINDOW_UPDATE, 0, 9, &[0, 0, 0, 0]);
    wire.extend(raw(WINDOW_UPDATE, 0, 9, &[0, 0, 0, 1]));
    let mut d = Decoder::default();
    let mut buf = BytesMut::from(&wire[..]);
    let e = d.decode(&mut buf).unwrap_err();
    assert_stream(&e, 9, ErrorCode::PROTOCOL_ERROR);
    assert!(matches!(
        d.decode(&mut buf),
        Ok(Some(Frame::WindowUpdate(_)))
    ));
}

#[test]
fn window_update_of_wrong_length_is_a_frame_size_error() {
    for (stream, len) in [(0, 3), (0, 5), (1, 0), (1, 8)] {
        let e = err(&raw(WINDOW_UPDATE, 0, stream, &vec![1; len]));
        assert_conn(&e, ErrorCode::FRAME_SIZE_ERROR);
    }
}

// ---- errors name what happened ----

#[test]
fn error_messages() {
    let e = err(&raw(PING, 0, 0, &[0; 7]));
    assert_eq!(
        e.to_string(),
        "connection error FRAME_SIZE_ERROR: peer sent PING frame with length 7"
    );
}
