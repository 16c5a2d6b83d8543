//! The encoder's lookups: the static table by name hash, and the dynamic
//! table with hash indices from names and from whole fields to its
//! entries.

use std::collections::VecDeque;

use super::super::entry_size;
use super::super::table::{STATIC, STATIC_LEN};

/// A fast 64-bit hash, after wyhash: 16 octets per 64x64->128-bit
/// multiply, short strings read in at most two overlapping loads. Not
/// DoS-resistant, and need not be: a collision only lengthens a chain
/// walk, never changes the output, since every hit is compared byte for
/// byte.
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
        let mut i = 0;
        while i + 16 < len {
            h = mum(read8(s, i) ^ P1, read8(s, i + 8) ^ h);
            i += 16;
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
/// short, so two overlapping word compares settle most without a call.
#[inline(always)]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        read8(a, 0) == read8(b, 0) && read8(a, n - 8) == read8(b, n - 8)
    } else if (4..8).contains(&n) {
        read4(a, 0) == read4(b, 0) && read4(a, n - 4) == read4(b, n - 4)
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

/// One entry: where its name and value sit in the table's log, the low
/// halves of their hashes, and the next older entry in the same buckets.
#[derive(Debug)]
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
/// Names and values are appended to one log; evicted octets are dropped
/// from its front only once the buffer is full, so an insert costs no
/// allocation and no reference count.
///
/// Entries get ids counting insertions (wrapping); entry `k` from the
/// newest has id `inserted - 1 - k`. Each index is an array of buckets,
/// each the head of a chain through the entries, newest first. Eviction
/// takes the oldest entry, which is always at the end of its chains, so
/// chains are never edited: a walk stops at the first evicted id.
#[derive(Debug)]
pub(super) struct Table {
    entries: VecDeque<Entry>,
    /// Names and values, back to back, oldest first.
    log: Vec<u8>,
    /// Log offset of `log[0]`.
    base: usize,
    inserted: u32,
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

impl Table {
    pub(super) fn new(capacity: usize) -> Self {
        let mut t = Self {
            entries: VecDeque::new(),
            log: Vec::new(),
            base: 0,
            inserted: 0,
            size: 0,
            capacity,
            target: capacity,
            names: Vec::new(),
            fields: Vec::new(),
        };
        t.reindex();
        t
    }

    /// The entries' names and values, newest first.
    pub(super) fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries.iter().map(|e| self.split(e))
    }

    #[inline]
    fn split(&self, e: &Entry) -> (&[u8], &[u8]) {
        let start = e.at - self.base;
        let name = self.log.get(start..start + e.name_len).unwrap_or_default();
        let value_start = start + e.name_len;
        let value = self
            .log
            .get(value_start..value_start + e.value_len)
            .unwrap_or_default();
        (name, value)
    }

    /// Sizes the indices for the most entries `capacity` can hold (two
    /// buckets each) and relinks the entries.
    fn reindex(&mut self) {
        let max_entries = self.capacity / 32 + 1;
        let buckets = (max_entries * 2).next_power_of_two().clamp(16, 1 << 16);
        self.names = vec![0; buckets];
        self.fields = vec![0; buckets];
        let live = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        let mut id = self.inserted.wrapping_sub(live);
        for e in self.entries.iter_mut().rev() {
            e.next_name = link(&mut self.names, e.name_hash, id);
            e.next_field = link(&mut self.fields, e.field_hash, id);
            id = id.wrapping_add(1);
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

    /// The entry a link points at, if still live: its offset from the
    /// newest.
    #[inline]
    fn resolve(&self, link: u32) -> Option<(usize, &Entry)> {
        let id = link.checked_sub(1)?;
        let k = self.inserted.wrapping_sub(1).wrapping_sub(id) as usize;
        Some((k, self.entries.get(k)?))
    }

    /// The index (RFC 7541 §2.3.3) of an entry holding exactly this field.
    #[inline]
    pub(super) fn find_field(&self, field_hash: u64, name: &[u8], value: &[u8]) -> Option<usize> {
        let check = low(field_hash);
        let mut next = head(&self.fields, check);
        // Links only point at older entries; the bound is belt and braces.
        for _ in 0..self.entries.len() {
            let (k, e) = self.resolve(next)?;
            if e.field_hash == check {
                let (n, v) = self.split(e);
                if same(v, value) && same(n, name) {
                    return Some(k + STATIC_LEN + 1);
                }
            }
            next = e.next_field;
        }
        None
    }

    /// The index of the newest entry named `name`.
    #[inline]
    pub(super) fn find_name(&self, name_hash: u64, name: &[u8]) -> Option<usize> {
        let check = low(name_hash);
        let mut next = head(&self.names, check);
        for _ in 0..self.entries.len() {
            let (k, e) = self.resolve(next)?;
            if e.name_hash == check && same(self.split(e).0, name) {
                return Some(k + STATIC_LEN + 1);
            }
            next = e.next_name;
        }
        None
    }

    /// Adds a field, evicting the oldest entries to make room; a field
    /// larger than the whole table empties it and is not added (RFC 7541
    /// §4.4).
    pub(super) fn insert(&mut self, name: &[u8], value: &[u8], name_hash: u64, field_hash: u64) {
        let size = entry_size(name.len(), value.len());
        if size > self.capacity {
            self.evict_to(0);
            return;
        }
        self.evict_to(self.capacity - size);
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
        self.entries.push_front(entry);
        self.size += size;
    }

    /// Room for `n` more octets in the log: once it is full, drop what
    /// evicted entries left at its front, and grow only if that frees less
    /// than half, so each octet is moved at most about once.
    #[inline]
    fn make_room(&mut self, n: usize) {
        if self.log.len() + n <= self.log.capacity() {
            return;
        }
        let dead = self
            .entries
            .back()
            .map_or(self.log.len(), |oldest| oldest.at - self.base);
        self.log.drain(..dead);
        self.base += dead;
        let want = (self.log.len() + n) * 2;
        self.log.reserve(want.saturating_sub(self.log.len()));
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            let Some(e) = self.entries.pop_back() else {
                self.size = 0;
                return;
            };
            self.size -= entry_size(e.name_len, e.value_len);
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
    use super::super::super::table::static_field;
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
        assert_eq!(lookup(b":method"), Some((2, 2)));
        for other in [&b"x-custom"[..], b"", b":statu", b":statuss", b"Host"] {
            assert!(lookup(other).is_none());
        }
    }

    #[test]
    fn same_agrees_with_eq() {
        let s = b"abcdefghijklmnopqrstuvwxyz";
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
}
