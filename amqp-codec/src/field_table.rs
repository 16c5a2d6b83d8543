//! Field tables and arrays (AMQP 0-9-1 §4.2.5.5) in RabbitMQ's reading.
//!
//! The 0-9-1 grammar and RabbitMQ disagree on several type letters; every
//! broker and most clients follow RabbitMQ (its "AMQP 0-9-1 errata"), and
//! so does this crate:
//!
//! | letter | RabbitMQ (used here)    | 0-9-1 grammar        |
//! |--------|-------------------------|----------------------|
//! | `b`    | signed 8-bit            | signed 8-bit         |
//! | `B`    | unsigned 8-bit          | unsigned 8-bit       |
//! | `s`    | signed 16-bit           | short string         |
//! | `u`    | unsigned 16-bit         | unsigned 16-bit      |
//! | `U`    | (decoded as `s`)        | signed 16-bit        |
//! | `I`    | signed 32-bit           | signed 32-bit        |
//! | `i`    | unsigned 32-bit         | unsigned 32-bit      |
//! | `l`    | signed 64-bit           | unsigned 64-bit      |
//! | `L`    | (decoded as `l`)        | signed 64-bit        |
//! | `x`    | byte array (longstr)    | —                    |
//!
//! `U` and `L` are accepted on decode and never sent: they decode to
//! [`FieldValue::I16`] and [`FieldValue::I64`] and encode as `s` and `l`.
//! Entries keep their order and duplicates, so a received table re-encodes
//! to the same bytes.

use std::fmt;

use bytes::{BufMut as _, Bytes, BytesMut};

use crate::config::Limits;
use crate::error::{Error, PayloadError};
use crate::string::{LongString, ShortString};
use crate::wire::{Reader, patch_len32, put_long_string, put_short_string, reserve_len32};

/// A `decimal-value`: `value / 10^scale` (RabbitMQ: unsigned 32-bit value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    /// Number of decimal digits after the point.
    pub scale: u8,
    /// The digits as an integer.
    pub value: u32,
}

/// One field value, tagged on the wire by a type letter.
///
/// Floats compare by bit pattern, so every decoded value equals itself
/// (NaN included) and the type is `Eq`.
#[derive(Clone)]
pub enum FieldValue {
    /// `t`: boolean (any non-zero octet decodes as true).
    Bool(bool),
    /// `b`: signed 8-bit.
    I8(i8),
    /// `B`: unsigned 8-bit.
    U8(u8),
    /// `s` (and `U` on decode): signed 16-bit.
    I16(i16),
    /// `u`: unsigned 16-bit.
    U16(u16),
    /// `I`: signed 32-bit.
    I32(i32),
    /// `i`: unsigned 32-bit.
    U32(u32),
    /// `l` (and `L` on decode): signed 64-bit.
    I64(i64),
    /// `f`: IEEE 754 single.
    F32(f32),
    /// `d`: IEEE 754 double.
    F64(f64),
    /// `D`: decimal.
    Decimal(Decimal),
    /// `S`: long string.
    LongString(LongString),
    /// `A`: array.
    Array(FieldArray),
    /// `T`: timestamp, seconds since the Unix epoch.
    Timestamp(u64),
    /// `F`: nested table.
    Table(FieldTable),
    /// `V`: no value.
    Void,
    /// `x`: byte array (RabbitMQ extension; a longstr on the wire).
    ByteArray(Bytes),
}

impl FieldValue {
    /// The type letter this value is sent with.
    #[must_use]
    pub const fn type_letter(&self) -> u8 {
        match self {
            Self::Bool(_) => b't',
            Self::I8(_) => b'b',
            Self::U8(_) => b'B',
            Self::I16(_) => b's',
            Self::U16(_) => b'u',
            Self::I32(_) => b'I',
            Self::U32(_) => b'i',
            Self::I64(_) => b'l',
            Self::F32(_) => b'f',
            Self::F64(_) => b'd',
            Self::Decimal(_) => b'D',
            Self::LongString(_) => b'S',
            Self::Array(_) => b'A',
            Self::Timestamp(_) => b'T',
            Self::Table(_) => b'F',
            Self::Void => b'V',
            Self::ByteArray(_) => b'x',
        }
    }

