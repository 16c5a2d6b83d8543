//! Header block encoding, RFC 7541 §6, with the indexing policy of §7.1.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::table::{Arena, STATIC_LEN, static_field, static_name};
use super::{DEFAULT_TABLE_SIZE, Header, HeaderList, entry_size, integer, string};

/// Encodes header blocks for one peer's decoder.
///
/// Per field, in order of preference: a whole-field match in the static or
/// dynamic table (one octet, usually); else a literal, its name indexed if
/// any table has it, added to the dynamic table unless the policy below
/// says the value will not recur or must not be stored. Strings are
/// Huffman-coded only where that is shorter.
///
/// The policy, after RFC 7541 §7.1 and what nghttp2 and Go's hpack do:
///
/// * never indexed (§6.2.3): fields marked [`Header::sensitive`],
///   `authorization`, `proxy-authorization`, and `cookie` values under 20
///   octets (short enough to guess, §7.1.3);
/// * not indexed: values that rarely recur, which would only evict entries
///   that do: `:path` values that look unique (long, or with a query
///   string), `content-length`, `age`, `etag`, `if-modified-since`,
///   `if-none-match`, `location`, `set-cookie`; and any field larger than
///   three quarters of the table;
/// * everything else is indexed.
#[derive(Debug)]
pub struct Encoder {
    table: Table,
    /// The largest table we will use, whatever the peer allows.
    cap: usize,
    /// The smallest size the table has had since the last block, if it
    /// changed: the next block must signal it (then the final size).
    pending_min: Option<usize>,
}

/// How a literal is sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Policy {
    Index,
    NoIndex,
    Never,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// An encoder for a peer with the protocol's initial table size of
    /// 4096 octets, using at most that much.
    #[must_use]
    pub fn new() -> Self {
        Self::with_cap(DEFAULT_TABLE_SIZE)
    }

    /// An encoder that never uses more than `cap` octets of table, even
    /// if the peer allows more (a larger table compresses better and costs
    /// both sides that much memory per connection). Starts at
    /// `min(cap, 4096)`, signaled in the first block if below 4096.
    #[must_use]
    pub fn with_cap(cap: usize) -> Self {
        let size = cap.min(DEFAULT_TABLE_SIZE);
        let mut table = Table::new(DEFAULT_TABLE_SIZE);
        table.target = size;
        Self {
            table,
            cap,
            pending_min: (size != DEFAULT_TABLE_SIZE).then_some(size),
        }
    }

    /// The peer's SETTINGS_HEADER_TABLE_SIZE, as received. The table
    /// follows it (up to this encoder's cap), and the next block starts
    /// with the size update(s) RFC 7541 §4.2 requires: the smallest size
    /// since the last block, then the final one.
    pub fn set_max_table_size(&mut self, max: usize) {
        let size = max.min(self.cap);
        let current = self.table.target;
        if size != current || self.pending_min.is_some() {
            let min = self.pending_min.unwrap_or(current).min(size);
            self.pending_min = Some(min);
        }
        self.table.target = size;
    }

    /// The table size this encoder uses (once signaled).
    #[must_use]
    pub fn table_capacity(&self) -> usize {
        self.table.target
    }

    /// The size of the entries in the dynamic table (RFC 7541 §4.1).
    #[must_use]
    pub fn table_size(&self) -> usize {
        self.table.size
    }

    /// The dynamic table's entries, newest (index 62) first.
    pub fn table_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.table.entries.iter().map(Entry::split)
    }

    /// Whether this encoder sends `field` never indexed (RFC 7541 §6.2.3):
    /// if it is marked [`Header::sensitive`], or is a credential or a short
    /// cookie (see [`Encoder`]). A decoder then marks it sensitive.
    #[must_use]
    pub fn never_indexed(field: &Header) -> bool {
        let row = static_name(&field.name).map(|r| r.0);
        policy(row, &field.name, &field.value, field.sensitive, usize::MAX) == Policy::Never
    }

    /// Appends one header block holding `headers`, in order, to `dst`.
    pub fn encode<'a>(
        &mut self,
        headers: impl IntoIterator<Item = &'a Header>,
        dst: &mut BytesMut,
    ) {
        self.start_block(dst);
        for h in headers {
            self.encode_field(&h.name, &h.value, h.sensitive, dst);
        }
    }

    /// Appends one header block holding the fields of `list`, in order,
    /// to `dst`: the same as [`Encoder::encode`] on
    /// [`HeaderList::to_headers`], without making the [`Header`]s.
    pub fn encode_list(&mut self, list: &HeaderList, dst: &mut BytesMut) {
        self.start_block(dst);
        for (name, value, sensitive) in list {
            self.encode_field(name, value, sensitive, dst);
        }
    }

    /// Starts a block made of [`Encoder::encode_field`] calls: writes the
    /// pending size updates, if any. [`Encoder::encode`] calls it.
    pub fn start_block(&mut self, dst: &mut BytesMut) {
        if let Some(min) = self.pending_min.take() {
            let size = self.table.target;
            if min < size {
                integer::encode(dst, 0x20, 5, min);
                self.table.set_capacity(min);
            }
            integer::encode(dst, 0x20, 5, size);
            self.table.set_capacity(size);
        }
    }

    /// Appends one field to the block [`Encoder::start_block`] began.
    pub fn encode_field(&mut self, name: &[u8], value: &[u8], sensitive: bool, dst: &mut BytesMut) {
        dst.reserve(name.len() + value.len() + 8);
        let rows = static_name(name);
        let policy = policy(
            rows.map(|r| r.0),
            name,
            value,
            sensitive,
            self.table.capacity,
        );
        if policy == Policy::Never {
            let name_index = self.name_index(rows, name);
            return literal(dst, 0x10, 4, name_index, name, value);
        }
        if let Some(i) = rows.and_then(|r| static_field(r, value)) {
            return integer::encode(dst, 0x80, 7, i);
        }
        if policy == Policy::NoIndex {
            let name_index = self.name_index(rows, name);
            return literal(dst, 0x00, 4, name_index, name, value);
        }
        let name_hash = hash(0, name);
        let field_hash = hash(name_hash, value);
        if let Some(i) = self.table.find_field(field_hash, name, value) {
            return integer::encode(dst, 0x80, 7, i);
        }
        let name_index = match rows {
            Some((first, _)) => first,
            None => self.table.find_name(name_hash, name).unwrap_or(0),
        };
        literal(dst, 0x40, 6, name_index, name, value);
        self.table.insert(name, value, name_hash, field_hash);
    }

    /// The smallest index holding `name`, static rows first (they are
    /// smaller), or 0.
    #[inline]
    fn name_index(&self, rows: Option<(usize, usize)>, name: &[u8]) -> usize {
        match rows {
            Some((first, _)) => first,
            None => self.table.find_name(hash(0, name), name).unwrap_or(0),
        }
    }
}

