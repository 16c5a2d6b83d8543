//! Why a driven XMPP connection stopped.

use std::io;

use xmpp_codec::event::CloseReason;

use crate::ws_driver;

/// Why a driven connection stopped or a wait failed.
#[derive(Debug)]
pub enum XmppError {
    /// The socket failed.
    Io(io::Error),
    /// What we waited for did not come in time.
    Timeout(String),
    /// The peer closed the transport without closing the stream.
    Eof,
    /// The stream is closed (by either side), and why.
    Closed(CloseReason),
    /// The server refused the login with this SASL condition.
    AuthFailed(String),
    /// The codec refused a command (API misuse or a closed stream).
    Codec(xmpp_codec::Error),
    /// The WebSocket transport failed.
    Ws(ws_driver::DriverError),
    /// The peer did something the runner did not expect.
    Unexpected(String),
}

impl std::fmt::Display for XmppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Self::Eof => f.write_str("the peer closed the connection without closing the stream"),
            Self::Closed(reason) => match reason {
                CloseReason::Normal => f.write_str("the stream was closed"),
                CloseReason::PeerError(e) => write!(
                    f,
                    "stream error from the peer: {}{}",
                    e.condition,
                    e.text
                        .as_ref()
                        .map_or_else(String::new, |t| format!(" ({t})"))
                ),
                CloseReason::LocalError(e) => write!(f, "we failed the stream: {e}"),
                CloseReason::Timeout => f.write_str("the peer did not answer our close"),
            },
            Self::AuthFailed(c) => write!(f, "login refused: {c}"),
            Self::Codec(e) => write!(f, "codec: {e}"),
            Self::Ws(e) => write!(f, "WebSocket: {e}"),
            Self::Unexpected(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for XmppError {}

impl From<io::Error> for XmppError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                Self::Timeout("the socket".to_owned())
            }
            _ => Self::Io(e),
        }
    }
}

impl From<xmpp_codec::Error> for XmppError {
    fn from(e: xmpp_codec::Error) -> Self {
        Self::Codec(e)
    }
}

impl From<ws_driver::DriverError> for XmppError {
    fn from(e: ws_driver::DriverError) -> Self {
        Self::Ws(e)
    }
}

impl From<XmppError> for String {
    fn from(e: XmppError) -> Self {
        e.to_string()
    }
}
