//! Frame codec (RFC 9113 §3.4, §4): bytes to [`Frame`]s and back.
//!
//! [`Decoder::decode`] takes exactly one frame off the front of the buffer
//! or nothing; payloads are split off the input without copying. It checks
//! every rule that needs only the frames themselves: sizes, stream-0 use,
//! lengths, padding, setting ranges, and that a field block's CONTINUATION
//! frames follow it without interruption (§4.3, §6.10). Rules that need
//! stream state are the connection's.
//!
//! [`encode`] appends one frame; [`header_frames`] and [`data_frames`]
//! cut a field block or a body into frames that fit the peer's
//! SETTINGS_MAX_FRAME_SIZE.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use grpc_codec::codec::{data_frames, encode};
//! use grpc_codec::{Decoder, Frame, PREFACE, Settings, StreamId, decode_preface};
//!
//! // A client's first bytes: the preface, its SETTINGS, a 40 KB body.
//! let mut wire = BytesMut::from(&PREFACE[..]);
//! let ours = Settings { enable_push: false, ..Settings::default() };
//! encode(&Frame::Settings(ours.encode()), &mut wire)?;
//! for f in data_frames(StreamId::new(1), Bytes::from(vec![0; 40_000]), true, 16_384) {
//!     encode(&f, &mut wire)?;
//! }
//!
//! // The server's side.
//! assert!(decode_preface(&mut wire)?);
//! let mut decoder = Decoder::default();
//! let mut peer = Settings::default();
//! let mut body = 0;
//! while let Some(frame) = decoder.decode(&mut wire)? {
//!     match frame {
//!         Frame::Settings(s) => peer.apply(&s.params)?,
//!         Frame::Data(d) => body += d.data.len(),
//!         _ => {}
//!     }
//! }
//! assert_eq!((peer, body), (ours, 40_000));
//! # Ok::<(), grpc_codec::Error>(())
//! ```

use bytes::{Buf as _, Bytes, BytesMut};

use crate::config::{Limits, clamp_frame_size};
use crate::error::{Error, ErrorCode, Reason};
use crate::frame::{
    Continuation, Data, Frame, FrameHeader, FrameType, HEADER_LEN, Headers, MAX_PAYLOAD_LEN,
    PushPromise, StreamId, WindowUpdate,
};

/// The client connection preface (§3.4), sent before the client's first
/// SETTINGS frame.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Takes the client connection preface off the front of `buf` (a server
/// calls this before decoding frames): `Ok(true)` once it was there and is
/// consumed, `Ok(false)` (consuming nothing) while the bytes so far are a
/// prefix of it, and a PROTOCOL_ERROR connection error (§3.4) as soon as
/// a byte differs.
pub fn decode_preface(buf: &mut BytesMut) -> Result<bool, Error> {
    let n = buf.len().min(PREFACE.len());
    if buf.get(..n) != PREFACE.get(..n) {
        return Err(Error::connection(
            ErrorCode::PROTOCOL_ERROR,
            Reason::BadPreface,
        ));
    }
    if n < PREFACE.len() {
        return Ok(false);
    }
    buf.advance(PREFACE.len());
    Ok(true)
}

/// The field block being received: its stream, bytes so far and number of
/// CONTINUATION frames.
#[derive(Debug, Clone, Copy)]
struct OpenBlock {
    stream: StreamId,
    size: usize,
    continuations: usize,
}

