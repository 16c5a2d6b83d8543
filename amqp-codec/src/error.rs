//! The crate's one error type.
//!
//! Every peer error maps to the reply code the connection closes with
//! ([`Error::reply_code`]) and to the class and method that provoked it
//! ([`Error::failing_method`]), which are the fields of `connection.close`.
//! The codes follow RabbitMQ where it is explicit, the spec's constant
//! descriptions elsewhere:
//!
//! * 501 frame-error: the frame or a method's argument list does not decode:
//!   bad frame-end, unknown frame type, oversize frame, arguments cut short
//!   or followed by stray bytes, a shortstr that is not UTF-8 (RabbitMQ's
//!   "Malformed UTF-8 in shortstr"), a body larger than announced or over
//!   [`Limits::max_body_size`](crate::Limits) (RabbitMQ's `frame_error`s).
//! * 502 syntax-error: a field table or array whose contents are illegal:
//!   unknown type letter, an entry running past the table's own length,
//!   nesting or size over the limits. (RabbitMQ has no defined answer
//!   here; the spec's "illegal values for one or more fields" fits.)
//! * 505 unexpected-frame: content frames out of order or for the wrong
//!   class (RabbitMQ's `unexpected_frame`).
//! * 540 not-implemented: a well-formed method frame whose class/method id
//!   this crate does not know (e.g. RabbitMQ's internal `basic.credit`,
//!   60/200).
//!
//! The connection layer adds the state machine's own judgements:
//!
//! * 503 command-invalid: a known method the peer may not send now or in
//!   this direction, or a reply to nothing we asked.
//! * 504 channel-error: a frame for a channel that is not open, or a second
//!   `channel.open`.
//! * 530 not-allowed: tune values out of bounds, a channel over
//!   channel-max, a refused virtual host.
//! * 403 access-refused: failed authentication (a soft code that RabbitMQ
//!   sends in `connection.close`).
//! * 406 precondition-failed: the one soft error the server role raises
//!   by itself (mixing `tx` and `confirm` modes); it closes the channel.

use std::fmt;

use crate::constants::ReplyCode;
use crate::frame::ProtocolHeader;

/// Which kind of frame (AMQP 0-9-1 §4.2.3), for error reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// A method frame (type 1).
    Method,
    /// A content header frame (type 2).
    Header,
    /// A content body frame (type 3).
    Body,
    /// A heartbeat frame (type 8).
    Heartbeat,
}

impl fmt::Display for FrameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Method => "method",
            Self::Header => "content header",
            Self::Body => "content body",
            Self::Heartbeat => "heartbeat",
        })
    }
}

/// What was wrong inside a frame payload (method arguments, content header,
/// field table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadError {
    /// The payload ended inside a field (501).
    Truncated,
    /// Bytes left over after the last field (501).
    TrailingBytes(usize),
    /// A shortstr that is not UTF-8 (501, as RabbitMQ).
    InvalidUtf8,
    /// Property flags for properties the class does not have, as the flags
    /// word(s) with bits of known properties cleared (501).
    UnknownProperties(u16),
    /// A field table or array value with an unknown type letter (502).
    UnknownFieldType(u8),
    /// A table or array entry runs past the table's own length (502).
    FieldTruncated,
    /// Tables and arrays nested deeper than
    /// [`Limits::max_table_depth`](crate::Limits) (502).
    TableTooDeep {
        /// Configured limit.
        limit: usize,
    },
    /// A table larger than [`Limits::max_table_size`](crate::Limits) (502).
    TableTooLarge {
        /// Declared size in bytes.
        size: u32,
        /// Configured limit.
        limit: usize,
    },
}

impl PayloadError {
    /// The reply code this error closes the connection with.
    #[must_use]
    pub const fn reply_code(self) -> ReplyCode {
        match self {
            Self::Truncated
            | Self::TrailingBytes(_)
            | Self::InvalidUtf8
            | Self::UnknownProperties(_) => ReplyCode::FrameError,
            Self::UnknownFieldType(_)
            | Self::FieldTruncated
            | Self::TableTooDeep { .. }
            | Self::TableTooLarge { .. } => ReplyCode::SyntaxError,
        }
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("payload ends inside a field"),
            Self::TrailingBytes(n) => write!(f, "{n} bytes after the last field"),
            Self::InvalidUtf8 => f.write_str("malformed UTF-8 in shortstr"),
            Self::UnknownProperties(flags) => {
                write!(
                    f,
                    "flags {flags:#06x} name properties the class does not have"
                )
            }
            Self::UnknownFieldType(t) => {
                write!(f, "unknown field value type {:?}", char::from(*t))
            }
            Self::FieldTruncated => f.write_str("a table entry runs past the table's length"),
            Self::TableTooDeep { limit } => write!(f, "tables nested deeper than {limit}"),
            Self::TableTooLarge { size, limit } => {
                write!(f, "{size}-byte table over the {limit}-byte limit")
            }
        }
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // ---- the protocol header (§4.2.2) ----
    /// A client opened with bytes that are not `AMQP...` (e.g. an HTTP
    /// request or a TLS hello): the first up to 8 bytes received. The
    /// server answers with [`Error::header_answer`] and closes.
    NotAmqp {
        /// What arrived instead.
        received: Vec<u8>,
    },
    /// A client asked for another AMQP protocol or version (1.0, 0-8...).
    /// The server answers with [`Error::header_answer`] and closes.
    UnsupportedProtocol(ProtocolHeader),
    /// The server sent a protocol header where a frame was due: it does not
    /// speak the version we asked for and is closing. It names its own.
    ProtocolRefused(ProtocolHeader),

