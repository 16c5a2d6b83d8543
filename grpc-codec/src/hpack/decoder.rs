//! Header block decoding, RFC 7541 §3 and §6.

use bytes::Bytes;

use super::list::{self, HeaderList};
use super::table::{Arena, DynamicTable, Literal, STATIC, STATIC_LEN, static_entry};
use super::{DEFAULT_TABLE_SIZE, Error, Header, Limits, entry_size, huffman, integer, string};

/// Decodes header blocks from one peer's encoder, keeping the dynamic table
/// in step with it across blocks.
///
/// Literal strings sent raw come out as slices of the block (no copy);
/// static-table fields as static bytes; Huffman-coded strings and the
/// dynamic table's entries live in shared chunks the decoder allocates a
/// few KiB at a time.
#[derive(Debug)]
pub struct Decoder {
    table: DynamicTable,
    /// Our SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for.
    max_table_size: usize,
    /// We lowered `max_table_size` below the table's capacity: the next
    /// block must start with a size update that fits.
    update_required: bool,
    limits: Limits,
    /// Table entries' strings.
    table_strings: Arena,
    /// Huffman-decoded strings of fields that are not indexed.
    strings: Arena,
    /// Huffman-decoded names and values for [`Decoder::decode_borrowed`].
    name_scratch: Vec<u8>,
    value_scratch: Vec<u8>,
}

/// The name (literal, or a table entry's name) and value of a literal
/// field representation (RFC 7541 §6.2) whose name index has a
/// `prefix_bits`-bit prefix, and what follows. Both strings are split off
/// before either is decoded, so every decode path fails alike on a block
/// whose name is bad and whose value is truncated.
#[inline]
fn split_literal<'s, 'r: 's>(
    table: &'s DynamicTable,
    rest: &'r [u8],
    prefix_bits: u32,
    limit: usize,
) -> Result<(Literal<'s>, Literal<'s>, &'r [u8]), Error> {
    let (index, rest) = integer::decode(rest, prefix_bits)?;
    let (name, rest) = if index == 0 {
        let (huffman, s, r) = string::split(rest, limit)?;
        (Literal::new(huffman, s), r)
    } else {
        (Literal::Raw(field_ref(table, index)?.0), rest)
    };
    let (huffman, s, rest) = string::split(rest, limit)?;
    Ok((name, Literal::new(huffman, s), rest))
}

/// Name and value of table entry `index` (static, then dynamic), borrowed.
#[inline]
fn field_ref(table: &DynamicTable, index: usize) -> Result<(&[u8], &[u8]), Error> {
    if index <= STATIC_LEN {
        let &(n, v) = index
            .checked_sub(1)
            .and_then(|i| STATIC.get(i))
            .ok_or(Error::InvalidIndex(index))?;
        return Ok((n.as_bytes(), v.as_bytes()));
    }
    table
        .get(index - STATIC_LEN - 1)
        .ok_or(Error::InvalidIndex(index))
}

/// A string literal's octets: as sent, or Huffman-decoded into `buf`.
#[inline]
fn scratch<'a>(
    literal: Literal<'a>,
    buf: &'a mut Vec<u8>,
    limit: usize,
) -> Result<&'a [u8], Error> {
    let s = match literal {
        Literal::Raw(s) => return Ok(s),
        Literal::Huffman(s) => s,
    };
    let need = huffman::max_decoded_len(s.len());
    if buf.len() < need {
        buf.resize(need, 0);
    }
    let n = huffman::decode_slice(s, buf)?;
    if n > limit {
        return Err(Error::StringTooLong { len: n, limit });
    }
    Ok(buf.get(..n).unwrap_or_default())
}

impl Default for Decoder {
    /// A decoder for the protocol's initial 4096-octet table and default
    /// [`Limits`].
    fn default() -> Self {
        Self::new(DEFAULT_TABLE_SIZE, Limits::default())
    }
}

impl Decoder {
    /// A decoder whose table may grow to `max_table_size` octets (our
    /// SETTINGS_HEADER_TABLE_SIZE; the table starts at that size).
    ///
    /// Until our SETTINGS are acknowledged the peer's encoder assumes the
    /// protocol default of 4096 ([`super::DEFAULT_TABLE_SIZE`]): start with
    /// that and call [`Decoder::set_max_table_size`] on the acknowledgment.
    #[must_use]
    pub fn new(max_table_size: usize, limits: Limits) -> Self {
        Self {
            table: DynamicTable::new(max_table_size),
            max_table_size,
            update_required: false,
            limits,
            table_strings: Arena::default(),
            strings: Arena::default(),
            name_scratch: Vec::new(),
            value_scratch: Vec::new(),
        }
    }

