//! The encoder's lookups: the static table by name hash, and the dynamic
//! table with hash indices from names and from whole fields to its
//! entries.

use super::super::table::{STATIC, STATIC_LEN};
use super::super::{DEFAULT_TABLE_SIZE, entry_size};

/// A fast 64-bit hash, after wyhash: 16 octets per 64x64->128-bit
/// multiply, short strings read in at most two overlapping loads.
///
/// Strings longer than 32 octets are sampled: their length and first,
/// middle and last 16 octets, so no string costs more than three
/// multiplies (header values that differ only elsewhere, at equal length,
/// are rare). Neither that nor the lack of DoS resistance matters beyond
/// speed: a collision only lengthens a chain walk, never changes the
/// output, since every hit is compared byte for byte, and the table holds
/// at most `capacity / 32` entries.
#[inline]
pub(super) const fn hash(seed: u64, s: &[u8]) -> u64 {
    const P0: u64 = 0xa076_1d64_78bd_642f;
    const P1: u64 = 0xe703_7ed1_a0b4_28db;
    const P2: u64 = 0x8ebc_6af0_9c88_c6e3;
    let len = s.len();
    let mut h = seed ^ P0;
    let (a, b) = if len <= 16 {
        if len >= 8 {
            (read8(s, 0), read8(s, len - 8))
        } else if len >= 4 {
            (read4(s, 0), read4(s, len - 4))
        } else if let ([x, ..], [.., z]) = (s, s) {
            let y = match s.split_at_checked(len / 2) {
                Some((_, [y, ..])) => *y,
                _ => 0,
            };
            (((*x as u64) << 16) | ((y as u64) << 8) | *z as u64, 0)
        } else {
            (0, 0)
        }
    } else {
        h = mum(read8(s, 0) ^ P1, read8(s, 8) ^ h);
        if len > 32 {
            h = mum(read8(s, len / 2 - 8) ^ P1, read8(s, len / 2) ^ h);
        }
        (read8(s, len - 16), read8(s, len - 8))
    };
    mum(P1 ^ len as u64, mum(a ^ P1, b ^ h) ^ P2)
}

/// The halves of a 128-bit product, folded.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)]
const fn mum(a: u64, b: u64) -> u64 {
    let r = (a as u128) * (b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

#[inline(always)]
const fn read8(s: &[u8], at: usize) -> u64 {
    match s.split_at_checked(at) {
        Some((_, rest)) => match rest.first_chunk::<8>() {
            Some(w) => u64::from_le_bytes(*w),
            None => 0,
        },
        None => 0,
    }
}

#[inline(always)]
const fn read4(s: &[u8], at: usize) -> u64 {
    match s.split_at_checked(at) {
        Some((_, rest)) => match rest.first_chunk::<4>() {
            Some(w) => u32::from_le_bytes(*w) as u64,
            None => 0,
        },
        None => 0,
    }
}

/// Whether `a` and `b` hold the same octets: header names and values are
/// short, so up to 32 octets compare in overlapping word loads, with no
/// call and no branch on the contents.
#[inline(always)]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let diff = |at: usize| read8(a, at) ^ read8(b, at);
    if (8..=16).contains(&n) {
        diff(0) | diff(n - 8) == 0
    } else if (17..=32).contains(&n) {
        diff(0) | diff(8) | diff(n - 16) | diff(n - 8) == 0
    } else if (4..8).contains(&n) {
        read4(a, 0) ^ read4(b, 0) | read4(a, n - 4) ^ read4(b, n - 4) == 0
    } else {
        a == b
    }
}

/// The seed of name hashes: picked so that the static table's names all
/// land in different [`STATIC_SLOTS`] slots (the build fails otherwise).
pub(super) const NAME_SEED: u64 = 285;

/// Slots of [`STATIC_NAMES`]: the top bits of a name's hash pick one.
const STATIC_SLOTS: usize = 256;

/// Per slot, the static name hashing there, if any: its hash, first row
/// (1-based; 0 for none) and row count.
static STATIC_NAMES: [(u64, u8, u8); STATIC_SLOTS] = build_static_names();

#[inline(always)]
#[allow(clippy::cast_possible_truncation)]
const fn static_slot(h: u64) -> usize {
    (h >> 56) as usize
}

// Evaluated at compile time only: an index out of range, or two names in
// one slot, fails the build.
#[allow(
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::panic
)]
const fn build_static_names() -> [(u64, u8, u8); STATIC_SLOTS] {
    let mut t = [(0u64, 0u8, 0u8); STATIC_SLOTS];
    let mut i = 0;
    while i < STATIC_LEN {
        let name = STATIC[i].0.as_bytes();
        let h = hash(NAME_SEED, name);
        let slot = &mut t[static_slot(h)];
        if slot.1 == 0 {
            *slot = (h, i as u8 + 1, 1);
        } else if slot.0 == h {
            slot.2 += 1;
        } else {
            panic!("two static names share a slot: pick another NAME_SEED");
        }
        i += 1;
    }
    t
}

