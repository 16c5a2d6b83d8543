//! HTTP/2 frames (RFC 9113 §4, §6) as typed values.
//!
//! Each of the ten frame types is a struct; [`Frame`] is their union plus
//! [`Frame::Unknown`] for extension types, which receivers must ignore
//! (§4.1, §5.5). Flags that a type does not define are dropped on receipt
//! and never sent; the reserved bit of stream ids is cleared by
//! [`StreamId::new`], so it is ignored on receipt and clear on send.
//!
//! Parsing a payload lives beside each type (`decode_payload`), the header
//! and the rules that need only the header in [`FrameHeader`]; the codec
//! ([`crate::codec`]) strings them together.

mod control;
mod data;
mod headers;
mod settings;

use bytes::{BufMut as _, Bytes, BytesMut};

pub use control::{GoAway, Ping, RstStream, WindowUpdate};
pub use data::Data;
pub use headers::{Continuation, Headers, Priority, PrioritySpec, PushPromise};
pub use settings::{MAX_WINDOW_SIZE, Setting, SettingId, SettingsFrame};

use crate::error::{Error, ErrorCode, Reason};

/// Length of the fixed frame header (§4.1).
pub const HEADER_LEN: usize = 9;

/// Largest payload length the 24-bit length field can carry (§4.1), and
/// the largest valid SETTINGS_MAX_FRAME_SIZE (§6.5.2).
pub const MAX_PAYLOAD_LEN: u32 = (1 << 24) - 1;

/// The initial, and smallest valid, SETTINGS_MAX_FRAME_SIZE (§6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 1 << 14;

/// Mask of the 31 bits of a stream id or window increment; the top bit is
/// reserved (§4.1, §6.9).
const U31_MASK: u32 = 0x7fff_ffff;

/// A 31-bit stream identifier (§5.1.1). Zero names the connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId(u32);

impl StreamId {
    /// Stream 0: frames about the whole connection.
    pub const ZERO: Self = Self(0);
    /// The largest stream id (2^31 - 1).
    pub const MAX: Self = Self(U31_MASK);

    /// The stream id in the low 31 bits of `raw`; the reserved top bit is
    /// dropped, as receivers must ignore it (§4.1).
    #[must_use]
    pub const fn new(raw: u32) -> Self {
        Self(raw & U31_MASK)
    }

    /// The id as a number (< 2^31).
    #[must_use]
    pub const fn value(self) -> u32 {
        self.0
    }

    /// Whether this is stream 0, the connection.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether a client opens streams with this id (odd, §5.1.1).
    #[must_use]
    pub const fn is_client_initiated(self) -> bool {
        self.0 % 2 == 1
    }

    /// Whether a server opens (pushes) streams with this id (even, non-zero,
    /// §5.1.1).
    #[must_use]
    pub const fn is_server_initiated(self) -> bool {
        self.0 != 0 && self.0 % 2 == 0
    }
}

impl From<u32> for StreamId {
    fn from(raw: u32) -> Self {
        Self::new(raw)
    }
}

impl From<StreamId> for u32 {
    fn from(id: StreamId) -> Self {
        id.0
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The 8-bit frame type (§4.1, §6); values without a constant are
/// extension types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrameType(pub u8);

impl FrameType {
    /// DATA (§6.1).
    pub const DATA: Self = Self(0x0);
    /// HEADERS (§6.2).
    pub const HEADERS: Self = Self(0x1);
    /// PRIORITY (§6.3).
    pub const PRIORITY: Self = Self(0x2);
    /// RST_STREAM (§6.4).
    pub const RST_STREAM: Self = Self(0x3);
    /// SETTINGS (§6.5).
    pub const SETTINGS: Self = Self(0x4);
    /// PUSH_PROMISE (§6.6).
    pub const PUSH_PROMISE: Self = Self(0x5);
    /// PING (§6.7).
    pub const PING: Self = Self(0x6);
    /// GOAWAY (§6.8).
    pub const GOAWAY: Self = Self(0x7);
    /// WINDOW_UPDATE (§6.9).
    pub const WINDOW_UPDATE: Self = Self(0x8);
    /// CONTINUATION (§6.10).
    pub const CONTINUATION: Self = Self(0x9);

    /// The spec's name for the type, `None` for extension types.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0 => "DATA",
            0x1 => "HEADERS",
            0x2 => "PRIORITY",
            0x3 => "RST_STREAM",
            0x4 => "SETTINGS",
            0x5 => "PUSH_PROMISE",
            0x6 => "PING",
            0x7 => "GOAWAY",
            0x8 => "WINDOW_UPDATE",
            0x9 => "CONTINUATION",
            _ => return None,
        })
    }

    /// Whether frames of this type belong to a stream and so must not use
    /// stream 0 (§6.1-§6.4, §6.6, §6.10).
    const fn needs_stream(self) -> bool {
        matches!(self.0, 0x0..=0x3 | 0x5 | 0x9)
    }

    /// Whether frames of this type are about the connection and so must use
    /// stream 0 (§6.5, §6.7, §6.8).
    const fn needs_stream_zero(self) -> bool {
        matches!(self.0, 0x4 | 0x6 | 0x7)
    }
}

