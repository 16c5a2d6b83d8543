//! Byte classes, names, references and the XML declaration: the
//! character-level rules (XML 1.0 §2.2–2.4, §4.1; Namespaces in XML §4)
//! the scanner and the tree builder share.

use crate::error::{Error, Restricted};

pub(crate) const WS: u8 = 1;
pub(crate) const NAME_START: u8 = 2;
pub(crate) const NAME: u8 = 4;
/// Stops the text fast path: `<`, `&`, control characters.
pub(crate) const TEXT_STOP: u8 = 8;
/// Stops the attribute value fast path: also both quotes.
pub(crate) const ATTR_STOP: u8 = 16;
/// `\r`: text holding one needs line-end normalization.
pub(crate) const CR: u8 = 32;
/// Tab, newline, carriage return: attribute values holding one need
/// whitespace normalization.
pub(crate) const ATTR_WS: u8 = 64;

// Const context: a u8 always indexes a 256-entry table.
#[allow(clippy::indexing_slicing)]
const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b: u8 = 0;
    loop {
        let mut c = 0;
        if b == b' ' || b == b'\t' || b == b'\n' || b == b'\r' {
            c |= WS;
        }
        if b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80 {
            c |= NAME_START | NAME;
        }
        if b.is_ascii_digit() || b == b'-' || b == b'.' {
            c |= NAME;
        }
        if b == b'<' || b == b'&' || (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r') {
            c |= TEXT_STOP | ATTR_STOP;
        }
        if b == b'"' || b == b'\'' {
            c |= ATTR_STOP;
        }
        if b == b'\r' {
            c |= CR;
        }
        if b == b'\t' || b == b'\n' || b == b'\r' {
            c |= ATTR_WS;
        }
        t[b as usize] = c;
        if b == u8::MAX {
            return t;
        }
        b += 1;
    }
}

static CLASS: [u8; 256] = class_table();

#[inline]
#[allow(clippy::indexing_slicing)] // a u8 always indexes a 256-entry table
pub(crate) fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

/// Index of the first byte at or after `from` whose class has `mask`, or
/// `buf.len()`.
#[inline]
pub(crate) fn skip_until(buf: &[u8], from: usize, mask: u8) -> usize {
    match buf.get(from..) {
        Some(rest) => rest
            .iter()
            .position(|&b| class(b) & mask != 0)
            .map_or(buf.len(), |i| from + i),
        None => buf.len(),
    }
}

/// Index of the first byte at or after `from` whose class lacks `mask`.
#[inline]
pub(crate) fn skip_while(buf: &[u8], from: usize, mask: u8) -> usize {
    match buf.get(from..) {
        Some(rest) => rest
            .iter()
            .position(|&b| class(b) & mask == 0)
            .map_or(buf.len(), |i| from + i),
        None => buf.len(),
    }
}

/// A qualified name (Namespaces in XML §4): at most one colon, neither
/// first nor last.
pub(crate) fn qname_ok(name: &[u8]) -> bool {
    let mut parts = name.split(|&b| b == b':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), None, _) => !a.is_empty(),
        (Some(a), Some(b), None) => !a.is_empty() && !b.is_empty(),
        _ => false,
    }
}

/// Whether `c` is an XML 1.0 `Char` (§2.2).
const fn xml_char(c: u32) -> bool {
    matches!(c, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10_FFFF)
}

/// Resolves the body of a reference (between `&` and `;`) to its character,
/// or the error it is.
pub(crate) fn resolve_ref(body: &[u8]) -> Result<char, Error> {
    let code = match body {
        b"amp" => return Ok('&'),
        b"lt" => return Ok('<'),
        b"gt" => return Ok('>'),
        b"apos" => return Ok('\''),
        b"quot" => return Ok('"'),
        [b'#', b'x', hex @ ..] => parse_num(hex, 16),
        [b'#', dec @ ..] => parse_num(dec, 10),
        [first, ..] if class(*first) & NAME_START != 0 => {
            return Err(Error::RestrictedXml(Restricted::EntityReference));
        }
        _ => None,
    };
    code.filter(|&c| xml_char(c))
        .and_then(char::from_u32)
        .ok_or(Error::NotWellFormed("bad character reference"))
}

fn parse_num(digits: &[u8], radix: u32) -> Option<u32> {
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let mut v: u32 = 0;
    for &d in digits {
        v = v
            .checked_mul(radix)?
            .checked_add(char::from(d).to_digit(radix)?)?;
    }
    Some(v)
}

/// Checks an XML declaration (`<?xml ... ?>`): its encoding, if given, must
/// be UTF-8 (RFC 6120 §11.6).
pub(crate) fn check_declaration(decl: &[u8]) -> Result<(), Error> {
    let Some(i) = decl.windows(8).position(|w| w == b"encoding") else {
        return Ok(());
    };
    let rest = decl.get(i + 8..).unwrap_or_default();
    let mut parts = rest
        .split(|&b| b == b'"' || b == b'\'')
        .map(<[u8]>::trim_ascii);
    let (Some(eq), Some(value)) = (parts.next(), parts.next()) else {
        return Err(Error::NotWellFormed("bad XML declaration"));
    };
    if eq != b"=" {
        return Err(Error::NotWellFormed("bad XML declaration"));
    }
    if value.eq_ignore_ascii_case(b"utf-8") {
        Ok(())
    } else {
        Err(Error::UnsupportedEncoding)
    }
}