    // ---- the peer broke framing (§4.2.3) ----
    /// A frame type other than 1, 2, 3 or 8 (501).
    UnknownFrameType(u8),
    /// The octet after the payload is not `0xCE` (501).
    BadFrameEnd(u8),
    /// A frame payload over the frame-max in force (501).
    FrameTooLarge {
        /// Declared payload size.
        size: u32,
        /// Largest payload accepted.
        max: u32,
    },
    /// A heartbeat frame on a channel other than 0 or with a payload (501).
    BadHeartbeat {
        /// Its channel.
        channel: u16,
        /// Its payload size.
        size: u32,
    },
    /// A method frame naming a class/method id this crate does not know
    /// (540 not-implemented).
    UnknownMethod {
        /// Class id.
        class_id: u16,
        /// Method id.
        method_id: u16,
    },
    /// A method frame's arguments, a content header or a field table did not
    /// decode. `class_id`/`method_id` name the method (0 where unknown; a
    /// content header gives its class and method 0).
    Payload {
        /// Class id of the method or content header.
        class_id: u16,
        /// Method id, 0 for a content header or bare table.
        method_id: u16,
        /// What was wrong.
        error: PayloadError,
    },

    // ---- content (§4.2.6) ----
    /// A frame out of order: e.g. a body without a header, a method
    /// while content was due (505).
    UnexpectedFrame {
        /// What the channel was waiting for.
        expected: FrameKind,
        /// What came.
        got: FrameKind,
    },
    /// A content header for another class than its method's (505).
    ContentClassMismatch {
        /// The method's class.
        expected: u16,
        /// The header's class.
        got: u16,
    },
    /// A content header announcing a body over
    /// [`Limits::max_body_size`](crate::Limits) (501, as RabbitMQ).
    BodyTooLarge {
        /// Announced body size.
        size: u64,
        /// Configured limit.
        limit: u64,
    },
    /// A body frame longer than what remains of the announced body size
    /// (501, as RabbitMQ).
    BodyOverrun {
        /// Bytes of body still due.
        remaining: u64,
        /// Size of the frame that came.
        got: usize,
    },

    // ---- the peer broke the connection's rules (§2.3) ----
    /// A method the peer may not send in this state or direction, or a
    /// reply to no request of ours (503).
    CommandInvalid {
        /// Channel of the method.
        channel: u16,
        /// Class id.
        class_id: u16,
        /// Method id.
        method_id: u16,
        /// What was wrong.
        reason: &'static str,
    },
    /// A frame for a channel that is not open, a second `channel.open`, or
    /// a channel-class frame on channel 0 (504).
    ChannelError {
        /// The channel.
        channel: u16,
        /// Class id (0 for a content frame).
        class_id: u16,
        /// Method id (0 for a content frame).
        method_id: u16,
        /// What was wrong.
        reason: &'static str,
    },
    /// A method whose preconditions do not hold; a soft error that closes
    /// only the channel (406), e.g. `confirm.select` on a transactional
    /// channel.
    PreconditionFailed {
        /// The channel.
        channel: u16,
        /// Class id.
        class_id: u16,
        /// Method id.
        method_id: u16,
        /// What was wrong.
        reason: &'static str,
    },
    /// Tune values out of bounds, a channel number over channel-max, or a
    /// virtual host the server refused (530).
    NotAllowed {
        /// What was refused.
        reason: String,
    },
    /// Authentication failed (403). A soft code, but it is sent in
    /// `connection.close`: there is no channel yet.
    AccessRefused {
        /// Why.
        reason: String,
    },
    /// Client: the server offers none of our SASL mechanism (the
    /// `mechanisms` of `connection.start`). No close is sent; reported as
    /// 403.
    NoCommonMechanism {
        /// What the server offered.
        offered: String,
    },
    /// Nothing was received for two heartbeat intervals. No close is sent
    /// to a dead peer; reported as 320 connection-forced.
    HeartbeatTimeout,
    /// The negotiation did not finish within the configured handshake
    /// timeout. No close is sent; reported as 320 connection-forced.
    HandshakeTimeout,

