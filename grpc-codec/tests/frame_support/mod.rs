//! Hand-built HTTP/2 wire bytes and assertions shared by the rule tests.
#![allow(dead_code, unreachable_pub)]

use bytes::BytesMut;
use grpc_codec::{Decoder, Error, ErrorCode, Frame, StreamId};

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const PRIORITY: u8 = 0x2;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PUSH_PROMISE: u8 = 0x5;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;

/// The wire form of a frame, built by hand.
pub fn raw(t: u8, fl: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut v = vec![len[1], len[2], len[3], t, fl];
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub fn sid(n: u32) -> StreamId {
    StreamId::new(n)
}

/// Decodes every frame of `wire` with `d`, stopping at the first error.
pub fn decode_with(d: &mut Decoder, wire: &[u8]) -> Result<Vec<Frame>, Error> {
    let mut buf = BytesMut::from(wire);
    let mut out = Vec::new();
    while let Some(f) = d.decode(&mut buf)? {
        out.push(f);
    }
    assert!(buf.is_empty(), "{} bytes left undecoded", buf.len());
    Ok(out)
}

pub fn decode_all(wire: &[u8]) -> Result<Vec<Frame>, Error> {
    decode_with(&mut Decoder::default(), wire)
}

pub fn decode_one(wire: &[u8]) -> Frame {
    let mut frames = decode_all(wire).unwrap();
    assert_eq!(frames.len(), 1);
    frames.pop().unwrap()
}

pub fn err(wire: &[u8]) -> Error {
    decode_all(wire).unwrap_err()
}

#[track_caller]
pub fn assert_conn(e: &Error, code: ErrorCode) {
    assert!(
        matches!(e, Error::Connection { code: c, .. } if *c == code),
        "expected connection error {code}, got {e:?}"
    );
    assert!(e.is_connection_error());
    assert_eq!(e.code(), code);
}

#[track_caller]
pub fn assert_stream(e: &Error, id: u32, code: ErrorCode) {
    assert!(
        matches!(e, Error::Stream { id: i, code: c, .. } if *i == sid(id) && *c == code),
        "expected stream error {code} on {id}, got {e:?}"
    );
    assert!(!e.is_connection_error());
    assert_eq!(e.stream_id(), Some(sid(id)));
}