/// The static rows named `name` (whose [`NAME_SEED`] hash is `h`): first
/// index (1-based) and count.
#[inline]
pub(super) fn static_name(name: &[u8], h: u64) -> Option<(usize, usize)> {
    let &(sh, first, count) = STATIC_NAMES.get(static_slot(h))?;
    if sh != h || first == 0 {
        return None;
    }
    let first = usize::from(first);
    let &(static_name, _) = STATIC.get(first - 1)?;
    same(name, static_name.as_bytes()).then_some((first, usize::from(count)))
}

/// The static row holding exactly this field, among `rows` (from
/// [`static_name`]).
#[inline]
pub(super) fn static_field(rows: (usize, usize), value: &[u8]) -> Option<usize> {
    let (first, count) = rows;
    let candidates = STATIC.get(first - 1..first - 1 + count)?;
    if let [(_, only)] = candidates {
        // Most names have one row, most of those an empty value.
        return same(only.as_bytes(), value).then_some(first);
    }
    candidates
        .iter()
        .position(|(_, v)| same(v.as_bytes(), value))
        .map(|k| first + k)
}

/// One entry: where its name and value sit in the table's log, the low
/// halves of their hashes, and the next older entry in the same buckets.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    /// Offset of the name in the log (counted from its start, ever).
    at: usize,
    name_len: usize,
    value_len: usize,
    name_hash: u32,
    field_hash: u32,
    /// Links: an id + 1, or 0 for none.
    next_name: u32,
    next_field: u32,
}

/// The encoder's dynamic table (RFC 7541 §2.3.2, §4), with hash indices
/// from names and from whole fields to the entries holding them.
///
/// Entries get ids counting insertions (wrapping) and sit in a ring at
/// their id modulo its length, so a link resolves with a mask; entry `k`
/// from the newest has id `inserted - 1 - k`. Names and values are
/// appended to one log; evicted octets are dropped from its front only
/// once the buffer is full, so an insert costs no allocation and no
/// reference count.
///
/// Each index is an array of buckets, each the head of a chain through
/// the entries, newest first. Eviction takes the oldest entry, which is
/// always at the end of its chains, so chains are never edited: a walk
/// stops at the first evicted id.
#[derive(Debug)]
pub(super) struct Table {
    /// A power of two long, at least `len`.
    ring: Vec<Entry>,
    /// Live entries.
    len: usize,
    inserted: u32,
    /// Names and values, back to back, oldest first.
    log: Vec<u8>,
    /// Log offset of `log[0]`.
    base: usize,
    /// Sum of the entries' sizes (RFC 7541 §4.1).
    pub(super) size: usize,
    /// The size the decoder has been told.
    pub(super) capacity: usize,
    /// The size the table follows once signaled.
    pub(super) target: usize,
    /// Bucket heads: an id + 1, or 0 for none.
    names: Vec<u32>,
    fields: Vec<u32>,
}

/// Ring slots to start with: what a 4096-octet table of typical fields
/// (about 60 octets each) holds, so most connections never grow it.
const RING_START: usize = 64;