impl std::fmt::Display for FrameType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "extension frame type {:#04x}", self.0),
        }
    }
}

/// Flag bits (§6). Each frame type gives meaning to a few; the rest are
/// ignored.
pub mod flags {
    /// END_STREAM on DATA and HEADERS.
    pub const END_STREAM: u8 = 0x1;
    /// ACK on SETTINGS and PING.
    pub const ACK: u8 = 0x1;
    /// END_HEADERS on HEADERS, PUSH_PROMISE and CONTINUATION.
    pub const END_HEADERS: u8 = 0x4;
    /// PADDED on DATA, HEADERS and PUSH_PROMISE.
    pub const PADDED: u8 = 0x8;
    /// PRIORITY on HEADERS.
    pub const PRIORITY: u8 = 0x20;
}

/// The 9-octet frame header (§4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub length: u32,
    /// Frame type.
    pub frame_type: FrameType,
    /// Flag bits, all of them, as received.
    pub flags: u8,
    /// Stream id, reserved bit dropped.
    pub stream_id: StreamId,
}

impl FrameHeader {
    /// Parses the header at the front of `buf`, `None` if fewer than 9
    /// bytes are there.
    #[must_use]
    pub fn parse(buf: &[u8]) -> Option<Self> {
        let h: &[u8; HEADER_LEN] = buf.get(..HEADER_LEN)?.try_into().ok()?;
        let [l0, l1, l2, t, flags, s0, s1, s2, s3] = *h;
        Some(Self {
            length: u32::from_be_bytes([0, l0, l1, l2]),
            frame_type: FrameType(t),
            flags,
            stream_id: StreamId::new(u32::from_be_bytes([s0, s1, s2, s3])),
        })
    }

    /// Whether `flag` is set.
    #[must_use]
    pub const fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The rules that need only the header: which stream a type may use
    /// (§6) and the fixed or minimum lengths whose violation is a
    /// connection error. Checked as soon as the header arrives so a bad
    /// frame fails before its payload is buffered.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let t = self.frame_type;
        if t.needs_stream() && self.stream_id.is_zero() {
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::StreamIdRequired(t),
            ));
        }
        if t.needs_stream_zero() && !self.stream_id.is_zero() {
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::StreamIdForbidden(t),
            ));
        }
        let len = self.length;
        let bad_len = match t {
            FrameType::DATA | FrameType::HEADERS | FrameType::PUSH_PROMISE => {
                len < self.min_padded_len()
            }
            FrameType::RST_STREAM => len != 4,
            FrameType::SETTINGS => {
                if self.has(flags::ACK) && len != 0 {
                    return Err(Error::connection(
                        ErrorCode::FRAME_SIZE_ERROR,
                        Reason::SettingsAckWithPayload,
                    ));
                }
                len % 6 != 0
            }
            FrameType::PING => len != 8,
            FrameType::GOAWAY => len < 8,
            FrameType::WINDOW_UPDATE => len != 4,
            _ => false,
        };
        if bad_len {
            return Err(Error::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                Reason::BadLength { frame: t, len },
            ));
        }
        Ok(())
    }

    /// Smallest payload for DATA, HEADERS and PUSH_PROMISE: the fields
    /// before the fragment that the flags announce.
    const fn min_padded_len(&self) -> u32 {
        let pad = if self.has(flags::PADDED) { 1 } else { 0 };
        let fixed = match self.frame_type {
            FrameType::HEADERS if self.has(flags::PRIORITY) => 5,
            FrameType::PUSH_PROMISE => 4,
            _ => 0,
        };
        pad + fixed
    }

    /// Appends the wire form of a header.
    fn encode(length: u32, t: FrameType, flags: u8, stream: StreamId, dst: &mut BytesMut) {
        let [_, l0, l1, l2] = length.to_be_bytes();
        dst.put_slice(&[l0, l1, l2, t.0, flags]);
        dst.put_u32(stream.value());
    }
}

