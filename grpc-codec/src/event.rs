//! What a [`Connection`](crate::conn::Connection) reports to the
//! application, and the request and response heads it sends and receives
//! (RFC 9113 §8).

use bytes::Bytes;

use crate::config::Settings;
use crate::error::{Error, ErrorCode};
use crate::frame::StreamId;
use crate::hpack::Header;

/// A request's control data (§8.3.1) and header fields.
///
/// Pseudo-header fields are fields of their own; `headers` holds only the
/// regular ones, lowercase. For CONNECT (§8.5) `scheme` and `path` are
/// `None`; otherwise all but `authority` are required.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// `:method`.
    pub method: Bytes,
    /// `:scheme`.
    pub scheme: Option<Bytes>,
    /// `:authority`.
    pub authority: Option<Bytes>,
    /// `:path`.
    pub path: Option<Bytes>,
    /// Regular header fields, in order.
    pub headers: Vec<Header>,
}

impl Request {
    /// A request for `path` with `method` over `scheme` to `authority`.
    pub fn new(
        method: impl Into<Bytes>,
        scheme: impl Into<Bytes>,
        authority: impl Into<Bytes>,
        path: impl Into<Bytes>,
    ) -> Self {
        Self {
            method: method.into(),
            scheme: Some(scheme.into()),
            authority: Some(authority.into()),
            path: Some(path.into()),
            headers: Vec::new(),
        }
    }

    /// Adds a regular header field.
    #[must_use]
    pub fn header(mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        self.headers.push(Header::new(name, value));
        self
    }
}

/// A response's status (§8.3.2) and header fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// `:status`, 100-599.
    pub status: u16,
    /// Regular header fields, in order.
    pub headers: Vec<Header>,
}

impl Response {
    /// A response with `status` and no fields.
    #[must_use]
    pub const fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
        }
    }

    /// Adds a regular header field.
    #[must_use]
    pub fn header(mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        self.headers.push(Header::new(name, value));
        self
    }
}

/// Something the application should see or decide.
///
/// The connection answers SETTINGS, PING and flow control itself; it
/// reports what the application must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The peer's first SETTINGS arrived (§3.4): the connection is up.
    Connected {
        /// The peer's settings.
        settings: Settings,
    },
    /// A later SETTINGS from the peer was applied (§6.5.3).
    SettingsChanged {
        /// The peer's settings now.
        settings: Settings,
    },
    /// Server: a new request on `stream` (§8.1). Answer with
    /// [`send_response`](crate::conn::Connection::send_response).
    Request {
        /// The stream.
        stream: StreamId,
        /// The request head.
        request: Request,
        /// No body follows.
        end_stream: bool,
    },
    /// Client: an interim (1xx) response (§8.1); the final one follows.
    Informational {
        /// The stream.
        stream: StreamId,
        /// The interim response.
        response: Response,
    },
    /// Client: the final response head on `stream` (§8.1).
    Response {
        /// The stream.
        stream: StreamId,
        /// The response head.
        response: Response,
        /// No body follows.
        end_stream: bool,
    },
    /// Body bytes on `stream` (§6.1). In [`FlowControl::Manual`](crate::config::FlowControl)
    /// mode, give them back with
    /// [`release_capacity`](crate::conn::Connection::release_capacity).
    Data {
        /// The stream.
        stream: StreamId,
        /// The bytes (padding removed).
        data: Bytes,
        /// The peer's last frame on the stream.
        end_stream: bool,
    },
    /// The trailer section that ends `stream` (§8.1).
    Trailers {
        /// The stream.
        stream: StreamId,
        /// The trailer fields.
        headers: Vec<Header>,
    },
    /// `stream` was reset: by the peer's RST_STREAM (`by_peer`), by us for
    /// a peer's stream error (§5.4.2), by the peer's GOAWAY not covering
    /// it (code REFUSED_STREAM: not processed, safe to retry, §8.7), by us
    /// with NO_ERROR after a complete response to a request still arriving
    /// ([`Config::reset_after_response`](crate::Config)), or by the end of
    /// the transport (CANCEL).
    Reset {
        /// The stream.
        stream: StreamId,
        /// The RST_STREAM code.
        code: ErrorCode,
        /// Whether the peer reset it.
        by_peer: bool,
    },
    /// The deadline set with
    /// [`set_deadline`](crate::conn::Connection::set_deadline) passed; the
    /// stream is untouched (cancel it, or answer it).
    DeadlineExceeded {
        /// The stream.
        stream: StreamId,
    },
    /// `stream` was refused [`Error::SendBufferFull`] and has room again.
    Writable {
        /// The stream.
        stream: StreamId,
    },
    /// The peer answered our PING (§6.7).
    PingAck {
        /// The opaque data we sent.
        data: [u8; 8],
    },
    /// The peer sent GOAWAY (§6.8): no new streams; our streams above
    /// `last_stream_id` follow as [`Event::Reset`] with REFUSED_STREAM.
    GoAway {
        /// The last of our streams the peer may process.
        last_stream_id: StreamId,
        /// Why.
        code: ErrorCode,
        /// The peer's diagnostic data.
        debug_data: Bytes,
    },
    /// The connection is over: failed (ours or the peer's error), aborted,
    /// or done after GOAWAY with no streams left. Reported once; write out
    /// what `poll_transmit` still returns, then close the transport.
    Closed {
        /// The GOAWAY code that ended it.
        code: ErrorCode,
        /// What happened.
        reason: String,
        /// Whether the peer's GOAWAY ended it.
        by_peer: bool,
        /// The error, if the connection failed.
        error: Option<Error>,
    },
}
