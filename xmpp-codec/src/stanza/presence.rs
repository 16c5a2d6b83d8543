//! `<presence/>` (RFC 6121 §4).

use crate::element::Element;
use crate::error::Error;
use crate::stanza::error::StanzaError;
use crate::stanza::{Common, child_text, error_child};
use crate::str::Str;

/// The `type` of a presence (RFC 6121 §4.7.1); absent means available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PresenceType {
    /// No `type`: the sender is available.
    #[default]
    Available,
    /// An error reply.
    Error,
    /// A request for the recipient's presence.
    Probe,
    /// A subscription request.
    Subscribe,
    /// A subscription approval.
    Subscribed,
    /// No longer available.
    Unavailable,
    /// An unsubscription.
    Unsubscribe,
    /// A subscription cancellation.
    Unsubscribed,
}

impl PresenceType {
    /// The attribute value (`None` for available).
    #[must_use]
    pub const fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Self::Available => return None,
            Self::Error => "error",
            Self::Probe => "probe",
            Self::Subscribe => "subscribe",
            Self::Subscribed => "subscribed",
            Self::Unavailable => "unavailable",
            Self::Unsubscribe => "unsubscribe",
            Self::Unsubscribed => "unsubscribed",
        })
    }

    fn parse(s: Option<&str>) -> Result<Self, Error> {
        Ok(match s {
            None => Self::Available,
            Some("error") => Self::Error,
            Some("probe") => Self::Probe,
            Some("subscribe") => Self::Subscribe,
            Some("subscribed") => Self::Subscribed,
            Some("unavailable") => Self::Unavailable,
            Some("unsubscribe") => Self::Unsubscribe,
            Some("unsubscribed") => Self::Unsubscribed,
            Some(_) => return Err(Error::invalid_stanza("unknown presence type")),
        })
    }
}

/// `<show/>` (RFC 6121 §4.7.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Show {
    /// Away.
    Away,
    /// Free for chat.
    Chat,
    /// Do not disturb.
    Dnd,
    /// Extended away.
    Xa,
}

impl Show {
    /// The element's text.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Away => "away",
            Self::Chat => "chat",
            Self::Dnd => "dnd",
            Self::Xa => "xa",
        }
    }

    fn parse(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "away" => Self::Away,
            "chat" => Self::Chat,
            "dnd" => Self::Dnd,
            "xa" => Self::Xa,
            _ => return Err(Error::invalid_stanza("unknown show value")),
        })
    }
}

/// A presence stanza.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Presence {
    /// Addressing, id, language.
    pub common: Common,
    /// `type`.
    pub presence_type: PresenceType,
    /// `<show/>`.
    pub show: Option<Show>,
    /// The first `<status/>`.
    pub status: Option<Str>,
    /// `<priority/>` (RFC 6121 §4.7.2.3: -128 to 127).
    pub priority: Option<i8>,
    /// The error, for type `error`.
    pub error: Option<StanzaError>,
    /// Every other child element.
    pub payloads: Vec<Element>,
}

impl Presence {
    /// Reads a `<presence/>`.
    pub fn from_element(el: &Element) -> Result<Self, Error> {
        let presence_type = PresenceType::parse(el.attr("type"))?;
        let error = match presence_type {
            PresenceType::Error => Some(error_child(el)?),
            _ => None,
        };
        let show = child_text(el, "show")
            .map(|s| Show::parse(s.trim()))
            .transpose()?;
        let priority = child_text(el, "priority")
            .map(|p| p.trim().parse::<i8>())
            .transpose()
            .map_err(|_| Error::invalid_stanza("priority not in -128..=127"))?;
        let own = ["show", "status", "priority", "error"];
        Ok(Self {
            common: Common::read(el)?,
            presence_type,
            show,
            status: child_text(el, "status"),
            priority,
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
            .write(Element::new("presence", content_ns.clone()));
        if let Some(t) = self.presence_type.as_str() {
            el.set_attr("type", t);
        }
        let child =
            |name: &'static str, text: Str| Element::new(name, content_ns.clone()).with_text(text);
        if let Some(s) = self.show {
            el.push_child(child("show", Str::from_static(s.as_str())));
        }
        if let Some(s) = &self.status {
            el.push_child(child("status", s.clone()));
        }
        if let Some(p) = self.priority {
            el.push_child(child("priority", Str::from(p.to_string())));
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