impl Table {
    pub(super) fn new(capacity: usize) -> Self {
        let mut t = Self {
            ring: vec![Entry::default(); RING_START],
            len: 0,
            inserted: 0,
            log: Vec::with_capacity(capacity.min(DEFAULT_TABLE_SIZE)),
            base: 0,
            size: 0,
            capacity,
            target: capacity,
            names: Vec::new(),
            fields: Vec::new(),
        };
        t.reindex();
        t
    }

    /// The id of the entry `k` from the newest.
    #[inline(always)]
    // Ids wrap: only the low 32 bits of `k` matter, and it is below the
    // ring's length anyway.
    #[allow(clippy::cast_possible_truncation)]
    fn id(&self, k: usize) -> u32 {
        self.inserted.wrapping_sub(1).wrapping_sub(k as u32)
    }

    /// The entry `k` from the newest (not checked against `len`).
    #[inline(always)]
    fn nth(&self, k: usize) -> Option<&Entry> {
        self.ring.get(self.id(k) as usize & (self.ring.len() - 1))
    }

    /// The entries' names and values, newest first.
    pub(super) fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        (0..self.len).filter_map(|k| self.nth(k).map(|e| self.split(e)))
    }

    #[inline(always)]
    fn split(&self, e: &Entry) -> (&[u8], &[u8]) {
        let start = e.at.wrapping_sub(self.base);
        self.log
            .get(start..)
            .and_then(|s| s.get(..e.name_len + e.value_len))
            .and_then(|s| s.split_at_checked(e.name_len))
            .unwrap_or_default()
    }

    /// Sizes the indices for the most entries `capacity` can hold (two
    /// buckets each) and relinks the entries.
    fn reindex(&mut self) {
        let max_entries = self.capacity / 32 + 1;
        let buckets = (max_entries * 2).next_power_of_two().clamp(16, 1 << 16);
        self.names = vec![0; buckets];
        self.fields = vec![0; buckets];
        for k in (0..self.len).rev() {
            let id = self.id(k);
            let slot = id as usize & (self.ring.len() - 1);
            if let Some(e) = self.ring.get_mut(slot) {
                e.next_name = link(&mut self.names, e.name_hash, id);
                e.next_field = link(&mut self.fields, e.field_hash, id);
            }
        }
    }

    pub(super) fn set_capacity(&mut self, capacity: usize) {
        self.evict_to(capacity);
        let reindex = capacity / 32 != self.capacity / 32;
        self.capacity = capacity;
        if reindex {
            self.reindex();
        }
    }

    /// The entry a link points at, if still live, and its offset from the
    /// newest.
    #[inline(always)]
    fn resolve(&self, link: u32) -> Option<(usize, &Entry)> {
        let id = link.checked_sub(1)?;
        let k = self.inserted.wrapping_sub(1).wrapping_sub(id) as usize;
        if k >= self.len {
            return None;
        }
        Some((k, self.ring.get(id as usize & (self.ring.len() - 1))?))
    }

    /// The index (RFC 7541 §2.3.3) of an entry holding exactly this field.
    ///
    /// Chains are short (two buckets per entry the table can hold), so
    /// the first probe is inline and the walk on is out of line.
    #[inline]
    pub(super) fn find_field(&self, field_hash: u64, name: &[u8], value: &[u8]) -> Option<usize> {
        let check = low(field_hash);
        let (k, e) = self.resolve(head(&self.fields, check))?;
        if self.holds(e, check, name, value) {
            return Some(k + STATIC_LEN + 1);
        }
        self.find_field_on(e.next_field, check, name, value)
    }

    #[inline(never)]
    fn find_field_on(&self, mut next: u32, check: u32, name: &[u8], value: &[u8]) -> Option<usize> {
        // Links only point at older entries; the bound is belt and braces.
        for _ in 0..self.len {
            let (k, e) = self.resolve(next)?;
            if self.holds(e, check, name, value) {
                return Some(k + STATIC_LEN + 1);
            }
            next = e.next_field;
        }
        None
    }

    /// Whether `e` holds exactly this field (whose hash's low half is
    /// `check`).
    #[inline(always)]
    fn holds(&self, e: &Entry, check: u32, name: &[u8], value: &[u8]) -> bool {
        if e.field_hash != check || e.name_len != name.len() || e.value_len != value.len() {
            return false;
        }
        let (n, v) = self.split(e);
        same(v, value) && same(n, name)
    }

    /// The index of the newest entry named `name`.
    #[inline]
    pub(super) fn find_name(&self, name_hash: u64, name: &[u8]) -> Option<usize> {
        let check = low(name_hash);
        let mut next = head(&self.names, check);
        for _ in 0..self.len {
            let (k, e) = self.resolve(next)?;
            if e.name_hash == check && e.name_len == name.len() && same(self.split(e).0, name) {
                return Some(k + STATIC_LEN + 1);
            }
            next = e.next_name;
        }
        None
    }

    /// Adds a field, evicting the oldest entries to make room; a field
    /// larger than the whole table empties it and is not added (RFC 7541
    /// §4.4).
    #[inline]
    pub(super) fn insert(&mut self, name: &[u8], value: &[u8], name_hash: u64, field_hash: u64) {
        let size = entry_size(name.len(), value.len());
        if size > self.capacity {
            self.evict_to(0);
            return;
        }
        self.evict_to(self.capacity - size);
        if self.len == self.ring.len() {
            self.grow_ring();
        }
        self.make_room(name.len() + value.len());
        let id = self.inserted;
        self.inserted = id.wrapping_add(1);
        let (name_hash, field_hash) = (low(name_hash), low(field_hash));
        let entry = Entry {
            at: self.base + self.log.len(),
            name_len: name.len(),
            value_len: value.len(),
            name_hash,
            field_hash,
            next_name: link(&mut self.names, name_hash, id),
            next_field: link(&mut self.fields, field_hash, id),
        };
        self.log.extend_from_slice(name);
        self.log.extend_from_slice(value);
        let slot = id as usize & (self.ring.len() - 1);
        if let Some(e) = self.ring.get_mut(slot) {
            *e = entry;
        }
        self.len += 1;
        self.size += size;
    }

    /// Doubles the ring, each live entry moving to its id's new slot.
    #[cold]
    fn grow_ring(&mut self) {
        let mut ring = vec![Entry::default(); self.ring.len() * 2];
        let mask = ring.len() - 1;
        for k in 0..self.len {
            let id = self.id(k);
            if let (Some(&e), Some(slot)) = (self.nth(k), ring.get_mut(id as usize & mask)) {
                *slot = e;
            }
        }
        self.ring = ring;
    }

    /// Room for `n` more octets in the log: once it is full, drop what
    /// evicted entries left at its front, and grow only if that frees less
    /// than half, so each octet is moved at most about once.
    #[inline]
    fn make_room(&mut self, n: usize) {
        if self.log.len() + n <= self.log.capacity() {
            return;
        }
        let dead = match self.len.checked_sub(1).and_then(|k| self.nth(k)) {
            Some(oldest) => oldest.at - self.base,
            None => self.log.len(),
        };
        self.log.drain(..dead);
        self.base += dead;
        let want = (self.log.len() + n) * 2;
        self.log.reserve(want.saturating_sub(self.log.len()));
    }

    #[inline]
    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            let Some(oldest) = self.len.checked_sub(1).and_then(|k| self.nth(k)) else {
                self.size = 0;
                return;
            };
            self.size -= entry_size(oldest.name_len, oldest.value_len);
            self.len -= 1;
        }
    }
}

