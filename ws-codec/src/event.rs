//! What a [`Connection`](crate::Connection) reports to the application.

use bytes::Bytes;

use crate::error::Error;
use crate::frame::CloseCode;
use crate::handshake::{Extension, Request};

/// UTF-8 text in a shared buffer: the payload of a text message, validated
/// once on receipt (§8.1) and never copied.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps `bytes` if they are UTF-8.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, Bytes> {
        if simdutf8::basic::from_utf8(&bytes).is_ok() {
            Ok(Self(bytes))
        } else {
            Err(bytes)
        }
    }

    /// Wraps bytes this crate has already validated.
    pub(crate) const fn validated(bytes: Bytes) -> Self {
        Self(bytes)
    }

    /// The text. Re-checks the (already valid) bytes with SIMD validation
    /// rather than trusting them through `unsafe`; use [`Self::as_bytes`]
    /// where the raw bytes do.
    #[must_use]
    pub fn as_str(&self) -> &str {
        simdutf8::basic::from_utf8(&self.0).unwrap_or_default()
    }

    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The shared buffer.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Self(Bytes::from(s))
    }
}

/// A complete data message (§5.6), reassembled and inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The payload bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(t) => t.as_bytes(),
            Self::Binary(b) => b,
        }
    }
}

/// Something the application should see or decide.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server role: a client asks to upgrade. Answer with
    /// [`Connection::accept`](crate::Connection::accept) or
    /// [`Connection::reject`](crate::Connection::reject).
    Request(Box<Request>),
    /// The opening handshake completed; data may flow.
    Connected {
        /// The agreed subprotocol.
        protocol: Option<String>,
        /// The agreed extensions as sent in the server's answer.
        extensions: Vec<Extension>,
    },
    /// A data message arrived.
    Message(Message),
    /// A ping arrived (already answered if `auto_pong` is on).
    Ping(Bytes),
    /// A pong arrived (solicited or not: §5.5.3).
    Pong(Bytes),
    /// The connection is closed: the close handshake completed, or it
    /// failed. Reported once; write out what `poll_transmit` still holds,
    /// then close the transport (a server closes first: §7.1.1).
    Closed {
        /// The peer's code on a clean close; ours on a failure; 1005 when
        /// the peer's close frame had none, 1006 for a failed handshake.
        code: CloseCode,
        /// The close reason.
        reason: String,
        /// Whether the peer started the closing handshake.
        by_peer: bool,
        /// What went wrong, if the connection failed.
        error: Option<Error>,
    },
}