/// Streaming frame decoder for the frames one endpoint receives.
#[derive(Debug, Clone)]
pub struct Decoder {
    limits: Limits,
    block: Option<OpenBlock>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Decoder {
    /// A decoder enforcing `limits` (its frame size kept within the range
    /// SETTINGS_MAX_FRAME_SIZE allows).
    #[must_use]
    pub const fn new(mut limits: Limits) -> Self {
        limits.max_frame_size = clamp_frame_size(limits.max_frame_size);
        Self {
            limits,
            block: None,
        }
    }

    /// The limits in force.
    #[must_use]
    pub const fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Largest payload accepted.
    #[must_use]
    pub const fn max_frame_size(&self) -> u32 {
        self.limits.max_frame_size
    }

    /// Changes the largest payload accepted, kept within
    /// 2^14..=2^24-1: the connection calls this once the peer has
    /// acknowledged the SETTINGS_MAX_FRAME_SIZE we sent (§6.5.3).
    pub const fn set_max_frame_size(&mut self, size: u32) {
        self.limits.max_frame_size = clamp_frame_size(size);
    }

    /// The stream whose field block is open: only CONTINUATION frames on
    /// it may come next.
    #[must_use]
    pub fn open_header_block(&self) -> Option<StreamId> {
        self.block.map(|b| b.stream)
    }

    /// Takes one whole frame off the front of `buf`, or returns `Ok(None)`
    /// and consumes nothing when more bytes are needed.
    ///
    /// A connection error is reported as soon as the bytes present show
    /// it (a bad header fails before its payload arrives); the decoder is
    /// then done. A stream error is reported once the whole frame is there
    /// and consumed, and decoding may go on.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
        let Some(header) = FrameHeader::parse(buf) else {
            return Ok(None);
        };
        // An oversized frame is a connection error whatever its type: §4.2
        // allows a stream error for some, but skipping their payload would
        // mean buffering or tracking bytes we refused.
        let limit = self.limits.max_frame_size;
        if header.length > limit {
            return Err(Error::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                Reason::FrameTooLarge {
                    size: header.length,
                    limit,
                },
            ));
        }
        header.check()?;
        self.check_sequence(&header)?;
        // length <= max_frame_size < 2^24, so it fits a usize.
        let len = usize::try_from(header.length).unwrap_or(usize::MAX);
        if buf.len() - HEADER_LEN < len {
            return Ok(None);
        }
        buf.advance(HEADER_LEN);
        let payload = buf.split_to(len).freeze();
        let frame = Frame::decode_payload(&header, payload)?;
        self.track_block(&frame)?;
        Ok(Some(frame))
    }

    /// §4.3, §6.10: a field block's frames come without interruption, and
    /// only after a HEADERS or PUSH_PROMISE without END_HEADERS. Also the
    /// limits on a block's CONTINUATIONs, checked before their payload is
    /// buffered.
    fn check_sequence(&self, h: &FrameHeader) -> Result<(), Error> {
        let is_cont = h.frame_type == FrameType::CONTINUATION;
        let Some(b) = self.block else {
            return if is_cont {
                Err(Error::connection(
                    ErrorCode::PROTOCOL_ERROR,
                    Reason::UnexpectedContinuation,
                ))
            } else {
                Ok(())
            };
        };
        if !is_cont || h.stream_id != b.stream {
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::ExpectedContinuation {
                    stream: b.stream,
                    got: h.frame_type,
                },
            ));
        }
        let max_conts = self.limits.max_continuation_frames;
        if b.continuations >= max_conts {
            return Err(Error::connection(
                ErrorCode::ENHANCE_YOUR_CALM,
                Reason::TooManyContinuations { limit: max_conts },
            ));
        }
        let len = usize::try_from(h.length).unwrap_or(usize::MAX);
        self.check_block_size(b.size.saturating_add(len))
    }

    fn check_block_size(&self, size: usize) -> Result<(), Error> {
        let limit = self.limits.max_header_block_size;
        if size > limit {
            return Err(Error::connection(
                ErrorCode::ENHANCE_YOUR_CALM,
                Reason::HeaderBlockTooLarge { limit },
            ));
        }
        Ok(())
    }

    /// Opens, extends or closes the field block after a valid frame.
    fn track_block(&mut self, frame: &Frame) -> Result<(), Error> {
        let (stream, fragment, end) = match frame {
            Frame::Headers(h) => (h.stream_id, &h.fragment, h.end_headers),
            Frame::PushPromise(p) => (p.stream_id, &p.fragment, p.end_headers),
            Frame::Continuation(c) => {
                if let Some(b) = &mut self.block {
                    b.size = b.size.saturating_add(c.fragment.len());
                    b.continuations += 1;
                }
                if c.end_headers {
                    self.block = None;
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        self.check_block_size(fragment.len())?;
        if !end {
            self.block = Some(OpenBlock {
                stream,
                size: fragment.len(),
                continuations: 0,
            });
        }
        Ok(())
    }
}

/// Appends the wire form of `frame` to `dst`.
///
/// Any frame the wire can carry is written, valid or not, so a test can
/// build a bad one; `decode(encode(f)) == f` for every valid `f`. Flags are
/// written from the frame's fields only, the reserved bit of stream ids is
/// clear, padding is zeros. Fails, writing nothing, if the payload exceeds
/// 2^24 - 1 bytes or a window increment 2^31 - 1 (API misuse). The
/// caller keeps frames within the peer's SETTINGS_MAX_FRAME_SIZE.
pub fn encode(frame: &Frame, dst: &mut BytesMut) -> Result<(), Error> {
    let len = frame.payload_len();
    let unencodable = |value| Error::Unencodable {
        frame: frame.frame_type(),
        value,
    };
    let len32 = u32::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_PAYLOAD_LEN)
        .ok_or_else(|| unencodable(len))?;
    if let Frame::WindowUpdate(w) = frame {
        if w.increment > WindowUpdate::MAX_INCREMENT {
            return Err(unencodable(
                usize::try_from(w.increment).unwrap_or(usize::MAX),
            ));
        }
    }
    dst.reserve(HEADER_LEN + len);
    frame.encode_unchecked(len32, dst);
    Ok(())
}

/// `size` as a usize of at least 1, so splitting always progresses.
fn chunk_size(max_frame_size: u32) -> usize {
    usize::try_from(max_frame_size).unwrap_or(usize::MAX).max(1)
}

/// The frames of one field block, from [`header_frames`] or
/// [`push_promise_frames`]: the first frame, then CONTINUATIONs.
#[derive(Debug, Clone)]
pub struct HeaderBlockFrames {
    first: Option<Frame>,
    stream_id: StreamId,
    rest: Bytes,
    chunk: usize,
}

impl HeaderBlockFrames {
    /// Cuts `block` after what fits in the first frame beside its
    /// `overhead` bytes of other fields; returns the first part.
    fn cut(block: &mut Bytes, overhead: usize, max_frame_size: u32) -> (Bytes, Self) {
        let chunk = chunk_size(max_frame_size);
        let room = chunk.saturating_sub(overhead).min(block.len());
        let first = block.split_to(room);
        let rest = std::mem::take(block);
        (
            first,
            Self {
                first: None,
                stream_id: StreamId::ZERO,
                rest,
                chunk,
            },
        )
    }
}

impl Iterator for HeaderBlockFrames {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        if let Some(f) = self.first.take() {
            return Some(f);
        }
        if self.rest.is_empty() {
            return None;
        }
        let fragment = self.rest.split_to(self.chunk.min(self.rest.len()));
        Some(Frame::Continuation(Continuation {
            stream_id: self.stream_id,
            fragment,
            end_headers: self.rest.is_empty(),
        }))
    }
}