/// The low half of a hash: what an entry keeps and the buckets use (there
/// are at most 2^16).
#[inline(always)]
#[allow(clippy::cast_possible_truncation)]
fn low(h: u64) -> u32 {
    h as u32
}

#[inline]
fn bucket(buckets: &[u32], h: u32) -> usize {
    h as usize & (buckets.len() - 1)
}

#[inline]
fn head(buckets: &[u32], h: u32) -> u32 {
    buckets.get(bucket(buckets, h)).copied().unwrap_or(0)
}

/// Makes `id` the head of its bucket; returns the link to the old head.
#[inline]
fn link(buckets: &mut [u32], h: u32, id: u32) -> u32 {
    let i = bucket(buckets, h);
    buckets
        .get_mut(i)
        .map(|b| std::mem::replace(b, id.wrapping_add(1)))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &[u8]) -> Option<(usize, usize)> {
        static_name(name, hash(NAME_SEED, name))
    }

    #[test]
    fn static_lookups_agree_with_the_table() {
        for (i, (name, value)) in STATIC.iter().enumerate() {
            let rows = lookup(name.as_bytes()).unwrap();
            assert!(rows.0 <= i + 1 && i + 1 < rows.0 + rows.1, "{name}");
            assert_eq!(static_field(rows, value.as_bytes()), Some(i + 1));
        }
        assert_eq!(lookup(b":status"), Some((8, 7)));
        assert_eq!(static_field((8, 7), b"404"), Some(13));
        assert_eq!(static_field((8, 7), b"201"), None);
        assert_eq!(static_field((16, 1), b"gzip"), None);
        assert_eq!(lookup(b":method"), Some((2, 2)));
        for other in [&b"x-custom"[..], b"", b":statu", b":statuss", b"Host"] {
            assert!(lookup(other).is_none());
        }
    }

    #[test]
    fn same_agrees_with_eq() {
        let s = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
        for a in 0..s.len() {
            for b in a..s.len() {
                let x = &s[a..b];
                assert!(same(x, x));
                let mut y = x.to_vec();
                for k in 0..y.len() {
                    y[k] ^= 1;
                    assert!(!same(x, &y));
                    y[k] ^= 1;
                }
                if b < s.len() {
                    assert!(!same(x, &s[a..=b]));
                }
            }
        }
    }

    #[test]
    fn log_drops_evicted_octets() {
        let mut t = Table::new(4096);
        for i in 0..10_000u32 {
            let v = i.to_string();
            let (nh, fh) = (hash(NAME_SEED, b"x-n"), hash(1, v.as_bytes()));
            t.insert(b"x-n", v.as_bytes(), nh, fh);
            assert_eq!(t.find_field(fh, b"x-n", v.as_bytes()), Some(62));
        }
        assert!(t.log.capacity() <= 2 * 4096, "{}", t.log.capacity());
        let (n, v) = t.entries().next().unwrap();
        assert_eq!((n, v), (&b"x-n"[..], &b"9999"[..]));
    }

    #[test]
    fn ring_grows_and_shrinks_with_the_table() {
        let mut t = Table::new(65536);
        let field = |i: u32| (format!("n{}", i % 7), i.to_string());
        let hashes = |n: &str, v: &str| {
            let nh = hash(NAME_SEED, n.as_bytes());
            (nh, hash(nh, v.as_bytes()))
        };
        for i in 0..1000 {
            let (n, v) = field(i);
            let (nh, fh) = hashes(&n, &v);
            t.insert(n.as_bytes(), v.as_bytes(), nh, fh);
        }
        assert_eq!(t.len, 1000);
        assert!(t.ring.len() >= 1000);
        for (k, i) in (0..1000).rev().enumerate() {
            let (n, v) = field(i);
            let (_, fh) = hashes(&n, &v);
            assert_eq!(t.find_field(fh, n.as_bytes(), v.as_bytes()), Some(k + 62));
        }
        t.set_capacity(4096);
        let live = t.entries().count();
        assert!(live < 1000 && t.size <= 4096);
        assert_eq!(t.entries().next(), Some((&b"n5"[..], &b"999"[..])));
        let (n, v) = field(0);
        assert_eq!(
            t.find_field(hashes(&n, &v).1, n.as_bytes(), v.as_bytes()),
            None
        );
        assert_eq!(
            t.find_name(hash(NAME_SEED, b"n5"), b"n5"),
            Some(62),
            "newest entry of that name"
        );
    }
}
