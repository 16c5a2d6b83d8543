//! Frame types of RFC 6455 §5.2: opcodes, the frame header and close codes.

use bytes::Bytes;

/// Frame opcode (RFC 6455 §5.2, §11.8). Reserved opcodes are not
/// representable: the decoder rejects them with close code 1002.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `0x0`: continuation of a fragmented message (§5.4).
    Continuation,
    /// `0x1`: text data frame; the message is UTF-8 (§5.6).
    Text,
    /// `0x2`: binary data frame.
    Binary,
    /// `0x8`: connection close (§5.5.1).
    Close,
    /// `0x9`: ping (§5.5.2).
    Ping,
    /// `0xA`: pong (§5.5.3).
    Pong,
}

impl OpCode {
    /// Parses the 4-bit opcode field; `None` for the reserved values
    /// `0x3..=0x7` and `0xB..=0xF`.
    #[must_use]
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0x0 => Some(Self::Continuation),
            0x1 => Some(Self::Text),
            0x2 => Some(Self::Binary),
            0x8 => Some(Self::Close),
            0x9 => Some(Self::Ping),
            0xA => Some(Self::Pong),
            _ => None,
        }
    }

    /// The 4-bit wire value.
    #[must_use]
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Control frames (close, ping, pong) have the high opcode bit set (§5.5).
    #[must_use]
    pub const fn is_control(self) -> bool {
        self.as_u8() & 0x8 != 0
    }
}

/// Status code carried by a close frame (RFC 6455 §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: Self = Self(1000);
    /// 1001: endpoint going away.
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: data of a type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: closed without a close frame (never sent on the wire).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: message data inconsistent with its type (e.g. bad UTF-8).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: policy violation.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: message too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: server hit an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);

    /// Whether this code may appear in a close frame on the wire
    /// (§7.4.1, §7.4.2): 1000–1003, 1007–1011 and 3000–4999. Everything
    /// else, including 1012–1014 which RFC 6455 left unassigned, is a
    /// protocol error, as Autobahn cases 7.9.x require.
    #[must_use]
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1011 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(v: u16) -> Self {
        Self(v)
    }
}

impl std::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A parsed frame header (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment of a message.
    pub fin: bool,
    /// RSV1; set on the first frame of a compressed message (RFC 7692 §6).
    pub rsv1: bool,
    /// Frame opcode.
    pub opcode: OpCode,
    /// Masking key, present on every client-to-server frame (§5.3).
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// Length of the header on the wire (2 to 14 bytes).
    pub header_len: usize,
}

/// One WebSocket frame with its payload unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Final fragment of a message.
    pub fin: bool,
    /// RSV1 (permessage-deflate's "compressed" bit).
    pub rsv1: bool,
    /// Frame opcode.
    pub opcode: OpCode,
    /// Unmasked application data.
    pub payload: Bytes,
}

impl Frame {
    /// A single-frame message or control frame with `fin` set and no RSV bit.
    #[must_use]
    pub fn new(opcode: OpCode, payload: impl Into<Bytes>) -> Self {
        Self {
            fin: true,
            rsv1: false,
            opcode,
            payload: payload.into(),
        }
    }

    /// A close frame: two-byte code followed by a UTF-8 reason (§5.5.1).
    #[must_use]
    pub fn close(code: CloseCode, reason: &str) -> Self {
        let mut p = Vec::with_capacity(2 + reason.len());
        p.extend_from_slice(&code.0.to_be_bytes());
        p.extend_from_slice(reason.as_bytes());
        Self::new(OpCode::Close, p)
    }
}
