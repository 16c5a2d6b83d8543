//! Stream errors (RFC 6120 §4.9): `<stream:error>` with one of the defined
//! conditions, after which the stream is closed.

use crate::element::Element;
use crate::error::Error;
use crate::str::Str;

/// The namespace of stream error conditions (RFC 6120 §4.9.2).
pub const NS_STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// The stream namespace (RFC 6120 §4.8.1).
pub const NS_STREAMS: &str = "http://etherx.jabber.org/streams";

macro_rules! conditions {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)* }) => {
        $(#[$m])*
        $vis enum $name { $($(#[$vm])* $v,)* }

        impl $name {
            /// Every condition, in the RFC's order.
            pub const ALL: &'static [Self] = &[$(Self::$v,)*];

            /// The element name of the condition.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s,)* }
            }

            /// The condition named `s`, if it is one.
            #[must_use]
            pub fn from_name(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use conditions;

conditions! {
    /// A stream error condition (RFC 6120 §4.9.3).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum StreamErrorCondition {
        /// §4.9.3.1: XML that cannot be processed.
        BadFormat = "bad-format",
        /// §4.9.3.2: an unsupported or missing namespace prefix.
        BadNamespacePrefix = "bad-namespace-prefix",
        /// §4.9.3.3: a new stream for this entity conflicts with this one.
        Conflict = "conflict",
        /// §4.9.3.4: no traffic for too long.
        ConnectionTimeout = "connection-timeout",
        /// §4.9.3.5: the `to` domain is no longer served.
        HostGone = "host-gone",
        /// §4.9.3.6: the `to` domain is not served.
        HostUnknown = "host-unknown",
        /// §4.9.3.7: a stanza lacks a required `to` or `from`.
        ImproperAddressing = "improper-addressing",
        /// §4.9.3.8: the server failed.
        InternalServerError = "internal-server-error",
        /// §4.9.3.9: `from` does not match an authorized JID.
        InvalidFrom = "invalid-from",
        /// §4.9.3.10: the stream or content namespace is wrong.
        InvalidNamespace = "invalid-namespace",
        /// §4.9.3.11: XML that fails validation.
        InvalidXml = "invalid-xml",
        /// §4.9.3.12: data before authentication.
        NotAuthorized = "not-authorized",
        /// §4.9.3.13: XML that is not well-formed.
        NotWellFormed = "not-well-formed",
        /// §4.9.3.14: a local policy was broken (e.g. a size limit).
        PolicyViolation = "policy-violation",
        /// §4.9.3.15: a remote server could not be reached.
        RemoteConnectionFailed = "remote-connection-failed",
        /// §4.9.3.16: the stream must be renegotiated.
        Reset = "reset",
        /// §4.9.3.17: the server lacks resources.
        ResourceConstraint = "resource-constraint",
        /// §4.9.3.18: XML that RFC 6120 §11.1 forbids.
        RestrictedXml = "restricted-xml",
        /// §4.9.3.19: connect to another host instead.
        SeeOtherHost = "see-other-host",
        /// §4.9.3.20: the server is shutting down.
        SystemShutdown = "system-shutdown",
        /// §4.9.3.21: none of the others.
        UndefinedCondition = "undefined-condition",
        /// §4.9.3.22: not UTF-8.
        UnsupportedEncoding = "unsupported-encoding",
        /// §4.9.3.23: a mandatory feature is not supported.
        UnsupportedFeature = "unsupported-feature",
        /// §4.9.3.24: an unknown first-level child of the stream.
        UnsupportedStanzaType = "unsupported-stanza-type",
        /// §4.9.3.25: an unsupported stream version.
        UnsupportedVersion = "unsupported-version",
    }
}

/// A `<stream:error/>` (RFC 6120 §4.9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// The defined condition.
    pub condition: StreamErrorCondition,
    /// The `see-other-host` target (§4.9.3.19), the condition's character
    /// data.
    pub see_other_host: Option<Str>,
    /// Human-readable `<text/>`.
    pub text: Option<Str>,
}

impl StreamError {
    /// An error with `condition` and nothing else.
    #[must_use]
    pub const fn new(condition: StreamErrorCondition) -> Self {
        Self {
            condition,
            see_other_host: None,
            text: None,
        }
    }

    /// The `<stream:error>` element, in the stream namespace with the
    /// `stream` prefix.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let mut cond = Element::new(self.condition.as_str(), NS_STREAM_ERRORS);
        if let Some(host) = &self.see_other_host {
            cond = cond.with_text(host.clone());
        }
        let mut el = Element::new("error", NS_STREAMS)
            .with_prefix("stream")
            .with_child(cond);
        if let Some(text) = &self.text {
            el = el.with_child(Element::new("text", NS_STREAM_ERRORS).with_text(text.clone()));
        }
        el
    }

    /// Reads a `<stream:error>`; an unknown condition reads as
    /// `undefined-condition`, as §4.9.4 lets a receiver treat it.
    pub fn from_element(el: &Element) -> Result<Self, Error> {
        if !el.is("error", NS_STREAMS) {
            return Err(Error::invalid_stanza("not a stream error"));
        }
        let mut out = Self::new(StreamErrorCondition::UndefinedCondition);
        for child in el.children().filter(|c| c.ns() == NS_STREAM_ERRORS) {
            if child.name() == "text" {
                out.text = Some(child.text());
            } else if let Some(c) = StreamErrorCondition::from_name(child.name()) {
                out.condition = c;
                if c == StreamErrorCondition::SeeOtherHost {
                    out.see_other_host = Some(child.text());
                }
            }
        }
        Ok(out)
    }
}
