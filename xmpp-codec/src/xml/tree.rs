//! Builds an [`Element`] from one complete top-level element that the
//! [scanner](super::scan) has already checked, resolving namespaces
//! (Namespaces in XML 1.0 §5–6) and references. Names, namespaces and
//! values without references are slices of the input, not copies.
//!
//! The input is trusted to be lexically valid, but every access is still
//! bounds-checked: a scanner bug becomes an error, never a panic.

use bytes::Bytes;

use crate::element::{Attribute, Element, Node};
use crate::error::Error;
use crate::str::Str;
use crate::xml::escape;
use crate::xml::ns::{NS_XML, Namespaces};

const NS_XMLNS: &str = "http://www.w3.org/2000/xmlns/";

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// A slice of `src` as a [`Str`]; `src` was checked as UTF-8 by the
/// scanner, and every cut is at an ASCII delimiter, so slices stay UTF-8.
fn slice(src: &Bytes, a: usize, b: usize) -> Result<Str, Error> {
    if a <= b && b <= src.len() {
        Ok(Str::validated(src.slice(a..b)))
    } else {
        Err(Error::NotWellFormed("truncated element"))
    }
}

/// A text or attribute value: the input slice when it has nothing to
/// resolve, else a new string.
fn value(src: &Bytes, a: usize, b: usize, attr: bool) -> Result<Str, Error> {
    let raw = src.get(a..b).unwrap_or_default();
    if escape::needs_unescape(raw, attr) {
        let mut s = String::with_capacity(raw.len());
        escape::unescape(raw, attr, &mut s)?;
        Ok(Str::from(s))
    } else {
        slice(src, a, b)
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

/// Builds the element in `src` (exactly one element, as the scanner
/// delimited it) in the scope `scope`.
pub(crate) fn build(src: &Bytes, scope: &Namespaces) -> Result<Element, Error> {
    let mut prefixes: Vec<(Str, Str)> = scope.prefixes().to_vec();
    let mut default = scope.default_ns().clone();
    let mut stack: Vec<Open> = Vec::new();
    let mut text = PendingText::default();
    let mut pos = 0;
    let len = src.len();
    loop {
        // Character data up to the next '<'.
        let lt = src
            .get(pos..)
            .and_then(|r| r.iter().position(|&b| b == b'<'))
            .map_or(len, |i| pos + i);
        if lt > pos && !stack.is_empty() {
            text.add(value(src, pos, lt, false)?);
        }
        if lt >= len {
            return Err(Error::NotWellFormed("truncated element"));
        }
        pos = lt + 1;
        match src.get(pos) {
            Some(b'/') => {
                let gt = find(src, pos, b'>')?;
                text.flush(stack.last_mut());
                let open = stack
                    .pop()
                    .ok_or(Error::NotWellFormed("unbalanced end tag"))?;
                prefixes.truncate(open.mark);
                default = open.parent_default;
                pos = gt + 1;
                match stack.last_mut() {
                    Some(parent) => parent.el.push_node(Node::Element(open.el)),
                    None => return Ok(open.el),
                }
            }
            Some(b'!') => {
                // `<![CDATA[ ... ]]>`: the scanner allows nothing else.
                let start = pos + 8;
                let end = src
                    .get(start..)
                    .and_then(|r| r.windows(3).position(|w| w == b"]]>"))
                    .map(|i| start + i)
                    .ok_or(Error::NotWellFormed("unterminated CDATA section"))?;
                text.add(slice(src, start, end)?);
                pos = end + 3;
            }
            _ => {
                text.flush(stack.last_mut());
                let mark = prefixes.len();
                let parent_default = default.clone();
                let (el, empty, next) = start_tag(src, pos, &mut prefixes, &mut default)?;
                pos = next;
                if empty {
                    prefixes.truncate(mark);
                    default = parent_default;
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
        }
    }
}

fn find(src: &Bytes, from: usize, byte: u8) -> Result<usize, Error> {
    src.get(from..)
        .and_then(|r| r.iter().position(|&b| b == byte))
        .map(|i| from + i)
        .ok_or(Error::NotWellFormed("truncated tag"))
}

fn find_name_end(src: &Bytes, from: usize) -> usize {
    src.get(from..)
        .and_then(|r| {
            r.iter()
                .position(|&b| is_ws(b) || matches!(b, b'/' | b'>' | b'='))
        })
        .map_or(src.len(), |i| from + i)
}

fn skip_ws(src: &Bytes, mut pos: usize) -> usize {
    while src.get(pos).is_some_and(|&b| is_ws(b)) {
        pos += 1;
    }
    pos
}

/// Parses the start tag whose name begins at `pos`: the element (no
/// children yet), whether it is empty, and where the tag ends. Pushes its
/// prefix declarations and sets `default` to its default namespace.
fn start_tag(
    src: &Bytes,
    pos: usize,
    prefixes: &mut Vec<(Str, Str)>,
    default: &mut Str,
) -> Result<(Element, bool, usize), Error> {
    let name_end = find_name_end(src, pos);
    let qname = slice(src, pos, name_end)?;
    let mut attrs: Vec<(usize, usize, Str)> = Vec::new();
    let mut at = name_end;
    let empty;
    loop {
        at = skip_ws(src, at);
        match src.get(at) {
            Some(b'>') => {
                empty = false;
                at += 1;
                break;
            }
            Some(b'/') => {
                empty = true;
                at += 2;
                break;
            }
            Some(_) => {}
            None => return Err(Error::NotWellFormed("truncated tag")),
        }
        let an_end = find_name_end(src, at);
        let eq = find(src, an_end, b'=')?;
        let q_at = skip_ws(src, eq + 1);
        let quote = *src.get(q_at).ok_or(Error::NotWellFormed("truncated tag"))?;
        let v_end = find(src, q_at + 1, quote)?;
        let name = src.get(at..an_end).unwrap_or_default();
        if name == b"xmlns" {
            *default = value(src, q_at + 1, v_end, true)?;
        } else if let Some(p) = name.strip_prefix(b"xmlns:") {
            let ns = value(src, q_at + 1, v_end, true)?;
            // Namespaces in XML §3: `xmlns` is never declared, `xml` only
            // to its own namespace, and no prefix may be undeclared.
            if ns.is_empty() || p == b"xmlns" || ns == NS_XMLNS || ((p == b"xml") != (ns == NS_XML))
            {
                return Err(Error::BadNamespacePrefix);
            }
            prefixes.push((slice(src, at + 6, an_end)?, ns));
        } else {
            attrs.push((at, an_end, value(src, q_at + 1, v_end, true)?));
        }
        at = v_end + 1;
    }
    let scope_lookup = |p: &[u8]| -> Option<Str> {
        if p == b"xml" {
            return Some(Str::from_static(NS_XML));
        }
        prefixes
            .iter()
            .rev()
            .find(|(q, _)| q.as_bytes() == p)
            .map(|(_, n)| n.clone())
    };
    let (prefix, local, ns) = match qname.as_bytes().iter().position(|&b| b == b':') {
        Some(i) => {
            let p = qname.as_bytes().get(..i).unwrap_or_default();
            let ns = scope_lookup(p).ok_or(Error::BadNamespacePrefix)?;
            (
                Some(slice(src, pos, pos + i)?),
                slice(src, pos + i + 1, name_end)?,
                ns,
            )
        }
        None => (None, qname, default.clone()),
    };
    let mut out = Vec::with_capacity(attrs.len());
    for (i, (a, b, v)) in attrs.into_iter().enumerate() {
        let name = slice(src, a, b)?;
        if out.iter().take(i).any(|o: &Attribute| o.name == name) {
            return Err(Error::NotWellFormed("duplicate attribute"));
        }
        let ns = match name.as_bytes().iter().position(|&c| c == b':') {
            Some(i) => scope_lookup(name.as_bytes().get(..i).unwrap_or_default())
                .ok_or(Error::BadNamespacePrefix)?,
            None => Str::new(),
        };
        out.push(Attribute { name, ns, value: v });
    }
    Ok((Element::from_parts(prefix, local, ns, out), empty, at))
}

/// Parses a stream header's start tag (`<stream:stream ...>`, no end tag):
/// the element, and the scope its declarations make for its children.
pub(crate) fn header(src: &Bytes) -> Result<(Element, Namespaces), Error> {
    let mut prefixes = Vec::new();
    let mut default = Str::new();
    let (el, _, _) = start_tag(src, 1, &mut prefixes, &mut default)?;
    let mut scope = Namespaces::new(default);
    for (p, n) in prefixes {
        scope.bind(p, n);
    }
    Ok((el, scope))
}