/// A literal field: name index (0 for a literal name) with the given
/// representation bits and prefix, then the strings.
#[inline]
fn literal(
    dst: &mut BytesMut,
    flags: u8,
    prefix_bits: u32,
    name_index: usize,
    name: &[u8],
    value: &[u8],
) {
    integer::encode(dst, flags, prefix_bits, name_index);
    if name_index == 0 {
        string::encode(dst, name);
    }
    string::encode(dst, value);
}

/// Static rows the policy singles out.
mod row {
    pub(super) const PATH: usize = 4;
    pub(super) const AGE: usize = 21;
    pub(super) const AUTHORIZATION: usize = 23;
    pub(super) const CONTENT_LENGTH: usize = 28;
    pub(super) const COOKIE: usize = 32;
    pub(super) const ETAG: usize = 34;
    pub(super) const IF_MODIFIED_SINCE: usize = 40;
    pub(super) const IF_NONE_MATCH: usize = 41;
    pub(super) const LOCATION: usize = 46;
    pub(super) const PROXY_AUTHORIZATION: usize = 49;
    pub(super) const SET_COOKIE: usize = 55;
}

/// How to send a literal (see [`Encoder`]).
#[inline]
fn policy(
    row: Option<usize>,
    name: &[u8],
    value: &[u8],
    sensitive: bool,
    capacity: usize,
) -> Policy {
    if sensitive {
        return Policy::Never;
    }
    let by_name = match row {
        Some(row::AUTHORIZATION | row::PROXY_AUTHORIZATION) => return Policy::Never,
        Some(row::COOKIE) if value.len() < 20 => return Policy::Never,
        Some(row::PATH) if unique_path(value) => Policy::NoIndex,
        Some(
            row::AGE
            | row::CONTENT_LENGTH
            | row::ETAG
            | row::IF_MODIFIED_SINCE
            | row::IF_NONE_MATCH
            | row::LOCATION
            | row::SET_COOKIE,
        ) => Policy::NoIndex,
        _ => Policy::Index,
    };
    if entry_size(name.len(), value.len()) > capacity / 4 * 3 {
        return Policy::NoIndex;
    }
    by_name
}

/// Whether a `:path` looks unique to its request: long, or carrying a
/// query string (ids, tokens, cache busters). Short paths (gRPC method
/// names, API routes, common assets) recur and are worth a table entry.
#[inline]
fn unique_path(path: &[u8]) -> bool {
    path.len() > 64 || path.contains(&b'?')
}

