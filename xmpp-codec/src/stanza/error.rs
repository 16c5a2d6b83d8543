//! Stanza errors (RFC 6120 §8.3): an `<error type=..>` child of a stanza of
//! type `error`, with one defined condition. They end one request, not the
//! stream.

use crate::element::Element;
use crate::error::Error;
use crate::stanza::jid::Jid;
use crate::stanza::stream_error::conditions;
use crate::str::Str;

/// The namespace of stanza error conditions (RFC 6120 §8.3.3).
pub const NS_STANZA_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// The `type` of a stanza error (RFC 6120 §8.3.2): what the sender may do
/// about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// Retry after providing credentials.
    Auth,
    /// Do not retry.
    Cancel,
    /// Proceed; the condition was only a warning.
    Continue,
    /// Retry after changing the data sent.
    Modify,
    /// Retry after waiting.
    Wait,
}

impl ErrorType {
    /// The attribute value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Cancel => "cancel",
            Self::Continue => "continue",
            Self::Modify => "modify",
            Self::Wait => "wait",
        }
    }

    /// The type named `s`, if it is one.
    #[must_use]
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "auth" => Self::Auth,
            "cancel" => Self::Cancel,
            "continue" => Self::Continue,
            "modify" => Self::Modify,
            "wait" => Self::Wait,
            _ => return None,
        })
    }
}

conditions! {
    /// A stanza error condition (RFC 6120 §8.3.3).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum StanzaErrorCondition {
        /// §8.3.3.1: malformed or unprocessable request.
        BadRequest = "bad-request",
        /// §8.3.3.2: a resource or session with that name exists.
        Conflict = "conflict",
        /// §8.3.3.3: not implemented by the recipient.
        FeatureNotImplemented = "feature-not-implemented",
        /// §8.3.3.4: the requester lacks permission.
        Forbidden = "forbidden",
        /// §8.3.3.5: the recipient moved permanently (URI as text).
        Gone = "gone",
        /// §8.3.3.6: the server failed.
        InternalServerError = "internal-server-error",
        /// §8.3.3.7: the addressed JID or item does not exist.
        ItemNotFound = "item-not-found",
        /// §8.3.3.8: a JID that violates the address format.
        JidMalformed = "jid-malformed",
        /// §8.3.3.9: the request violates the recipient's criteria.
        NotAcceptable = "not-acceptable",
        /// §8.3.3.10: nobody may perform the action.
        NotAllowed = "not-allowed",
        /// §8.3.3.11: authenticate first.
        NotAuthorized = "not-authorized",
        /// §8.3.3.12: a local policy was broken.
        PolicyViolation = "policy-violation",
        /// §8.3.3.13: the recipient is temporarily unavailable.
        RecipientUnavailable = "recipient-unavailable",
        /// §8.3.3.14: the recipient moved temporarily (URI as text).
        Redirect = "redirect",
        /// §8.3.3.15: registration is required.
        RegistrationRequired = "registration-required",
        /// §8.3.3.16: the remote domain does not exist.
        RemoteServerNotFound = "remote-server-not-found",
        /// §8.3.3.17: the remote domain did not answer in time.
        RemoteServerTimeout = "remote-server-timeout",
        /// §8.3.3.18: the server lacks resources.
        ResourceConstraint = "resource-constraint",
        /// §8.3.3.19: the service is not provided.
        ServiceUnavailable = "service-unavailable",
        /// §8.3.3.20: a subscription is required.
        SubscriptionRequired = "subscription-required",
        /// §8.3.3.21: none of the others.
        UndefinedCondition = "undefined-condition",
        /// §8.3.3.22: the request came at the wrong time.
        UnexpectedRequest = "unexpected-request",
    }
}

impl StanzaErrorCondition {
    /// The type RFC 6120 §8.3.3 gives each condition in its definition.
    #[must_use]
    pub const fn default_type(self) -> ErrorType {
        match self {
            Self::BadRequest
            | Self::JidMalformed
            | Self::NotAcceptable
            | Self::PolicyViolation
            | Self::Redirect => ErrorType::Modify,
            Self::Forbidden
            | Self::NotAuthorized
            | Self::RegistrationRequired
            | Self::SubscriptionRequired => ErrorType::Auth,
            Self::RecipientUnavailable
            | Self::RemoteServerTimeout
            | Self::ResourceConstraint
            | Self::UnexpectedRequest => ErrorType::Wait,
            Self::Conflict
            | Self::FeatureNotImplemented
            | Self::Gone
            | Self::InternalServerError
            | Self::ItemNotFound
            | Self::NotAllowed
            | Self::RemoteServerNotFound
            | Self::ServiceUnavailable
            | Self::UndefinedCondition => ErrorType::Cancel,
        }
    }
}

/// A stanza's `<error/>` child (RFC 6120 §8.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanzaError {
    /// What the sender may do about it.
    pub error_type: ErrorType,
    /// The defined condition.
    pub condition: StanzaErrorCondition,
    /// The new address for `gone` and `redirect`.
    pub uri: Option<Str>,
    /// The entity that raised the error (`by`).
    pub by: Option<Jid>,
    /// Human-readable `<text/>`.
    pub text: Option<Str>,
    /// An application-specific condition element.
    pub application: Option<Element>,
}

impl StanzaError {
    /// An error with `condition` and its default type.
    #[must_use]
    pub const fn new(condition: StanzaErrorCondition) -> Self {
        Self {
            error_type: condition.default_type(),
            condition,
            uri: None,
            by: None,
            text: None,
            application: None,
        }
    }

    /// The `<error/>` element, qualified by `content_ns` (the stream's
    /// content namespace, usually `jabber:client` or `jabber:server`).
    #[must_use]
    pub fn to_element(&self, content_ns: &Str) -> Element {
        let mut el =
            Element::new("error", content_ns.clone()).with_attr("type", self.error_type.as_str());
        if let Some(by) = &self.by {
            el = el.with_attr("by", by.to_string());
        }
        let mut cond = Element::new(self.condition.as_str(), NS_STANZA_ERRORS);
        if let Some(uri) = &self.uri {
            cond = cond.with_text(uri.clone());
        }
        el = el.with_child(cond);
        if let Some(text) = &self.text {
            el = el.with_child(Element::new("text", NS_STANZA_ERRORS).with_text(text.clone()));
        }
        if let Some(app) = &self.application {
            el = el.with_child(app.clone());
        }
        el
    }

    /// Reads an `<error/>` element. A missing condition reads as
    /// `undefined-condition`; a missing or unknown type as the condition's
    /// default type.
    pub fn from_element(el: &Element) -> Result<Self, Error> {
        if el.name() != "error" {
            return Err(Error::invalid_stanza("not a stanza error"));
        }
        let mut out = Self::new(StanzaErrorCondition::UndefinedCondition);
        let mut typed = None;
        for child in el.children() {
            if child.ns() == NS_STANZA_ERRORS {
                if child.name() == "text" {
                    out.text = Some(child.text());
                } else if let Some(c) = StanzaErrorCondition::from_name(child.name()) {
                    out.condition = c;
                    let t = child.text();
                    if !t.is_empty() {
                        out.uri = Some(t);
                    }
                }
            } else if out.application.is_none() {
                out.application = Some(child.clone());
            }
        }
        if let Some(t) = el.attr("type") {
            typed = ErrorType::from_name(t);
        }
        out.error_type = typed.unwrap_or_else(|| out.condition.default_type());
        out.by = el.attr("by").and_then(|b| b.parse().ok());
        Ok(out)
    }
}
