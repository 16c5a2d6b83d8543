//! Byte classes, names, references and the XML declaration: the
//! character-level rules (XML 1.0 §2.2–2.4, §4.1; Namespaces in XML §4)
//! the scanner and the tree builder share.

use crate::error::{Error, Restricted};

pub(crate) const WS: u8 = 1;
pub(crate) const NAME_START: u8 = 2;
pub(crate) const NAME: u8 = 4;
/// Ends a run of text or attribute value: `<`, `&`, control characters.
pub(crate) const TEXT_STOP: u8 = 8;
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
            c |= TEXT_STOP;
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

/// Every byte of a word set to 1, and to 0x80.
const LO: u64 = u64::from_le_bytes([1; 8]);
const HI: u64 = LO << 7;

/// The high bit of each byte of `x` below `n` (`n` <= 128). Borrows can
/// flag bytes above the lowest match, never below it, so the lowest flag
/// is exact.
#[inline]
const fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(LO * n as u64) & !x & HI
}

/// The high bit of each byte of `x` equal to `b`; the lowest flag is exact.
#[inline]
const fn equal(x: u64, b: u8) -> u64 {
    below(x ^ (LO * b as u64), 1)
}

/// Index of the first byte at or after `from` that is `quote` or whose
/// class has `mask`, or `buf.len()`. `mask` may only select `<`, `&` and
/// bytes below 0x20 (the classes `TEXT_STOP`, `CR`, `ATTR_WS`): then a
/// word of 8 bytes holding none of those, nor `quote`, is passed over in a
/// few instructions instead of one table lookup per byte. That is the run
/// of text or of an attribute value, most of a stanza's bytes.
#[inline]
pub(crate) fn find_stop(buf: &[u8], from: usize, mask: u8, quote: u8) -> usize {
    let stop = |b: u8| b == quote || class(b) & mask != 0;
    let mut i = from;
    while let Some(w) = buf.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        // Little-endian: the first byte is the lowest, so the lowest flag
        // is the first candidate on any target.
        let x = u64::from_le_bytes(*w);
        let m = equal(x, b'<') | equal(x, b'&') | equal(x, quote) | below(x, 0x20);
        if m == 0 {
            i += 8;
            continue;
        }
        i += (m.trailing_zeros() / 8) as usize;
        match buf.get(i) {
            // A tab or newline where only `quote` and references stop.
            Some(&b) if !stop(b) => i += 1,
            _ => return i,
        }
    }
    match buf.get(i..) {
        Some(rest) => rest
            .iter()
            .position(|&b| stop(b))
            .map_or(buf.len(), |k| i + k),
        None => buf.len(),
    }
}

/// Index of the first byte at or after `from` whose class lacks `mask`.
/// Four bytes a step: names are short, but most are longer than three.
#[inline]
pub(crate) fn skip_while(buf: &[u8], from: usize, mask: u8) -> usize {
    let i = from;
    match buf.get(i..) {
        Some(rest) => rest
            .iter()
            .position(|&b| class(b) & mask == 0)
            .map_or(buf.len(), |k| i + k),
        None => buf.len(),
    }
}

/// A qualified name (Namespaces in XML §4): at most one colon, neither
/// first nor last.
pub(crate) fn qname_ok(name: &[u8]) -> bool {
    match name.iter().position(|&b| b == b':') {
        None => !name.is_empty(),
        Some(i) => {
            let local = name.get(i + 1..).unwrap_or_default();
            i > 0 && !local.is_empty() && !local.contains(&b':')
        }
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{ATTR_WS, CR, TEXT_STOP, class, find_stop};

    proptest! {
        /// The word-at-a-time search finds what a byte-by-byte one finds,
        /// from any offset, for text and for both quotes.
        #[test]
        fn find_stop_is_a_plain_search(
            buf in proptest::collection::vec(
                prop_oneof![Just(b'<'), Just(b'&'), Just(b'"'), Just(b'\''), Just(b'\t'),
                    Just(b'\n'), Just(b'\r'), 0u8..0x20, 0x20u8..0x80, 0x80u8..=0xff],
                0..40,
            ),
            from in 0usize..45,
            which in 0usize..3,
        ) {
            let (mask, quote) = match which {
                0 => (TEXT_STOP | CR, b'<'),
                1 => (TEXT_STOP | ATTR_WS, b'"'),
                _ => (TEXT_STOP | ATTR_WS, b'\''),
            };
            let naive = (from..buf.len())
                .find(|&i| buf.get(i).is_some_and(|&b| b == quote || class(b) & mask != 0))
                .unwrap_or(buf.len());
            prop_assert_eq!(find_stop(&buf, from, mask, quote), naive);
        }
    }
}
