//! Escaping for serialization, and resolving references and line ends
//! when parsing (XML 1.0 §2.11, §3.3.3, §4.6).

use bytes::{BufMut, BytesMut};

use crate::error::Error;
use crate::xml::chars::resolve_ref;

/// Appends `s` as character data: `&`, `<` and `>` escaped (`>` too, so
/// `]]>` never appears), `\r` as a reference so it survives line-end
/// normalization.
pub(crate) fn text(s: &[u8], out: &mut BytesMut) {
    escape(s, out, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#13;"),
        _ => None,
    });
}

/// Appends `s` as an attribute value quoted with `'`: also both quotes, and
/// tab, newline and carriage return as references, which attribute value
/// normalization would otherwise turn into spaces.
pub(crate) fn attr(s: &[u8], out: &mut BytesMut) {
    escape(s, out, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\'' => Some(b"&apos;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#9;"),
        b'\n' => Some(b"&#10;"),
        b'\r' => Some(b"&#13;"),
        _ => None,
    });
}

fn escape(s: &[u8], out: &mut BytesMut, map: impl Fn(u8) -> Option<&'static [u8]>) {
    let mut from = 0;
    for (i, &b) in s.iter().enumerate() {
        if let Some(rep) = map(b) {
            out.put_slice(s.get(from..i).unwrap_or_default());
            out.put_slice(rep);
            from = i + 1;
        }
    }
    out.put_slice(s.get(from..).unwrap_or_default());
}

/// Resolves references and normalizes line ends (and, in attribute values,
/// whitespace to spaces) in `raw`, which the scanner has already checked
/// (and found to need it).
pub(crate) fn unescape(raw: &[u8], attr: bool, out: &mut String) -> Result<(), Error> {
    let mut i = 0;
    let mut from = 0;
    let flush = |out: &mut String, a: usize, b: usize| -> Result<(), Error> {
        let part = raw.get(a..b).unwrap_or_default();
        out.push_str(std::str::from_utf8(part).map_err(|_| Error::UnsupportedEncoding)?);
        Ok(())
    };
    while let Some(&b) = raw.get(i) {
        match b {
            b'&' => {
                flush(out, from, i)?;
                let end = raw
                    .get(i..)
                    .and_then(|r| r.iter().position(|&c| c == b';'))
                    .map(|p| i + p)
                    .ok_or(Error::NotWellFormed("unterminated reference"))?;
                out.push(resolve_ref(raw.get(i + 1..end).unwrap_or_default())?);
                i = end + 1;
                from = i;
            }
            b'\r' => {
                flush(out, from, i)?;
                out.push(if attr { ' ' } else { '\n' });
                i += 1;
                if raw.get(i) == Some(&b'\n') {
                    i += 1;
                }
                from = i;
            }
            b'\t' | b'\n' if attr => {
                flush(out, from, i)?;
                out.push(' ');
                i += 1;
                from = i;
            }
            _ => i += 1,
        }
    }
    flush(out, from, raw.len())
}