/// Takes the Pad Length field off the front of `payload` and the padding
/// off its end (§6.1): `None` when the PADDED flag is clear. `fixed` is how
/// many bytes of fields follow the Pad Length, which the padding may not
/// eat into either (§6.2, §6.6).
fn strip_padding(
    header: &FrameHeader,
    payload: &mut Bytes,
    fixed: usize,
) -> Result<Option<u8>, Error> {
    if !header.has(flags::PADDED) {
        return Ok(None);
    }
    let Some(&pad) = payload.first() else {
        return Err(Error::connection(
            ErrorCode::FRAME_SIZE_ERROR,
            Reason::BadLength {
                frame: header.frame_type,
                len: header.length,
            },
        ));
    };
    let room = payload.len().saturating_sub(1 + fixed);
    if usize::from(pad) > room {
        return Err(Error::connection(
            ErrorCode::PROTOCOL_ERROR,
            Reason::PaddingTooLong {
                frame: header.frame_type,
                pad_len: pad,
                payload_len: header.length,
            },
        ));
    }
    let end = payload.len() - usize::from(pad);
    *payload = payload.slice(1..end);
    Ok(Some(pad))
}

/// How many payload bytes padding of `pad_len` adds: the Pad Length field
/// and the padding itself.
fn padding_overhead(pad_len: Option<u8>) -> usize {
    pad_len.map_or(0, |p| 1 + usize::from(p))
}

/// Appends the Pad Length field, if any.
fn put_pad_len(pad_len: Option<u8>, dst: &mut BytesMut) {
    if let Some(p) = pad_len {
        dst.put_u8(p);
    }
}

/// Appends `pad_len` zero bytes of padding (§6.1: padding MUST be zero).
fn put_padding(pad_len: Option<u8>, dst: &mut BytesMut) {
    if let Some(p) = pad_len {
        dst.put_bytes(0, usize::from(p));
    }
}

/// A frame of a type this crate does not know (§5.5): receivers ignore and
/// discard it, but it is kept whole so a caller can log or relay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// The frame type (10 or more).
    pub frame_type: u8,
    /// All flag bits as received.
    pub flags: u8,
    /// The stream id.
    pub stream_id: StreamId,
    /// The payload, uninterpreted.
    pub payload: Bytes,
}

/// One HTTP/2 frame (§6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// DATA (§6.1).
    Data(Data),
    /// HEADERS (§6.2).
    Headers(Headers),
    /// PRIORITY (§6.3): deprecated by RFC 9113 §5.3.2 but still sent (e.g.
    /// by nghttp2 1.52); parsed so it can be checked, then ignored.
    Priority(Priority),
    /// RST_STREAM (§6.4).
    RstStream(RstStream),
    /// SETTINGS (§6.5).
    Settings(SettingsFrame),
    /// PUSH_PROMISE (§6.6).
    PushPromise(PushPromise),
    /// PING (§6.7).
    Ping(Ping),
    /// GOAWAY (§6.8).
    GoAway(GoAway),
    /// WINDOW_UPDATE (§6.9).
    WindowUpdate(WindowUpdate),
    /// CONTINUATION (§6.10).
    Continuation(Continuation),
    /// An extension frame type, to be ignored (§5.5). Never built from
    /// types 0-9, so the round trip holds.
    Unknown(Unknown),
}

impl Frame {
    /// The frame's type.
    #[must_use]
    pub const fn frame_type(&self) -> FrameType {
        match self {
            Self::Data(_) => FrameType::DATA,
            Self::Headers(_) => FrameType::HEADERS,
            Self::Priority(_) => FrameType::PRIORITY,
            Self::RstStream(_) => FrameType::RST_STREAM,
            Self::Settings(_) => FrameType::SETTINGS,
            Self::PushPromise(_) => FrameType::PUSH_PROMISE,
            Self::Ping(_) => FrameType::PING,
            Self::GoAway(_) => FrameType::GOAWAY,
            Self::WindowUpdate(_) => FrameType::WINDOW_UPDATE,
            Self::Continuation(_) => FrameType::CONTINUATION,
            Self::Unknown(u) => FrameType(u.frame_type),
        }
    }

    /// The stream the frame belongs to (0 for connection frames).
    #[must_use]
    pub const fn stream_id(&self) -> StreamId {
        match self {
            Self::Data(f) => f.stream_id,
            Self::Headers(f) => f.stream_id,
            Self::Priority(f) => f.stream_id,
            Self::RstStream(f) => f.stream_id,
            Self::PushPromise(f) => f.stream_id,
            Self::WindowUpdate(f) => f.stream_id,
            Self::Continuation(f) => f.stream_id,
            Self::Unknown(f) => f.stream_id,
            Self::Settings(_) | Self::Ping(_) | Self::GoAway(_) => StreamId::ZERO,
        }
    }

