//! [`HeaderList`]: a decoded header list in one buffer.

use std::fmt;

use bytes::Bytes;

use super::table::Literal;
use super::{Error, Header, huffman};

/// A header list (RFC 7541 §1.3, RFC 9113 §4.3): the fields of one header
/// block, in order, owning their octets.
///
/// All names and values live end to end in one buffer, indexed by a
/// compact table of offsets, lengths and never-indexed flags (RFC 7541
/// §6.2.3). Filling one costs no allocation per field and no reference
/// counting, and [`HeaderList::clear`] keeps both allocations, so a
/// connection that reuses one list for every block it decodes
/// ([`super::Decoder::decode_list`]) stops allocating once it has seen
/// its largest block.
///
/// The list owns its octets: it borrows neither the block nor the
/// decoder. [`HeaderList::to_headers`] turns it into [`Header`]s of shared
/// [`Bytes`] (one copy of the buffer) where those are wanted.
///
/// A list holds at most 4 GiB of names and values: offsets are 32 bits.
#[derive(Clone, Default)]
pub struct HeaderList {
    /// Names and values of the fields, end to end, in `..used`. Octets
    /// past `used` are initialized leftovers: Huffman decoding writes into
    /// them without zeroing the buffer for each string.
    buf: Vec<u8>,
    used: usize,
    fields: Vec<Field>,
}

/// Where one field's name and value are in the buffer.
#[derive(Clone, Copy, Debug)]
struct Field {
    start: u32,
    name_len: u32,
    value_len: u32,
    sensitive: bool,
}

/// The most octets a list holds: offsets and lengths are `u32`.
pub(crate) const MAX_BYTES: usize = u32::MAX as usize;

impl HeaderList {
    /// An empty list; it allocates on the first field.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list with room for `fields` fields whose names and values
    /// take `bytes` octets in all.
    #[must_use]
    pub fn with_capacity(fields: usize, bytes: usize) -> Self {
        Self {
            buf: vec![0; bytes],
            used: 0,
            fields: Vec::with_capacity(fields),
        }
    }

    /// Empties the list, keeping its allocations for the next block.
    pub fn clear(&mut self) {
        self.used = 0;
        self.fields.clear();
    }

    /// The number of fields.
    #[must_use]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the list has no fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it: each
    /// field's name and value lengths plus 32 (RFC 9113 §6.5.2, RFC 7541
    /// §4.1).
    #[must_use]
    pub fn size(&self) -> usize {
        self.used + 32 * self.fields.len()
    }

    /// Field `i`: name, value and whether it is never indexed
    /// (RFC 7541 §6.2.3; see [`Header::sensitive`]).
    #[must_use]
    pub fn get(&self, i: usize) -> Option<(&[u8], &[u8], bool)> {
        self.fields.get(i).map(|f| self.resolve(f))
    }