/// Splits a HEADERS frame whose `fragment` is a whole field block into
/// HEADERS and CONTINUATION frames of at most `max_frame_size` payload
/// bytes (§4.3); `end_headers` is set on the last and the input's value
/// ignored. Padding and priority stay on the HEADERS frame. (A frame
/// exceeds `max_frame_size` only if that is below the 261 bytes padding and
/// priority can take, far under the 16384 minimum.)
#[must_use]
pub fn header_frames(mut headers: Headers, max_frame_size: u32) -> HeaderBlockFrames {
    let overhead = headers.payload_len() - headers.fragment.len();
    let (first, mut frames) =
        HeaderBlockFrames::cut(&mut headers.fragment, overhead, max_frame_size);
    headers.fragment = first;
    headers.end_headers = frames.rest.is_empty();
    frames.stream_id = headers.stream_id;
    frames.first = Some(Frame::Headers(headers));
    frames
}

/// [`header_frames`] for a PUSH_PROMISE frame.
#[must_use]
pub fn push_promise_frames(mut promise: PushPromise, max_frame_size: u32) -> HeaderBlockFrames {
    let overhead = promise.payload_len() - promise.fragment.len();
    let (first, mut frames) =
        HeaderBlockFrames::cut(&mut promise.fragment, overhead, max_frame_size);
    promise.fragment = first;
    promise.end_headers = frames.rest.is_empty();
    frames.stream_id = promise.stream_id;
    frames.first = Some(Frame::PushPromise(promise));
    frames
}

/// DATA frames carrying a body, from [`data_frames`].
#[derive(Debug, Clone)]
pub struct DataFrames {
    stream_id: StreamId,
    rest: Bytes,
    end_stream: bool,
    chunk: usize,
    /// Whether an empty frame is still owed to carry END_STREAM.
    empty_end: bool,
}

impl Iterator for DataFrames {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        if self.rest.is_empty() && !std::mem::take(&mut self.empty_end) {
            return None;
        }
        let data = self.rest.split_to(self.chunk.min(self.rest.len()));
        Some(Frame::Data(Data::new(
            self.stream_id,
            data,
            self.end_stream && self.rest.is_empty(),
        )))
    }
}