    // ---- API misuse: the caller, not the peer ----
    /// The connection is closed or closing: nothing more can be sent.
    Closed,
    /// The call does not fit the connection's state or role (e.g. sending
    /// before the negotiation ends, a server-only method from a client).
    InvalidState(&'static str),
    /// The channel is not open (never opened, closing or closed).
    ChannelNotOpen(u16),
    /// The channel number cannot be opened: 0, over channel-max or in use.
    ChannelUnavailable(u16),
    /// A string over its type's length limit.
    StringTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Something to encode whose length does not fit its 32-bit length
    /// field (a longstr, table, array, or frame payload over 4 GiB).
    TooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// A content header frame does not fit in the frame-max given to
    /// [`encode_content`](crate::codec::encode_content).
    HeaderTooLarge {
        /// Encoded frame size.
        size: usize,
        /// The frame-max.
        frame_max: u32,
    },
    /// A frame-max too small to carry a body frame (at most 8 bytes).
    FrameMaxTooSmall(u32),
}

impl Error {
    /// The error for `error` inside method (or header, `method_id` 0)
    /// `class_id`/`method_id`.
    pub(crate) const fn payload(class_id: u16, method_id: u16, error: PayloadError) -> Self {
        Self::Payload {
            class_id,
            method_id,
            error,
        }
    }

    /// The reply code as a typed value; see [`Error::reply_code`].
    #[must_use]
    pub const fn reply(&self) -> ReplyCode {
        match self {
            Self::NotAmqp { .. }
            | Self::UnsupportedProtocol(_)
            | Self::ProtocolRefused(_)
            | Self::UnknownFrameType(_)
            | Self::BadFrameEnd(_)
            | Self::FrameTooLarge { .. }
            | Self::BadHeartbeat { .. }
            | Self::BodyTooLarge { .. }
            | Self::BodyOverrun { .. } => ReplyCode::FrameError,
            Self::UnknownMethod { .. } => ReplyCode::NotImplemented,
            Self::Payload { error, .. } => error.reply_code(),
            Self::UnexpectedFrame { .. } | Self::ContentClassMismatch { .. } => {
                ReplyCode::UnexpectedFrame
            }
            Self::CommandInvalid { .. } => ReplyCode::CommandInvalid,
            Self::ChannelError { .. } => ReplyCode::ChannelError,
            Self::PreconditionFailed { .. } => ReplyCode::PreconditionFailed,
            Self::NotAllowed { .. } => ReplyCode::NotAllowed,
            Self::AccessRefused { .. } | Self::NoCommonMechanism { .. } => ReplyCode::AccessRefused,
            Self::HeartbeatTimeout | Self::HandshakeTimeout => ReplyCode::ConnectionForced,
            Self::StringTooLong { .. }
            | Self::TooLarge { .. }
            | Self::HeaderTooLarge { .. }
            | Self::FrameMaxTooSmall(_)
            | Self::Closed
            | Self::InvalidState(_)
            | Self::ChannelNotOpen(_)
            | Self::ChannelUnavailable(_) => ReplyCode::InternalError,
        }
    }

    /// The reply code the connection closes with (`connection.close`
    /// `reply-code`). Protocol header errors are never answered with a
    /// close (see [`Error::header_answer`]); they report 501. API misuse
    /// reports 541 internal-error, for a caller that decides to close.
    #[must_use]
    pub const fn reply_code(&self) -> u16 {
        self.reply().code()
    }

    /// Whether the error's code is a hard error in the spec's constants.
    /// Every error the codec detects is; of the connection layer's, only
    /// [`Error::PreconditionFailed`] (which closes just its channel) and
    /// [`Error::AccessRefused`] (which closes the connection all the same:
    /// there is no channel to close yet) are not.
    #[must_use]
    pub const fn is_hard(&self) -> bool {
        self.reply().is_hard()
    }

    /// Whether the peer caused this error (as opposed to API misuse).
    #[must_use]
    pub const fn is_peer_error(&self) -> bool {
        !matches!(
            self,
            Self::StringTooLong { .. }
                | Self::TooLarge { .. }
                | Self::HeaderTooLarge { .. }
                | Self::FrameMaxTooSmall(_)
                | Self::Closed
                | Self::InvalidState(_)
                | Self::ChannelNotOpen(_)
                | Self::ChannelUnavailable(_)
        )
    }

