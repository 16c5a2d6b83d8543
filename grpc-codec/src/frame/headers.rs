//! The frames that carry field blocks, HEADERS (RFC 9113 §6.2),
//! PUSH_PROMISE (§6.6) and CONTINUATION (§6.10), and the priority fields
//! of HEADERS and PRIORITY (§6.3).

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};

use super::{
    FrameHeader, FrameType, StreamId, flags, padding_overhead, put_pad_len, put_padding,
    strip_padding,
};
use crate::error::{Error, ErrorCode, Reason};

/// The RFC 7540 priority fields (§5.3.2, §6.3): deprecated, parsed so
/// frames carrying them stay well-formed, otherwise ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrioritySpec {
    /// The E flag: exclusive dependency.
    pub exclusive: bool,
    /// The stream depended on.
    pub dependency: StreamId,
    /// Weight minus one, as on the wire (0-255 for weights 1-256).
    pub weight: u8,
}

impl PrioritySpec {
    /// Parses the 5 priority bytes at the front of `buf`.
    fn parse(buf: &[u8]) -> Option<Self> {
        let [d0, d1, d2, d3, weight]: [u8; 5] = buf.get(..5)?.try_into().ok()?;
        let raw = u32::from_be_bytes([d0, d1, d2, d3]);
        Some(Self {
            exclusive: raw & 0x8000_0000 != 0,
            dependency: StreamId::new(raw),
            weight,
        })
    }

    fn put(self, dst: &mut BytesMut) {
        let e = if self.exclusive { 0x8000_0000 } else { 0 };
        dst.put_u32(e | self.dependency.value());
        dst.put_u8(self.weight);
    }

    /// The stream error for a stream that depends on itself (§5.3.1).
    fn self_dependency(self, stream: StreamId) -> Option<Error> {
        (self.dependency == stream).then_some(Error::Stream {
            id: stream,
            code: ErrorCode::PROTOCOL_ERROR,
            reason: Reason::SelfDependency,
        })
    }
}

/// A HEADERS frame (§6.2): opens a stream or carries trailers, with the
/// first fragment of a field block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// The stream (never 0).
    pub stream_id: StreamId,
    /// Field block fragment (HPACK), padding and priority fields removed.
    pub fragment: Bytes,
    /// END_STREAM: no DATA follows on this stream.
    pub end_stream: bool,
    /// END_HEADERS: the field block is complete; otherwise CONTINUATION
    /// frames on the same stream follow immediately.
    pub end_headers: bool,
    /// PADDED: the padding length, `None` without the flag.
    pub pad_len: Option<u8>,
    /// PRIORITY: the priority fields, `None` without the flag.
    pub priority: Option<PrioritySpec>,
}

impl Headers {
    /// A complete HEADERS frame (END_HEADERS set) without padding or
    /// priority; split with [`crate::codec::header_frames`] if the block
    /// is larger than the peer's frame size.
    #[must_use]
    pub const fn new(stream_id: StreamId, fragment: Bytes, end_stream: bool) -> Self {
        Self {
            stream_id,
            fragment,
            end_stream,
            end_headers: true,
            pad_len: None,
            priority: None,
        }
    }

    /// The stream error the connection must raise if the priority fields
    /// make the stream depend on itself (§5.3.1), `None` if they do not.
    ///
    /// The decoder delivers such a frame rather than failing, because its
    /// field block must still go through HPACK to keep the dynamic table
    /// in step (§4.3); the connection raises this error afterwards.
    #[must_use]
    pub fn priority_error(&self) -> Option<Error> {
        self.priority?.self_dependency(self.stream_id)
    }

    /// Payload length on the wire: fragment, priority fields, padding.
    #[must_use]
    pub fn payload_len(&self) -> usize {
        let prio = if self.priority.is_some() { 5 } else { 0 };
        prio + self.fragment.len() + padding_overhead(self.pad_len)
    }

    pub(super) fn decode_payload(header: &FrameHeader, mut payload: Bytes) -> Result<Self, Error> {
        let has_prio = header.has(flags::PRIORITY);
        let pad_len = strip_padding(header, &mut payload, if has_prio { 5 } else { 0 })?;
        // FrameHeader::check guaranteed the 5 bytes.
        let priority = if has_prio {
            let p = PrioritySpec::parse(&payload);
            payload.advance(5.min(payload.len()));
            p
        } else {
            None
        };
        Ok(Self {
            stream_id: header.stream_id,
            fragment: payload,
            end_stream: header.has(flags::END_STREAM),
            end_headers: header.has(flags::END_HEADERS),
            pad_len,
            priority,
        })
    }