    /// Payload length on the wire.
    #[must_use]
    pub fn payload_len(&self) -> usize {
        match self {
            Self::Data(f) => f.flow_controlled_len(),
            Self::Headers(f) => f.payload_len(),
            Self::Priority(_) => 5,
            Self::RstStream(_) | Self::WindowUpdate(_) => 4,
            Self::Settings(f) => 6 * f.params.len(),
            Self::PushPromise(f) => f.payload_len(),
            Self::Ping(_) => 8,
            Self::GoAway(f) => 8 + f.debug_data.len(),
            Self::Continuation(f) => f.fragment.len(),
            Self::Unknown(f) => f.payload.len(),
        }
    }

    /// Parses a whole frame's payload, split off the input, under the rules
    /// of its type. `header` has passed [`FrameHeader::check`].
    pub(crate) fn decode_payload(header: &FrameHeader, payload: Bytes) -> Result<Self, Error> {
        Ok(match header.frame_type {
            FrameType::DATA => Self::Data(Data::decode_payload(header, payload)?),
            FrameType::HEADERS => Self::Headers(Headers::decode_payload(header, payload)?),
            FrameType::PRIORITY => Self::Priority(Priority::decode_payload(header, &payload)?),
            FrameType::RST_STREAM => Self::RstStream(RstStream::decode_payload(header, &payload)),
            FrameType::SETTINGS => Self::Settings(SettingsFrame::decode_payload(header, &payload)?),
            FrameType::PUSH_PROMISE => {
                Self::PushPromise(PushPromise::decode_payload(header, payload)?)
            }
            FrameType::PING => Self::Ping(Ping::decode_payload(header, &payload)),
            FrameType::GOAWAY => Self::GoAway(GoAway::decode_payload(payload)),
            FrameType::WINDOW_UPDATE => {
                Self::WindowUpdate(WindowUpdate::decode_payload(header, &payload)?)
            }
            FrameType::CONTINUATION => Self::Continuation(Continuation {
                stream_id: header.stream_id,
                fragment: payload,
                end_headers: header.has(flags::END_HEADERS),
            }),
            FrameType(t) => Self::Unknown(Unknown {
                frame_type: t,
                flags: header.flags,
                stream_id: header.stream_id,
                payload,
            }),
        })
    }

    /// Appends the wire form. The caller has checked
    /// [`payload_len`](Self::payload_len) fits 24 bits.
    pub(crate) fn encode_unchecked(&self, len: u32, dst: &mut BytesMut) {
        let t = self.frame_type();
        match self {
            Self::Data(f) => f.encode(len, dst),
            Self::Headers(f) => f.encode(len, dst),
            Self::Priority(f) => f.encode(dst),
            Self::RstStream(f) => f.encode(dst),
            Self::Settings(f) => f.encode(len, dst),
            Self::PushPromise(f) => f.encode(len, dst),
            Self::Ping(f) => f.encode(dst),
            Self::GoAway(f) => f.encode(len, dst),
            Self::WindowUpdate(f) => f.encode(dst),
            Self::Continuation(f) => {
                let fl = if f.end_headers { flags::END_HEADERS } else { 0 };
                FrameHeader::encode(len, t, fl, f.stream_id, dst);
                dst.put_slice(&f.fragment);
            }
            Self::Unknown(f) => {
                FrameHeader::encode(len, t, f.flags, f.stream_id, dst);
                dst.put_slice(&f.payload);
            }
        }
    }
}

macro_rules! frame_from {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for Frame {
            fn from(f: $ty) -> Self {
                Self::$variant(f)
            }
        })*
    };
}

frame_from!(
    Data(Data),
    Headers(Headers),
    Priority(Priority),
    RstStream(RstStream),
    Settings(SettingsFrame),
    PushPromise(PushPromise),
    Ping(Ping),
    GoAway(GoAway),
    WindowUpdate(WindowUpdate),
    Continuation(Continuation),
    Unknown(Unknown),
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_bit_is_dropped() {
        assert_eq!(StreamId::new(0x8000_0001).value(), 1);
        let h = FrameHeader::parse(&[0, 0, 0, 0, 0, 0x80, 0, 0, 3]).unwrap();
        assert_eq!(h.stream_id, StreamId::new(3));
    }

    #[test]
    fn stream_parity() {
        assert!(StreamId::new(1).is_client_initiated());
        assert!(StreamId::new(2).is_server_initiated());
        assert!(!StreamId::ZERO.is_server_initiated());
        assert!(!StreamId::ZERO.is_client_initiated());
    }

    #[test]
    fn type_names() {
        assert_eq!(FrameType::GOAWAY.to_string(), "GOAWAY");
        assert_eq!(FrameType(0xfa).to_string(), "extension frame type 0xfa");
    }
}
