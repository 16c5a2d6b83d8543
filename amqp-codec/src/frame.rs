//! Frames of AMQP 0-9-1 §4.2.3 and the protocol header of §4.2.2.
//!
//! On the wire a frame is a type octet, a 16-bit channel, a 32-bit payload
//! size, the payload and the frame-end octet `0xCE`.

use std::fmt;

use bytes::Bytes;

use crate::method::Method;
use crate::properties::ContentHeader;

/// The header a client opens the connection with: `AMQP`, protocol id 0,
/// version 0-9-1. A server that refuses a client's header answers with this
/// one and closes.
pub const PROTOCOL_HEADER: [u8; 8] = *b"AMQP\x00\x00\x09\x01";

/// Octets of type, channel and size before a frame's payload.
pub const FRAME_HEADER_SIZE: usize = 7;

/// Octets a frame adds to its payload: header and frame-end.
pub const FRAME_OVERHEAD: usize = FRAME_HEADER_SIZE + 1;

/// A protocol header: `AMQP` and four octets naming protocol and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolHeader {
    /// Protocol id: 0 for AMQP 0-9-1 and 1.0, 3 for 1.0 SASL, 1 for 0-8.
    pub protocol_id: u8,
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Revision.
    pub revision: u8,
}

impl ProtocolHeader {
    /// AMQP 0-9-1: the header of [`PROTOCOL_HEADER`].
    pub const AMQP_0_9_1: Self = Self {
        protocol_id: 0,
        major: 0,
        minor: 9,
        revision: 1,
    };

    /// The header of 8 octets starting with `AMQP`, if `b` is one.
    #[must_use]
    pub const fn parse(b: &[u8; 8]) -> Option<Self> {
        match *b {
            [b'A', b'M', b'Q', b'P', protocol_id, major, minor, revision] => Some(Self {
                protocol_id,
                major,
                minor,
                revision,
            }),
            _ => None,
        }
    }

    /// The 8 octets on the wire.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 8] {
        [
            b'A',
            b'M',
            b'Q',
            b'P',
            self.protocol_id,
            self.major,
            self.minor,
            self.revision,
        ]
    }
}

impl fmt::Display for ProtocolHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AMQP {}-{}-{} (protocol id {})",
            self.major, self.minor, self.revision, self.protocol_id
        )
    }
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A method frame (type 1).
    Method {
        /// Channel, 0 for the connection class.
        channel: u16,
        /// The method and its arguments.
        method: Method,
    },
    /// A content header frame (type 2). Boxed: it is the largest variant
    /// by far and comes once per message.
    Header {
        /// Channel.
        channel: u16,
        /// Class, body size and properties.
        header: Box<ContentHeader>,
    },
    /// A content body frame (type 3): its payload, shared with the buffer
    /// it was decoded from.
    Body {
        /// Channel.
        channel: u16,
        /// Body bytes.
        payload: Bytes,
    },
    /// A heartbeat frame (type 8), always on channel 0.
    Heartbeat,
}

impl Frame {
    /// The frame's channel.
    #[must_use]
    pub const fn channel(&self) -> u16 {
        match self {
            Self::Method { channel, .. }
            | Self::Header { channel, .. }
            | Self::Body { channel, .. } => *channel,
            Self::Heartbeat => 0,
        }
    }

    /// The frame's kind.
    #[must_use]
    pub const fn kind(&self) -> crate::error::FrameKind {
        use crate::error::FrameKind;
        match self {
            Self::Method { .. } => FrameKind::Method,
            Self::Header { .. } => FrameKind::Header,
            Self::Body { .. } => FrameKind::Body,
            Self::Heartbeat => FrameKind::Heartbeat,
        }
    }

    /// The frame type octet (§4.2.3).
    #[must_use]
    pub const fn type_octet(&self) -> u8 {
        use crate::constants::{FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD};
        match self {
            Self::Method { .. } => FRAME_METHOD,
            Self::Header { .. } => FRAME_HEADER,
            Self::Body { .. } => FRAME_BODY,
            Self::Heartbeat => FRAME_HEARTBEAT,
        }
    }
}

impl From<(u16, Method)> for Frame {
    fn from((channel, method): (u16, Method)) -> Self {
        Self::Method { channel, method }
    }
}
