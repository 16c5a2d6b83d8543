//! Header block encoding, RFC 7541 §6, with the indexing policy of §7.1.

use bytes::BytesMut;

use super::{DEFAULT_TABLE_SIZE, Header, HeaderList, entry_size, integer, string};

mod index;

use index::{NAME_SEED, Table, hash, static_field, static_name};

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
///
/// Whether strings may be Huffman-coded is [`Encoder::set_huffman`]'s
/// choice.
#[derive(Debug)]
pub struct Encoder {
    table: Table,
    huffman: Huffman,
    /// The largest table we will use, whatever the peer allows.
    cap: usize,
    /// The smallest size the table has had since the last block, if it
    /// changed: the next block must signal it (then the final size).
    pending_min: Option<usize>,
}

/// Whether the encoder Huffman-codes string literals (RFC 7541 §5.2).
///
/// Huffman coding makes typical header text about a fifth shorter (the
/// hpack-test-case stories: 0.31 of their plain size coded this way with
/// indexing, against 0.39 raw) and costs CPU on both ends: about a
/// nanosecond per octet here, and the peer's decoder must undo it. The
/// dynamic table's savings do not depend on it. On a fast LAN, or in a
/// proxy where headers are re-encoded per hop, `Never` can be the better
/// trade; over the internet, where header bytes delay the first
/// response, keep `WhenShorter`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Huffman {
    /// Code a string when that makes it shorter (the default).
    #[default]
    WhenShorter,
    /// Always send the raw octets.
    Never,
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
            huffman: Huffman::WhenShorter,
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

    /// Sets whether string literals are Huffman-coded from the next field
    /// on (see [`Huffman`] for the trade-off).
    pub fn set_huffman(&mut self, huffman: Huffman) {
        self.huffman = huffman;
    }

    /// Whether string literals are Huffman-coded.
    #[must_use]
    pub fn huffman(&self) -> Huffman {
        self.huffman
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
        self.table.entries()
    }

    /// Whether this encoder sends `field` never indexed (RFC 7541 §6.2.3):
    /// if it is marked [`Header::sensitive`], or is a credential or a short
    /// cookie (see [`Encoder`]). A decoder then marks it sensitive.
    #[must_use]
    pub fn never_indexed(field: &Header) -> bool {
        let row = static_name(&field.name, hash(NAME_SEED, &field.name)).map(|r| r.0);
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
        let name_hash = hash(NAME_SEED, name);
        let rows = static_name(name, name_hash);
        let policy = policy(
            rows.map(|r| r.0),
            name,
            value,
            sensitive,
            self.table.capacity,
        );
        if policy == Policy::Never {
            let name_index = self.name_index(rows, name_hash, name);
            return self.literal(dst, 0x10, 4, name_index, name, value);
        }
        if let Some(i) = rows.and_then(|r| static_field(r, value)) {
            return integer::encode(dst, 0x80, 7, i);
        }
        if policy == Policy::NoIndex {
            let name_index = self.name_index(rows, name_hash, name);
            return self.literal(dst, 0x00, 4, name_index, name, value);
        }
        let field_hash = hash(name_hash, value);
        if let Some(i) = self.table.find_field(field_hash, name, value) {
            return integer::encode(dst, 0x80, 7, i);
        }
        let name_index = self.name_index(rows, name_hash, name);
        self.literal(dst, 0x40, 6, name_index, name, value);
        self.table.insert(name, value, name_hash, field_hash);
    }

    /// The smallest index holding `name`, static rows first (they are
    /// smaller), or 0.
    #[inline]
    fn name_index(&self, rows: Option<(usize, usize)>, name_hash: u64, name: &[u8]) -> usize {
        match rows {
            Some((first, _)) => first,
            None => self.table.find_name(name_hash, name).unwrap_or(0),
        }
    }

    /// A literal field: name index (0 for a literal name) with the given
    /// representation bits and prefix, then the strings.
    #[inline(always)]
    fn literal(
        &self,
        dst: &mut BytesMut,
        flags: u8,
        prefix_bits: u32,
        name_index: usize,
        name: &[u8],
        value: &[u8],
    ) {
        integer::encode(dst, flags, prefix_bits, name_index);
        match self.huffman {
            Huffman::WhenShorter => {
                if name_index == 0 {
                    string::encode(dst, name);
                }
                string::encode(dst, value);
            }
            Huffman::Never => {
                if name_index == 0 {
                    string::encode_raw(dst, name);
                }
                string::encode_raw(dst, value);
            }
        }
    }
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
