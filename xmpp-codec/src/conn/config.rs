//! What each role of a [`Connection`](super::Connection) is configured
//! with: identities, secrets, policies, limits and the caller's randomness.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::{Framing, Limits};
use crate::conn::sm::SmState;
use crate::sasl::Mechanism;
use crate::stanza::jid::Jid;

/// Where nonces, stream ids, SM ids and generated resources come from.
/// The machines draw no randomness of their own (DESIGN.md).
pub enum RandomSource {
    /// A xorshift64* stream from this seed: reproducible, for tests and
    /// fuzzing. Seed it from the OS for production use, or better use
    /// [`Self::Fn`] with a CSPRNG.
    Seed(u64),
    /// A caller-supplied generator of nonce strings: printable ASCII
    /// without `,` (RFC 5802 §7), at least 16 random bytes' worth.
    Fn(Box<dyn FnMut() -> String + Send>),
}

impl RandomSource {
    /// The next nonce: 18 bytes base64-encoded for [`Self::Seed`].
    pub fn next_nonce(&mut self) -> String {
        match self {
            Self::Seed(s) => {
                let mut bytes = [0u8; 18];
                for chunk in bytes.chunks_mut(6) {
                    // xorshift64*: any non-zero state works; map 0 to a constant.
                    let mut x = if *s == 0 { 0x9E37_79B9_7F4A_7C15 } else { *s };
                    x ^= x >> 12;
                    x ^= x << 25;
                    x ^= x >> 27;
                    *s = x;
                    let out = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_be_bytes();
                    for (d, b) in chunk.iter_mut().zip(out) {
                        *d = b;
                    }
                }
                STANDARD.encode(bytes)
            }
            Self::Fn(f) => f(),
        }
    }
}

impl std::fmt::Debug for RandomSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Seed(_) => f.write_str("RandomSource::Seed(..)"),
            Self::Fn(_) => f.write_str("RandomSource::Fn(..)"),
        }
    }
}

/// The client's STARTTLS policy (RFC 6120 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsPolicy {
    /// Fail unless the server offers STARTTLS (or
    /// [`Connection::tls_established`](super::Connection::tls_established)
    /// was called before the first stream, i.e. direct TLS).
    #[default]
    Required,
    /// Use STARTTLS when offered, go on in plaintext otherwise.
    Optional,
    /// Never negotiate TLS: plaintext (loopback, tests, or a transport
    /// that is already secure).
    Disabled,
}

/// Shared by every role: framing, limits, timers, randomness.
#[derive(Debug)]
pub struct Common {
    /// TCP stream or RFC 7395 WebSocket messages.
    pub framing: Framing,
    /// Limits on what the peer sends.
    pub limits: Limits,
    /// How long to wait for the peer's `</stream:stream>` after ours.
    pub close_timeout: Duration,
    /// How long an iq request waits for its response before
    /// [`Event::IqTimeout`](crate::Event::IqTimeout); `None` for ever.
    pub iq_timeout: Option<Duration>,
    /// Answer iq `get`/`set` requests whose payload namespace is not in
    /// [`Self::iq_namespaces`] with `feature-not-implemented` (RFC 6120
    /// §8.4) instead of reporting them. XEP-0199 pings are always answered.
    /// Servers answer (pings included) only requests to their own domain,
    /// with no `to`, or to the sender's own bare JID; the rest are
    /// reported as [`Event::Iq`](crate::Event::Iq) for routing.
    pub answer_unknown_iq: bool,
    /// Payload namespaces of iq requests the application handles.
    pub iq_namespaces: Vec<String>,
    /// Most stanzas kept for XEP-0198 resending before `send_*` refuse
    /// more (the peer is not acknowledging).
    pub max_unacked: usize,
    /// Send an XEP-0198 `<r/>` after this many unacknowledged stanzas;
    /// 0 never (call [`request_ack`](super::Connection::request_ack)).
    pub ack_request_every: usize,
    /// Nonces, ids, generated resources.
    pub random: RandomSource,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            framing: Framing::Tcp,
            limits: Limits::default(),
            close_timeout: Duration::from_secs(10),
            iq_timeout: Some(Duration::from_secs(60)),
            answer_unknown_iq: true,
            iq_namespaces: Vec::new(),
            max_unacked: 1000,
            ack_request_every: 0,
            random: RandomSource::Seed(0x5eed),
        }
    }
}

