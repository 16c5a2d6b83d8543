//! The static table (RFC 7541 Appendix A), the decoder's dynamic table
//! (§2.3.2, §4) and the arena both sides copy table strings into.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::{Error, entry_size, huffman};

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

    /// A shared copy of `s`.
    #[inline]
    pub(crate) fn copy(&mut self, s: &[u8]) -> Bytes {
        self.copy_pair(s, &[])
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

/// The decoder's dynamic table: newest entry first.
#[derive(Debug)]
pub(crate) struct DynamicTable {
    entries: VecDeque<(Bytes, Bytes)>,
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

    /// Entry `i`, 0 being the newest.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&(Bytes, Bytes)> {
        self.entries.get(i)
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
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Bytes, Bytes)> {
        self.entries.iter()
    }

    /// Adds an entry, evicting the oldest to make room; an entry larger
    /// than the whole table empties it and is not added (RFC 7541 §4.4).
    #[inline]
    pub(crate) fn insert(&mut self, name: Bytes, value: Bytes) {
        let size = entry_size(name.len(), value.len());
        if size > self.capacity {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.capacity - size);
        self.size += size;
        self.entries.push_front((name, value));
    }

    /// A dynamic table size update (RFC 7541 §4.3).
    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.evict_to(capacity);
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            let Some((n, v)) = self.entries.pop_back() else {
                self.size = 0;
                return;
            };
            self.size -= entry_size(n.len(), v.len());
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
        t.insert(Bytes::from_static(b"aa"), Bytes::from_static(b"bb")); // 36
        t.insert(Bytes::from_static(b"cc"), Bytes::from_static(b"dd")); // 72
        t.insert(Bytes::from_static(b"ee"), Bytes::from_static(b"ff")); // evicts aa
        assert_eq!(t.len(), 2);
        assert_eq!(t.size(), 72);
        assert_eq!(&t.get(0).unwrap().0[..], b"ee");
        assert_eq!(&t.get(1).unwrap().0[..], b"cc");
        t.set_capacity(40);
        assert_eq!(t.len(), 1);
        t.insert(Bytes::from_static(b"big"), Bytes::from(vec![b'x'; 10]));
        assert_eq!((t.len(), t.size()), (0, 0));
    }

    #[test]
    fn arena_copies_share_chunks() {
        let mut a = Arena::default();
        let x = a.copy(b"hello");
        let y = a.copy(b"world");
        assert_eq!((&x[..], &y[..]), (&b"hello"[..], &b"world"[..]));
        let big = a.copy(&[7; 10_000]);
        assert_eq!(big.len(), 10_000);
        assert!(a.copy(b"").is_empty());
    }
}
