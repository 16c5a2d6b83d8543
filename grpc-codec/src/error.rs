//! HTTP/2 error codes (RFC 9113 §7) and the crate's one error type.
//!
//! A peer error is either a connection error (§5.4.1: send GOAWAY with
//! the code, then close) or a stream error (§5.4.2: send RST_STREAM with
//! the code and carry on); [`Error::is_connection_error`] tells them apart
//! and [`Error::code`] gives the code to send. [`Reason`] says which rule
//! the peer broke. API misuse has variants of its own.

use crate::frame::{FrameType, Setting, StreamId};
use crate::hpack;

/// A 32-bit HTTP/2 error code (§7), as carried by RST_STREAM and GOAWAY.
/// Codes without a constant are kept as they are and mean nothing special
/// (§7: "MUST NOT trigger any special behavior").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// Graceful shutdown, not an error.
    pub const NO_ERROR: Self = Self(0x0);
    /// An unspecific protocol error.
    pub const PROTOCOL_ERROR: Self = Self(0x1);
    /// An unexpected internal error.
    pub const INTERNAL_ERROR: Self = Self(0x2);
    /// The peer broke flow control.
    pub const FLOW_CONTROL_ERROR: Self = Self(0x3);
    /// A SETTINGS frame was not acknowledged in time.
    pub const SETTINGS_TIMEOUT: Self = Self(0x4);
    /// A frame arrived after the stream was half-closed.
    pub const STREAM_CLOSED: Self = Self(0x5);
    /// A frame had an invalid size.
    pub const FRAME_SIZE_ERROR: Self = Self(0x6);
    /// The stream was refused before any processing.
    pub const REFUSED_STREAM: Self = Self(0x7);
    /// The stream is no longer needed.
    pub const CANCEL: Self = Self(0x8);
    /// The field compression context cannot be maintained.
    pub const COMPRESSION_ERROR: Self = Self(0x9);
    /// A CONNECT tunnel's connection was reset or closed.
    pub const CONNECT_ERROR: Self = Self(0xa);
    /// The peer generates excessive load.
    pub const ENHANCE_YOUR_CALM: Self = Self(0xb);
    /// The transport lacks the required security.
    pub const INADEQUATE_SECURITY: Self = Self(0xc);
    /// HTTP/1.1 must be used instead.
    pub const HTTP_1_1_REQUIRED: Self = Self(0xd);

    /// The spec's name for the code, `None` for unknown codes.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0 => "NO_ERROR",
            0x1 => "PROTOCOL_ERROR",
            0x2 => "INTERNAL_ERROR",
            0x3 => "FLOW_CONTROL_ERROR",
            0x4 => "SETTINGS_TIMEOUT",
            0x5 => "STREAM_CLOSED",
            0x6 => "FRAME_SIZE_ERROR",
            0x7 => "REFUSED_STREAM",
            0x8 => "CANCEL",
            0x9 => "COMPRESSION_ERROR",
            0xa => "CONNECT_ERROR",
            0xb => "ENHANCE_YOUR_CALM",
            0xc => "INADEQUATE_SECURITY",
            0xd => "HTTP_1_1_REQUIRED",
            _ => return None,
        })
    }
}

impl From<u32> for ErrorCode {
    fn from(raw: u32) -> Self {
        Self(raw)
    }
}

impl From<ErrorCode> for u32 {
    fn from(code: ErrorCode) -> Self {
        code.0
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "unknown error code {:#x}", self.0),
        }
    }
}