    /// The text of a long string value that is UTF-8.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::LongString(s) => s.as_str(),
            _ => None,
        }
    }

    /// Any integer value that fits an `i64`.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        Some(match *self {
            Self::I8(v) => v.into(),
            Self::U8(v) => v.into(),
            Self::I16(v) => v.into(),
            Self::U16(v) => v.into(),
            Self::I32(v) => v.into(),
            Self::U32(v) => v.into(),
            Self::I64(v) => v,
            Self::Timestamp(v) => i64::try_from(v).ok()?,
            _ => return None,
        })
    }

    /// A boolean value.
    #[must_use]
    pub const fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A nested table.
    #[must_use]
    pub const fn as_table(&self) -> Option<&FieldTable> {
        match self {
            Self::Table(t) => Some(t),
            _ => None,
        }
    }

    /// Appends the type letter and value.
    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), Error> {
        dst.put_u8(self.type_letter());
        match self {
            Self::Bool(v) => dst.put_u8(u8::from(*v)),
            Self::I8(v) => dst.put_i8(*v),
            Self::U8(v) => dst.put_u8(*v),
            Self::I16(v) => dst.put_i16(*v),
            Self::U16(v) => dst.put_u16(*v),
            Self::I32(v) => dst.put_i32(*v),
            Self::U32(v) => dst.put_u32(*v),
            Self::I64(v) => dst.put_i64(*v),
            Self::F32(v) => dst.put_f32(*v),
            Self::F64(v) => dst.put_f64(*v),
            Self::Decimal(d) => {
                dst.put_u8(d.scale);
                dst.put_u32(d.value);
            }
            Self::LongString(s) => put_long_string(dst, s)?,
            Self::Array(a) => a.encode(dst)?,
            Self::Timestamp(v) => dst.put_u64(*v),
            Self::Table(t) => t.encode(dst)?,
            Self::Void => {}
            Self::ByteArray(b) => put_long_string(dst, b)?,
        }
        Ok(())
    }
}

impl PartialEq for FieldValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a == b,
            (Self::I8(a), Self::I8(b)) => a == b,
            (Self::U8(a), Self::U8(b)) => a == b,
            (Self::I16(a), Self::I16(b)) => a == b,
            (Self::U16(a), Self::U16(b)) => a == b,
            (Self::I32(a), Self::I32(b)) => a == b,
            (Self::U32(a), Self::U32(b)) => a == b,
            (Self::I64(a), Self::I64(b)) => a == b,
            (Self::F32(a), Self::F32(b)) => a.to_bits() == b.to_bits(),
            (Self::F64(a), Self::F64(b)) => a.to_bits() == b.to_bits(),
            (Self::Decimal(a), Self::Decimal(b)) => a == b,
            (Self::LongString(a), Self::LongString(b)) => a == b,
            (Self::Array(a), Self::Array(b)) => a == b,
            (Self::Timestamp(a), Self::Timestamp(b)) => a == b,
            (Self::Table(a), Self::Table(b)) => a == b,
            (Self::Void, Self::Void) => true,
            (Self::ByteArray(a), Self::ByteArray(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for FieldValue {}

impl fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(v) => write!(f, "Bool({v})"),
            Self::I8(v) => write!(f, "I8({v})"),
            Self::U8(v) => write!(f, "U8({v})"),
            Self::I16(v) => write!(f, "I16({v})"),
            Self::U16(v) => write!(f, "U16({v})"),
            Self::I32(v) => write!(f, "I32({v})"),
            Self::U32(v) => write!(f, "U32({v})"),
            Self::I64(v) => write!(f, "I64({v})"),
            Self::F32(v) => write!(f, "F32({v:?})"),
            Self::F64(v) => write!(f, "F64({v:?})"),
            Self::Decimal(d) => write!(f, "Decimal({}e-{})", d.value, d.scale),
            Self::LongString(s) => write!(f, "S({s:?})"),
            Self::Array(a) => write!(f, "{a:?}"),
            Self::Timestamp(v) => write!(f, "Timestamp({v})"),
            Self::Table(t) => write!(f, "{t:?}"),
            Self::Void => f.write_str("Void"),
            Self::ByteArray(b) => write!(f, "x({b:?})"),
        }
    }
}

