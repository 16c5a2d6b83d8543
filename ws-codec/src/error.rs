//! The crate's one error type.
//!
//! Peer errors name what the peer did wrong and map to the close code
//! ([`Error::close_code`]) the connection sends back; handshake errors map to
//! an HTTP status ([`HandshakeError::status`]); API misuse is separate.

use crate::frame::CloseCode;

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // ---- the peer broke RFC 6455 / RFC 7692 framing rules ----
    /// Opcode 0x3–0x7 or 0xB–0xF (§5.2).
    ReservedOpcode(u8),
    /// An RSV bit set that no negotiated extension defines (§5.2).
    ReservedBits(u8),
    /// A 16- or 64-bit length that would have fit a shorter form (§5.2).
    NonMinimalLength,
    /// The most significant bit of a 64-bit length was set (§5.2).
    LengthMsbSet,
    /// A control frame longer than 125 bytes (§5.5).
    ControlFrameTooLong(u64),
    /// A control frame without FIN (§5.5).
    FragmentedControlFrame,
    /// A client sent an unmasked frame (§5.1).
    UnmaskedFrame,
    /// A server sent a masked frame (§5.1).
    MaskedFrame,
    /// A continuation frame with no message in progress (§5.4).
    UnexpectedContinuation,
    /// A new data frame while a fragmented message was in progress (§5.4).
    ExpectedContinuation,
    /// RSV1 on a control or continuation frame (RFC 7692 §6.1).
    CompressedControlOrContinuation,
    /// A text message, or close reason, that is not UTF-8 (§8.1).
    InvalidUtf8,
    /// A close frame with a 1-byte payload (§5.5.1).
    InvalidClosePayload,
    /// A close code that may not be sent on the wire (§7.4).
    InvalidCloseCode(u16),
    /// A frame arrived after the peer's close frame (§5.5.1).
    FrameAfterClose,
    /// A compressed message did not inflate (RFC 7692 §7.2.2).
    Inflate(String),
    // ---- limits ----
    /// A frame longer than [`Limits::max_frame_size`](crate::Limits).
    FrameTooLarge {
        /// Declared payload length.
        size: u64,
        /// Configured limit.
        limit: usize,
    },
    /// A message (after inflation) longer than
    /// [`Limits::max_message_size`](crate::Limits).
    MessageTooLarge {
        /// Configured limit.
        limit: usize,
    },
    // ---- the opening handshake ----
    /// The opening handshake failed.
    Handshake(HandshakeError),
    // ---- API misuse: the caller, not the peer ----
    /// The connection is closed (or closing) and cannot send this.
    Closed,
    /// The call is not valid in the connection's current state.
    InvalidState(&'static str),
    /// Queuing this would exceed [`Limits::max_queued_output`](crate::Limits);
    /// drain `poll_transmit` first.
    OutputFull,
    /// A close code this endpoint may not send, or a reason over 123 bytes.
    InvalidCloseArgument,
    /// A control frame payload over 125 bytes.
    ControlPayloadTooLong,
}

impl Error {
    /// The close code to send the peer for this error, `None` for handshake
    /// errors and API misuse (§7.4.1).
    #[must_use]
    pub const fn close_code(&self) -> Option<CloseCode> {
        Some(match self {
            Self::InvalidUtf8 | Self::Inflate(_) => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge { .. } | Self::MessageTooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
            Self::ReservedOpcode(_)
            | Self::ReservedBits(_)
            | Self::NonMinimalLength
            | Self::LengthMsbSet
            | Self::ControlFrameTooLong(_)
            | Self::FragmentedControlFrame
            | Self::UnmaskedFrame
            | Self::MaskedFrame
            | Self::UnexpectedContinuation
            | Self::ExpectedContinuation
            | Self::CompressedControlOrContinuation
            | Self::InvalidClosePayload
            | Self::InvalidCloseCode(_)
            | Self::FrameAfterClose => CloseCode::PROTOCOL_ERROR,
            Self::Handshake(_)
            | Self::Closed
            | Self::InvalidState(_)
            | Self::OutputFull
            | Self::InvalidCloseArgument
            | Self::ControlPayloadTooLong => return None,
        })
    }