    /// Our new SETTINGS_HEADER_TABLE_SIZE, once the peer has acknowledged
    /// it. If it is below the table's current size, the peer's next block
    /// must start with a size update to at most `max` (RFC 7541 §4.2), or
    /// decoding it fails with [`Error::SizeUpdateMissing`].
    pub fn set_max_table_size(&mut self, max: usize) {
        self.max_table_size = max;
        self.update_required = max < self.table.capacity();
    }

    /// Our SETTINGS_HEADER_TABLE_SIZE.
    #[must_use]
    pub fn max_table_size(&self) -> usize {
        self.max_table_size
    }

    /// The dynamic table's size, as last set by the peer.
    #[must_use]
    pub fn table_capacity(&self) -> usize {
        self.table.capacity()
    }

    /// The size of the entries in the dynamic table (RFC 7541 §4.1).
    #[must_use]
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's entries, newest (index 62) first.
    pub fn table_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.table.iter()
    }

    /// The limits this decoder enforces.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Decodes one whole header block, calling `emit` with each field in
    /// order.
    ///
    /// # Errors
    ///
    /// Any [`Error`]. All but [`Error::HeaderListTooLarge`] are
    /// COMPRESSION_ERRORs: `emit` may have seen part of the block, and the
    /// decoder is out of step with the peer. For `HeaderListTooLarge` the
    /// block was decoded to its end (keeping the table in step), but fields
    /// past the limit were not emitted.
    pub fn decode(&mut self, block: &Bytes, mut emit: impl FnMut(Header)) -> Result<(), Error> {
        let mut rest = self.block_start(block)?;
        let limit = self.limits.max_header_list_size;
        let mut list_size = 0usize;
        while let Some(&first) = rest.first() {
            let header;
            if first & 0x80 != 0 {
                // Indexed field (§6.1).
                let (index, r) = integer::decode(rest, 7)?;
                rest = r;
                let (name, value) = self.field(index)?;
                header = Header {
                    name,
                    value,
                    sensitive: false,
                };
            } else if first & 0x40 != 0 {
                // Literal with incremental indexing (§6.2.1).
                let (entry, name_len, r) = self.indexed_literal(rest)?;
                rest = r;
                let name_len = name_len.min(entry.len());
                header = Header {
                    name: entry.slice(..name_len),
                    value: entry.slice(name_len..),
                    sensitive: false,
                };
                self.table.insert(entry, name_len);
            } else if first & 0x20 != 0 {
                return Err(Error::SizeUpdateNotAtStart);
            } else {
                // Literal without indexing (§6.2.2) or never indexed (§6.2.3).
                let (name, value, r) = self.literal(block, rest)?;
                rest = r;
                header = Header {
                    name,
                    value,
                    sensitive: first & 0x10 != 0,
                };
            }
            list_size = list_size.saturating_add(header.size());
            if list_size <= limit {
                emit(header);
            }
        }
        if list_size > limit {
            return Err(Error::HeaderListTooLarge {
                size: list_size,
                limit,
            });
        }
        Ok(())
    }

    /// [`Decoder::decode`] into a `Vec`.
    ///
    /// # Errors
    ///
    /// As [`Decoder::decode`]; the fields are lost.
    pub fn decode_to_vec(&mut self, block: &Bytes) -> Result<Vec<Header>, Error> {
        let mut v = Vec::new();
        self.decode(block, |h| v.push(h))?;
        Ok(v)
    }

    /// Decodes one whole header block, calling `emit` with each field's
    /// name, value and never-indexed flag, borrowed: from `block`, the
    /// tables, or a scratch buffer reused for the next field.
    ///
    /// The same as [`Decoder::decode`], for callers that copy what they
    /// keep (or keep little): it skips making a [`Header`] of shared
    /// [`Bytes`] per field, and their reference counting.
    ///
    /// # Errors
    ///
    /// As [`Decoder::decode`].
    pub fn decode_borrowed(
        &mut self,
        block: &[u8],
        mut emit: impl FnMut(&[u8], &[u8], bool),
    ) -> Result<(), Error> {
        let mut rest = self.block_start(block)?;
        let limit = self.limits.max_header_list_size;
        let max_string = self.limits.max_string_len;
        let mut list_size = 0usize;
        while let Some(&first) = rest.first() {
            if first & 0x80 != 0 {
                let (index, r) = integer::decode(rest, 7)?;
                rest = r;
                let (name, value) = field_ref(&self.table, index)?;
                list_size = list_size.saturating_add(entry_size(name.len(), value.len()));
                if list_size <= limit {
                    emit(name, value, false);
                }
            } else if first & 0x40 != 0 {
                let (entry, name_len, r) = self.indexed_literal(rest)?;
                rest = r;
                let (name, value) = entry.split_at_checked(name_len).unwrap_or_default();
                list_size = list_size.saturating_add(entry_size(name.len(), value.len()));
                if list_size <= limit {
                    emit(name, value, false);
                }
                self.table.insert(entry, name_len);
            } else if first & 0x20 != 0 {
                return Err(Error::SizeUpdateNotAtStart);
            } else {
                let (name, value, r) = split_literal(&self.table, rest, 4, max_string)?;
                rest = r;
                let name = scratch(name, &mut self.name_scratch, max_string)?;
                let value = scratch(value, &mut self.value_scratch, max_string)?;
                list_size = list_size.saturating_add(entry_size(name.len(), value.len()));
                if list_size <= limit {
                    emit(name, value, first & 0x10 != 0);
                }
            }
        }
        if list_size > limit {
            return Err(Error::HeaderListTooLarge {
                size: list_size,
                limit,
            });
        }
        Ok(())
    }

    /// Decodes one whole header block into `out`, replacing what it held
    /// (its allocations are kept): the owned form of
    /// [`Decoder::decode_borrowed`], with every name and value copied or
    /// Huffman-decoded (RFC 7541 §5.2) once, into the list's one buffer.
    ///
    /// # Errors
    ///
    /// As [`Decoder::decode`]: `out` holds the fields decoded before the
    /// error; for [`Error::HeaderListTooLarge`] those within the limit.
    /// The list's 4 GiB bound counts as a limit too.
    pub fn decode_list(&mut self, block: &[u8], out: &mut HeaderList) -> Result<(), Error> {
        out.clear();
        let result = self.decode_into_list(block, out);
        if result.is_err() {
            // Drop the octets of a field left half decoded.
            out.rewind(out.fields_end());
        }
        result
    }

    /// [`Decoder::decode_list`] into a cleared list.
    #[inline]
    fn decode_into_list(&mut self, block: &[u8], out: &mut HeaderList) -> Result<(), Error> {
        let mut rest = self.block_start(block)?;
        let limit = self.limits.max_header_list_size.min(list::MAX_BYTES);
        let max_string = self.limits.max_string_len;
        let mut list_size = 0usize;
        while let Some(&first) = rest.first() {
            let start = out.mark();
            if first & 0x80 != 0 {
                // Indexed field (§6.1).
                let (index, r) = integer::decode(rest, 7)?;
                rest = r;
                let (name, value) = field_ref(&self.table, index)?;
                list_size = list_size.saturating_add(entry_size(name.len(), value.len()));
                if list_size <= limit {
                    out.append(name);
                    let name_end = out.mark();
                    out.append(value);
                    out.commit(start, name_end, false);
                }
                continue;
            }
            let (prefix_bits, indexing) = if first & 0x40 != 0 {
                // Literal with incremental indexing (§6.2.1).
                (6, true)
            } else if first & 0x20 != 0 {
                return Err(Error::SizeUpdateNotAtStart);
            } else {
                // Literal without indexing (§6.2.2) or never indexed (§6.2.3).
                (4, false)
            };
            // Both strings are split off before either is decoded, as in
            // `decode`, so that a block fails with the same error.
            let (index, r) = integer::decode(rest, prefix_bits)?;
            let (name, r) = if index == 0 {
                let (huffman, s, r) = string::split(r, max_string)?;
                (Some(Literal::new(huffman, s)), r)
            } else {
                out.append(field_ref(&self.table, index)?.0);
                (None, r)
            };
            let (huffman, s, r) = string::split(r, max_string)?;
            rest = r;
            let name_end = match (name, huffman) {
                (Some(Literal::Huffman(name)), true) => {
                    out.append_huffman_pair(name, s, max_string)?
                }
                (name, _) => {
                    if let Some(name) = name {
                        out.append_literal(name, max_string)?;
                    }
                    let name_end = out.mark();
                    out.append_literal(Literal::new(huffman, s), max_string)?;
                    name_end
                }
            };
            let (name, value) = out.pending(start, name_end);
            list_size = list_size.saturating_add(entry_size(name.len(), value.len()));
            if indexing {
                let entry = self.table_strings.copy_pair(name, value);
                self.table.insert(entry, name.len());
            }
            if list_size <= limit {
                out.commit(start, name_end, !indexing && first & 0x10 != 0);
            } else {
                out.rewind(start);
            }
        }
        if list_size > limit {
            return Err(Error::HeaderListTooLarge {
                size: list_size,
                limit,
            });
        }
        Ok(())
    }

    /// Checks and applies the size updates at the front of a block (§4.2,
    /// §6.3); returns what follows them.
    #[inline]
    fn block_start<'a>(&mut self, block: &'a [u8]) -> Result<&'a [u8], Error> {
        let rest = block;
        if self.update_required {
            if rest.first().is_none_or(|b| b & 0xe0 != 0x20) {
                return Err(Error::SizeUpdateMissing);
            }
            let rest = self.size_updates(rest)?;
            if self.table.capacity() > self.max_table_size {
                return Err(Error::SizeUpdateMissing);
            }
            self.update_required = false;
            Ok(rest)
        } else if rest.first().is_some_and(|b| b & 0xe0 == 0x20) {
            self.size_updates(rest)
        } else {
            Ok(rest)
        }
    }

    /// The size updates at the front of a block (§6.3): returns what
    /// follows them.
    #[cold]
    fn size_updates<'a>(&mut self, mut rest: &'a [u8]) -> Result<&'a [u8], Error> {
        while rest.first().is_some_and(|b| b & 0xe0 == 0x20) {
            let (size, r) = integer::decode(rest, 5)?;
            rest = r;
            if size > self.max_table_size {
                return Err(Error::SizeUpdateTooLarge {
                    size,
                    max: self.max_table_size,
                });
            }
            self.table.set_capacity(size);
        }
        Ok(rest)
    }

    /// Name and value of table entry `index` (static, then dynamic).
    #[inline]
    fn field(&self, index: usize) -> Result<(Bytes, Bytes), Error> {
        if index <= STATIC_LEN {
            return static_entry(index).ok_or(Error::InvalidIndex(index));
        }
        self.table
            .get_shared(index - STATIC_LEN - 1)
            .ok_or(Error::InvalidIndex(index))
    }

    /// A literal field with incremental indexing (§6.2.1) from the front
    /// of `rest`: the new table entry (name and value in one copy), the
    /// name's length and what follows.
    #[inline]
    fn indexed_literal<'a>(&mut self, rest: &'a [u8]) -> Result<(Bytes, usize, &'a [u8]), Error> {
        let limit = self.limits.max_string_len;
        let (name, value, rest) = split_literal(&self.table, rest, 6, limit)?;
        let (entry, name_len) = self.table_strings.field(name, value, limit)?;
        Ok((entry, name_len, rest))
    }

    /// A literal field without indexing (§6.2.2) or never indexed
    /// (§6.2.3) from the front of `rest`, a suffix of `block`: name, value
    /// and what follows.
    #[inline]
    fn literal<'a>(
        &mut self,
        block: &Bytes,
        rest: &'a [u8],
    ) -> Result<(Bytes, Bytes, &'a [u8]), Error> {
        let limit = self.limits.max_string_len;
        let (index, rest) = integer::decode(rest, 4)?;
        // Both strings are split off before either is decoded.
        let (name, rest) = if index == 0 {
            let (huffman, s, r) = string::split(rest, limit)?;
            (Err((huffman, s, r.len())), r)
        } else {
            (Ok(self.field(index)?.0), rest)
        };
        let (huffman, s, r) = string::split(rest, limit)?;
        let name = match name {
            Ok(name) => name,
            Err((huffman, s, after)) => self.string(block, huffman, s, after)?,
        };
        let value = self.string(block, huffman, s, r.len())?;
        Ok((name, value, r))
    }

    /// A string literal's octets `s`, followed by `after` octets of
    /// `block`: raw, a slice of `block`; Huffman-coded, decoded into a
    /// shared chunk.
    #[inline]
    fn string(
        &mut self,
        block: &Bytes,
        huffman: bool,
        s: &[u8],
        after: usize,
    ) -> Result<Bytes, Error> {
        if huffman {
            return self.strings.huffman(s, self.limits.max_string_len);
        }
        let end = block.len() - after;
        Ok(block.slice(end - s.len()..end))
    }
}