/// Which rule the peer broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The client connection preface did not match (§3.4).
    BadPreface,
    /// A frame longer than our SETTINGS_MAX_FRAME_SIZE (§4.2).
    FrameTooLarge {
        /// Declared payload length.
        size: u32,
        /// The limit in force.
        limit: u32,
    },
    /// A stream frame on stream 0 (§6.1-§6.4, §6.6, §6.10).
    StreamIdRequired(FrameType),
    /// A connection frame on a stream other than 0 (§6.5, §6.7, §6.8).
    StreamIdForbidden(FrameType),
    /// A payload length the frame type does not allow, or too short for
    /// the fields its flags announce (§4.2, §6).
    BadLength {
        /// The frame type.
        frame: FrameType,
        /// Its payload length.
        len: u32,
    },
    /// A SETTINGS frame with ACK and a payload (§6.5).
    SettingsAckWithPayload,
    /// Padding as long as the payload or longer (§6.1, §6.2, §6.6).
    PaddingTooLong {
        /// The frame type.
        frame: FrameType,
        /// The Pad Length field.
        pad_len: u8,
        /// The payload length.
        payload_len: u32,
    },
    /// A stream made to depend on itself (§5.3.1).
    SelfDependency,
    /// A setting value out of its range (§6.5.2).
    InvalidSetting(Setting),
    /// A WINDOW_UPDATE with an increment of 0 (§6.9).
    ZeroWindowIncrement,
    /// A frame other than CONTINUATION on the same stream in the middle
    /// of a field block (§4.3, §6.10).
    ExpectedContinuation {
        /// The stream whose field block is open.
        stream: StreamId,
        /// The type of the frame that came instead.
        got: FrameType,
    },
    /// A CONTINUATION without an open field block (§6.10).
    UnexpectedContinuation,
    /// A field block (HEADERS or PUSH_PROMISE and its CONTINUATIONs)
    /// larger than [`Limits::max_header_block_size`](crate::Limits).
    HeaderBlockTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// More CONTINUATION frames in one field block than
    /// [`Limits::max_continuation_frames`](crate::Limits).
    TooManyContinuations {
        /// The configured limit.
        limit: usize,
    },
    /// A field block HPACK could not decode, or one over its limits
    /// (RFC 7541; RFC 9113 §4.3).
    Hpack(hpack::Error),
    /// The peer did not acknowledge our SETTINGS in time (§6.5.3).
    SettingsTimeout,
    /// The peer's connection preface did not start with a SETTINGS frame
    /// (§3.4).
    ExpectedSettings(FrameType),
    /// A SETTINGS ACK with no SETTINGS of ours outstanding (§6.5.3).
    UnexpectedSettingsAck,
    /// A server sent SETTINGS_ENABLE_PUSH = 1 (§6.5.2).
    ServerEnabledPush,
    /// A PUSH_PROMISE although we disabled push (§6.6, §8.4).
    PushDisabled,
    /// A frame other than HEADERS or PRIORITY on an idle stream (§5.1),
    /// or HEADERS opening a stream the peer may not open (§5.1.1).
    IdleStream {
        /// The frame type.
        frame: FrameType,
        /// The stream.
        stream: StreamId,
    },
    /// A HEADERS frame on a stream id at or below one already used,
    /// which the peer can no longer open (§5.1.1).
    StreamIdReused(StreamId),
    /// A frame on a stream that is closed for the peer's sending
    /// (half-closed remote or closed, §5.1).
    StreamClosed {
        /// The frame type.
        frame: FrameType,
        /// The stream.
        stream: StreamId,
    },
    /// DATA beyond the flow-control window we advertised (§6.9.1).
    WindowExceeded {
        /// Flow-controlled length of the frame.
        len: u32,
        /// What the window allowed.
        window: i64,
    },
    /// A WINDOW_UPDATE or SETTINGS_INITIAL_WINDOW_SIZE change taking a
    /// window above 2^31 - 1 (§6.9.1, §6.9.2).
    WindowOverflow,
    /// A new stream beyond the SETTINGS_MAX_CONCURRENT_STREAMS we
    /// advertised (§5.1.2).
    TooManyStreams {
        /// Our limit.
        limit: u32,
    },
    /// A request, response or trailer section that breaks HTTP/2's
    /// message rules (§8.1.1, §8.2, §8.3): the text names the rule.
    Malformed(&'static str),
    /// More streams reset (by the peer, or by us for its errors) within
    /// [`Limits::reset_window`](crate::Limits) than
    /// [`Limits::max_resets`](crate::Limits) (CVE-2023-44487, §10.5).
    ExcessiveResets {
        /// The limit.
        limit: u32,
    },
    /// More consecutive empty DATA frames without END_STREAM than
    /// [`Limits::max_empty_frames`](crate::Limits) (§10.5, CVE-2019-9518).
    EmptyFrameFlood {
        /// The limit.
        limit: u32,
    },
    /// The peer closed the transport without ending the connection
    /// cleanly (§6.8: GOAWAY first, no stream left, no frame cut short).
    UnexpectedEof {
        /// Whether a GOAWAY went either way before.
        goaway: bool,
        /// Streams still open.
        open_streams: usize,
        /// Input ended inside a frame, a field block or the preface.
        partial_frame: bool,
    },
    /// Answers owed to the peer (SETTINGS and PING ACKs, RST_STREAM) pile
    /// up unsent beyond [`Limits::max_pending_control`](crate::Limits) or
    /// [`Limits::max_queued_output`](crate::Limits): the peer does not
    /// read (§10.5, CVE-2019-9512, CVE-2019-9515).
    ControlFlood {
        /// Frames owed.
        frames: usize,
        /// Bytes queued.
        bytes: usize,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadPreface => f.write_str("invalid connection preface"),
            Self::FrameTooLarge { size, limit } => {
                write!(f, "{size}-byte frame over the {limit}-byte maximum")
            }
            Self::StreamIdRequired(t) => write!(f, "{t} frame on stream 0"),
            Self::StreamIdForbidden(t) => write!(f, "{t} frame on a stream other than 0"),
            Self::BadLength { frame, len } => write!(f, "{frame} frame with length {len}"),
            Self::SettingsAckWithPayload => f.write_str("SETTINGS ACK with a payload"),
            Self::PaddingTooLong {
                frame,
                pad_len,
                payload_len,
            } => write!(
                f,
                "{frame} frame with {pad_len} bytes of padding in a {payload_len}-byte payload"
            ),
            Self::SelfDependency => f.write_str("stream depends on itself"),
            Self::InvalidSetting(s) => write!(f, "invalid setting {s}"),
            Self::ZeroWindowIncrement => f.write_str("WINDOW_UPDATE with increment 0"),
            Self::ExpectedContinuation { stream, got } => write!(
                f,
                "{got} frame inside the field block of stream {stream} (CONTINUATION expected)"
            ),
            Self::UnexpectedContinuation => f.write_str("CONTINUATION without an open field block"),
            Self::HeaderBlockTooLarge { limit } => {
                write!(f, "field block over the {limit}-byte limit")
            }
            Self::TooManyContinuations { limit } => {
                write!(
                    f,
                    "more than {limit} CONTINUATION frames in one field block"
                )
            }
            Self::Hpack(e) => write!(f, "a field block HPACK rejects: {e}"),
            Self::SettingsTimeout => f.write_str("no SETTINGS ACK in time (§6.5.3)"),
            Self::ExpectedSettings(t) => {
                write!(f, "{t} frame before its first SETTINGS (§3.4)")
            }
            Self::UnexpectedSettingsAck => {
                f.write_str("SETTINGS ACK with no SETTINGS outstanding (§6.5.3)")
            }
            Self::ServerEnabledPush => {
                f.write_str("SETTINGS_ENABLE_PUSH = 1 from a server (§6.5.2)")
            }
            Self::PushDisabled => f.write_str("PUSH_PROMISE with push disabled (§6.6, §8.4)"),
            Self::IdleStream { frame, stream } => {
                write!(f, "{frame} frame on idle stream {stream} (§5.1, §5.1.1)")
            }
            Self::StreamIdReused(s) => {
                write!(
                    f,
                    "HEADERS opening stream {s}, not above the last one (§5.1.1)"
                )
            }
            Self::StreamClosed { frame, stream } => {
                write!(f, "{frame} frame on closed stream {stream} (§5.1)")
            }
            Self::WindowExceeded { len, window } => write!(
                f,
                "{len} bytes of DATA for a flow-control window of {window} (§6.9.1)"
            ),
            Self::WindowOverflow => f.write_str("a flow-control window above 2^31-1 (§6.9.1)"),
            Self::TooManyStreams { limit } => write!(
                f,
                "a stream beyond SETTINGS_MAX_CONCURRENT_STREAMS = {limit} (§5.1.2)"
            ),
            Self::Malformed(rule) => write!(f, "a malformed message: {rule}"),
            Self::ExcessiveResets { limit } => write!(
                f,
                "more than {limit} stream resets in the window (rapid reset, §10.5)"
            ),
            Self::EmptyFrameFlood { limit } => {
                write!(f, "more than {limit} empty DATA frames in a row (§10.5)")
            }
            Self::UnexpectedEof {
                goaway,
                open_streams,
                partial_frame,
            } => {
                f.write_str(if *goaway {
                    "transport closed after GOAWAY"
                } else {
                    "transport closed without GOAWAY (§6.8)"
                })?;
                if *open_streams > 0 {
                    write!(f, " with {open_streams} streams open")?;
                }
                if *partial_frame {
                    f.write_str(" inside a frame")?;
                }
                Ok(())
            }
            Self::ControlFlood { frames, bytes } => write!(
                f,
                "frames that need answers while {frames} answers ({bytes} bytes) wait unread (§10.5)"
            ),
        }
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke a rule that ends the connection (§5.4.1): send
    /// GOAWAY with `code`, then close.
    Connection {
        /// The code for the GOAWAY.
        code: ErrorCode,
        /// What the peer did.
        reason: Reason,
    },
    /// The peer broke a rule that ends one stream (§5.4.2): send
    /// RST_STREAM with `code` on `id`; the connection goes on. The decoder
    /// has consumed the offending frame.
    Stream {
        /// The stream to reset.
        id: StreamId,
        /// The code for the RST_STREAM.
        code: ErrorCode,
        /// What the peer did.
        reason: Reason,
    },
    /// API misuse: a frame whose payload does not fit the 24-bit length
    /// field (§4.1), or a window increment over 2^31 - 1 (§6.9).
    Unencodable {
        /// The frame type.
        frame: FrameType,
        /// The payload length, or the increment.
        value: usize,
    },
    /// API misuse: the connection is closed (failed, aborted, or done
    /// after GOAWAY); nothing more can be sent.
    Closed,
    /// API misuse: the call does not fit the role or the stream's state
    /// (e.g. a response from a client, DATA after END_STREAM, a stream
    /// that is not open); the text says which.
    InvalidState(&'static str),
    /// API misuse: headers we were asked to send break §8.2 or §8.3; the
    /// text names the rule.
    InvalidHeaders(&'static str),
    /// Not now: the peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached
    /// (§5.1.2). Retry once a stream closes.
    StreamLimit {
        /// The peer's limit.
        limit: u32,
    },
    /// No stream ids are left on this connection (§5.1.1): open a new one.
    StreamIdsExhausted,
    /// GOAWAY was sent or received (§6.8): no new streams.
    GoingAway,
    /// Not now: this much data already waits for the peer's flow-control
    /// windows ([`Limits::max_send_buffer`](crate::Limits)). Retry after
    /// [`Event::Writable`](crate::Event::Writable).
    SendBufferFull {
        /// Bytes queued.
        queued: usize,
        /// The limit.
        limit: usize,
    },
    /// Not now: too many of our PINGs are unanswered.
    TooManyPings,
}

impl Error {
    /// A connection error.
    #[must_use]
    pub const fn connection(code: ErrorCode, reason: Reason) -> Self {
        Self::Connection { code, reason }
    }

    /// A stream error on `id`.
    #[must_use]
    pub const fn stream(id: StreamId, code: ErrorCode, reason: Reason) -> Self {
        Self::Stream { id, code, reason }
    }

    /// The error for an HPACK failure on `stream`'s field block: a stream
    /// error (PROTOCOL_ERROR) when only that stream must be refused (the
    /// list was too large but the table is in step, RFC 9113 §10.5.1),
    /// otherwise a COMPRESSION_ERROR connection error (§4.3).
    #[must_use]
    pub fn hpack(stream: StreamId, e: hpack::Error) -> Self {
        if e.is_connection_error() {
            Self::from(e)
        } else {
            Self::stream(stream, ErrorCode(e.code()), Reason::Hpack(e))
        }
    }

    /// Whether the error ends the connection: every connection error, and
    /// API misuse, which leaves the caller's state in doubt.
    #[must_use]
    pub const fn is_connection_error(&self) -> bool {
        !matches!(self, Self::Stream { .. })
    }

    /// Whether the error is only back-pressure on a command, to retry
    /// later: [`Error::StreamLimit`], [`Error::SendBufferFull`],
    /// [`Error::TooManyPings`].
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::StreamLimit { .. } | Self::SendBufferFull { .. } | Self::TooManyPings
        )
    }

    /// Whether the peer caused the error (as opposed to API misuse).
    #[must_use]
    pub const fn is_peer_error(&self) -> bool {
        matches!(self, Self::Connection { .. } | Self::Stream { .. })
    }

    /// The stream to reset for a stream error, `None` otherwise.
    #[must_use]
    pub const fn stream_id(&self) -> Option<StreamId> {
        match self {
            Self::Stream { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The code to send in GOAWAY or RST_STREAM; INTERNAL_ERROR for API
    /// misuse.
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Connection { code, .. } | Self::Stream { code, .. } => *code,
            _ => ErrorCode::INTERNAL_ERROR,
        }
    }

    /// What the peer did, `None` for API misuse.
    #[must_use]
    pub const fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Connection { reason, .. } | Self::Stream { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connection { code, reason } => {
                write!(f, "connection error {code}: peer sent {reason}")
            }
            Self::Stream { id, code, reason } => {
                write!(f, "stream error {code} on stream {id}: peer sent {reason}")
            }
            Self::Unencodable { frame, value } => {
                write!(f, "cannot encode {frame} frame: {value} out of range")
            }
            Self::Closed => f.write_str("the connection is closed"),
            Self::InvalidState(what) => write!(f, "invalid in this state: {what}"),
            Self::InvalidHeaders(rule) => write!(f, "headers not sendable: {rule}"),
            Self::StreamLimit { limit } => {
                write!(f, "the peer allows {limit} concurrent streams")
            }
            Self::StreamIdsExhausted => f.write_str("no stream ids left on this connection"),
            Self::GoingAway => f.write_str("GOAWAY sent or received: no new streams"),
            Self::SendBufferFull { queued, limit } => {
                write!(f, "{queued} bytes already queued (limit {limit})")
            }
            Self::TooManyPings => f.write_str("too many PINGs unanswered"),
        }
    }
}

