//! SASL for XMPP (RFC 6120 §6): PLAIN (RFC 4616) and SCRAM-SHA-1 /
//! SCRAM-SHA-256 (RFC 5802, RFC 7677), client and server, without
//! channel binding.
//!
//! These are the mechanisms' message exchanges only; the `<auth/>`,
//! `<challenge/>`, `<response/>`, `<success/>` elements carry them
//! base64-encoded ([`encode_payload`], [`decode_payload`], RFC 6120
//! §6.4.2). Nonces come from the caller: nothing here draws randomness.

pub mod plain;
pub mod saslprep;
pub mod scram;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::Error;
use crate::stanza::stream_error::conditions;

/// The SASL namespace (RFC 6120 §6.4.1).
pub const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";

conditions! {
    /// A SASL `<failure/>` condition (RFC 6120 §6.5).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SaslCondition {
        /// §6.5.1: the initiator aborted.
        Aborted = "aborted",
        /// §6.5.2: the account is disabled.
        AccountDisabled = "account-disabled",
        /// §6.5.3: the credentials expired.
        CredentialsExpired = "credentials-expired",
        /// §6.5.4: the mechanism needs TLS first.
        EncryptionRequired = "encryption-required",
        /// §6.5.5: the base64 payload did not decode.
        IncorrectEncoding = "incorrect-encoding",
        /// §6.5.6: the authorization identity is not valid.
        InvalidAuthzid = "invalid-authzid",
        /// §6.5.7: the mechanism is not offered.
        InvalidMechanism = "invalid-mechanism",
        /// §6.5.8: the request is malformed.
        MalformedRequest = "malformed-request",
        /// §6.5.9: the mechanism is weaker than policy allows.
        MechanismTooWeak = "mechanism-too-weak",
        /// §6.5.10: the credentials are wrong.
        NotAuthorized = "not-authorized",
        /// §6.5.11: a temporary error on the receiving side.
        TemporaryAuthFailure = "temporary-auth-failure",
    }
}

/// A mechanism this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616); send only over TLS.
    Plain,
    /// `SCRAM-SHA-1` (RFC 5802).
    ScramSha1,
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
}

impl Mechanism {
    /// The registered name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha1 => "SCRAM-SHA-1",
            Self::ScramSha256 => "SCRAM-SHA-256",
        }
    }

    /// The mechanism named `name`, if implemented.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "PLAIN" => Some(Self::Plain),
            "SCRAM-SHA-1" => Some(Self::ScramSha1),
            "SCRAM-SHA-256" => Some(Self::ScramSha256),
            _ => None,
        }
    }
}

/// The character data of a SASL element for `data`: base64, or `=` for
/// an empty payload (RFC 6120 §6.4.2).
#[must_use]
pub fn encode_payload(data: &[u8]) -> String {
    if data.is_empty() {
        "=".to_owned()
    } else {
        STANDARD.encode(data)
    }
}

/// The payload in a SASL element's character data: empty for no text or
/// `=`, else base64 (whitespace ignored). Bad base64 is
/// `incorrect-encoding`.
pub fn decode_payload(text: &str) -> Result<Vec<u8>, Error> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() || compact == "=" {
        return Ok(Vec::new());
    }
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| Error::sasl(SaslCondition::IncorrectEncoding, "payload is not base64"))
}
