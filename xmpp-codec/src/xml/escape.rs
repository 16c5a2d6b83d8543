//! Escaping for serialization, and resolving references and line ends
//! when parsing (XML 1.0 §2.11, §3.3.3, §4.6).

use bytes::{BufMut, BytesMut};

use crate::error::Error;
use crate::xml::chars::{ATTR_WS, CR, find_stop, resolve_ref};

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
/// (and found to need it). `raw` is UTF-8 and every piece copied is cut at
/// an ASCII byte, so `out` stays UTF-8 without checking each piece again.
pub(crate) fn unescape(raw: &[u8], attr: bool, out: &mut Vec<u8>) -> Result<(), Error> {
    // What ends a plain piece: `&`, `\r`, and in attribute values tab and
    // newline (`&` is the "quote" of the search).
    let mask = if attr { ATTR_WS } else { CR };
    let mut from = 0;
    loop {
        let i = find_stop(raw, from, mask, b'&');
        out.extend_from_slice(raw.get(from..i).unwrap_or_default());
        let Some(&b) = raw.get(i) else {
            return Ok(());
        };
        from = i + 1;
        match b {
            b'&' => {
                let end = raw
                    .get(i..)
                    .and_then(|r| r.iter().position(|&c| c == b';'))
                    .map(|p| i + p)
                    .ok_or(Error::NotWellFormed("unterminated reference"))?;
                let c = resolve_ref(raw.get(i + 1..end).unwrap_or_default())?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                from = end + 1;
            }
            b'\r' => {
                out.push(if attr { b' ' } else { b'\n' });
                if raw.get(from) == Some(&b'\n') {
                    from += 1;
                }
            }
            _ => out.push(b' '),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::unescape;

    fn run(raw: &str, attr: bool) -> String {
        let mut out = Vec::new();
        assert!(unescape(raw.as_bytes(), attr, &mut out).is_ok());
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn references_line_ends_and_attribute_whitespace() {
        let raw = "caf\u{e9} &lt;x&gt;\r\n\ta\rb &#x1F339;&#65;&amp;\n";
        assert_eq!(run(raw, false), "caf\u{e9} <x>\n\ta\nb \u{1F339}A&\n");
        assert_eq!(run(raw, true), "caf\u{e9} <x>  a b \u{1F339}A& ");
        assert_eq!(
            run("a long run of plain text &apos;", false),
            "a long run of plain text '"
        );
        assert!(unescape(b"a &amp", false, &mut Vec::new()).is_err());
    }
}
