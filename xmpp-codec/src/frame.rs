//! What the decoder yields: the stream header, elements, the stream's end
//! (RFC 6120 §4.2–4.4; RFC 7395 §3.3–3.6).

use bytes::{BufMut, Bytes, BytesMut};

use crate::element::{Attribute, Element};
use crate::error::Error;
use crate::stanza::stream_error::NS_STREAMS;
use crate::str::Str;
use crate::xml::escape;
use crate::xml::ns::Namespaces;

/// The RFC 7395 framing namespace of `<open/>` and `<close/>`.
pub const NS_FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";

/// One unit of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `<stream:stream ...>` (RFC 6120 §4.7) or `<open/>` (RFC 7395 §3.4).
    StreamOpen(StreamHeader),
    /// A top-level element: a stanza or a nonza (features, SASL, SM...).
    Element(Element),
    /// `</stream:stream>` (RFC 6120 §4.4) or `<close/>` (RFC 7395 §3.6),
    /// with the `see-other-uri` of a `<close/>` that redirects.
    StreamClose {
        /// RFC 7395 §3.6.1's redirect target.
        see_other_uri: Option<Str>,
    },
    /// Whitespace between elements: a keepalive (RFC 6120 §4.6.1). How
    /// many of these a run of whitespace makes depends on read boundaries.
    Keepalive,
}

/// A top-level unit before namespace resolution: what
/// [`Decoder::decode_raw`](crate::Decoder::decode_raw) yields for routers
/// that forward stanzas without looking inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawFrame {
    /// The stream header (TCP framing).
    StreamOpen(Box<StreamHeader>),
    /// The bytes of one complete top-level element, checked against
    /// everything but namespace binding and duplicate attributes. With RFC
    /// 7395 framing, `<open/>` and `<close/>` come as elements too.
    Element(Bytes),
    /// `</stream:stream>`.
    StreamClose,
    /// Whitespace between elements.
    Keepalive,
}

/// The attributes and namespaces of a stream header (RFC 6120 §4.7).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamHeader {
    /// `from`.
    pub from: Option<Str>,
    /// `to`.
    pub to: Option<Str>,
    /// `id` (the stream ID, set by the receiving entity).
    pub id: Option<Str>,
    /// `version` (`1.0` for RFC 6120 streams).
    pub version: Option<Str>,
    /// `xml:lang`.
    pub lang: Option<Str>,
    /// Any other attributes.
    pub extra: Vec<Attribute>,
    /// The declarations stanzas inherit: the content namespace
    /// (`jabber:client`, `jabber:server`) as default, and prefixes such as
    /// `stream` and `db` (XEP-0220). Empty with RFC 7395 framing.
    pub namespaces: Namespaces,
}

impl StreamHeader {
    /// A header for content namespace `content_ns`, version 1.0, with the
    /// `stream` prefix bound.
    #[must_use]
    pub fn new(content_ns: impl Into<Str>) -> Self {
        Self {
            version: Some(Str::from_static("1.0")),
            namespaces: Namespaces::new(content_ns).with_prefix("stream", NS_STREAMS),
            ..Self::default()
        }
    }

    /// Takes the header from a start tag's element, attributes included.
    pub(crate) fn from_element(el: &Element, namespaces: Namespaces) -> Self {
        let mut h = Self {
            namespaces,
            ..Self::default()
        };
        for a in el.attrs() {
            let slot = match a.name.as_str() {
                "from" => &mut h.from,
                "to" => &mut h.to,
                "id" => &mut h.id,
                "version" => &mut h.version,
                "xml:lang" => &mut h.lang,
                _ => {
                    h.extra.push(a.clone());
                    continue;
                }
            };
            *slot = Some(a.value.clone());
        }
        h
    }

    fn attrs(&self) -> impl Iterator<Item = (&str, &Str)> {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("id", &self.id),
            ("version", &self.version),
            ("xml:lang", &self.lang),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.as_ref().map(|v| (n, v)))
        .chain(self.extra.iter().map(|a| (a.name.as_str(), &a.value)))
    }

    /// Writes the opening of a stream: with TCP framing the XML
    /// declaration and `<stream:stream ...>` (prefix `stream`, RFC 6120
    /// §4.8.5), with RFC 7395 framing `<open .../>`.
    pub fn write(&self, framing: crate::Framing, out: &mut BytesMut) -> Result<(), Error> {
        match framing {
            crate::Framing::Tcp => {
                out.put_slice(b"<?xml version='1.0'?><stream:stream");
                let ns = &self.namespaces;
                if ns.lookup(b"stream").is_some_and(|n| n != NS_STREAMS) {
                    return Err(Error::InvalidNamespace);
                }
                if !ns.default_ns().is_empty() {
                    write_attr(b"xmlns", ns.default_ns(), out);
                }
                if ns.lookup(b"stream").is_none() {
                    write_attr(b"xmlns:stream", &Str::from_static(NS_STREAMS), out);
                }
                for (p, n) in ns.prefixes() {
                    let mut name = b"xmlns:".to_vec();
                    name.extend_from_slice(p.as_bytes());
                    write_attr(&name, n, out);
                }
                for (n, v) in self.attrs() {
                    write_attr(n.as_bytes(), v, out);
                }
                out.put_u8(b'>');
            }
            crate::Framing::WebSocket => {
                out.put_slice(b"<open");
                write_attr(b"xmlns", &Str::from_static(NS_FRAMING), out);
                for (n, v) in self.attrs() {
                    write_attr(n.as_bytes(), v, out);
                }
                out.put_slice(b"/>");
            }
        }
        Ok(())
    }
}

fn write_attr(name: &[u8], value: &Str, out: &mut BytesMut) {
    out.put_u8(b' ');
    out.put_slice(name);
    out.put_slice(b"='");
    escape::attr(value.as_bytes(), out);
    out.put_u8(b'\'');
}
