//! The static table (RFC 7541 Appendix A), the decoder's dynamic table
//! (§2.3.2, §4) and the arena both sides copy table strings into.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::{Error, huffman};

/// Number of entries in the static table; dynamic indices start after it.
pub(crate) const STATIC_LEN: usize = 61;

/// RFC 7541 Appendix A; index 1 is the first row.
pub(crate) static STATIC: [(&str, &str); STATIC_LEN] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// Static row `index` (1-based) as shared bytes: no copy, no count.
#[inline]
pub(crate) fn static_entry(index: usize) -> Option<(Bytes, Bytes)> {
    let &(name, value) = STATIC.get(index.checked_sub(1)?)?;
    Some((
        Bytes::from_static(name.as_bytes()),
        Bytes::from_static(value.as_bytes()),
    ))
}

/// Copies strings into shared chunks, so a table entry costs no allocation
/// of its own and holds no reference to the block it came from: what the
/// table keeps alive stays near its own size.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    /// The unused rest of the current chunk (zero-filled when allocated):
    /// strings are written at its front and split off.
    buf: BytesMut,
}

/// Chunk size; a longer string gets a chunk of its own.
const CHUNK: usize = 4096;

impl Arena {
    /// At least `n` octets at the front of `buf`.
    #[inline]
    fn room(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() < n {
            self.buf = BytesMut::zeroed(n.max(CHUNK));
        }
        &mut self.buf
    }

    /// A shared copy of `a` followed by `b`.
    #[inline]
    pub(crate) fn copy_pair(&mut self, a: &[u8], b: &[u8]) -> Bytes {
        let n = a.len() + b.len();
        if n == 0 {
            return Bytes::new();
        }
        let room = self.room(n);
        if let Some((x, rest)) = room.split_at_mut_checked(a.len()) {
            x.copy_from_slice(a);
            if let Some(y) = rest.get_mut(..b.len()) {
                y.copy_from_slice(b);
            }
        }
        self.buf.split_to(n).freeze()
    }

    /// A field's name then value, each raw or Huffman-coded, decoded into
    /// one shared copy: it and the name's length.
    ///
    /// # Errors
    ///
    /// As [`Arena::huffman`].
    #[inline]
    pub(crate) fn field(
        &mut self,
        name: Literal<'_>,
        value: Literal<'_>,
        limit: usize,
    ) -> Result<(Bytes, usize), Error> {
        let room = self.room(name.max_len() + value.max_len());
        let name_len = name.decode_into(room, limit)?;
        let value_len = value.decode_into(room.get_mut(name_len..).unwrap_or_default(), limit)?;
        Ok((self.buf.split_to(name_len + value_len).freeze(), name_len))
    }

    /// `src` Huffman-decoded into a shared chunk.
    ///
    /// # Errors
    ///
    /// As [`huffman::decode`], and [`Error::StringTooLong`] if the decoded
    /// string is longer than `limit`.
    #[inline]
    pub(crate) fn huffman(&mut self, src: &[u8], limit: usize) -> Result<Bytes, Error> {
        let room = self.room(huffman::max_decoded_len(src.len()));
        let n = huffman::decode_slice(src, room)?;
        if n > limit {
            return Err(Error::StringTooLong { len: n, limit });
        }
        Ok(self.buf.split_to(n).freeze())
    }
}

