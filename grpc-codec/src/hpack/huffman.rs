//! The HPACK Huffman code, RFC 7541 §5.2 and Appendix B.
//!
//! Decoding is table-driven: a 4096-entry table, built at compile time from
//! the code, maps the next 12 bits of input to the one or two whole symbols
//! they start with, so each step consumes up to 12 bits. Codes longer than
//! 12 bits (rare octets, EOS) fall back to a canonical-code search. Encoding
//! packs codes into a 64-bit accumulator and writes 32 bits at a time.

use bytes::BytesMut;

use super::Error;
use super::huffman_table::CODES;

/// Bits the decode table looks at per step.
const WINDOW: u32 = 12;
const TABLE_LEN: usize = 1 << WINDOW;
/// Length of EOS, the longest code.
const MAX_BITS: u32 = 30;
const EOS: u32 = 256;

/// Decode table entry, one per 12-bit window: the bits its symbols take in
/// bits 0..4 (4 and 5 stay clear, so the entry itself is a shift count),
/// how many whole symbols the window starts with (1 or 2) in 6..8, the
/// first symbol in 8..16, the second in 16..24, and the first one's bits
/// in 24..28. 0 means the window starts a code longer than 12 bits.
static DECODE: [u32; TABLE_LEN] = build_decode();

/// The canonical code's shape, for codes longer than the window.
static CANONICAL: Canonical = build_canonical();

struct Canonical {
    /// First code of each length (index = length in bits).
    first: [u32; MAX_BITS as usize + 1],
    /// Number of codes of each length.
    count: [u32; MAX_BITS as usize + 1],
    /// Index into `symbols` of each length's first code.
    offset: [u32; MAX_BITS as usize + 1],
    /// Symbols ordered by (code length, symbol): canonical code order.
    symbols: [u16; 257],
}

// Evaluated at compile time only: an index out of range fails the build.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const fn build_decode() -> [u32; TABLE_LEN] {
    // Pass 1: the first symbol of every window (symbol | length << 8).
    let mut single = [0u32; TABLE_LEN];
    let mut s = 0;
    while s < 256 {
        let (code, len) = CODES[s];
        let len = len as u32;
        if len <= WINDOW {
            let shift = WINDOW - len;
            let mut i = (code << shift) as usize;
            let end = ((code + 1) << shift) as usize;
            while i < end {
                single[i] = s as u32 | len << 8;
                i += 1;
            }
        }
        s += 1;
    }
    // Pass 2: a second symbol where it also fits whole in the window.
    let mut table = [0u32; TABLE_LEN];
    let mut i = 0;
    while i < TABLE_LEN {
        let e = single[i];
        let len1 = e >> 8;
        if len1 != 0 {
            let sym1 = e & 0xff;
            let next = single[(i << len1) & (TABLE_LEN - 1)];
            let len2 = next >> 8;
            table[i] = if len2 != 0 && len2 <= WINDOW - len1 {
                (len1 + len2) | 2 << 6 | sym1 << 8 | (next & 0xff) << 16 | len1 << 24
            } else {
                len1 | 1 << 6 | sym1 << 8 | len1 << 24
            };
        }
        i += 1;
    }
    table
}

// Evaluated at compile time only: an index out of range fails the build.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const fn build_canonical() -> Canonical {
    let mut c = Canonical {
        first: [0; MAX_BITS as usize + 1],
        count: [0; MAX_BITS as usize + 1],
        offset: [0; MAX_BITS as usize + 1],
        symbols: [0; 257],
    };
    let mut n = 0;
    let mut len = 1;
    while len <= MAX_BITS as usize {
        c.offset[len] = n;
        let mut s = 0;
        while s < 257 {
            if CODES[s].1 as usize == len {
                if c.count[len] == 0 {
                    c.first[len] = CODES[s].0;
                }
                c.count[len] += 1;
                c.symbols[n as usize] = s as u16;
                n += 1;
            }
            s += 1;
        }
        len += 1;
    }
    c
}

#[inline(always)]
fn entry(window: u64) -> u32 {
    // The mask keeps the index in range, so the fallback never happens.
    #[allow(clippy::cast_possible_truncation)]
    let i = (window as usize) & (TABLE_LEN - 1);
    DECODE.get(i).copied().unwrap_or(0)
}

