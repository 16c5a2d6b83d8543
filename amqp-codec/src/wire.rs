//! Primitive wire types (AMQP 0-9-1 §4.2.5): big-endian integers, strings,
//! and a bounds-checked reader over a frame payload.

use bytes::{BufMut as _, Bytes, BytesMut};

use crate::config::Limits;
use crate::error::{Error, PayloadError};
use crate::field_table::FieldTable;
use crate::string::{INLINE, LongString, ShortString};

/// Big-endian integer readers. Each converts the bytes where they lie:
/// passed on as a `Result<[u8; N], _>` first, they were written to the
/// stack a piece at a time and read back whole, which stalls store
/// forwarding (a tenth of `basic.deliver` decoding, measured).
macro_rules! read_be {
    ($($t:ident),*) => {$(
        #[inline]
        pub(crate) fn $t(&mut self) -> Result<$t, PayloadError> {
            match self.rest.split_first_chunk() {
                Some((head, rest)) => {
                    self.rest = rest;
                    Ok($t::from_be_bytes(*head))
                }
                None => Err(PayloadError::Truncated),
            }
        }
    )*};
}

/// A cursor over part of a received payload. Slices it hands out as
/// [`Bytes`] share `src` rather than copy; a reader without `src` (see
/// [`Reader::borrowed`]) copies them.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    src: Option<&'a Bytes>,
    rest: &'a [u8],
    /// Bytes around `rest` (which lies inside) that a shortstr's
    /// fixed-size window may be copied from where fewer than
    /// [`INLINE`] bytes are left: for a payload in the read buffer, the
    /// frames after it. Only copied into an inline string's unused tail,
    /// never decoded.
    whole: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over all of `src`.
    pub(crate) fn new(src: &'a Bytes) -> Self {
        Self {
            src: Some(src),
            rest: src,
            whole: src,
        }
    }

    /// A reader over a payload still in the read buffer, for payloads that
    /// hold no longstr or table: it spares the split off the buffer and
    /// the reference count a shared slice costs. Were a longstr read after
    /// all, it would be copied.
    #[cfg(test)]
    pub(crate) const fn borrowed(payload: &'a [u8]) -> Self {
        Self::borrowed_in(payload, payload)
    }

    /// [`Reader::borrowed`], where `payload` starts `buffer`, the rest of
    /// the read buffer: shortstrs near the payload's end are copied into
    /// place as whole windows from it.
    pub(crate) const fn borrowed_in(payload: &'a [u8], buffer: &'a [u8]) -> Self {
        Self {
            src: None,
            rest: payload,
            whole: buffer,
        }
    }

    /// A reader over `part`, which must lie inside this reader's source.
    const fn sub(&self, part: &'a [u8]) -> Self {
        Self {
            src: self.src,
            rest: part,
            whole: self.whole,
        }
    }

    /// The next [`INLINE`] bytes, reaching past `rest` into `whole` if
    /// need be; `None` only near the end of `whole`.
    #[inline(always)]
    fn window(&self) -> Option<&'a [u8; INLINE]> {
        if let Some(w) = self.rest.first_chunk::<INLINE>() {
            return Some(w);
        }
        let at = self
            .rest
            .as_ptr()
            .addr()
            .checked_sub(self.whole.as_ptr().addr())?;
        self.whole.get(at..)?.first_chunk::<INLINE>()
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Bytes left to read.
    pub(crate) const fn len(&self) -> usize {
        self.rest.len()
    }

    /// Fails unless every byte was consumed.
    pub(crate) const fn finish(&self) -> Result<(), PayloadError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(PayloadError::TrailingBytes(n)),
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, PayloadError> {
        self.next_u8().ok_or(PayloadError::Truncated)
    }

    /// [`Reader::u8`] as an `Option`, for the octets read per table entry
    /// (length of the key, type letter): an `Option<u8>` stays in two
    /// registers, where a `Result<u8, PayloadError>` was packed into one
    /// and shifted back out.
    #[inline(always)]
    pub(crate) fn next_u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    read_be!(u16, u32, u64, i16, i32, i64);

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        let (head, rest) = self
            .rest
            .split_at_checked(n)
            .ok_or(PayloadError::Truncated)?;
        self.rest = rest;
        Ok(head)
    }

    /// The next `n` bytes, shared with the source.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<Bytes, PayloadError> {
        let s = self.take(n)?;
        Ok(match self.src {
            Some(src) => src.slice_ref(s),
            None => Bytes::copy_from_slice(s),
        })
    }

    /// A 32-bit length, then that many bytes as a reader.
    pub(crate) fn sized(&mut self) -> Result<Reader<'a>, PayloadError> {
        let n = self.len32()?;
        let part = self.take(n)?;
        Ok(self.sub(part))
    }

    pub(crate) fn len32(&mut self) -> Result<usize, PayloadError> {
        usize::try_from(self.u32()?).map_err(|_| PayloadError::Truncated)
    }

    /// A shortstr, written straight into `dst`. Built on the stack and moved
    /// out through `Result`s, a string is written and read back in pieces of
    /// different sizes, and each such read stalls store forwarding (the
    /// hottest instructions of message decoding, measured); written once
    /// where it will stay, it is not read back until long after.
    #[inline(always)]
    pub(crate) fn short_string_into(&mut self, dst: &mut ShortString) -> Result<(), PayloadError> {
        let n = self.next_u8().ok_or(PayloadError::Truncated)?;
        // A short string is copied into place as a fixed-size window, which
        // is cheaper than a copy of `n` bytes, while the payload has room;
        // near its end (the last argument or property) the bytes are copied
        // into a zeroed window instead.
        let ok = if usize::from(n) <= INLINE {
            match self.window() {
                Some(window) => dst.set_from_wire_window(window, n),
                None => {
                    let mut window = [0; INLINE];
                    let b = self.rest.get(..usize::from(n)).unwrap_or_default();
                    if let Some(w) = window.get_mut(..b.len()) {
                        w.copy_from_slice(b);
                    }
                    dst.set_from_wire_window(&window, n)
                }
            }
        } else {
            let b = self.rest.get(..usize::from(n)).unwrap_or_default();
            match ShortString::from_wire(b) {
                Some(s) => {
                    *dst = s;
                    true
                }
                None => false,
            }
        };
        self.take(usize::from(n))?;
        if ok {
            Ok(())
        } else {
            Err(PayloadError::InvalidUtf8)
        }
    }

    pub(crate) fn long_string(&mut self) -> Result<LongString, PayloadError> {
        let n = self.len32()?;
        self.bytes(n).map(LongString::from)
    }

    /// A whole field table, length prefix included (§4.2.5.5), checked
    /// against `limits` before any of it is decoded.
    pub(crate) fn table(&mut self, limits: &Limits) -> Result<FieldTable, PayloadError> {
        let mut table = FieldTable::new();
        self.table_into(limits, &mut table)?;
        Ok(table)
    }

    /// [`Reader::table`] into `dst`, whatever it holds (see
    /// [`decode_entries_into`](crate::field_table::decode_entries_into)).
    pub(crate) fn table_into(
        &mut self,
        limits: &Limits,
        dst: &mut FieldTable,
    ) -> Result<(), PayloadError> {
        let size = self.u32()?;
        if usize::try_from(size).map_or(true, |s| s > limits.max_table_size) {
            return Err(PayloadError::TableTooLarge {
                size,
                limit: limits.max_table_size,
            });
        }
        let part = self.take(usize::try_from(size).map_err(|_| PayloadError::Truncated)?)?;
        crate::field_table::decode_entries_into(self.sub(part), 1, limits, dst)
    }
}