/// A string literal's octets as sent (RFC 7541 §5.2).
#[derive(Clone, Copy)]
pub(crate) enum Literal<'a> {
    Raw(&'a [u8]),
    Huffman(&'a [u8]),
}

impl<'a> Literal<'a> {
    #[inline]
    pub(crate) fn new(huffman: bool, s: &'a [u8]) -> Self {
        if huffman {
            Self::Huffman(s)
        } else {
            Self::Raw(s)
        }
    }

    /// Room [`Literal::decode_into`] needs.
    #[inline]
    fn max_len(self) -> usize {
        match self {
            Self::Raw(s) => s.len(),
            Self::Huffman(s) => huffman::max_decoded_len(s.len()),
        }
    }

    /// Writes the octets at the front of `room`: how many.
    #[inline]
    fn decode_into(self, room: &mut [u8], limit: usize) -> Result<usize, Error> {
        match self {
            Self::Raw(s) => {
                if let Some(dst) = room.get_mut(..s.len()) {
                    dst.copy_from_slice(s);
                }
                Ok(s.len())
            }
            Self::Huffman(s) => {
                let n = huffman::decode_slice(s, room)?;
                if n > limit {
                    return Err(Error::StringTooLong { len: n, limit });
                }
                Ok(n)
            }
        }
    }
}

/// A dynamic table entry: name and value end to end in one shared copy,
/// so that adding and evicting one counts one reference, not two.
#[derive(Debug)]
struct Entry {
    data: Bytes,
    name_len: usize,
}

impl Entry {
    /// Its size (RFC 7541 §4.1): name and value lengths plus 32.
    #[inline]
    fn size(&self) -> usize {
        self.data.len() + 32
    }

    #[inline]
    fn split(&self) -> (&[u8], &[u8]) {
        self.data
            .split_at_checked(self.name_len)
            .unwrap_or_default()
    }
}

/// The decoder's dynamic table: newest entry first.
#[derive(Debug)]
pub(crate) struct DynamicTable {
    entries: VecDeque<Entry>,
    /// Sum of the entries' sizes (RFC 7541 §4.1).
    size: usize,
    /// The maximum size last signaled by the peer's encoder.
    capacity: usize,
}

impl DynamicTable {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            size: 0,
            capacity,
        }
    }

    /// Entry `i`, 0 being the newest: name and value.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.entries.get(i).map(Entry::split)
    }

    /// Entry `i`, 0 being the newest: name and value, shared.
    #[inline]
    pub(crate) fn get_shared(&self, i: usize) -> Option<(Bytes, Bytes)> {
        let e = self.entries.get(i)?;
        let name_len = e.name_len.min(e.data.len());
        Some((e.data.slice(..name_len), e.data.slice(name_len..)))
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Every entry, newest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries.iter().map(Entry::split)
    }

    /// Adds an entry, its name the first `name_len` octets of `data` and
    /// its value the rest, evicting the oldest to make room; an entry
    /// larger than the whole table empties it and is not added (RFC 7541
    /// §4.4).
    #[inline]
    pub(crate) fn insert(&mut self, data: Bytes, name_len: usize) {
        let entry = Entry { data, name_len };
        let size = entry.size();
        if size > self.capacity {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.capacity - size);
        self.size += size;
        self.entries.push_front(entry);
    }

    /// A dynamic table size update (RFC 7541 §4.3).
    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.evict_to(capacity);
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            let Some(e) = self.entries.pop_back() else {
                self.size = 0;
                return;
            };
            self.size -= e.size();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_entries_agree_with_the_table() {
        for (i, (name, value)) in STATIC.iter().enumerate() {
            let (n, v) = static_entry(i + 1).unwrap();
            assert_eq!((&n[..], &v[..]), (name.as_bytes(), value.as_bytes()));
        }
        assert!(static_entry(0).is_none());
        assert!(static_entry(62).is_none());
    }

    #[test]
    fn eviction() {
        let mut t = DynamicTable::new(100);
        t.insert(Bytes::from_static(b"aabb"), 2); // 36
        t.insert(Bytes::from_static(b"ccdd"), 2); // 72
        t.insert(Bytes::from_static(b"eeff"), 2); // evicts aa
        assert_eq!(t.len(), 2);
        assert_eq!(t.size(), 72);
        assert_eq!(t.get(0).unwrap(), (&b"ee"[..], &b"ff"[..]));
        assert_eq!(
            t.get_shared(1).unwrap(),
            (Bytes::from("cc"), Bytes::from("dd"))
        );
        t.set_capacity(40);
        assert_eq!(t.len(), 1);
        t.insert(Bytes::from(vec![b'x'; 13]), 3);
        assert_eq!((t.len(), t.size()), (0, 0));
    }

    #[test]
    fn arena_copies_share_chunks() {
        let mut a = Arena::default();
        let x = a.copy_pair(b"hel", b"lo");
        let y = a.copy_pair(b"world", b"");
        assert_eq!((&x[..], &y[..]), (&b"hello"[..], &b"world"[..]));
        let big = a.copy_pair(&[7; 10_000], b"");
        assert_eq!(big.len(), 10_000);
        assert!(a.copy_pair(b"", b"").is_empty());
        let (f, name_len) = a
            .field(Literal::Raw(b"ab"), Literal::Huffman(&[0x1f]), 8)
            .unwrap();
        assert_eq!((&f[..], name_len), (&b"aba"[..], 2));
    }
}
