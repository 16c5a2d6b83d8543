//! The crate's one error type.
//!
//! Every error the peer causes carries what to answer it with: a stream
//! error condition ([`Error::stream_condition`], RFC 6120 §4.9.3) for
//! framing and XML faults, which end the stream; a stanza error condition
//! ([`Error::stanza_condition`], §8.3.3) for a stanza that parses as XML but
//! not as what its type requires, which ends only that request; a SASL
//! failure condition ([`Error::sasl_condition`], §6.5) for authentication
//! exchanges. [`Error::InvalidState`] is API misuse, not a peer fault.

use std::fmt;

use crate::sasl::SaslCondition;
use crate::stanza::error::StanzaErrorCondition;
use crate::stanza::stream_error::StreamErrorCondition;

/// A construct RFC 6120 §11.1 forbids in XMPP streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Restricted {
    /// `<!-- -->`.
    Comment,
    /// `<?target ..?>` other than the leading XML declaration.
    ProcessingInstruction,
    /// `<!DOCTYPE`, and with it internal or external DTD subsets and entity
    /// declarations.
    Doctype,
    /// An entity reference other than the five predefined ones.
    EntityReference,
}

/// Which configured [`Limits`](crate::Limits) field was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// [`Limits::max_stanza_size`](crate::Limits::max_stanza_size).
    StanzaSize,
    /// [`Limits::max_depth`](crate::Limits::max_depth).
    Depth,
    /// [`Limits::max_attributes`](crate::Limits::max_attributes).
    Attributes,
    /// [`Limits::max_text_size`](crate::Limits::max_text_size).
    TextSize,
}

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input is not well-formed XML (`not-well-formed`, §4.9.3.13).
    NotWellFormed(&'static str),
    /// XML that RFC 6120 §11.1 forbids (`restricted-xml`, §4.9.3.18).
    RestrictedXml(Restricted),
    /// Bytes that are not UTF-8, or an XML declaration naming another
    /// encoding (`unsupported-encoding`, §4.9.3.22; §11.6 allows only
    /// UTF-8).
    UnsupportedEncoding,
    /// The peer went over a configured limit (`policy-violation`,
    /// §4.9.3.14). Raised while the element is still arriving, so at most
    /// the limit (plus one read) is ever buffered.
    LimitExceeded {
        /// Which limit.
        limit: Limit,
        /// Its configured value.
        max: usize,
    },
    /// An element or attribute prefix that no `xmlns:` declaration binds,
    /// or a declaration XML Namespaces forbids (`bad-namespace-prefix`,
    /// §4.9.3.2).
    BadNamespacePrefix,
    /// The stream element, or the RFC 7395 `<open/>`/`<close/>`, is not in
    /// its namespace (`invalid-namespace`, §4.9.3.10).
    InvalidNamespace,
    /// Well-formed XML in a place the stream does not allow it, such as
    /// text between stanzas or a stream header that is not
    /// `<stream:stream>` (`bad-format`, §4.9.3.1).
    BadFormat(&'static str),
    /// A stanza that is XML but not the stanza its name says, e.g. an `<iq/>`
    /// without an `id` (a stanza error; the stream goes on).
    InvalidStanza {
        /// The stanza error condition to answer with.
        condition: StanzaErrorCondition,
        /// What was wrong.
        reason: &'static str,
    },
    /// An authentication exchange failed (RFC 6120 §6.5; RFC 5802).
    Sasl {
        /// The `<failure/>` condition to report.
        condition: SaslCondition,
        /// What was wrong.
        reason: &'static str,
    },
    /// API misuse: a method called in a state that does not allow it (e.g.
    /// a SASL step out of order). Not the peer's fault.
    InvalidState(&'static str),
    /// A stream-level fault the connection layer found (`conn`): data
    /// before authentication (`not-authorized`), a stream header for an
    /// unserved domain (`host-unknown`) or version, a SASL or XEP-0198
    /// protocol violation. Ends the stream with `condition`.
    Stream {
        /// The stream error condition to close with.
        condition: StreamErrorCondition,
        /// What was wrong.
        reason: &'static str,
    },
    /// API misuse: the connection is closed, nothing more can be sent.
    Closed,
}

impl Error {
    pub(crate) const fn invalid_stanza(reason: &'static str) -> Self {
        Self::InvalidStanza {
            condition: StanzaErrorCondition::BadRequest,
            reason,
        }
    }

    pub(crate) const fn sasl(condition: SaslCondition, reason: &'static str) -> Self {
        Self::Sasl { condition, reason }
    }

    /// The stream error to close the stream with, for errors that end the
    /// stream.
    #[must_use]
    pub const fn stream_condition(&self) -> Option<StreamErrorCondition> {
        Some(match self {
            Self::NotWellFormed(_) => StreamErrorCondition::NotWellFormed,
            Self::RestrictedXml(_) => StreamErrorCondition::RestrictedXml,
            Self::UnsupportedEncoding => StreamErrorCondition::UnsupportedEncoding,
            Self::LimitExceeded { .. } => StreamErrorCondition::PolicyViolation,
            Self::BadNamespacePrefix => StreamErrorCondition::BadNamespacePrefix,
            Self::InvalidNamespace => StreamErrorCondition::InvalidNamespace,
            Self::BadFormat(_) => StreamErrorCondition::BadFormat,
            Self::Stream { condition, .. } => *condition,
            Self::Closed
            | Self::InvalidStanza { .. }
            | Self::Sasl { .. }
            | Self::InvalidState(_) => {
                return None;
            }
        })
    }

    /// The stanza error to answer a stanza with, for errors that end only
    /// that stanza's request.
    #[must_use]
    pub const fn stanza_condition(&self) -> Option<StanzaErrorCondition> {
        match self {
            Self::InvalidStanza { condition, .. } => Some(*condition),
            _ => None,
        }
    }

    /// The SASL `<failure/>` condition, for failed authentication.
    #[must_use]
    pub const fn sasl_condition(&self) -> Option<SaslCondition> {
        match self {
            Self::Sasl { condition, .. } => Some(*condition),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotWellFormed(why) => write!(f, "not well-formed: {why}"),
            Self::RestrictedXml(what) => write!(f, "restricted XML: {what:?}"),
            Self::UnsupportedEncoding => f.write_str("input is not UTF-8"),
            Self::LimitExceeded { limit, max } => write!(f, "{limit:?} over the limit of {max}"),
            Self::BadNamespacePrefix => f.write_str("unbound or invalid namespace prefix"),
            Self::InvalidNamespace => f.write_str("wrong stream or framing namespace"),
            Self::BadFormat(why) => write!(f, "bad format: {why}"),
            Self::InvalidStanza { condition, reason } => write!(f, "{condition}: {reason}"),
            Self::Sasl { condition, reason } => write!(f, "SASL {condition}: {reason}"),
            Self::InvalidState(why) => write!(f, "invalid state: {why}"),
            Self::Stream { condition, reason } => write!(f, "stream error {condition}: {reason}"),
            Self::Closed => f.write_str("the connection is closed"),
        }
    }
}

impl std::error::Error for Error {}
