//! String literals, RFC 7541 §5.2.

use bytes::BytesMut;

use super::{Error, huffman, integer};

/// Splits a string literal off the front of `buf`: whether it is Huffman
/// coded, its octets as sent, and what follows.
///
/// # Errors
///
/// [`Error::StringTooLong`] past `limit` octets as sent (checked before
/// anything is read or allocated), [`Error::Truncated`] if `buf` ends
/// inside it, [`Error::IntegerOverflow`] for a bad length.
#[inline]
pub(crate) fn split(buf: &[u8], limit: usize) -> Result<(bool, &[u8], &[u8]), Error> {
    let huffman = buf.first().is_some_and(|b| b & 0x80 != 0);
    let (len, rest) = integer::decode(buf, 7)?;
    if len > limit {
        return Err(Error::StringTooLong { len, limit });
    }
    let (s, rest) = rest.split_at_checked(len).ok_or(Error::Truncated)?;
    Ok((huffman, s, rest))
}

/// Appends `s` as a string literal, Huffman-coded only if that is shorter.
#[inline]
pub(crate) fn encode(dst: &mut BytesMut, s: &[u8]) {
    let Ok(len) = u8::try_from(s.len()) else {
        return encode_long(dst, s);
    };
    if len >= 0x7f {
        return encode_long(dst, s);
    }
    // Short: the length takes one octet either way, so code in one pass
    // into room for the raw octets, and fall back to them as soon as the
    // code is not shorter.
    let start = dst.len();
    dst.resize(start + 1 + s.len() + huffman::SLACK_OUT, 0);
    let Some((head, out)) = dst.get_mut(start..).and_then(<[u8]>::split_first_mut) else {
        return;
    };
    let n = match huffman::encode_slice(s, out) {
        // `n < s.len() < 0x7f`.
        #[allow(clippy::cast_possible_truncation)]
        Some(n) if n < s.len() => {
            *head = 0x80 | n as u8;
            n
        }
        _ => {
            *head = len;
            if let Some(raw) = out.get_mut(..s.len()) {
                raw.copy_from_slice(s);
            }
            s.len()
        }
    };
    dst.truncate(start + 1 + n);
}

/// Appends `s` as a string literal, raw octets.
#[inline]
pub(crate) fn encode_raw(dst: &mut BytesMut, s: &[u8]) {
    integer::encode(dst, 0, 7, s.len());
    dst.extend_from_slice(s);
}

/// [`encode`] for strings whose length may take more than one octet:
/// measure first.
#[cold]
fn encode_long(dst: &mut BytesMut, s: &[u8]) {
    let coded = huffman::encoded_len(s);
    if coded < s.len() {
        integer::encode(dst, 0x80, 7, coded);
        huffman::encode(s, dst);
    } else {
        encode_raw(dst, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_when_huffman_is_not_shorter() {
        let mut b = BytesMut::new();
        // '{' is 15 bits in Huffman: raw wins.
        encode(&mut b, b"{{");
        assert_eq!(&b[..], b"\x02{{");
        b.clear();
        encode(&mut b, b"custom-key");
        assert_eq!(b[0], 0x88);
        assert_eq!(b.len(), 9);
    }

    #[test]
    fn split_limits() {
        assert_eq!(
            split(b"\x03abcd", 8).unwrap(),
            (false, &b"abc"[..], &b"d"[..])
        );
        assert!(split(b"\x83abc", 8).unwrap().0);
        assert_eq!(split(b"\x05abc", 8), Err(Error::Truncated));
        assert_eq!(
            split(b"\x09abcdefghi", 8),
            Err(Error::StringTooLong { len: 9, limit: 8 })
        );
        // A huge length is refused before the input is looked at.
        assert_eq!(
            split(&[0x7f, 0xff, 0xff, 0xff, 0x0f], 1 << 16),
            Err(Error::StringTooLong {
                len: 33_554_558,
                limit: 1 << 16
            })
        );
    }
}
