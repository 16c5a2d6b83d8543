//! The fixed-layout control frames: RST_STREAM (RFC 9113 §6.4), PING
//! (§6.7), GOAWAY (§6.8) and WINDOW_UPDATE (§6.9).

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};

use super::{FrameHeader, FrameType, StreamId, U31_MASK, flags};
use crate::error::{Error, ErrorCode, Reason};

/// Reads the big-endian u32 at `at`, 0 if `buf` is too short (the header
/// checks made it long enough).
fn u32_at(buf: &[u8], at: usize) -> u32 {
    buf.get(at..at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes)
}

/// A RST_STREAM frame (§6.4): ends one stream at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RstStream {
    /// The stream (never 0).
    pub stream_id: StreamId,
    /// Why; unknown codes are kept and mean nothing special (§7).
    pub code: ErrorCode,
}

impl RstStream {
    pub(super) fn decode_payload(header: &FrameHeader, payload: &[u8]) -> Self {
        Self {
            stream_id: header.stream_id,
            code: ErrorCode(u32_at(payload, 0)),
        }
    }

    pub(super) fn encode(&self, dst: &mut BytesMut) {
        FrameHeader::encode(4, FrameType::RST_STREAM, 0, self.stream_id, dst);
        dst.put_u32(self.code.0);
    }
}

/// A PING frame (§6.7): the peer must echo `data` with ACK set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping {
    /// ACK: this is the echo of our PING.
    pub ack: bool,
    /// Opaque data, echoed unchanged.
    pub data: [u8; 8],
}

impl Ping {
    /// The answer a PING requires: the same data with ACK set.
    #[must_use]
    pub const fn pong(self) -> Self {
        Self {
            ack: true,
            data: self.data,
        }
    }

    pub(super) fn decode_payload(header: &FrameHeader, payload: &[u8]) -> Self {
        Self {
            ack: header.has(flags::ACK),
            data: payload
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .unwrap_or_default(),
        }
    }

    pub(super) fn encode(&self, dst: &mut BytesMut) {
        let fl = if self.ack { flags::ACK } else { 0 };
        FrameHeader::encode(8, FrameType::PING, fl, StreamId::ZERO, dst);
        dst.put_slice(&self.data);
    }
}

/// A GOAWAY frame (§6.8): the sender stops accepting streams above
/// `last_stream_id` and will close the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoAway {
    /// The highest peer-initiated stream the sender may have processed.
    pub last_stream_id: StreamId,
    /// Why; unknown codes are kept.
    pub code: ErrorCode,
    /// Opaque diagnostic data.
    pub debug_data: Bytes,
}

impl GoAway {
    /// A GOAWAY without debug data.
    #[must_use]
    pub const fn new(last_stream_id: StreamId, code: ErrorCode) -> Self {
        Self {
            last_stream_id,
            code,
            debug_data: Bytes::new(),
        }
    }

    pub(super) fn decode_payload(mut payload: Bytes) -> Self {
        let last_stream_id = StreamId::new(u32_at(&payload, 0));
        let code = ErrorCode(u32_at(&payload, 4));
        payload.advance(8.min(payload.len()));
        Self {
            last_stream_id,
            code,
            debug_data: payload,
        }
    }

    pub(super) fn encode(&self, len: u32, dst: &mut BytesMut) {
        FrameHeader::encode(len, FrameType::GOAWAY, 0, StreamId::ZERO, dst);
        dst.put_u32(self.last_stream_id.value());
        dst.put_u32(self.code.0);
        dst.put_slice(&self.debug_data);
    }
}

/// A WINDOW_UPDATE frame (§6.9): `increment` more bytes may be sent on
/// the stream, or on the connection when the stream is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowUpdate {
    /// The stream, or 0 for the connection window.
    pub stream_id: StreamId,
    /// 1 to 2^31 - 1.
    pub increment: u32,
}

impl WindowUpdate {
    /// Largest increment (§6.9).
    pub const MAX_INCREMENT: u32 = U31_MASK;

    pub(super) fn decode_payload(header: &FrameHeader, payload: &[u8]) -> Result<Self, Error> {
        let stream_id = header.stream_id;
        let increment = u32_at(payload, 0) & U31_MASK;
        if increment == 0 {
            return Err(if stream_id.is_zero() {
                Error::connection(ErrorCode::PROTOCOL_ERROR, Reason::ZeroWindowIncrement)
            } else {
                Error::Stream {
                    id: stream_id,
                    code: ErrorCode::PROTOCOL_ERROR,
                    reason: Reason::ZeroWindowIncrement,
                }
            });
        }
        Ok(Self {
            stream_id,
            increment,
        })
    }

    pub(super) fn encode(&self, dst: &mut BytesMut) {
        FrameHeader::encode(4, FrameType::WINDOW_UPDATE, 0, self.stream_id, dst);
        dst.put_u32(self.increment & U31_MASK);
    }
}