    /// The `class-id` and `method-id` for `connection.close`: the method
    /// whose frame failed, `(0, 0)` when no method was involved.
    #[must_use]
    pub const fn failing_method(&self) -> (u16, u16) {
        match self {
            Self::UnknownMethod {
                class_id,
                method_id,
            }
            | Self::Payload {
                class_id,
                method_id,
                ..
            }
            | Self::CommandInvalid {
                class_id,
                method_id,
                ..
            }
            | Self::ChannelError {
                class_id,
                method_id,
                ..
            }
            | Self::PreconditionFailed {
                class_id,
                method_id,
                ..
            } => (*class_id, *method_id),
            _ => (0, 0),
        }
    }

    /// What a server writes before closing the socket when a client's
    /// protocol header is wrong: its own header (§4.2.2, as RabbitMQ).
    /// `None` for every other error.
    #[must_use]
    pub const fn header_answer(&self) -> Option<&'static [u8; 8]> {
        match self {
            Self::NotAmqp { .. } | Self::UnsupportedProtocol(_) => {
                Some(&crate::frame::PROTOCOL_HEADER)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAmqp { received } => {
                write!(f, "peer did not open with an AMQP header: {received:02x?}")
            }
            Self::UnsupportedProtocol(h) => write!(f, "peer asked for unsupported {h}"),
            Self::ProtocolRefused(h) => write!(f, "server refused AMQP 0-9-1 and offered {h}"),
            Self::UnknownFrameType(t) => write!(f, "peer sent unknown frame type {t}"),
            Self::BadFrameEnd(b) => write!(f, "peer sent frame-end {b:#04x}, not 0xce"),
            Self::FrameTooLarge { size, max } => {
                write!(f, "peer sent a {size}-byte frame payload (max {max})")
            }
            Self::BadHeartbeat { channel, size } => write!(
                f,
                "peer sent a heartbeat on channel {channel} with {size} payload bytes"
            ),
            Self::UnknownMethod {
                class_id,
                method_id,
            } => write!(f, "peer sent unknown method {class_id}/{method_id}"),
            Self::Payload {
                class_id,
                method_id,
                error,
            } => match crate::method::method_name(*class_id, *method_id) {
                Some(name) => write!(f, "peer sent a bad {name}: {error}"),
                None if *method_id == 0 && *class_id != 0 => {
                    write!(
                        f,
                        "peer sent a bad content header (class {class_id}): {error}"
                    )
                }
                None => write!(f, "peer sent a malformed payload: {error}"),
            },
            Self::UnexpectedFrame { expected, got } => {
                write!(
                    f,
                    "peer sent a {got} frame where a {expected} frame was due"
                )
            }
            Self::ContentClassMismatch { expected, got } => write!(
                f,
                "peer sent a content header for class {got} after a class {expected} method"
            ),
            Self::BodyTooLarge { size, limit } => {
                write!(f, "peer announced a {size}-byte body (limit {limit})")
            }
            Self::BodyOverrun { remaining, got } => write!(
                f,
                "peer sent a {got}-byte body frame with {remaining} body bytes due"
            ),
            Self::CommandInvalid {
                channel,
                class_id,
                method_id,
                reason,
            } => {
                let name = crate::method::method_name(*class_id, *method_id).unwrap_or("method");
                write!(f, "peer sent {name} on channel {channel}: {reason}")
            }
            Self::ChannelError {
                channel, reason, ..
            } => write!(f, "channel {channel}: {reason}"),
            Self::PreconditionFailed { reason, .. } => f.write_str(reason),
            Self::NotAllowed { reason } => write!(f, "not allowed: {reason}"),
            Self::AccessRefused { reason } => write!(f, "access refused: {reason}"),
            Self::NoCommonMechanism { offered } => write!(
                f,
                "server offers no SASL mechanism we use (it offers {offered:?})"
            ),
            Self::HeartbeatTimeout => f.write_str("missed heartbeats: peer presumed dead"),
            Self::HandshakeTimeout => f.write_str("connection negotiation timed out"),
            Self::Closed => f.write_str("connection closed"),
            Self::InvalidState(what) => write!(f, "invalid in this state: {what}"),
            Self::ChannelNotOpen(ch) => write!(f, "channel {ch} is not open"),
            Self::ChannelUnavailable(ch) => write!(f, "channel {ch} cannot be opened"),
            Self::StringTooLong { len, max } => {
                write!(f, "{len}-byte string over the {max}-byte limit")
            }
            Self::TooLarge { size } => write!(f, "{size} bytes do not fit a 32-bit length"),
            Self::HeaderTooLarge { size, frame_max } => write!(
                f,
                "{size}-byte content header frame over frame-max {frame_max}"
            ),
            Self::FrameMaxTooSmall(n) => write!(f, "frame-max {n} cannot carry a body frame"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests;