    /// Whether the peer caused this error (as opposed to API misuse).
    #[must_use]
    pub const fn is_peer_error(&self) -> bool {
        self.close_code().is_some() || matches!(self, Self::Handshake(_))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ReservedOpcode(op) => write!(f, "peer used reserved opcode {op:#x}"),
            Self::ReservedBits(b) => {
                write!(f, "peer set RSV bits {b:#05b} with no extension")
            }
            Self::NonMinimalLength => f.write_str("peer used a non-minimal payload length"),
            Self::LengthMsbSet => f.write_str("peer set the MSB of a 64-bit payload length"),
            Self::ControlFrameTooLong(n) => {
                write!(f, "peer sent a {n}-byte control frame (max 125)")
            }
            Self::FragmentedControlFrame => f.write_str("peer fragmented a control frame"),
            Self::UnmaskedFrame => f.write_str("client sent an unmasked frame"),
            Self::MaskedFrame => f.write_str("server sent a masked frame"),
            Self::UnexpectedContinuation => {
                f.write_str("peer sent a continuation frame with no message in progress")
            }
            Self::ExpectedContinuation => {
                f.write_str("peer started a new message inside a fragmented one")
            }
            Self::CompressedControlOrContinuation => {
                f.write_str("peer set RSV1 on a control or continuation frame")
            }
            Self::InvalidUtf8 => f.write_str("peer sent invalid UTF-8 text"),
            Self::InvalidClosePayload => f.write_str("peer sent a 1-byte close payload"),
            Self::InvalidCloseCode(c) => write!(f, "peer sent invalid close code {c}"),
            Self::FrameAfterClose => f.write_str("peer sent a frame after its close frame"),
            Self::Inflate(e) => write!(f, "peer sent a message that does not inflate: {e}"),
            Self::FrameTooLarge { size, limit } => {
                write!(f, "peer sent a {size}-byte frame (limit {limit})")
            }
            Self::MessageTooLarge { limit } => {
                write!(f, "peer sent a message over the {limit}-byte limit")
            }
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::Closed => f.write_str("connection is closed"),
            Self::InvalidState(s) => write!(f, "invalid in this state: {s}"),
            Self::OutputFull => f.write_str("output queue is full"),
            Self::InvalidCloseArgument => {
                f.write_str("close code not sendable or reason over 123 bytes")
            }
            Self::ControlPayloadTooLong => f.write_str("control payload over 125 bytes"),
        }
    }
}

impl std::error::Error for Error {}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

/// What was wrong with an opening handshake (RFC 6455 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// Not parseable as HTTP/1.1.
    Http(String),
    /// The request or response head exceeded
    /// [`Limits::max_handshake_size`](crate::Limits).
    TooLarge {
        /// Configured limit.
        limit: usize,
    },
    /// Request method other than GET (§4.2.1 item 1).
    Method(String),
    /// HTTP version below 1.1.
    Version,
    /// A required header is missing or has the wrong value.
    Header(&'static str),
    /// `Sec-WebSocket-Version` is not 13 (§4.2.2); answered with 426.
    UnsupportedVersion(String),
    /// `Sec-WebSocket-Key` is not 16 bytes of base64 (§4.2.1 item 5).
    BadKey,
    /// The server answered with a status other than 101.
    Status(u16),
    /// `Sec-WebSocket-Accept` does not match the key (§4.2.2 item 5.4).
    BadAccept,
    /// The server picked a subprotocol the client did not offer (§4.1).
    UnofferedProtocol(String),
    /// The server answered with an extension the client did not offer,
    /// or with parameters the client cannot accept (RFC 7692 §5).
    BadExtension(String),
    /// The application rejected the request.
    Rejected(u16),
}

impl HandshakeError {
    /// The HTTP status a server answers this error with (RFC 6455 §4.2.2).
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 431,
            Self::Method(_) => 405,
            Self::UnsupportedVersion(_) => 426,
            Self::Rejected(s) | Self::Status(s) => *s,
            _ => 400,
        }
    }
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(e) => write!(f, "malformed HTTP: {e}"),
            Self::TooLarge { limit } => write!(f, "handshake over {limit} bytes"),
            Self::Method(m) => write!(f, "method {m} is not GET"),
            Self::Version => f.write_str("HTTP version below 1.1"),
            Self::Header(h) => write!(f, "missing or invalid {h} header"),
            Self::UnsupportedVersion(v) => {
                write!(f, "Sec-WebSocket-Version {v:?} is not 13")
            }
            Self::BadKey => f.write_str("Sec-WebSocket-Key is not 16 base64-encoded bytes"),
            Self::Status(s) => write!(f, "server answered HTTP {s}, not 101"),
            Self::BadAccept => f.write_str("Sec-WebSocket-Accept does not match the key"),
            Self::UnofferedProtocol(p) => write!(f, "server chose unoffered subprotocol {p:?}"),
            Self::BadExtension(e) => write!(f, "unacceptable extension response: {e}"),
            Self::Rejected(s) => write!(f, "application rejected the request with {s}"),
        }
    }
}

impl std::error::Error for HandshakeError {}
