//! The element model: a light, namespace-resolved XML element whose
//! strings are slices of the received bytes ([`Str`]).
//!
//! Namespace declarations are not attributes here: every element knows its
//! namespace, and serialization writes `xmlns` only where an element's
//! namespace differs from what it inherits, so a stanza parsed in a
//! stream's scope and written back in it comes out without redundant
//! declarations.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::config::{Framing, Limits};
use crate::error::Error;
use crate::str::Str;
use crate::xml::escape;
use crate::xml::ns::{NS_XML, Namespaces};
use crate::xml::scan::{Scanner, Token};
use crate::xml::tree;

/// An attribute. Its name is as written (`xml:lang`, `type`); a prefixed
/// name also carries the namespace its prefix is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The qualified name.
    pub name: Str,
    /// The namespace of the prefix, empty for unprefixed names.
    pub ns: Str,
    /// The value, references resolved.
    pub value: Str,
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data (text and CDATA sections merged, references
    /// resolved).
    Text(Str),
}

/// An XML element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    prefix: Option<Str>,
    name: Str,
    ns: Str,
    attrs: Vec<Attribute>,
    nodes: Vec<Node>,
}

impl Element {
    /// An element named `name` (local name) in namespace `ns`.
    #[must_use]
    pub fn new(name: impl Into<Str>, ns: impl Into<Str>) -> Self {
        Self {
            prefix: None,
            name: name.into(),
            ns: ns.into(),
            attrs: Vec::new(),
            nodes: Vec::new(),
        }
    }

    /// A parsed element without children yet, with room for `nodes`.
    pub(crate) fn from_parts(
        prefix: Option<Str>,
        name: Str,
        ns: Str,
        attrs: Vec<Attribute>,
        nodes: usize,
    ) -> Self {
        Self {
            prefix,
            name,
            ns,
            attrs,
            nodes: Vec::with_capacity(nodes),
        }
    }

    /// Parses one complete element (a document without a prolog) with no
    /// inherited namespaces and default [`Limits`].
    pub fn parse(bytes: impl Into<Bytes>) -> Result<Self, Error> {
        Self::parse_in(bytes.into(), &Namespaces::default(), Limits::default())
    }

    /// Parses one complete element in the namespace scope `scope` (a
    /// stream's, say), with `limits`. Whitespace around it is allowed;
    /// anything else is not.
    pub fn parse_in(bytes: Bytes, scope: &Namespaces, limits: Limits) -> Result<Self, Error> {
        let mut scanner = Scanner::new(limits, Framing::WebSocket);
        scanner.record(true);
        scanner.reserve_for(bytes.len());
        let mut rest = bytes;
        let mut found = None;
        loop {
            let token = match scanner.scan(&rest)? {
                Some(t) => t,
                None if rest.is_empty() => break,
                None => return Err(Error::NotWellFormed("incomplete element")),
            };
            let (end, is_element) = match token {
                Token::Element(e) => (e, true),
                Token::Whitespace(e) | Token::Declaration(e) => (e, false),
                Token::Header(_) | Token::Close(_) => {
                    return Err(Error::NotWellFormed("not a single element"));
                }
            };
            let head = rest.split_to(end.min(rest.len()));
            scanner.consumed(end);
            if is_element {
                if found.is_some() {
                    return Err(Error::NotWellFormed("more than one element"));
                }
                let ev = scanner
                    .events()
                    .ok_or(Error::NotWellFormed("element not recorded"))?;
                found = Some(tree::build(&head, ev, scope, &mut tree::Stack::default())?);
            }
        }
        found.ok_or(Error::NotWellFormed("no element"))
    }

    /// This element with a prefix hint: serialization writes it as
    /// `prefix:name` (declaring the prefix where the scope does not bind it
    /// to this namespace). `db:result` on s2s streams needs it.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<Str>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// This element with attribute `name` set to `value` (see
    /// [`Self::set_attr`]).
    #[must_use]
    pub fn with_attr(mut self, name: impl Into<Str>, value: impl Into<Str>) -> Self {
        self.set_attr(name, value);
        self
    }