/// Decodes a code longer than the window from the front of a 30-bit
/// window: `(symbol, bits)`.
#[cold]
fn decode_long(window: u32) -> (u32, u32) {
    let c = &CANONICAL;
    for len in WINDOW + 1..=MAX_BITS {
        let code = window >> (MAX_BITS - len);
        let i = len as usize;
        let (Some(&first), Some(&count), Some(&offset)) =
            (c.first.get(i), c.count.get(i), c.offset.get(i))
        else {
            break;
        };
        let k = code.wrapping_sub(first);
        if k < count {
            let sym = c.symbols.get((offset + k) as usize).copied().unwrap_or(0);
            return (u32::from(sym), len);
        }
    }
    // Unreachable for a complete code: every 30-bit window starts with one.
    (EOS, MAX_BITS)
}

/// Decodes the Huffman-coded `src` and appends the octets to `dst`.
///
/// # Errors
///
/// [`Error::HuffmanEos`] if the string holds the EOS symbol,
/// [`Error::HuffmanPadding`] if it ends in more than 7 bits of padding or
/// in padding that is not the start of EOS (all ones). `dst` is left as it
/// was on error.
pub fn decode(src: &[u8], dst: &mut Vec<u8>) -> Result<(), Error> {
    let start = dst.len();
    dst.resize(start + max_decoded_len(src.len()), 0);
    let out = dst.get_mut(start..).unwrap_or_default();
    match decode_slice(src, out) {
        Ok(n) => {
            dst.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            dst.truncate(start);
            Err(e)
        }
    }
}

/// Room [`decode_slice`] needs for `len` coded octets: every code is at
/// least 5 bits, plus 2 octets of slack so the loop can write a symbol pair
/// unconditionally.
#[inline]
pub(crate) const fn max_decoded_len(len: usize) -> usize {
    len * 8 / 5 + 2
}

/// Decodes `src` into the front of `out`, which holds at least
/// [`max_decoded_len`] octets; returns how many it wrote.
#[inline]
// The casts narrow values masked or shifted to their width first.
#[allow(clippy::cast_possible_truncation)]
pub(crate) fn decode_slice(src: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    // The next `nbits` bits of input, left-aligned in `buf`. Bits below
    // them are zeros or, after a word refill, the input that follows:
    // refilling ORs those same bits into the same places again.
    let mut buf: u64 = 0;
    let mut nbits: u32 = 0;
    let mut rest = src;
    let mut pos = 0usize;
    loop {
        if let Some(word) = rest.first_chunk::<8>() {
            buf |= u64::from_be_bytes(*word) >> nbits;
            let take = (63 - nbits) / 8;
            rest = rest.get(take as usize..).unwrap_or_default();
            nbits += take * 8;
        } else {
            while nbits < 56 {
                let Some((&b, tail)) = rest.split_first() else {
                    break;
                };
                buf |= u64::from(b) << (56 - nbits);
                nbits += 8;
                rest = tail;
            }
        }
        if rest.is_empty() {
            break;
        }
        // At least 56 bits: four table steps of at most 12 bits each.
        for _ in 0..4 {
            let e = entry(buf >> (64 - WINDOW));
            if e == 0 {
                if nbits < MAX_BITS {
                    break;
                }
                let len = long_step(buf, out, &mut pos)?;
                buf <<= len;
                nbits -= len;
                // Up to 30 bits gone: refill before the next step.
                break;
            }
            table_step(e, &mut buf, &mut nbits, out, &mut pos)?;
        }
    }
    // All the input is in `buf`.
    while nbits >= WINDOW {
        let e = entry(buf >> (64 - WINDOW));
        if e == 0 {
            if nbits < MAX_BITS {
                break;
            }
            let len = long_step(buf, out, &mut pos)?;
            buf <<= len;
            nbits -= len;
            continue;
        }
        table_step(e, &mut buf, &mut nbits, out, &mut pos)?;
    }
    finish(buf, nbits, out, pos)
}

/// One decode-table step: writes the entry's one or two symbols at `pos`
/// and consumes their bits from `buf`.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)]
fn table_step(
    e: u32,
    buf: &mut u64,
    nbits: &mut u32,
    out: &mut [u8],
    pos: &mut usize,
) -> Result<(), Error> {
    let Some(slot) = out.get_mut(*pos..*pos + 2) else {
        return Err(Error::HuffmanPadding);
    };
    slot.copy_from_slice(&((e >> 8) as u16).to_le_bytes());
    *pos += (e >> 6 & 3) as usize;
    // Bits 4 and 5 are clear: the entry is its own shift count, which the
    // shift masks to 6 bits for free.
    *buf = buf.wrapping_shl(e);
    *nbits -= e & 0x3f;
    Ok(())
}