    /// Every field in order: name, value and whether it is never indexed.
    pub fn iter(&self) -> HeaderListIter<'_> {
        HeaderListIter {
            list: self,
            fields: self.fields.iter(),
        }
    }

    /// The value of the first field named `name` (names compare octet for
    /// octet: HTTP/2 names are lowercase, RFC 9113 §8.2.1).
    #[must_use]
    pub fn first(&self, name: &[u8]) -> Option<&[u8]> {
        self.iter().find(|(n, _, _)| *n == name).map(|(_, v, _)| v)
    }

    /// The values of every field named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(n, _, _)| *n == name)
            .map(|(_, v, _)| v)
    }

    /// Appends a field.
    ///
    /// # Panics
    ///
    /// If the list would hold more than 4 GiB of names and values.
    pub fn push(&mut self, name: &[u8], value: &[u8], sensitive: bool) {
        let start = self.used;
        self.append(name);
        let name_end = self.used;
        self.append(value);
        assert!(self.used <= MAX_BYTES, "HeaderList over 4 GiB");
        self.commit(start, name_end, sensitive);
    }

    /// The fields as [`Header`]s, their names and values slices of one
    /// shared copy of the buffer.
    #[must_use]
    pub fn to_headers(&self) -> Vec<Header> {
        let shared = Bytes::copy_from_slice(self.buf.get(..self.used).unwrap_or_default());
        self.fields
            .iter()
            .map(|f| {
                let (start, mid, end) = f.bounds();
                Header {
                    name: shared.slice(start..mid),
                    value: shared.slice(mid..end),
                    sensitive: f.sensitive,
                }
            })
            .collect()
    }

    #[inline]
    fn resolve<'a>(&'a self, f: &Field) -> (&'a [u8], &'a [u8], bool) {
        let (start, mid, end) = f.bounds();
        let name = self.buf.get(start..mid).unwrap_or_default();
        let value = self.buf.get(mid..end).unwrap_or_default();
        (name, value, f.sensitive)
    }

    /// Where the next string starts.
    #[inline]
    pub(crate) fn mark(&self) -> usize {
        self.used
    }

    /// Where the last field's octets end.
    #[inline]
    pub(crate) fn fields_end(&self) -> usize {
        self.fields.last().map_or(0, |f| f.bounds().2)
    }

    /// Drops what was appended since `mark`, a value of [`Self::mark`].
    #[inline]
    pub(crate) fn rewind(&mut self, mark: usize) {
        self.used = mark;
    }

    /// The octets appended since `mark` as a name ending at `name_end` and
    /// a value after it.
    #[inline]
    pub(crate) fn pending(&self, mark: usize, name_end: usize) -> (&[u8], &[u8]) {
        (
            self.buf.get(mark..name_end).unwrap_or_default(),
            self.buf.get(name_end..self.used).unwrap_or_default(),
        )
    }

    /// Room for `n` more octets past `used`, initialized.
    #[inline]
    fn room(&mut self, n: usize) -> &mut [u8] {
        let end = self.used + n;
        if self.buf.len() < end {
            // Grow geometrically: `resize` alone would reallocate to the
            // exact length every time the buffer grows by a string.
            let len = end.max(self.buf.len() * 2).max(256);
            self.buf.resize(len, 0);
        }
        self.buf.get_mut(self.used..end).unwrap_or_default()
    }

    /// Appends raw octets.
    #[inline]
    pub(crate) fn append(&mut self, s: &[u8]) {
        let room = self.room(s.len());
        if room.len() == s.len() {
            room.copy_from_slice(s);
        }
        self.used += s.len();
    }

    /// Appends a string literal's octets (RFC 7541 §5.2).
    ///
    /// # Errors
    ///
    /// As [`HeaderList::append_huffman`].
    #[inline]
    pub(crate) fn append_literal(
        &mut self,
        literal: Literal<'_>,
        limit: usize,
    ) -> Result<(), Error> {
        match literal {
            Literal::Raw(s) => {
                self.append(s);
                Ok(())
            }
            Literal::Huffman(s) => self.append_huffman(s, limit),
        }
    }

    /// Appends a name and a value, both Huffman-coded (RFC 7541 §5.2),
    /// decoded at once ([`huffman::decode_pair`]); returns where the name
    /// ends.
    ///
    /// # Errors
    ///
    /// As [`HeaderList::append_huffman`] on the name, then on the value.
    #[inline]
    pub(crate) fn append_huffman_pair(
        &mut self,
        name: &[u8],
        value: &[u8],
        limit: usize,
    ) -> Result<usize, Error> {
        let name_room = huffman::max_decoded_len(name.len());
        let room = self.room(name_room + huffman::max_decoded_len(value.len()));
        let (name_out, value_out) = room.split_at_mut_checked(name_room).unwrap_or_default();
        let (name_len, value_len) = huffman::decode_pair(name, name_out, value, value_out)?;
        if name_len > limit {
            return Err(Error::StringTooLong {
                len: name_len,
                limit,
            });
        }
        let value_len = value_len?;
        if value_len > limit {
            return Err(Error::StringTooLong {
                len: value_len,
                limit,
            });
        }
        // The value was decoded past the name's room: move it down (the
        // range is what was written into the room).
        let at = self.used;
        self.buf
            .copy_within(at + name_room..at + name_room + value_len, at + name_len);
        self.used += name_len + value_len;
        Ok(at + name_len)
    }

    /// Appends `src` Huffman-decoded (RFC 7541 §5.2).
    ///
    /// # Errors
    ///
    /// As [`huffman::decode`], and [`Error::StringTooLong`] past `limit`
    /// decoded octets.
    #[inline]
    pub(crate) fn append_huffman(&mut self, src: &[u8], limit: usize) -> Result<(), Error> {
        let room = self.room(huffman::max_decoded_len(src.len()));
        let n = huffman::decode_slice(src, room)?;
        if n > limit {
            return Err(Error::StringTooLong { len: n, limit });
        }
        self.used += n;
        Ok(())
    }

    /// Records the strings appended since `start` as a field whose name
    /// ends at `name_end`. The caller keeps `used` within [`MAX_BYTES`].
    #[inline]
    #[allow(clippy::cast_possible_truncation)] // offsets are at most MAX_BYTES
    pub(crate) fn commit(&mut self, start: usize, name_end: usize, sensitive: bool) {
        self.fields.push(Field {
            start: start as u32,
            name_len: (name_end - start) as u32,
            value_len: (self.used - name_end) as u32,
            sensitive,
        });
    }
}