/// A c2s client (RFC 6120 §4–§7, RFC 6121).
#[derive(Debug)]
pub struct ClientConfig {
    /// The account; a resourcepart is the resource to request in binding,
    /// none lets the server assign one (§7.6).
    pub jid: Jid,
    /// The password.
    pub password: String,
    /// The SASL mechanisms allowed; the strongest one the server offers is
    /// used (SCRAM-SHA-256, then SCRAM-SHA-1, then PLAIN).
    pub mechanisms: Vec<Mechanism>,
    /// SCRAM iteration counts accepted from the server: too few weaken
    /// the hash, too many make the client burn CPU.
    pub scram_iterations: std::ops::RangeInclusive<u32>,
    /// STARTTLS.
    pub tls: TlsPolicy,
    /// Enable XEP-0198 when offered.
    pub stream_management: bool,
    /// Ask for resumption when enabling XEP-0198.
    pub sm_resume: bool,
    /// A previous session's XEP-0198 state: resume it instead of binding
    /// when the server offers XEP-0198.
    pub resume: Option<SmState>,
    /// Everything else.
    pub common: Common,
}

impl ClientConfig {
    /// A client for `jid` with `password`: every mechanism, TLS required,
    /// XEP-0198 with resumption.
    #[must_use]
    pub fn new(jid: Jid, password: impl Into<String>) -> Self {
        Self {
            jid,
            password: password.into(),
            mechanisms: vec![
                Mechanism::ScramSha256,
                Mechanism::ScramSha1,
                Mechanism::Plain,
            ],
            scram_iterations: 4096..=1_000_000,
            tls: TlsPolicy::Required,
            stream_management: true,
            sm_resume: true,
            resume: None,
            common: Common::default(),
        }
    }
}

/// How a server offers STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsOffer {
    /// Not offered (plaintext, or direct TLS done by the caller).
    #[default]
    None,
    /// Offered, optional.
    Optional,
    /// Offered and required: nothing else is offered before it.
    Required,
}

/// A c2s server for one domain.
#[derive(Debug)]
pub struct ServerConfig {
    /// The domain served; a stream header `to` anything else is
    /// `host-unknown`.
    pub domain: String,
    /// The SASL mechanisms offered.
    pub mechanisms: Vec<Mechanism>,
    /// STARTTLS.
    pub tls: TlsOffer,
    /// Offer XEP-0198.
    pub stream_management: bool,
    /// Failed authentications allowed before the stream is closed.
    pub max_auth_attempts: u32,
    /// Everything else.
    pub common: Common,
}

impl ServerConfig {
    /// A server for `domain`: every mechanism, no STARTTLS, XEP-0198.
    #[must_use]
    pub fn new(domain: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            mechanisms: vec![
                Mechanism::ScramSha256,
                Mechanism::ScramSha1,
                Mechanism::Plain,
            ],
            tls: TlsOffer::None,
            stream_management: true,
            max_auth_attempts: 3,
            common: Common::default(),
        }
    }
}

/// A server-to-server stream (RFC 6120 §4, XEP-0220, XEP-0185).
#[derive(Debug)]
pub struct S2sConfig {
    /// Our domain.
    pub local_domain: String,
    /// The peer's domain (originating role: where we connect).
    pub remote_domain: String,
    /// The dialback secret: keys are HMAC-SHA256 per XEP-0185.
    pub dialback_secret: String,
    /// Originating role: send `<db:result/>` to authenticate
    /// `local_domain` as soon as the stream is open. Off for a stream only
    /// used to send `<db:verify/>`.
    pub authenticate: bool,
    /// Originating role: authenticate with SASL EXTERNAL when offered
    /// (the caller's TLS client certificate is the credential).
    pub use_external: bool,
    /// Receiving role: offer SASL EXTERNAL (the caller has verified the
    /// peer's TLS certificate).
    pub offer_external: bool,
    /// Everything else.
    pub common: Common,
}

impl S2sConfig {
    /// A stream from `local_domain` to `remote_domain` with a dialback
    /// secret.
    #[must_use]
    pub fn new(
        local_domain: impl Into<String>,
        remote_domain: impl Into<String>,
        dialback_secret: impl Into<String>,
    ) -> Self {
        Self {
            local_domain: local_domain.into(),
            remote_domain: remote_domain.into(),
            dialback_secret: dialback_secret.into(),
            authenticate: true,
            use_external: false,
            offer_external: false,
            common: Common {
                answer_unknown_iq: false,
                ..Common::default()
            },
        }
    }
}
