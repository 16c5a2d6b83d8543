//! `<iq/>` (RFC 6120 §8.2.3): request and response, matched by `id`.

use crate::element::Element;
use crate::error::Error;
use crate::stanza::error::StanzaError;
use crate::stanza::{Common, error_child};
use crate::str::Str;

/// What an iq carries, by its `type` (RFC 6120 §8.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IqPayload {
    /// `get`: exactly one child, the request.
    Get(Element),
    /// `set`: exactly one child, the request.
    Set(Element),
    /// `result`: zero or one child.
    Result(Option<Element>),
    /// `error`: the stanza error.
    Error(StanzaError),
}

/// An iq stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iq {
    /// Addressing and language; `common.id` is always set.
    pub common: Common,
    /// The type and its payload.
    pub payload: IqPayload,
}

impl Iq {
    /// An iq of `payload` with `id`.
    #[must_use]
    pub fn new(id: impl Into<Str>, payload: IqPayload) -> Self {
        Self {
            common: Common {
                id: Some(id.into()),
                ..Common::default()
            },
            payload,
        }
    }

    /// The `id`.
    #[must_use]
    pub fn id(&self) -> &str {
        self.common.id.as_ref().map_or("", |s| s.as_str())
    }

    /// Reads an `<iq/>`: it must have an `id` and a `type`, and `get`/`set`
    /// exactly one child element, `result` at most one (§8.2.3).
    pub fn from_element(el: &Element) -> Result<Self, Error> {
        let common = Common::read(el)?;
        if common.id.is_none() {
            return Err(Error::invalid_stanza("iq without id"));
        }
        let mut children = el.children();
        let (first, second) = (children.next(), children.next());
        let payload = match el.attr("type") {
            Some("get" | "set") => {
                let (Some(req), None) = (first, second) else {
                    return Err(Error::invalid_stanza("iq get/set needs exactly one child"));
                };
                if el.attr("type") == Some("get") {
                    IqPayload::Get(req.clone())
                } else {
                    IqPayload::Set(req.clone())
                }
            }
            Some("result") => {
                if second.is_some() {
                    return Err(Error::invalid_stanza("iq result with two children"));
                }
                IqPayload::Result(first.cloned())
            }
            Some("error") => IqPayload::Error(error_child(el)?),
            _ => return Err(Error::invalid_stanza("iq without a valid type")),
        };
        Ok(Self { common, payload })
    }

    /// The stanza as an element in `content_ns`.
    #[must_use]
    pub fn to_element(&self, content_ns: &Str) -> Element {
        let mut el = self.common.write(Element::new("iq", content_ns.clone()));
        let (t, child) = match &self.payload {
            IqPayload::Get(c) => ("get", Some(c.clone())),
            IqPayload::Set(c) => ("set", Some(c.clone())),
            IqPayload::Result(c) => ("result", c.clone()),
            IqPayload::Error(e) => ("error", Some(e.to_element(content_ns))),
        };
        el.set_attr("type", t);
        if let Some(c) = child {
            el.push_child(c);
        }
        el
    }

    /// The `result` answering this request, addressed back to its sender.
    #[must_use]
    pub fn result(&self, payload: Option<Element>) -> Self {
        self.reply(IqPayload::Result(payload))
    }

    /// The `error` answering this request.
    #[must_use]
    pub fn error(&self, error: StanzaError) -> Self {
        self.reply(IqPayload::Error(error))
    }

    fn reply(&self, payload: IqPayload) -> Self {
        Self {
            common: Common {
                from: self.common.to.clone(),
                to: self.common.from.clone(),
                id: self.common.id.clone(),
                lang: None,
            },
            payload,
        }
    }
}