macro_rules! from_scalar {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for FieldValue {
            fn from(v: $t) -> Self {
                Self::$v(v.into())
            }
        }
    )*};
}

from_scalar!(
    bool => Bool, i8 => I8, u8 => U8, i16 => I16, u16 => U16, i32 => I32,
    u32 => U32, i64 => I64, f32 => F32, f64 => F64, Decimal => Decimal,
    LongString => LongString, &str => LongString, String => LongString,
    FieldArray => Array, FieldTable => Table,
);

/// A field table: named values in wire order (duplicates kept).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FieldTable(Vec<(ShortString, FieldValue)>);

impl FieldTable {
    /// An empty table.
    #[must_use]
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the table has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first value named `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&FieldValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key` to `value`: replaces the first entry named `key` and
    /// returns its old value, or appends a new entry.
    pub fn insert(&mut self, key: ShortString, value: FieldValue) -> Option<FieldValue> {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Appends an entry, even if one with the same name exists.
    pub fn push(&mut self, key: ShortString, value: FieldValue) {
        self.0.push((key, value));
    }

    /// Removes every entry, keeping the storage for the next ones.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Removes and returns the first value named `key`.
    pub fn remove(&mut self, key: &str) -> Option<FieldValue> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&ShortString, &FieldValue)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The entries as a slice.
    #[must_use]
    pub fn entries(&self) -> &[(ShortString, FieldValue)] {
        &self.0
    }

    /// Decodes a whole length-prefixed table (the `table` wire type) that
    /// fills `src` exactly. Nested strings share `src`.
    pub fn decode(src: &Bytes, limits: &Limits) -> Result<Self, Error> {
        let mut r = Reader::new(src);
        r.table(limits)
            .and_then(|t| r.finish().map(|()| t))
            .map_err(|e| Error::payload(0, 0, e))
    }

    /// Appends the table with its 32-bit length prefix.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), Error> {
        let at = reserve_len32(dst);
        for (k, v) in &self.0 {
            put_short_string(dst, k);
            v.encode(dst)?;
        }
        patch_len32(dst, at)
    }
}

impl FromIterator<(ShortString, FieldValue)> for FieldTable {
    fn from_iter<I: IntoIterator<Item = (ShortString, FieldValue)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl From<Vec<(ShortString, FieldValue)>> for FieldTable {
    fn from(v: Vec<(ShortString, FieldValue)>) -> Self {
        Self(v)
    }
}

impl IntoIterator for FieldTable {
    type Item = (ShortString, FieldValue);
    type IntoIter = std::vec::IntoIter<(ShortString, FieldValue)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Debug for FieldTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A field array: values in order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FieldArray(Vec<FieldValue>);

impl FieldArray {
    /// An empty array.
    #[must_use]
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the array is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends a value.
    pub fn push(&mut self, v: FieldValue) {
        self.0.push(v);
    }

    /// The values as a slice.
    #[must_use]
    pub fn values(&self) -> &[FieldValue] {
        &self.0
    }