/// Decodes a code longer than the window from the top of `buf` (which
/// holds at least 30 bits) into `out[pos]`; returns its length.
#[cold]
#[allow(clippy::cast_possible_truncation)]
fn long_step(buf: u64, out: &mut [u8], pos: &mut usize) -> Result<u32, Error> {
    let (sym, len) = decode_long((buf >> (64 - MAX_BITS)) as u32);
    if sym == EOS {
        return Err(Error::HuffmanEos);
    }
    let Some(slot) = out.get_mut(*pos) else {
        return Err(Error::HuffmanPadding);
    };
    *slot = sym as u8;
    *pos += 1;
    Ok(len)
}

/// Decodes the last `nbits` (< 30) bits, at the top of `buf`, once the
/// input is spent: whole symbols, then padding, which must be fewer than 8
/// bits, all ones (RFC 7541 §5.2).
#[inline]
#[allow(clippy::cast_possible_truncation)]
fn finish(mut buf: u64, mut nbits: u32, out: &mut [u8], mut pos: usize) -> Result<usize, Error> {
    while nbits > 0 {
        let real = !0u64 << (64 - nbits);
        // Ones are a prefix of EOS and of no shorter code: padding, the
        // usual end of a string.
        if buf & real == real {
            return if nbits <= 7 {
                Ok(pos)
            } else {
                Err(Error::HuffmanPadding)
            };
        }
        // The bits left padded with ones: a code that fits in the real
        // bits is a symbol; one that does not means bad padding.
        let window = buf | !real;
        let e = entry(window >> (64 - WINDOW));
        let (sym, len) = if e != 0 {
            ((e >> 8) & 0xff, (e >> 24) & 0xf)
        } else {
            decode_long((window >> (64 - MAX_BITS)) as u32)
        };
        if len > nbits {
            return Err(Error::HuffmanPadding);
        }
        let Some(slot) = out.get_mut(pos) else {
            return Err(Error::HuffmanPadding);
        };
        *slot = sym as u8;
        pos += 1;
        buf <<= len;
        nbits -= len;
    }
    Ok(pos)
}

/// The length in octets of `src` Huffman-coded.
#[inline]
#[must_use]
pub fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src.iter().map(|&b| usize::from(code(b).1)).sum();
    bits.div_ceil(8)
}

#[inline(always)]
fn code(b: u8) -> (u32, u8) {
    CODES.get(usize::from(b)).copied().unwrap_or((0, 0))
}

/// Appends `src` Huffman-coded to `dst`: [`encoded_len`] octets, the last
/// padded with the high bits of EOS (ones).
pub fn encode(src: &[u8], dst: &mut BytesMut) {
    let start = dst.len();
    let len = encoded_len(src);
    dst.resize(start + len + 8, 0);
    let written = dst
        .get_mut(start..)
        .and_then(|out| encode_slice(src, usize::MAX, out))
        .unwrap_or(0);
    dst.truncate(start + written);
}

