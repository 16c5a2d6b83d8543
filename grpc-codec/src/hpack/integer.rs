//! Prefixed integers, RFC 7541 §5.1.

use bytes::{BufMut, BytesMut};

use super::Error;

/// At most this many continuation octets follow a full prefix: five carry
/// 35 bits, enough for any value up to [`MAX`] however it is padded with
/// zero groups, and a sixth would only ever pad or overflow.
const MAX_CONTINUATION: usize = 5;

/// The largest integer accepted: HTTP/2 sizes (SETTINGS_HEADER_TABLE_SIZE)
/// are 32-bit, and no length or index can come near it.
pub(crate) const MAX: u64 = u32::MAX as u64;

/// Decodes an integer with a `prefix_bits`-bit prefix (1..=7) from the front
/// of `buf`, ignoring the octet's bits above the prefix. Returns the value
/// and what follows it.
///
/// # Errors
///
/// [`Error::Truncated`] if `buf` ends inside the integer,
/// [`Error::IntegerOverflow`] if it exceeds [`MAX`] or runs past
/// [`MAX_CONTINUATION`] octets.
#[inline]
pub(crate) fn decode(buf: &[u8], prefix_bits: u32) -> Result<(usize, &[u8]), Error> {
    let Some((&first, rest)) = buf.split_first() else {
        return Err(Error::Truncated);
    };
    let mask = (1u8 << prefix_bits) - 1;
    let prefix = first & mask;
    if prefix < mask {
        return Ok((usize::from(prefix), rest));
    }
    decode_continuation(u64::from(mask), rest)
}

/// The rare multi-octet tail of [`decode`], kept out of line.
#[cold]
fn decode_continuation(mut value: u64, mut rest: &[u8]) -> Result<(usize, &[u8]), Error> {
    let mut shift = 0u32;
    for _ in 0..MAX_CONTINUATION {
        let Some((&b, tail)) = rest.split_first() else {
            return Err(Error::Truncated);
        };
        rest = tail;
        value += u64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            if value > MAX {
                return Err(Error::IntegerOverflow);
            }
            return usize::try_from(value)
                .map(|v| (v, rest))
                .map_err(|_| Error::IntegerOverflow);
        }
    }
    Err(Error::IntegerOverflow)
}

/// Appends `value` with a `prefix_bits`-bit prefix (1..=7); `flags` holds
/// the first octet's bits above the prefix.
#[inline]
pub(crate) fn encode(dst: &mut BytesMut, flags: u8, prefix_bits: u32, value: usize) {
    let mask = (1u8 << prefix_bits) - 1;
    match u8::try_from(value) {
        Ok(v) if v < mask => dst.put_u8(flags | v),
        _ => encode_continuation(dst, flags | mask, value - usize::from(mask)),
    }
}

#[cold]
// Each cast keeps the low 7 bits of a value already masked or shifted below
// 0x80.
#[allow(clippy::cast_possible_truncation)]
fn encode_continuation(dst: &mut BytesMut, first: u8, mut rest: usize) {
    dst.put_u8(first);
    while rest >= 0x80 {
        dst.put_u8(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    dst.put_u8(rest as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(prefix: u32, v: usize) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode(&mut b, 0, prefix, v);
        b.to_vec()
    }

    #[test]
    fn rfc7541_c1_examples() {
        // C.1.1: 10 with a 5-bit prefix.
        assert_eq!(enc(5, 10), [0x0a]);
        // C.1.2: 1337 with a 5-bit prefix.
        assert_eq!(enc(5, 1337), [0x1f, 0x9a, 0x0a]);
        // C.1.3: 42 starting at an octet boundary.
        assert_eq!(enc(8 - 1, 42), [42]);
        assert_eq!(decode(&[0x1f, 0x9a, 0x0a], 5).unwrap(), (1337, &[][..]));
        assert_eq!(decode(&[0xea], 5).unwrap().0, 10);
    }

    #[test]
    fn boundaries_round_trip() {
        for prefix in 1..=7 {
            let max = (1usize << prefix) - 1;
            for v in [
                0,
                1,
                max - 1,
                max,
                max + 1,
                127 + max,
                128 + max,
                1 << 20,
                u32::MAX as usize,
            ] {
                let bytes = enc(prefix, v);
                assert_eq!(
                    decode(&bytes, prefix).unwrap(),
                    (v, &[][..]),
                    "{prefix} {v}"
                );
            }
        }
    }

    #[test]
    fn overflow_and_truncation() {
        // u32::MAX + 1 with a 7-bit prefix.
        let mut b = enc(7, u32::MAX as usize).to_vec();
        assert_eq!(decode(&b, 7).unwrap().0, u32::MAX as usize);
        *b.last_mut().unwrap() += 1;
        assert_eq!(decode(&b, 7), Err(Error::IntegerOverflow));
        // Six continuation octets, even if they only pad with zeros.
        let padded = [0x7f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(decode(&padded, 7), Err(Error::IntegerOverflow));
        // Five are fine when the value fits.
        assert_eq!(
            decode(&[0x7f, 0x81, 0x80, 0x80, 0x80, 0x00], 7).unwrap().0,
            128
        );
        assert_eq!(
            decode(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f], 7),
            Err(Error::IntegerOverflow)
        );
        assert_eq!(decode(&[0x1f, 0x9a], 5), Err(Error::Truncated));
        assert_eq!(decode(&[], 5), Err(Error::Truncated));
    }
}
