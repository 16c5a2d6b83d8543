//! Builds an [`Element`] from one complete top-level element from the
//! structure the [scanner](super::scan) recorded while checking it,
//! resolving namespaces (Namespaces in XML 1.0 §5–6) and references.
//! Names, namespaces and values without references are slices of the
//! input, not copies; the bytes are never tokenized a second time.
//!
//! The spans are trusted to come from the scanner, but every access is
//! still bounds-checked: a scanner bug becomes an error, never a panic.

use std::fmt;

use bytes::Bytes;

use crate::element::{Attribute, Element, Node};
use crate::error::Error;
use crate::str::Str;
use crate::xml::escape;
use crate::xml::ns::{NS_XML, Namespaces};
use crate::xml::scan::{AttrSpan, Event, Events, Span};

const NS_XMLNS: &str = "http://www.w3.org/2000/xmlns/";

/// A slice of `src` as a [`Str`]; `src` was checked as UTF-8 by the
/// scanner, and every span is cut at an ASCII delimiter, so slices stay
/// UTF-8.
fn slice(src: &Bytes, (a, b): Span) -> Result<Str, Error> {
    Str::validated_slice(src, a, b).ok_or(Error::NotWellFormed("truncated element"))
}

fn raw(src: &Bytes, (a, b): Span) -> Result<&[u8], Error> {
    src.get(a..b)
        .ok_or(Error::NotWellFormed("truncated element"))
}

/// A text or attribute value: the input slice when the scanner saw nothing
/// to resolve in it, else a new string.
fn value(src: &Bytes, span: Span, escaped: bool, attr: bool) -> Result<Str, Error> {
    if escaped {
        let raw = raw(src, span)?;
        let mut s = Vec::with_capacity(raw.len());
        escape::unescape(raw, attr, &mut s)?;
        Ok(Str::from_validated_vec(s))
    } else {
        slice(src, span)
    }
}

/// Text being gathered for the current element: consecutive text and
/// CDATA runs make one node.
#[derive(Default)]
struct PendingText(Option<Str>);

impl PendingText {
    fn add(&mut self, s: Str) {
        if s.is_empty() {
            return;
        }
        self.0 = Some(match self.0.take() {
            None => s,
            Some(prev) => {
                let mut joined = String::with_capacity(prev.len() + s.len());
                joined.push_str(prev.as_str());
                joined.push_str(s.as_str());
                Str::from(joined)
            }
        });
    }

    fn flush(&mut self, into: Option<&mut Open>) {
        if let (Some(t), Some(open)) = (self.0.take(), into) {
            open.el.push_node(Node::Text(t));
        }
    }
}

/// An element whose end tag has not come yet.
struct Open {
    el: Element,
    /// Length of the prefix stack before its declarations.
    mark: usize,
    /// The default namespace of its parent.
    parent_default: Str,
}

/// The namespace bindings in force while building: the inherited scope,
/// and the prefixes declared inside the element, innermost last.
struct Scope<'a> {
    inherited: &'a Namespaces,
    prefixes: Vec<(Str, Str)>,
    default: Str,
}

impl Scope<'_> {
    fn lookup(&self, p: &[u8]) -> Option<Str> {
        if p == b"xml" {
            return Some(Str::from_static(NS_XML));
        }
        self.prefixes
            .iter()
            .rev()
            .find(|(q, _)| q.as_bytes() == p)
            .map(|(_, n)| n.clone())
            .or_else(|| self.inherited.lookup(p))
    }
}

/// The stack of open elements, kept between builds so a decoder does not
/// allocate one per element.
#[derive(Default)]
pub(crate) struct Stack(Vec<Open>);

impl Clone for Stack {
    /// Scratch space: a clone starts empty.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl fmt::Debug for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Stack")
    }
}

/// Builds the element in `src` (exactly one element, as the scanner
/// delimited and recorded it in `ev`) in the scope `scope`.
pub(crate) fn build(
    src: &Bytes,
    ev: &Events,
    scope: &Namespaces,
    stack: &mut Stack,
) -> Result<Element, Error> {
    let mut ns = Scope {
        inherited: scope,
        prefixes: Vec::new(),
        default: scope.default_ns().clone(),
    };
    // A build that failed may have left open elements behind.
    let stack = &mut stack.0;
    stack.clear();
    let mut text = PendingText::default();
    for &e in &ev.events {
        match e {
            Event::Start {
                name,
                attrs,
                empty,
                nodes,
            } => {
                text.flush(stack.last_mut());
                let mark = ns.prefixes.len();
                let parent_default = ns.default.clone();
                let attrs = ev
                    .attrs
                    .get(attrs.0..attrs.1)
                    .ok_or(Error::NotWellFormed("truncated element"))?;
                let el = start_tag(src, name, attrs, nodes, &mut ns)?;
                if empty {
                    ns.prefixes.truncate(mark);
                    ns.default = parent_default;
                    match stack.last_mut() {
                        Some(parent) => parent.el.push_node(Node::Element(el)),
                        None => return Ok(el),
                    }
                } else {
                    stack.push(Open {
                        el,
                        mark,
                        parent_default,
                    });
                }
            }
            Event::Text { span, escaped } => text.add(value(src, span, escaped, false)?),
            Event::CData(span) => text.add(slice(src, span)?),
            Event::End => {
                text.flush(stack.last_mut());
                let open = stack
                    .pop()
                    .ok_or(Error::NotWellFormed("unbalanced end tag"))?;
                ns.prefixes.truncate(open.mark);
                ns.default = open.parent_default;
                match stack.last_mut() {
                    Some(parent) => parent.el.push_node(Node::Element(open.el)),
                    None => return Ok(open.el),
                }
            }
        }
    }
    Err(Error::NotWellFormed("truncated element"))
}