    /// This element with `child` appended.
    #[must_use]
    pub fn with_child(mut self, child: Self) -> Self {
        self.nodes.push(Node::Element(child));
        self
    }

    /// This element with text appended.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<Str>) -> Self {
        self.push_text(text);
        self
    }

    /// Sets attribute `name`, replacing its value if present. A name with
    /// the `xml` prefix is in the XML namespace; for other prefixed names
    /// use [`Self::set_attr_ns`].
    pub fn set_attr(&mut self, name: impl Into<Str>, value: impl Into<Str>) {
        let name = name.into();
        let ns = if name.as_bytes().starts_with(b"xml:") {
            Str::from_static(NS_XML)
        } else {
            Str::new()
        };
        self.set_attr_ns(name, ns, value);
    }

    /// Sets the prefixed attribute `name` whose prefix is bound to `ns`.
    pub fn set_attr_ns(&mut self, name: impl Into<Str>, ns: impl Into<Str>, value: impl Into<Str>) {
        let (name, ns, value) = (name.into(), ns.into(), value.into());
        match self.attrs.iter_mut().find(|a| a.name == name) {
            Some(a) => {
                a.ns = ns;
                a.value = value;
            }
            None => self.attrs.push(Attribute { name, ns, value }),
        }
    }

    /// Removes attribute `name`, returning its value.
    pub fn remove_attr(&mut self, name: &str) -> Option<Str> {
        let i = self.attrs.iter().position(|a| a.name == name)?;
        Some(self.attrs.remove(i).value)
    }

    /// Appends a child element.
    pub fn push_child(&mut self, child: Self) {
        self.nodes.push(Node::Element(child));
    }

    /// Appends text, merging with text already at the end.
    pub fn push_text(&mut self, text: impl Into<Str>) {
        let text = text.into();
        if text.is_empty() {
            return;
        }
        if let Some(Node::Text(last)) = self.nodes.last_mut() {
            let mut joined = String::with_capacity(last.len() + text.len());
            joined.push_str(last.as_str());
            joined.push_str(text.as_str());
            *last = Str::from(joined);
        } else {
            self.nodes.push(Node::Text(text));
        }
    }

    pub(crate) fn push_node(&mut self, node: Node) {
        self.nodes.push(node);
    }

    /// The local name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The local name as a [`Str`].
    #[must_use]
    pub const fn name_str(&self) -> &Str {
        &self.name
    }

    /// The namespace (empty for none).
    #[must_use]
    pub const fn ns(&self) -> &Str {
        &self.ns
    }

    /// The prefix it was written with, if any.
    #[must_use]
    pub const fn prefix(&self) -> Option<&Str> {
        self.prefix.as_ref()
    }

    /// Whether this is element `name` in namespace `ns`.
    #[must_use]
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.name == name && self.ns == ns
    }

    /// The value of attribute `name` (qualified, as written).
    #[must_use]
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attr_str(name).map(Str::as_str)
    }

    /// The value of attribute `name` as a [`Str`].
    #[must_use]
    pub fn attr_str(&self, name: &str) -> Option<&Str> {
        self.attrs.iter().find(|a| a.name == name).map(|a| &a.value)
    }

    /// The attributes, in document order.
    #[must_use]
    pub fn attrs(&self) -> &[Attribute] {
        &self.attrs
    }

    /// The children, elements and text, in document order.
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The child elements.
    pub fn children(&self) -> impl Iterator<Item = &Self> {
        self.nodes.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element `name` in namespace `ns`.
    #[must_use]
    pub fn child(&self, name: &str, ns: &str) -> Option<&Self> {
        self.children().find(|c| c.is(name, ns))
    }

    /// The element's own text (its text children, concatenated). Free when
    /// there is one text child, as there usually is.
    #[must_use]
    pub fn text(&self) -> Str {
        let mut texts = self.nodes.iter().filter_map(|n| match n {
            Node::Text(t) => Some(t),
            Node::Element(_) => None,
        });
        let Some(first) = texts.next() else {
            return Str::new();
        };
        let mut rest = texts.peekable();
        if rest.peek().is_none() {
            return first.clone();
        }
        let mut s = String::from(first.as_str());
        for t in rest {
            s.push_str(t.as_str());
        }
        Str::from(s)
    }

    /// Serializes the element into `out` as a child of a scope where
    /// `scope` is in force (a stream's declarations, say): namespaces that
    /// `scope` already declares are not declared again.
    pub fn write_in(&self, scope: &Namespaces, out: &mut BytesMut) {
        let mut prefixes: Vec<(&[u8], &[u8])> = scope
            .prefixes()
            .iter()
            .map(|(p, n)| (p.as_bytes(), n.as_bytes()))
            .collect();
        self.write_rec(scope.default_ns().as_bytes(), &mut prefixes, out);
    }

    /// The element serialized on its own, every namespace declared.
    #[must_use]
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write_in(&Namespaces::default(), &mut out);
        out.freeze()
    }

    fn write_rec<'a>(
        &'a self,
        default: &'a [u8],
        prefixes: &mut Vec<(&'a [u8], &'a [u8])>,
        out: &mut BytesMut,
    ) {
        let mark = prefixes.len();
        let mut own_default = default;
        out.put_u8(b'<');
        let mut declare_prefix = None;
        match &self.prefix {
            Some(p) if !p.is_empty() => {
                out.put_slice(p.as_bytes());
                out.put_u8(b':');
                // `xml` is bound by definition and may not be declared.
                if p.as_bytes() != b"xml"
                    && bound(prefixes, p.as_bytes()) != Some(self.ns.as_bytes())
                {
                    declare_prefix = Some(p.as_bytes());
                }
            }
            _ => {
                if default != self.ns.as_bytes() {
                    own_default = self.ns.as_bytes();
                }
            }
        }
        out.put_slice(self.name.as_bytes());
        if let Some(p) = declare_prefix {
            write_decl(Some(p), self.ns.as_bytes(), out);
            prefixes.push((p, self.ns.as_bytes()));
        }
        if own_default != default {
            write_decl(None, own_default, out);
        }
        for a in &self.attrs {
            let colon = a.name.as_bytes().iter().position(|&b| b == b':');
            if let Some(p) = colon.and_then(|i| a.name.as_bytes().get(..i)) {
                if p != b"xml" && bound(prefixes, p) != Some(a.ns.as_bytes()) {
                    write_decl(Some(p), a.ns.as_bytes(), out);
                    prefixes.push((p, a.ns.as_bytes()));
                }
            }
            out.put_u8(b' ');
            out.put_slice(a.name.as_bytes());
            out.put_slice(b"='");
            escape::attr(a.value.as_bytes(), out);
            out.put_u8(b'\'');
        }
        if self.nodes.is_empty() {
            out.put_slice(b"/>");
        } else {
            out.put_u8(b'>');
            for n in &self.nodes {
                match n {
                    Node::Element(e) => e.write_rec(own_default, prefixes, out),
                    Node::Text(t) => escape::text(t.as_bytes(), out),
                }
            }
            out.put_slice(b"</");
            if let Some(p) = self.prefix.as_ref().filter(|p| !p.is_empty()) {
                out.put_slice(p.as_bytes());
                out.put_u8(b':');
            }
            out.put_slice(self.name.as_bytes());
            out.put_u8(b'>');
        }
        prefixes.truncate(mark);
    }
}

/// The namespace `p` is bound to in `prefixes`.
fn bound<'a>(prefixes: &[(&'a [u8], &'a [u8])], p: &[u8]) -> Option<&'a [u8]> {
    prefixes
        .iter()
        .rev()
        .find(|(q, _)| *q == p)
        .map(|(_, n)| *n)
}

fn write_decl(prefix: Option<&[u8]>, ns: &[u8], out: &mut BytesMut) {
    out.put_slice(b" xmlns");
    if let Some(p) = prefix {
        out.put_u8(b':');
        out.put_slice(p);
    }
    out.put_slice(b"='");
    escape::attr(ns, out);
    out.put_u8(b'\'');
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}
