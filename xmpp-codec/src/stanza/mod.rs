//! Typed views of the three stanzas (RFC 6120 §8, RFC 6121), stanza and
//! stream errors, and JIDs.
//!
//! Each view is read from an [`Element`] (`from_element`) and turned back
//! into one (`to_element`); what a view does not model stays available as
//! its payload elements.

pub mod error;
pub mod iq;
pub mod jid;
pub mod message;
pub mod presence;
pub mod stream_error;

use crate::element::Element;
use crate::error::Error;
use crate::str::Str;
use jid::Jid;

/// The client-to-server content namespace (RFC 6120 §4.8.3).
pub const NS_CLIENT: &str = "jabber:client";
/// The server-to-server content namespace (RFC 6120 §4.8.3).
pub const NS_SERVER: &str = "jabber:server";

/// The attributes every stanza may carry (RFC 6120 §8.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Common {
    /// `from`.
    pub from: Option<Jid>,
    /// `to`.
    pub to: Option<Jid>,
    /// `id`.
    pub id: Option<Str>,
    /// `xml:lang`.
    pub lang: Option<Str>,
}

impl Common {
    fn read(el: &Element) -> Result<Self, Error> {
        let jid = |name| el.attr(name).map(str::parse::<Jid>).transpose();
        Ok(Self {
            from: jid("from")?,
            to: jid("to")?,
            id: el.attr_str("id").cloned(),
            lang: el.attr_str("xml:lang").cloned(),
        })
    }

    fn write(&self, mut el: Element) -> Element {
        if let Some(id) = &self.id {
            el.set_attr("id", id.clone());
        }
        if let Some(from) = &self.from {
            el.set_attr("from", from.to_string());
        }
        if let Some(to) = &self.to {
            el.set_attr("to", to.to_string());
        }
        if let Some(lang) = &self.lang {
            el.set_attr("xml:lang", lang.clone());
        }
        el
    }
}

/// Any stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stanza {
    /// `<message/>`.
    Message(message::Message),
    /// `<presence/>`.
    Presence(presence::Presence),
    /// `<iq/>`.
    Iq(iq::Iq),
}

impl Stanza {
    /// Reads a top-level element as a stanza; `Ok(None)` if it is not one
    /// (a nonza such as `<r/>` or `<stream:features/>`). Stanzas must be in
    /// `jabber:client` or `jabber:server`.
    pub fn from_element(el: &Element) -> Result<Option<Self>, Error> {
        if el.ns() != NS_CLIENT && el.ns() != NS_SERVER {
            return Ok(None);
        }
        Ok(Some(match el.name() {
            "message" => Self::Message(message::Message::from_element(el)?),
            "presence" => Self::Presence(presence::Presence::from_element(el)?),
            "iq" => Self::Iq(iq::Iq::from_element(el)?),
            _ => return Ok(None),
        }))
    }

    /// The stanza as an element in `content_ns`.
    #[must_use]
    pub fn to_element(&self, content_ns: &Str) -> Element {
        match self {
            Self::Message(m) => m.to_element(content_ns),
            Self::Presence(p) => p.to_element(content_ns),
            Self::Iq(i) => i.to_element(content_ns),
        }
    }
}

/// The text of the first child `name` in the stanza's own namespace.
fn child_text(el: &Element, name: &str) -> Option<Str> {
    el.children()
        .find(|c| c.name() == name && c.ns() == el.ns())
        .map(Element::text)
}

/// The error child, for stanzas of type `error`.
fn error_child(el: &Element) -> Result<error::StanzaError, Error> {
    el.children()
        .find(|c| c.name() == "error" && c.ns() == el.ns())
        .ok_or(Error::invalid_stanza("error stanza without <error/>"))
        .and_then(error::StanzaError::from_element)
}