/// Huffman-codes `src` into the front of `out` if that takes fewer than
/// `limit` octets: returns how many it took, or `None` (with `out`
/// clobbered) if not, or if `out` is not 8 octets longer than that.
///
/// Branch-free per symbol: codes accumulate left-aligned in a 64-bit word
/// that is stored whole (8 octets) after each, the position moving on by
/// the whole octets done.
#[inline]
#[allow(clippy::cast_possible_truncation)]
pub(crate) fn encode_slice(src: &[u8], limit: usize, out: &mut [u8]) -> Option<usize> {
    let mut acc: u64 = 0;
    // Fewer than 8 between symbols.
    let mut nbits: u32 = 0;
    let mut pos = 0usize;
    for &b in src {
        let (c, len) = code(b);
        let len = u32::from(len);
        // nbits + len <= 37: the code fits below what is there.
        acc |= u64::from(c) << (64 - nbits - len);
        nbits += len;
        out.get_mut(pos..pos + 8)?
            .copy_from_slice(&acc.to_be_bytes());
        let whole = nbits / 8;
        pos += whole as usize;
        acc <<= whole * 8;
        nbits -= whole * 8;
        if pos >= limit {
            return None;
        }
    }
    if nbits > 0 {
        acc |= !0u64 >> nbits;
        *out.get_mut(pos)? = (acc >> 56) as u8;
        pos += 1;
    }
    (pos < limit).then_some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(src: &[u8]) -> Result<Vec<u8>, Error> {
        let mut v = Vec::new();
        decode(src, &mut v).map(|()| v)
    }

    fn enc(src: &[u8]) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode(src, &mut b);
        assert_eq!(b.len(), encoded_len(src));
        b.to_vec()
    }

    #[test]
    fn code_is_canonical_and_complete() {
        let mut order: Vec<usize> = (0..257).collect();
        order.sort_by_key(|&s| (CODES[s].1, s));
        let mut code = 0u32;
        let mut prev = CODES[order[0]].1;
        let mut kraft = 0f64;
        for (i, &s) in order.iter().enumerate() {
            let (c, len) = CODES[s];
            if i > 0 {
                code = (code + 1) << (len - prev);
            }
            prev = len;
            assert_eq!(c, code, "symbol {s}");
            kraft += 2f64.powi(-i32::from(len));
        }
        assert!((kraft - 1.0).abs() < 1e-12);
        assert_eq!(CODES[256], (0x3fff_ffff, 30));
    }

    #[test]
    fn rfc7541_appendix_c_strings() {
        // C.4.1 and C.6.1.
        let cases: [(&[u8], &str); 4] = [
            (b"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"),
            (b"no-cache", "a8eb10649cbf"),
            (b"custom-key", "25a849e95ba97d7f"),
            (
                b"Mon, 21 Oct 2013 20:13:21 GMT",
                "d07abe941054d444a8200595040b8166e082a62d1bff",
            ),
        ];
        for (plain, hex) in cases {
            let wire: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            assert_eq!(enc(plain), wire);
            assert_eq!(dec(&wire).unwrap(), plain);
        }
    }

    #[test]
    fn every_symbol_alone_and_long_codes() {
        for b in 0..=255u8 {
            for n in [1, 2, 3, 7, 13] {
                let s = vec![b; n];
                assert_eq!(dec(&enc(&s)).unwrap(), s, "{b} x{n}");
            }
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(dec(&enc(&all)).unwrap(), all);
    }

    #[test]
    fn eos_and_padding_errors() {
        // EOS alone (30 ones) padded to 32 bits.
        assert_eq!(dec(&[0xff, 0xff, 0xff, 0xff]), Err(Error::HuffmanEos));
        // 'a' (00011) then EOS, then padding.
        let mut v: u64 = 0b00011;
        v = (v << 30) | 0x3fff_ffff;
        v = (v << 5) | 0b11111;
        let bytes = v.to_be_bytes();
        assert_eq!(dec(&bytes[3..]), Err(Error::HuffmanEos));
        // EOS in the middle, followed by a symbol.
        let mut w: u64 = 0x3fff_ffff;
        w = (w << 5) | 0b00011;
        w <<= 5;
        w |= 0b11111;
        assert_eq!(dec(&w.to_be_bytes()[3..]), Err(Error::HuffmanEos));
        // 'a' then 11 ones: padding longer than 7 bits.
        assert_eq!(dec(&[0b0001_1111, 0xff]), Err(Error::HuffmanPadding));
        // A lone octet of ones: 8 bits of padding.
        assert_eq!(dec(&[0xff]), Err(Error::HuffmanPadding));
        // 'a' then 110: padding not all ones.
        assert_eq!(dec(&[0b0001_1110]), Err(Error::HuffmanPadding));
        // 'a' then 111: fine.
        assert_eq!(dec(&[0b0001_1111]).unwrap(), b"a");
        // Empty input is the empty string.
        assert_eq!(dec(&[]).unwrap(), b"");
    }

    #[test]
    fn error_leaves_dst_as_it_was() {
        let mut v = b"keep".to_vec();
        assert!(decode(&[0xff], &mut v).is_err());
        assert_eq!(v, b"keep");
    }

    proptest! {
        #[test]
        fn round_trip(s in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(dec(&enc(&s)).unwrap(), s);
        }

        #[test]
        fn round_trip_text(s in "[ -~]{0,200}") {
            prop_assert_eq!(dec(&enc(s.as_bytes())).unwrap(), s.as_bytes());
        }

        #[test]
        fn arbitrary_input_never_panics(s in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(plain) = dec(&s) {
                // What decodes re-encodes to the same bits.
                prop_assert_eq!(enc(&plain), s);
            }
        }
    }
}
