//! DATA (RFC 9113 §6.1).

use bytes::{BufMut as _, Bytes, BytesMut};

use super::{
    FrameHeader, FrameType, StreamId, flags, padding_overhead, put_pad_len, put_padding,
    strip_padding,
};
use crate::error::Error;

/// A DATA frame (§6.1): bytes of a stream's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// The stream (never 0).
    pub stream_id: StreamId,
    /// The content, padding removed.
    pub data: Bytes,
    /// END_STREAM: the sender's last frame on this stream.
    pub end_stream: bool,
    /// PADDED: the padding length, `None` without the flag. Padding is
    /// sent as zeros and not checked on receipt.
    pub pad_len: Option<u8>,
}

impl Data {
    /// A DATA frame without padding.
    #[must_use]
    pub const fn new(stream_id: StreamId, data: Bytes, end_stream: bool) -> Self {
        Self {
            stream_id,
            data,
            end_stream,
            pad_len: None,
        }
    }

    /// How much of the flow-control windows the frame uses: the whole
    /// payload, padding included (§6.9.1).
    #[must_use]
    pub fn flow_controlled_len(&self) -> usize {
        self.data.len() + padding_overhead(self.pad_len)
    }

    pub(super) fn decode_payload(header: &FrameHeader, mut payload: Bytes) -> Result<Self, Error> {
        let pad_len = strip_padding(header, &mut payload, 0)?;
        Ok(Self {
            stream_id: header.stream_id,
            data: payload,
            end_stream: header.has(flags::END_STREAM),
            pad_len,
        })
    }

    pub(super) fn encode(&self, len: u32, dst: &mut BytesMut) {
        let mut fl = 0;
        if self.end_stream {
            fl |= flags::END_STREAM;
        }
        if self.pad_len.is_some() {
            fl |= flags::PADDED;
        }
        FrameHeader::encode(len, FrameType::DATA, fl, self.stream_id, dst);
        put_pad_len(self.pad_len, dst);
        dst.put_slice(&self.data);
        put_padding(self.pad_len, dst);
    }
}