/// A fast 64-bit hash for the table's index, after wyhash: 16 octets per
/// 64x64->128-bit multiply, short strings read in at most two overlapping
/// loads. Not DoS-resistant, and need not be: a collision only lengthens
/// a chain walk, never changes the output, since every hit is compared
/// byte for byte.
#[inline]
fn hash(seed: u64, s: &[u8]) -> u64 {
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
        } else if let (Some(&x), Some(&y), Some(&z)) = (s.first(), s.get(len / 2), s.last()) {
            (u64::from(x) << 16 | u64::from(y) << 8 | u64::from(z), 0)
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

#[inline(always)]
// The halves of a 128-bit product.
#[allow(clippy::cast_possible_truncation)]
fn mum(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

#[inline(always)]
fn read8(s: &[u8], at: usize) -> u64 {
    s.get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

#[inline(always)]
fn read4(s: &[u8], at: usize) -> u64 {
    s.get(at..at + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
}

/// One entry: name and value in one shared buffer, their hashes, and the
/// next older entry in the same index buckets.
#[derive(Debug)]
struct Entry {
    data: Bytes,
    name_len: usize,
    name_hash: u64,
    field_hash: u64,
    /// Links: an id + 1, or 0 for none.
    next_name: u32,
    next_field: u32,
}

impl Entry {
    #[inline]
    fn split(&self) -> (&[u8], &[u8]) {
        self.data
            .split_at_checked(self.name_len)
            .unwrap_or_default()
    }
}

/// The encoder's dynamic table, with hash indices from names and from
/// whole fields to the entries holding them.
///
/// Entries get ids counting insertions (wrapping); entry `k` from the
/// newest has id `inserted - 1 - k`. Each index is an array of buckets,
/// each the head of a chain through the entries, newest first. Eviction
/// takes the oldest entry, which is always at the end of its chains, so
/// chains are never edited: a walk stops at the first evicted id.
#[derive(Debug)]
struct Table {
    entries: VecDeque<Entry>,
    inserted: u32,
    size: usize,
    /// The size the decoder has been told.
    capacity: usize,
    /// The size the table follows once signaled.
    target: usize,
    /// Bucket heads: an id + 1, or 0 for none.
    names: Vec<u32>,
    fields: Vec<u32>,
    arena: Arena,
}

impl Table {
    fn new(capacity: usize) -> Self {
        let mut t = Self {
            entries: VecDeque::new(),
            inserted: 0,
            size: 0,
            capacity,
            target: capacity,
            names: Vec::new(),
            fields: Vec::new(),
            arena: Arena::default(),
        };
        t.reindex();
        t
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

    fn set_capacity(&mut self, capacity: usize) {
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

    #[inline]
    fn find_field(&self, field_hash: u64, name: &[u8], value: &[u8]) -> Option<usize> {
        let mut next = head(&self.fields, field_hash);
        // Links only point at older entries; the bound is belt and braces.
        for _ in 0..self.entries.len() {
            let (k, e) = self.resolve(next)?;
            if e.field_hash == field_hash && e.split() == (name, value) {
                return Some(k + STATIC_LEN + 1);
            }
            next = e.next_field;
        }
        None
    }

    #[inline]
    fn find_name(&self, name_hash: u64, name: &[u8]) -> Option<usize> {
        let mut next = head(&self.names, name_hash);
        for _ in 0..self.entries.len() {
            let (k, e) = self.resolve(next)?;
            if e.name_hash == name_hash && e.split().0 == name {
                return Some(k + STATIC_LEN + 1);
            }
            next = e.next_name;
        }
        None
    }

    fn insert(&mut self, name: &[u8], value: &[u8], name_hash: u64, field_hash: u64) {
        let size = entry_size(name.len(), value.len());
        if size > self.capacity {
            self.evict_to(0);
            return;
        }
        self.evict_to(self.capacity - size);
        let id = self.inserted;
        self.inserted = id.wrapping_add(1);
        let entry = Entry {
            data: self.arena.copy_pair(name, value),
            name_len: name.len(),
            name_hash,
            field_hash,
            next_name: link(&mut self.names, name_hash, id),
            next_field: link(&mut self.fields, field_hash, id),
        };
        self.entries.push_front(entry);
        self.size += size;
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            let Some(e) = self.entries.pop_back() else {
                self.size = 0;
                return;
            };
            self.size -= entry_size(e.name_len, e.data.len() - e.name_len);
        }
    }
}

#[inline]
// Any bits of the hash will do: there are at most 2^16 buckets.
#[allow(clippy::cast_possible_truncation)]
fn bucket(buckets: &[u32], h: u64) -> usize {
    (h as usize) & (buckets.len() - 1)
}

#[inline]
fn head(buckets: &[u32], h: u64) -> u32 {
    buckets.get(bucket(buckets, h)).copied().unwrap_or(0)
}

/// Makes `id` the head of its bucket; returns the link to the old head.
#[inline]
fn link(buckets: &mut [u32], h: u64, id: u32) -> u32 {
    let i = bucket(buckets, h);
    buckets
        .get_mut(i)
        .map(|b| std::mem::replace(b, id.wrapping_add(1)))
        .unwrap_or(0)
}