/// The element of a start tag (no children yet, room for `nodes`). Pushes
/// its prefix declarations and sets the default namespace to its own.
fn start_tag(
    src: &Bytes,
    name: Span,
    attrs: &[AttrSpan],
    nodes: usize,
    ns: &mut Scope<'_>,
) -> Result<Element, Error> {
    // One pass: declarations, and the other attributes with their
    // prefixes resolved afterwards (a declaration may follow its use).
    let mut out: Vec<Attribute> = Vec::new();
    let mut prefixed = false;
    for (i, a) in attrs.iter().enumerate() {
        let an = raw(src, a.name)?;
        match an.strip_prefix(b"xmlns") {
            Some([]) => {
                ns.default = value(src, a.value, a.escaped, true)?;
                continue;
            }
            Some([b':', p @ ..]) => {
                let uri = value(src, a.value, a.escaped, true)?;
                // Namespaces in XML §3: `xmlns` is never declared, `xml`
                // only to its own namespace, and no prefix may be
                // undeclared.
                if uri.is_empty()
                    || p == b"xmlns"
                    || uri == NS_XMLNS
                    || ((p == b"xml") != (uri == NS_XML))
                {
                    return Err(Error::BadNamespacePrefix);
                }
                ns.prefixes
                    .push((slice(src, (a.name.0 + 6, a.name.1))?, uri));
                continue;
            }
            _ => {}
        }
        if out.iter().any(|o| o.name.as_bytes() == an) {
            return Err(Error::NotWellFormed("duplicate attribute"));
        }
        if out.capacity() == 0 {
            // Room for the rest, and no allocation when all are
            // declarations.
            out.reserve_exact(attrs.len() - i);
        }
        prefixed |= an.contains(&b':');
        out.push(Attribute {
            name: slice(src, a.name)?,
            ns: Str::new(),
            value: value(src, a.value, a.escaped, true)?,
        });
    }
    if prefixed {
        for o in &mut out {
            let an = o.name.as_bytes();
            if let Some(i) = an.iter().position(|&c| c == b':') {
                o.ns = ns
                    .lookup(an.get(..i).unwrap_or_default())
                    .ok_or(Error::BadNamespacePrefix)?;
            }
        }
    }
    let qname = raw(src, name)?;
    let (prefix, local, el_ns) = match qname.iter().position(|&b| b == b':') {
        Some(i) => {
            let p = qname.get(..i).unwrap_or_default();
            let el_ns = ns.lookup(p).ok_or(Error::BadNamespacePrefix)?;
            (
                Some(slice(src, (name.0, name.0 + i))?),
                slice(src, (name.0 + i + 1, name.1))?,
                el_ns,
            )
        }
        None => (None, slice(src, name)?, ns.default.clone()),
    };
    Ok(Element::from_parts(prefix, local, el_ns, out, nodes))
}

/// Builds a stream header's start tag (`<stream:stream ...>`, no end tag)
/// from its recorded structure: the element, and the scope its
/// declarations make for its children.
pub(crate) fn header(src: &Bytes, ev: &Events) -> Result<(Element, Namespaces), Error> {
    let Some(&Event::Start { name, attrs, .. }) = ev.events.first() else {
        return Err(Error::NotWellFormed("truncated tag"));
    };
    let attrs = ev
        .attrs
        .get(attrs.0..attrs.1)
        .ok_or(Error::NotWellFormed("truncated tag"))?;
    let empty = Namespaces::default();
    let mut ns = Scope {
        inherited: &empty,
        prefixes: Vec::new(),
        default: Str::new(),
    };
    let el = start_tag(src, name, attrs, 0, &mut ns)?;
    let mut scope = Namespaces::new(ns.default);
    for (p, n) in ns.prefixes {
        scope.bind(p, n);
    }
    Ok((el, scope))
}