    pub(super) fn encode(&self, len: u32, dst: &mut BytesMut) {
        let mut fl = 0;
        if self.end_stream {
            fl |= flags::END_STREAM;
        }
        if self.end_headers {
            fl |= flags::END_HEADERS;
        }
        if self.pad_len.is_some() {
            fl |= flags::PADDED;
        }
        if self.priority.is_some() {
            fl |= flags::PRIORITY;
        }
        FrameHeader::encode(len, FrameType::HEADERS, fl, self.stream_id, dst);
        put_pad_len(self.pad_len, dst);
        if let Some(p) = self.priority {
            p.put(dst);
        }
        dst.put_slice(&self.fragment);
        put_padding(self.pad_len, dst);
    }
}

/// A PRIORITY frame (§6.3). RFC 9113 deprecates the scheme, so callers
/// ignore it once the decoder has checked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    /// The stream (never 0).
    pub stream_id: StreamId,
    /// The priority fields.
    pub spec: PrioritySpec,
}

impl Priority {
    pub(super) fn decode_payload(header: &FrameHeader, payload: &[u8]) -> Result<Self, Error> {
        let stream_id = header.stream_id;
        let Some(spec) = PrioritySpec::parse(payload).filter(|_| payload.len() == 5) else {
            return Err(Error::Stream {
                id: stream_id,
                code: ErrorCode::FRAME_SIZE_ERROR,
                reason: Reason::BadLength {
                    frame: FrameType::PRIORITY,
                    len: header.length,
                },
            });
        };
        if let Some(e) = spec.self_dependency(stream_id) {
            return Err(e);
        }
        Ok(Self { stream_id, spec })
    }

    pub(super) fn encode(&self, dst: &mut BytesMut) {
        FrameHeader::encode(5, FrameType::PRIORITY, 0, self.stream_id, dst);
        self.spec.put(dst);
    }
}

/// A PUSH_PROMISE frame (§6.6): the server reserves `promised_id` for a
/// response it will push, with the first fragment of the request's field
/// block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPromise {
    /// The stream the promise is about (never 0).
    pub stream_id: StreamId,
    /// The reserved stream (reserved bit dropped).
    pub promised_id: StreamId,
    /// Field block fragment, padding and promised id removed.
    pub fragment: Bytes,
    /// END_HEADERS: the field block is complete.
    pub end_headers: bool,
    /// PADDED: the padding length, `None` without the flag.
    pub pad_len: Option<u8>,
}

impl PushPromise {
    /// Payload length on the wire: promised id, fragment, padding.
    #[must_use]
    pub fn payload_len(&self) -> usize {
        4 + self.fragment.len() + padding_overhead(self.pad_len)
    }

    pub(super) fn decode_payload(header: &FrameHeader, mut payload: Bytes) -> Result<Self, Error> {
        let pad_len = strip_padding(header, &mut payload, 4)?;
        // FrameHeader::check guaranteed the 4 bytes.
        let promised_id = if payload.len() >= 4 {
            StreamId::new(payload.get_u32())
        } else {
            StreamId::ZERO
        };
        Ok(Self {
            stream_id: header.stream_id,
            promised_id,
            fragment: payload,
            end_headers: header.has(flags::END_HEADERS),
            pad_len,
        })
    }

    pub(super) fn encode(&self, len: u32, dst: &mut BytesMut) {
        let mut fl = 0;
        if self.end_headers {
            fl |= flags::END_HEADERS;
        }
        if self.pad_len.is_some() {
            fl |= flags::PADDED;
        }
        FrameHeader::encode(len, FrameType::PUSH_PROMISE, fl, self.stream_id, dst);
        put_pad_len(self.pad_len, dst);
        dst.put_u32(self.promised_id.value());
        dst.put_slice(&self.fragment);
        put_padding(self.pad_len, dst);
    }
}

/// A CONTINUATION frame (§6.10): a further fragment of the field block
/// begun by the HEADERS or PUSH_PROMISE just before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    /// The stream (never 0; the one of the block's first frame).
    pub stream_id: StreamId,
    /// Field block fragment.
    pub fragment: Bytes,
    /// END_HEADERS: the field block is complete.
    pub end_headers: bool,
}
