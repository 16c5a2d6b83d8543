//! `<message/>` (RFC 6121 §5).

use crate::element::Element;
use crate::error::Error;
use crate::stanza::error::StanzaError;
use crate::stanza::{Common, child_text, error_child};
use crate::str::Str;

/// The `type` of a message (RFC 6121 §5.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageType {
    /// One-to-one chat.
    Chat,
    /// An error reply.
    Error,
    /// Multi-user chat.
    Groupchat,
    /// An alert, no reply expected.
    Headline,
    /// The default (an absent `type`).
    #[default]
    Normal,
}

impl MessageType {
    /// The attribute value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Error => "error",
            Self::Groupchat => "groupchat",
            Self::Headline => "headline",
            Self::Normal => "normal",
        }
    }

    fn parse(s: Option<&str>) -> Result<Self, Error> {
        Ok(match s {
            None | Some("normal") => Self::Normal,
            Some("chat") => Self::Chat,
            Some("error") => Self::Error,
            Some("groupchat") => Self::Groupchat,
            Some("headline") => Self::Headline,
            Some(_) => return Err(Error::invalid_stanza("unknown message type")),
        })
    }
}

/// A message stanza.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Addressing, id, language.
    pub common: Common,
    /// `type`.
    pub message_type: MessageType,
    /// The first `<body/>`.
    pub body: Option<Str>,
    /// The first `<subject/>`.
    pub subject: Option<Str>,
    /// `<thread/>`.
    pub thread: Option<Str>,
    /// The error, for type `error`.
    pub error: Option<StanzaError>,
    /// Every other child element (extensions).
    pub payloads: Vec<Element>,
}

impl Message {
    /// Reads a `<message/>`.
    pub fn from_element(el: &Element) -> Result<Self, Error> {
        let message_type = MessageType::parse(el.attr("type"))?;
        let error = match message_type {
            MessageType::Error => Some(error_child(el)?),
            _ => None,
        };
        let own = ["body", "subject", "thread", "error"];
        Ok(Self {
            common: Common::read(el)?,
            message_type,
            body: child_text(el, "body"),
            subject: child_text(el, "subject"),
            thread: child_text(el, "thread"),
            error,
            payloads: el
                .children()
                .filter(|c| !(c.ns() == el.ns() && own.contains(&c.name())))
                .cloned()
                .collect(),
        })
    }

    /// The stanza as an element in `content_ns`.
    #[must_use]
    pub fn to_element(&self, content_ns: &Str) -> Element {
        let mut el = self
            .common
            .write(Element::new("message", content_ns.clone()));
        if self.message_type != MessageType::Normal {
            el.set_attr("type", self.message_type.as_str());
        }
        for (name, v) in [
            ("subject", &self.subject),
            ("body", &self.body),
            ("thread", &self.thread),
        ] {
            if let Some(v) = v {
                el.push_child(Element::new(name, content_ns.clone()).with_text(v.clone()));
            }
        }
        if let Some(e) = &self.error {
            el.push_child(e.to_element(content_ns));
        }
        for p in &self.payloads {
            el.push_child(p.clone());
        }
        el
    }
}