    /// Appends the array with its 32-bit length prefix.
    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), Error> {
        let at = reserve_len32(dst);
        for v in &self.0 {
            v.encode(dst)?;
        }
        patch_len32(dst, at)
    }
}

impl From<Vec<FieldValue>> for FieldArray {
    fn from(v: Vec<FieldValue>) -> Self {
        Self(v)
    }
}

impl FromIterator<FieldValue> for FieldArray {
    fn from_iter<I: IntoIterator<Item = FieldValue>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl IntoIterator for FieldArray {
    type Item = FieldValue;
    type IntoIter = std::vec::IntoIter<FieldValue>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Debug for FieldArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

/// Inside a table, running out of bytes means an entry overran the table's
/// own length: a malformed table (502), not a short frame (501).
const fn in_table(e: PayloadError) -> PayloadError {
    match e {
        PayloadError::Truncated => PayloadError::FieldTruncated,
        e => e,
    }
}

/// The placeholder each new entry is decoded into. A constant, so its
/// bytes are copied from read-only data in whole words: built on the stack,
/// its tag byte was stored alone and then read back as part of a 16-byte
/// word, which stalls store forwarding (two fifths of table decoding,
/// measured).
const EMPTY_ENTRY: (ShortString, FieldValue) = (ShortString::new(), FieldValue::Void);

/// Typical wire lengths of a table entry (a key of about ten bytes, a
/// letter, a number or short string) and of an array value, for
/// [`guess_len`].
const TABLE_ENTRY_WIRE_LEN: usize = 16;
const ARRAY_VALUE_WIRE_LEN: usize = 8;

/// Capacity to reserve for the entries of `wire_len` bytes, each about
/// `typical` long: at least what a first push reserves, and at most 64,
/// so that a few long values do not reserve room for many entries (a
/// longer table grows as a `Vec` does).
fn guess_len(wire_len: usize, typical: usize) -> usize {
    (wire_len / typical).clamp(4, 64)
}

/// Decodes the entries filling `r`, a table at nesting `depth`.
pub(crate) fn decode_entries(
    r: Reader<'_>,
    depth: usize,
    limits: &Limits,
) -> Result<FieldTable, PayloadError> {
    let mut table = FieldTable::new();
    decode_entries_into(r, depth, limits, &mut table)?;
    Ok(table)
}

/// [`decode_entries`] into `table`, whatever it holds: a reused table (the
/// last message's headers) is overwritten entry by entry, keys set in
/// place and values replaced only where the type differs, then cut to
/// length, or extended. Clearing it first and pushing each entry anew cost
/// a drop per old entry and a placeholder write per new one. On error
/// `table` holds entries of no meaning.
///
/// Each new entry is pushed empty and decoded into place: built on the
/// stack and moved into the `Vec`, keys and values are written and read
/// back in pieces of different sizes, which stalls store forwarding.
pub(crate) fn decode_entries_into(
    mut r: Reader<'_>,
    depth: usize,
    limits: &Limits,
    table: &mut FieldTable,
) -> Result<(), PayloadError> {
    if depth > limits.max_table_depth {
        return Err(PayloadError::TableTooDeep {
            limit: limits.max_table_depth,
        });
    }
    let entries = &mut table.0;
    if !entries.is_empty() {
        let n = overwrite_entries(&mut r, depth, limits, entries)?;
        entries.truncate(n);
    }
    if !r.is_empty() && entries.capacity() == 0 {
        // Sized from the wire length, so that a table of typical entries is
        // allocated once rather than grown (growth was a sixth of decoding
        // a 20-entry table). The empty `Vec` replaced owns nothing, so it
        // is not worth a drop call.
        let cap = guess_len(r.len(), TABLE_ENTRY_WIRE_LEN);
        std::mem::forget(std::mem::replace(entries, Vec::with_capacity(cap)));
    }
    while !r.is_empty() {
        // Not `push`, which keeps its argument on the stack across its grow
        // call: `resize_with` makes the value after growing, in place.
        entries.resize_with(entries.len() + 1, || EMPTY_ENTRY);
        let Some((key, value)) = entries.last_mut() else {
            break;
        };
        r.short_string_into(key).map_err(in_table)?;
        decode_value::<true>(&mut r, depth, limits, value)?;
    }
    Ok(())
}

/// Decodes entries of a table at nesting `depth` from `r` over `entries`
/// until either runs out; returns how many were decoded. A loop of its
/// own, ahead of the one that pushes, so that a fresh table (every taken
/// message's) pays one test for it.
#[inline]
fn overwrite_entries(
    r: &mut Reader<'_>,
    depth: usize,
    limits: &Limits,
    entries: &mut [(ShortString, FieldValue)],
) -> Result<usize, PayloadError> {
    let mut n = 0;
    for (key, value) in entries {
        if r.is_empty() {
            break;
        }
        r.short_string_into(key).map_err(in_table)?;
        decode_value::<false>(r, depth, limits, value)?;
        n += 1;
    }
    Ok(n)
}

/// Decodes the values filling `r`, an array at nesting `depth`, each into
/// place as [`decode_entries`] does.
fn decode_array(
    mut r: Reader<'_>,
    depth: usize,
    limits: &Limits,
) -> Result<FieldArray, PayloadError> {
    if depth > limits.max_table_depth {
        return Err(PayloadError::TableTooDeep {
            limit: limits.max_table_depth,
        });
    }
    let mut values = Vec::with_capacity(guess_len(r.len(), ARRAY_VALUE_WIRE_LEN));
    while !r.is_empty() {
        values.push(FieldValue::Void);
        let Some(value) = values.last_mut() else {
            break;
        };
        decode_value::<true>(&mut r, depth, limits, value)?;
    }
    Ok(FieldArray(values))
}

/// Decodes one type letter and value of a table or array at `depth` into
/// `dst`. If `FRESH`, `dst` holds [`FieldValue::Void`], which owns nothing,
/// and is overwritten without a call to the drop glue; otherwise it holds
/// whatever the entry held before, and a value of the same type is
/// overwritten in place (a nested table entry by entry), which spares the
/// drop of the old one.
// Inlined into its callers, like the shortstrs, for store forwarding
// (table decoding about -17%).
#[inline(always)]
fn decode_value<const FRESH: bool>(
    r: &mut Reader<'_>,
    depth: usize,
    limits: &Limits,
    dst: &mut FieldValue,
) -> Result<(), PayloadError> {
    /// Sets `dst` to the value of `$variant` read by `$read`.
    macro_rules! set {
        ($variant:ident, $read:expr) => {
            $read.map(|v| {
                if FRESH {
                    let old = std::mem::replace(dst, FieldValue::$variant(v));
                    debug_assert!(matches!(old, FieldValue::Void));
                    std::mem::forget(old);
                } else {
                    match dst {
                        FieldValue::$variant(old) => *old = v,
                        _ => *dst = FieldValue::$variant(v),
                    }
                }
            })
        };
    }
    let tag = r.next_u8().ok_or(PayloadError::FieldTruncated)?;
    let v = match tag {
        b't' => set!(Bool, r.u8().map(|b| b != 0)),
        b'b' => set!(I8, r.u8().map(|b| i8::from_be_bytes([b]))),
        b'B' => set!(U8, r.u8()),
        b's' | b'U' => set!(I16, r.i16()),
        b'u' => set!(U16, r.u16()),
        b'I' => set!(I32, r.i32()),
        b'i' => set!(U32, r.u32()),
        b'l' | b'L' => set!(I64, r.i64()),
        b'f' => set!(F32, r.u32().map(f32::from_bits)),
        b'd' => set!(F64, r.u64().map(f64::from_bits)),
        b'D' => set!(
            Decimal,
            r.u8()
                .and_then(|scale| r.u32().map(|value| Decimal { scale, value }))
        ),
        b'S' => set!(LongString, r.long_string()),
        b'A' => {
            let inner = r.sized().map_err(in_table)?;
            set!(Array, decode_array(inner, depth + 1, limits))
        }
        b'T' => set!(Timestamp, r.u64()),
        b'F' => {
            let inner = r.sized().map_err(in_table)?;
            match dst {
                FieldValue::Table(t) if !FRESH => decode_entries_into(inner, depth + 1, limits, t),
                _ => set!(Table, decode_entries(inner, depth + 1, limits)),
            }
        }
        b'V' => {
            if !FRESH && !matches!(dst, FieldValue::Void) {
                *dst = FieldValue::Void;
            }
            Ok(())
        }
        b'x' => set!(ByteArray, r.len32().and_then(|n| r.bytes(n))),
        other => Err(PayloadError::UnknownFieldType(other)),
    };
    v.map_err(in_table)
}

#[cfg(test)]
mod tests;
