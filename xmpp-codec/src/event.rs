//! What a [`Connection`](crate::Connection) reports to the application.

use crate::element::Element;
use crate::error::Error;
use crate::sasl::SaslCondition;
use crate::sasl::scram::ScramHash;
use crate::stanza::jid::Jid;
use crate::stanza::stream_error::StreamError;
use crate::str::Str;

/// A login for a server application to verify (RFC 6120 §6.4.5). Answer
/// with [`accept_auth`](crate::Connection::accept_auth) (PLAIN, EXTERNAL),
/// [`accept_credentials`](crate::Connection::accept_credentials) (SCRAM) or
/// [`reject_auth`](crate::Connection::reject_auth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRequest {
    /// PLAIN: compare the password with the stored one.
    Plain {
        /// The authentication identity.
        username: String,
        /// The requested authorization identity.
        authzid: Option<String>,
        /// The password.
        password: String,
    },
    /// SCRAM: look up the user's stored keys for `hash` (for an unknown
    /// user, supply made-up ones so the answer does not reveal it; the
    /// proof then fails).
    Scram {
        /// SCRAM-SHA-1 or SCRAM-SHA-256.
        hash: ScramHash,
        /// The authentication identity.
        username: String,
        /// The requested authorization identity.
        authzid: Option<String>,
    },
    /// EXTERNAL (s2s, RFC 6120 §13.8.2): the peer claims `authzid`, the
    /// caller checks it against the TLS certificate.
    External {
        /// The claimed identity (a domain on s2s), if given.
        authzid: Option<String>,
    },
}

/// Why the connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// Both sides sent `</stream:stream>` (or `<close/>`).
    Normal,
    /// The peer sent a `<stream:error/>`.
    PeerError(StreamError),
    /// We failed the stream: the error, with the stream error (if any) we
    /// sent for it.
    LocalError(Error),
    /// The peer did not answer our close in time.
    Timeout,
}

/// Something the application should see or decide.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Do the TLS handshake now (STARTTLS, RFC 6120 §5.4.3.3): the
    /// connection waits until [`tls_established`](crate::Connection::tls_established).
    StartTls,
    /// Server: a login to verify.
    Authenticate(AuthRequest),
    /// SASL succeeded (client: the server's signature checked; server: the
    /// login accepted), as `identity` (username; a domain on s2s).
    Authenticated {
        /// The authenticated identity.
        identity: String,
    },
    /// The session is ready for stanzas: the resource is bound (and the
    /// legacy session established when required). Server: the client's
    /// full JID.
    Online {
        /// The full JID.
        jid: Jid,
    },
    /// XEP-0198 is on (client: `<enabled/>` received; server: sent).
    SmEnabled {
        /// The resumption id, if resumption is allowed.
        id: Option<String>,
        /// The server's preferred maximum resumption time in seconds.
        max: Option<u32>,
    },
    /// XEP-0198 enabling was refused.
    SmFailed,
    /// Server: the client asks to resume session `previd`; answer with
    /// [`accept_resume`](crate::Connection::accept_resume) (with that
    /// session's exported state) or
    /// [`reject_resume`](crate::Connection::reject_resume).
    ResumeRequest {
        /// The previous session's id.
        previd: String,
        /// How many of our stanzas the client handled.
        h: u32,
    },
    /// The previous session is resumed (both roles); the stanzas it had
    /// not acknowledged were sent again.
    Resumed {
        /// The bound JID of the resumed session (client: from the exported
        /// state; server: from the state given to `accept_resume`).
        jid: Option<Jid>,
        /// How many stanzas were resent.
        resent: usize,
    },
    /// Client: resumption failed; the session is new and these stanzas of
    /// the old one were never acknowledged (resend them if they still
    /// matter).
    ResumeFailed {
        /// The unacknowledged stanzas.
        unacked: Vec<Element>,
    },
    /// A `<message/>`.
    Message(Element),
    /// A `<presence/>`.
    Presence(Element),
    /// An iq request (`get`/`set`) to answer with
    /// [`send_stanza`](crate::Connection::send_stanza), or a response
    /// that matches no request of ours.
    Iq(Element),
    /// The response (`result` or `error`) to an iq we sent.
    IqResponse {
        /// The request's id.
        id: Str,
        /// The response.
        element: Element,
    },
    /// An iq we sent got no response within the configured timeout.
    IqTimeout {
        /// The request's id.
        id: Str,
    },
    /// The peer acknowledged our stanzas up to `h` (XEP-0198 `<a/>`).
    Acked {
        /// The peer's handled count.
        h: u32,
    },
    /// S2s receiving role: the peer asks us to accept `key` for `from`
    /// (XEP-0220 §2.1.1). Check it with the authoritative server (a
    /// `<db:verify/>` on another stream) and answer with
    /// [`dialback_verdict`](crate::Connection::dialback_verdict).
    DialbackResult {
        /// The originating domain.
        from: String,
        /// Our domain.
        to: String,
        /// The key.
        key: String,
        /// The stream id the key is bound to (ours).
        stream_id: String,
    },
    /// S2s originating role: the answer to our `<db:verify/>`.
    DialbackVerified {
        /// The domain whose key was checked (the verify's `to`).
        from: String,
        /// Our domain.
        to: String,
        /// The stream id.
        id: String,
        /// Whether the key was valid.
        valid: bool,
    },
    /// S2s: `domain` may now send stanzas on this stream (originating: our
    /// domain was accepted; receiving: the peer's).
    DomainAuthenticated {
        /// The authenticated domain.
        domain: String,
    },
    /// S2s: dialback for `domain` failed (`type='invalid'` or error).
    DomainRejected {
        /// The rejected domain.
        domain: String,
    },
    /// Login failed (client): the server's SASL `<failure/>`. The stream
    /// is closed next.
    AuthFailed {
        /// The condition.
        condition: SaslCondition,
    },
    /// The connection is over. Reported once; write out what
    /// [`poll_transmit`](crate::Connection::poll_transmit) still returns,
    /// then close the transport.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}