/// Appends a shortstr: length octet, bytes.
pub(crate) fn put_short_string(dst: &mut BytesMut, s: &ShortString) {
    dst.put_u8(s.wire_len());
    dst.put_slice(s.as_bytes());
}

/// Appends a longstr: 32-bit length, bytes.
pub(crate) fn put_long_string(dst: &mut BytesMut, s: &[u8]) -> Result<(), Error> {
    dst.put_u32(len32(s.len())?);
    dst.put_slice(s);
    Ok(())
}

/// `n` as a 32-bit length field.
pub(crate) fn len32(n: usize) -> Result<u32, Error> {
    u32::try_from(n).map_err(|_| Error::TooLarge { size: n })
}

/// Reserves a 32-bit length field at the end of `dst`; returns its offset
/// for [`patch_len32`].
pub(crate) fn reserve_len32(dst: &mut BytesMut) -> usize {
    let at = dst.len();
    dst.put_u32(0);
    at
}

/// Writes the number of bytes appended since `at + 4` into the length field
/// at `at`.
pub(crate) fn patch_len32(dst: &mut BytesMut, at: usize) -> Result<(), Error> {
    let n = dst.len().saturating_sub(at + 4);
    let v = len32(n)?;
    if let Some(field) = dst.get_mut(at..at + 4) {
        field.copy_from_slice(&v.to_be_bytes());
    }
    Ok(())
}