impl Field {
    /// Name start, name end (value start), value end.
    #[inline]
    fn bounds(&self) -> (usize, usize, usize) {
        let start = self.start as usize;
        let mid = start + self.name_len as usize;
        (start, mid, mid + self.value_len as usize)
    }
}

/// The fields of a [`HeaderList`], in order: name, value and whether it
/// is never indexed.
#[derive(Clone, Debug)]
pub struct HeaderListIter<'a> {
    list: &'a HeaderList,
    fields: std::slice::Iter<'a, Field>,
}

impl<'a> Iterator for HeaderListIter<'a> {
    type Item = (&'a [u8], &'a [u8], bool);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.fields.next().map(|f| self.list.resolve(f))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.fields.size_hint()
    }
}

impl ExactSizeIterator for HeaderListIter<'_> {}

impl DoubleEndedIterator for HeaderListIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.fields.next_back().map(|f| self.list.resolve(f))
    }
}

impl<'a> IntoIterator for &'a HeaderList {
    type Item = (&'a [u8], &'a [u8], bool);
    type IntoIter = HeaderListIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for HeaderList {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for HeaderList {}

impl fmt::Debug for HeaderList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(n, v, s)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v), s)),
            )
            .finish()
    }
}

impl<'a> Extend<&'a Header> for HeaderList {
    fn extend<I: IntoIterator<Item = &'a Header>>(&mut self, iter: I) {
        for h in iter {
            self.push(&h.name, &h.value, h.sensitive);
        }
    }
}

impl<'a> FromIterator<&'a Header> for HeaderList {
    fn from_iter<I: IntoIterator<Item = &'a Header>>(iter: I) -> Self {
        let mut list = Self::new();
        list.extend(iter);
        list
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use proptest::prelude::*;

    use super::super::tests::{Op, as_sent, assert_same_tables, h, header, ops, unhex};
    use super::super::{Decoder, Encoder, Limits};
    use super::*;