impl std::error::Error for Error {}

/// Every HPACK failure as a connection error: COMPRESSION_ERROR when the
/// dynamic table is out of step (§4.3), PROTOCOL_ERROR for a list over its
/// limit. [`Error::hpack`] turns the latter into a stream error instead.
impl From<hpack::Error> for Error {
    fn from(e: hpack::Error) -> Self {
        Self::connection(ErrorCode(e.code()), Reason::Hpack(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(
            ErrorCode::HTTP_1_1_REQUIRED.to_string(),
            "HTTP_1_1_REQUIRED"
        );
        assert_eq!(ErrorCode(0xdead).to_string(), "unknown error code 0xdead");
        assert_eq!(ErrorCode::from(0xd), ErrorCode::HTTP_1_1_REQUIRED);
        assert_eq!(u32::from(ErrorCode::CANCEL), 8);
        assert_eq!(ErrorCode::default(), ErrorCode::NO_ERROR);
    }

    #[test]
    fn kinds() {
        let c = Error::connection(ErrorCode::PROTOCOL_ERROR, Reason::BadPreface);
        assert!(c.is_connection_error() && c.is_peer_error());
        assert_eq!(c.code(), ErrorCode::PROTOCOL_ERROR);
        assert_eq!(c.stream_id(), None);
        let s = Error::stream(
            StreamId::new(3),
            ErrorCode::PROTOCOL_ERROR,
            Reason::ZeroWindowIncrement,
        );
        assert!(!s.is_connection_error());
        assert_eq!(s.stream_id(), Some(StreamId::new(3)));
        assert_eq!(
            s.to_string(),
            "stream error PROTOCOL_ERROR on stream 3: peer sent WINDOW_UPDATE with increment 0"
        );
        let m = Error::Unencodable {
            frame: FrameType::DATA,
            value: 1 << 24,
        };
        assert!(m.is_connection_error() && !m.is_peer_error());
        assert_eq!(m.code(), ErrorCode::INTERNAL_ERROR);
        assert_eq!(m.reason(), None);
    }

    #[test]
    fn hpack_errors() {
        let e = Error::from(hpack::Error::HuffmanEos);
        assert!(e.is_connection_error());
        assert_eq!(e.code(), ErrorCode::COMPRESSION_ERROR);
        assert_eq!(e.reason(), Some(&Reason::Hpack(hpack::Error::HuffmanEos)));
        let e = Error::hpack(StreamId::new(5), hpack::Error::Truncated);
        assert!(e.is_connection_error());
        assert_eq!(e.code(), ErrorCode::COMPRESSION_ERROR);
        let big = hpack::Error::HeaderListTooLarge {
            size: 100,
            limit: 10,
        };
        let e = Error::hpack(StreamId::new(5), big.clone());
        assert!(!e.is_connection_error());
        assert_eq!(e.stream_id(), Some(StreamId::new(5)));
        assert_eq!(e.code(), ErrorCode::PROTOCOL_ERROR);
        assert_eq!(e.reason(), Some(&Reason::Hpack(big)));
    }
}
