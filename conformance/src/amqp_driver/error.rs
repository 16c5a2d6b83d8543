//! How a driven connection ends, and why a wait fails.

use std::io;

/// How a connection ended: its `Event::Closed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// Reply code of the `connection.close`.
    pub reply_code: u16,
    /// Its reply text.
    pub reply_text: String,
    /// Whether the peer closed first.
    pub by_peer: bool,
    /// Our error that ended it, if one did (heartbeat timeout, a peer
    /// error we detected...).
    pub error: Option<amqp_codec::Error>,
}

impl std::fmt::Display for CloseInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = if self.by_peer { "peer" } else { "we" };
        write!(
            f,
            "{} {:?} (closed by {who}",
            self.reply_code, self.reply_text
        )?;
        if let Some(e) = &self.error {
            write!(f, ": {e}")?;
        }
        f.write_str(")")
    }
}

/// Why a driven connection stopped or a wait failed.
#[derive(Debug)]
pub enum DriverError {
    /// The socket failed.
    Io(io::Error),
    /// What was awaited did not come in time.
    Timeout(String),
    /// The peer closed TCP while the connection was open.
    Eof,
    /// The connection is over ([`Event::Closed`] came).
    Closed(CloseInfo),
    /// The peer closed a channel we were using.
    ChannelClosed {
        /// The channel.
        channel: u16,
        /// Reply code of its `channel.close`.
        reply_code: u16,
        /// Its reply text.
        reply_text: String,
    },
    /// The codec refused a command.
    Amqp(amqp_codec::Error),
    /// The peer did something the runner did not expect.
    Unexpected(String),
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Self::Eof => f.write_str("peer closed TCP without closing the connection"),
            Self::Closed(c) => write!(f, "connection closed: {c}"),
            Self::ChannelClosed {
                channel,
                reply_code,
                reply_text,
            } => write!(
                f,
                "channel {channel} closed by the peer: {reply_code} {reply_text:?}"
            ),
            Self::Amqp(e) => write!(f, "AMQP error: {e}"),
            Self::Unexpected(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for DriverError {}

impl From<io::Error> for DriverError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                Self::Timeout("the socket".to_owned())
            }
            _ => Self::Io(e),
        }
    }
}

impl From<amqp_codec::Error> for DriverError {
    fn from(e: amqp_codec::Error) -> Self {
        Self::Amqp(e)
    }
}

impl From<DriverError> for String {
    fn from(e: DriverError) -> Self {
        e.to_string()
    }
}