    #[test]
    fn push_get_and_lookups() {
        let mut list = HeaderList::with_capacity(4, 64);
        assert!(list.is_empty());
        list.push(b":status", b"200", false);
        list.push(b"set-cookie", b"a=1", false);
        list.push(b"set-cookie", b"", true);
        list.push(b"", b"", false);
        assert_eq!(list.len(), 4);
        assert_eq!(list.size(), 7 + 3 + 10 + 3 + 10 + 4 * 32);
        assert_eq!(list.get(0), Some((&b":status"[..], &b"200"[..], false)));
        assert_eq!(list.get(2), Some((&b"set-cookie"[..], &b""[..], true)));
        assert_eq!(list.get(4), None);
        assert_eq!(list.first(b"set-cookie"), Some(&b"a=1"[..]));
        assert_eq!(list.first(b"x"), None);
        let all: Vec<&[u8]> = list.get_all(b"set-cookie").collect();
        assert_eq!(all, [&b"a=1"[..], b""]);
        assert_eq!(list.iter().rev().count(), 4);
        let headers = list.to_headers();
        assert_eq!(headers[1], h("set-cookie", "a=1"));
        assert!(headers[2].sensitive);
        assert_eq!(headers.iter().collect::<HeaderList>(), list);
        let cap = list.buf.capacity();
        list.clear();
        assert!(list.is_empty());
        assert_eq!((list.size(), list.buf.capacity()), (0, cap));
        list.push(b"a", b"b", false);
        assert_eq!(list.to_headers(), [h("a", "b")]);
        assert_eq!(format!("{list:?}"), r#"[("a", "b", false)]"#);
    }

    #[test]
    fn rfc7541_c4_requests_with_huffman() {
        let mut d = Decoder::default();
        let mut twin = Decoder::default();
        let mut list = HeaderList::new();
        for wire in [
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ] {
            let wire = unhex(wire);
            d.decode_list(&wire, &mut list).unwrap();
            assert_eq!(list.to_headers(), twin.decode_to_vec(&wire).unwrap());
        }
        assert!(d.table_entries().eq(twin.table_entries()));
    }

    #[test]
    fn limits_as_decode() {
        let limits = Limits {
            max_header_list_size: 60,
            max_string_len: 16,
        };
        // custom-key: custom-header (55), then :method GET (42): too large;
        // a (34) is indexed all the same.
        let wire = unhex(
            "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572 82 4001 61 01 62",
        );
        let mut d = Decoder::new(4096, limits);
        let mut list = HeaderList::new();
        let err = d.decode_list(&wire, &mut list).unwrap_err();
        assert_eq!(
            err,
            Error::HeaderListTooLarge {
                size: 55 + 42 + 34,
                limit: 60
            }
        );
        assert_eq!(list.to_headers(), [h("custom-key", "custom-header")]);
        assert_eq!(d.table_size(), 55 + 34);
        d.decode_list(&unhex("bf"), &mut list).unwrap();
        assert_eq!(list.to_headers(), [h("custom-key", "custom-header")]);
        d.decode_list(&unhex("be"), &mut list).unwrap();
        assert_eq!(list.to_headers(), [h("a", "b")]);
        // Every connection error decode reports, decode_list reports too;
        // a truncated value comes before a bad Huffman name.
        for wire in [
            "0011 61 8f ffff",
            "0001 61 81 1e",
            "80",
            "400a 6375",
            "82 20",
            "4081 1e05 61",
            "0081 1e05 61",
        ] {
            let wire = unhex(wire);
            let mut a = Decoder::new(4096, limits);
            let mut b = Decoder::new(4096, limits);
            let err = a.decode_list(&wire, &mut list).unwrap_err();
            assert_eq!(err, b.decode_to_vec(&wire).unwrap_err());
            if wire.get(1) == Some(&0x81) {
                assert_eq!(err, Error::Truncated);
            }
        }
    }

    proptest! {
        /// Encoder then [`Decoder::decode_list`] into one reused list gives
        /// the fields back, as [`Decoder::decode_to_vec`] does; and
        /// [`Encoder::encode_list`] of that list encodes the same block.
        #[test]
        fn round_trip(ops in ops()) {
            let mut e = Encoder::new();
            let mut again = Encoder::new();
            let mut d = Decoder::default();
            let mut list = HeaderList::new();
            let (mut block, mut block2) = (BytesMut::new(), BytesMut::new());
            for op in ops {
                match op {
                    Op::Block(fields) => {
                        e.encode(&fields, &mut block);
                        d.decode_list(&block, &mut list).unwrap();
                        prop_assert_eq!(list.to_headers(), as_sent(&fields));
                        assert_same_tables(&e, &d)?;
                        again.encode_list(&list, &mut block2);
                        prop_assert_eq!(block.split(), block2.split());
                    }
                    Op::Resize(n) => {
                        e.set_max_table_size(n);
                        again.set_max_table_size(n);
                        d.set_max_table_size(n);
                    }
                }
            }
        }

        #[test]
        fn pushed_fields_come_back(fields in prop::collection::vec(header(), 0..20)) {
            let list: HeaderList = fields.iter().collect();
            prop_assert_eq!(list.len(), fields.len());
            prop_assert_eq!(list.to_headers(), fields);
        }
    }
}