/// Cuts `data` into unpadded DATA frames of at most `max_frame_size` bytes
/// (zero-copy slices), END_STREAM on the last if `end_stream`. An empty
/// body gives one empty frame if `end_stream`, none otherwise. Flow
/// control is the caller's: pass no more than the window allows.
#[must_use]
pub fn data_frames(
    stream_id: StreamId,
    data: Bytes,
    end_stream: bool,
    max_frame_size: u32,
) -> DataFrames {
    DataFrames {
        stream_id,
        empty_end: end_stream && data.is_empty(),
        rest: data,
        end_stream,
        chunk: chunk_size(max_frame_size),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preface_prefixes_wait() {
        for n in 0..PREFACE.len() {
            let mut b = BytesMut::from(&PREFACE[..n]);
            assert_eq!(decode_preface(&mut b), Ok(false));
            assert_eq!(b.len(), n);
        }
        let mut b = BytesMut::from(&PREFACE[..]);
        b.extend_from_slice(b"\0\0");
        assert_eq!(decode_preface(&mut b), Ok(true));
        assert_eq!(&b[..], b"\0\0");
    }

    #[test]
    fn preface_fails_on_first_wrong_byte() {
        for i in 0..PREFACE.len() {
            let mut b = BytesMut::from(&PREFACE[..=i]);
            b[i] ^= 0x20;
            let e = decode_preface(&mut b).unwrap_err();
            assert_eq!(
                e,
                Error::connection(ErrorCode::PROTOCOL_ERROR, Reason::BadPreface)
            );
        }
        // HTTP/1.1 fails on the very first byte.
        assert!(decode_preface(&mut BytesMut::from(&b"G"[..])).is_err());
    }

    #[test]
    fn header_block_split() {
        let block = Bytes::from((0..=255u8).cycle().take(40_000).collect::<Vec<_>>());
        let mut h = Headers::new(StreamId::new(5), block.clone(), true);
        h.pad_len = Some(3);
        let frames: Vec<Frame> = header_frames(h, 16_384).collect();
        assert_eq!(frames.len(), 3);
        let mut joined = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            assert!(f.payload_len() <= 16_384);
            assert_eq!(f.stream_id(), StreamId::new(5));
            match f {
                Frame::Headers(h) => {
                    assert_eq!(i, 0);
                    assert!(!h.end_headers && h.end_stream);
                    assert_eq!(f.payload_len(), 16_384);
                    joined.extend_from_slice(&h.fragment);
                }
                Frame::Continuation(c) => {
                    assert_eq!(c.end_headers, i == 2);
                    joined.extend_from_slice(&c.fragment);
                }
                _ => panic!("unexpected {f:?}"),
            }
        }
        assert_eq!(joined, block);
    }

    #[test]
    fn small_header_block_is_one_frame() {
        let h = Headers {
            end_headers: false,
            ..Headers::new(StreamId::new(1), Bytes::from_static(b"\x82"), false)
        };
        let frames: Vec<Frame> = header_frames(h, 16_384).collect();
        assert_eq!(
            frames,
            vec![Frame::Headers(Headers::new(
                StreamId::new(1),
                Bytes::from_static(b"\x82"),
                false
            ))]
        );
    }

    #[test]
    fn data_split() {
        let body = Bytes::from(vec![7u8; 40_000]);
        let frames: Vec<Frame> = data_frames(StreamId::new(1), body, true, 16_384).collect();
        let lens: Vec<(usize, bool)> = frames
            .iter()
            .map(|f| match f {
                Frame::Data(d) => (d.data.len(), d.end_stream),
                _ => panic!(),
            })
            .collect();
        assert_eq!(lens, [(16_384, false), (16_384, false), (7_232, true)]);
        let empty: Vec<Frame> = data_frames(StreamId::new(1), Bytes::new(), true, 16_384).collect();
        assert_eq!(
            empty,
            [Frame::Data(Data::new(StreamId::new(1), Bytes::new(), true))]
        );
        assert_eq!(
            data_frames(StreamId::new(1), Bytes::new(), false, 16_384).count(),
            0
        );
    }

    #[test]
    fn encode_refuses_oversized() {
        let d = Frame::Data(Data::new(
            StreamId::new(1),
            Bytes::from(vec![0; 1 << 24]),
            false,
        ));
        let mut out = BytesMut::new();
        assert!(matches!(
            encode(&d, &mut out),
            Err(Error::Unencodable { value, .. }) if value == 1 << 24
        ));
        let w = Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::ZERO,
            increment: 1 << 31,
        });
        assert!(encode(&w, &mut out).is_err());
        assert!(out.is_empty());
    }
}
