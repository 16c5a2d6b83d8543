//! The two string types of AMQP 0-9-1 §4.2.5.3: `shortstr` and `longstr`.
//!
//! A [`ShortString`] is at most 255 bytes by construction, so encoding one
//! cannot fail. It is UTF-8, as RabbitMQ requires of the shortstrs it
//! checks (a malformed one is a 501 frame-error there and here).
//!
//! A [`LongString`] is binary (SASL responses, table values) and is a
//! [`Bytes`] sliced out of the received frame: decoding one copies nothing.
//! Holding on to it keeps the frame's buffer alive; copy it
//! ([`LongString::to_vec`]) before storing it for long.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;

use crate::error::Error;

/// Longest string a [`ShortString`] keeps in place, without allocating:
/// 31 bytes, beside a length octet, in 32 bytes. That holds RabbitMQ's
/// generated consumer tags (`amq.ctag-` and 22 characters), which arrive
/// with every delivery.
pub(crate) const INLINE: usize = 31;

/// A `shortstr`: UTF-8, at most [`ShortString::MAX_LEN`] bytes.
///
/// Strings of up to 31 bytes (most exchange, queue and routing-key names,
/// consumer tags, content types, table keys) are kept in place, so decoding one does not
/// allocate; their `&str` view re-reads those few bytes as UTF-8 (they were
/// checked when the string was made), which costs less than the allocation
/// it saves. Longer strings live on the heap.
#[derive(Clone)]
pub struct ShortString(Repr);

#[derive(Clone)]
enum Repr {
    /// The first `len` bytes of `buf`; the bytes after them mean nothing.
    Inline { len: InlineLen, buf: [u8; INLINE] },
    /// More than [`INLINE`] bytes.
    Heap(Box<str>),
}

/// The length of an inline string, 0 to 31, as an enum: its 224 unused
/// values are the niche that tells [`Repr::Heap`] apart, so a
/// [`ShortString`] is 32 bytes with no tag of its own (and no `unsafe`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[rustfmt::skip]
enum InlineLen {
    L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15, L16, L17, L18, L19, L20, L21, L22, L23, L24, L25, L26, L27, L28, L29, L30, L31,
}

const _: () = assert!(size_of::<ShortString>() == 32 && size_of::<InlineLen>() == 1);

impl InlineLen {
    #[rustfmt::skip]
    const ALL: [Self; INLINE + 1] = {
        use InlineLen::*;
        [L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15, L16, L17, L18, L19, L20, L21, L22, L23, L24, L25, L26, L27, L28, L29, L30, L31]
    };

    /// `n` if it is at most [`INLINE`].
    #[inline]
    fn new(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n)).copied()
    }

    #[inline]
    const fn get(self) -> usize {
        self as usize
    }
}

impl ShortString {
    /// Longest `shortstr` in bytes: its length prefix is one octet.
    pub const MAX_LEN: usize = 255;

    /// The empty string.
    #[must_use]
    pub const fn new() -> Self {
        Self(Repr::Inline {
            len: InlineLen::L0,
            buf: [0; INLINE],
        })
    }

    /// `s` if it fits in 255 bytes, else [`Error::StringTooLong`].
    pub fn try_new(s: impl Into<String>) -> Result<Self, Error> {
        let s = s.into();
        if s.len() > Self::MAX_LEN {
            return Err(Error::StringTooLong {
                len: s.len(),
                max: Self::MAX_LEN,
            });
        }
        Ok(Self::inline(&s).unwrap_or_else(|| Self(Repr::Heap(s.into_boxed_str()))))
    }

    /// `s` kept in place, if it is short enough.
    fn inline(s: &str) -> Option<Self> {
        let mut buf = [0; INLINE];
        buf.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        let len = InlineLen::new(u8::try_from(s.len()).ok()?)?;
        Some(Self(Repr::Inline { len, buf }))
    }

    /// `s`, which is at most 255 bytes.
    fn from_str(s: &str) -> Self {
        Self::inline(s).unwrap_or_else(|| Self(Repr::Heap(s.into())))
    }

    /// For the generator's spec defaults, all of which are short ASCII.
    /// Anything longer becomes the empty string rather than panic.
    pub(crate) fn from_static(s: &'static str) -> Self {
        if s.len() <= Self::MAX_LEN {
            Self::from_str(s)
        } else {
            Self::new()
        }
    }

    /// Decodes the bytes of a received shortstr (already at most 255 long).
    pub(crate) fn from_wire(b: &[u8]) -> Option<Self> {
        std::str::from_utf8(b).ok().map(Self::from_str)
    }

    /// Decodes a received shortstr of `len` bytes, at most [`INLINE`], from
    /// the start of `window` into `self`: a fixed-size copy, cheaper than
    /// one of `len`. Leaves `self` alone and returns `false` if the bytes
    /// are not UTF-8.
    #[inline(always)]
    pub(crate) fn set_from_wire_window(&mut self, window: &[u8; INLINE], len: u8) -> bool {
        let (Some(s), Some(n)) = (window.get(..usize::from(len)), InlineLen::new(len)) else {
            return false;
        };
        if !window_is_ascii(window, len) && std::str::from_utf8(s).is_err() {
            return false;
        }
        self.0 = Repr::Inline {
            len: n,
            buf: *window,
        };
        true
    }

    /// The string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Checked when made, so this never falls back to "".
            Repr::Inline { len, buf } => buf
                .get(..len.get())
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            Repr::Heap(s) => s,
        }
    }

    /// The bytes, as they go on the wire.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => buf.get(..len.get()).unwrap_or_default(),
            Repr::Heap(s) => s.as_bytes(),
        }
    }

    /// The string as an owned `String`.
    #[must_use]
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Inline { .. } => self.as_str().to_owned(),
            Repr::Heap(s) => s.into(),
        }
    }

    /// The length prefix as it goes on the wire.
    pub(crate) fn wire_len(&self) -> u8 {
        u8::try_from(self.as_bytes().len()).unwrap_or(u8::MAX)
    }
}

/// Whether the first `len` bytes of `window` are ASCII (so UTF-8), tested
/// as two overlapping 16-byte words with the bytes past `len` masked off:
/// names on the wire are nearly always ASCII, and `str::from_utf8` walks
/// short strings a byte at a time (a sixth of message decoding, measured).
fn window_is_ascii(window: &[u8; INLINE], len: u8) -> bool {
    // The two words must cover the window.
    const _: () = assert!(INLINE >= 16 && INLINE <= 32);
    // Where the second word starts: the window's last 16 bytes.
    const HI_START: u8 = 15;
    const _: () = assert!(HI_START as usize + 16 == INLINE);
    const HIGH: u128 = u128::from_ne_bytes([0x80; 16]);
    let (Some(lo), Some(hi)) = (window.first_chunk::<16>(), window.last_chunk::<16>()) else {
        return false;
    };
    let (lo, hi) = (u128::from_le_bytes(*lo), u128::from_le_bytes(*hi));
    // The bytes after a string on the wire are mostly ASCII too: a whole
    // ASCII window needs no masks.
    if (lo | hi) & HIGH == 0 {
        return true;
    }
    // Bytes 0..16 and 15..31; `checked_shr` gives 0 (no byte) at 128.
    let lo_bytes = u32::from(len.min(16));
    let hi_bytes = u32::from(len.saturating_sub(HI_START).min(16));
    let lo_mask = u128::MAX.checked_shr(128 - 8 * lo_bytes).unwrap_or(0);
    let hi_mask = u128::MAX.checked_shr(128 - 8 * hi_bytes).unwrap_or(0);
    ((lo & lo_mask) | (hi & hi_mask)) & HIGH == 0
}

impl Default for ShortString {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for ShortString {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ShortString {}

impl PartialOrd for ShortString {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Byte order, which for UTF-8 is the order of `str`.
impl Ord for ShortString {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

/// Hashes as the `str` it holds, as [`Borrow<str>`] requires.
impl Hash for ShortString {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Deref for ShortString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ShortString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for ShortString {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<String> for ShortString {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::try_new(s)
    }
}

impl TryFrom<&str> for ShortString {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        if s.len() > Self::MAX_LEN {
            return Self::try_new(s);
        }
        Ok(Self::from_str(s))
    }
}

impl From<ShortString> for String {
    fn from(s: ShortString) -> Self {
        s.into_string()
    }
}

impl PartialEq<str> for ShortString {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for ShortString {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for ShortString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `longstr`: up to 2³²−1 arbitrary bytes, shared with the frame it came
/// from. The length is checked when encoding ([`Error::TooLarge`]).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LongString(Bytes);

impl LongString {
    /// The empty string.
    #[must_use]
    pub const fn new() -> Self {
        Self(Bytes::new())
    }

    /// A string of static bytes, without copying.
    #[must_use]
    pub const fn from_static(b: &'static [u8]) -> Self {
        Self(Bytes::from_static(b))
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as text, if they are UTF-8.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The shared buffer inside.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// An owned copy, which does not keep the received frame alive.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        self.0.to_vec()
    }
}

impl Deref for LongString {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for LongString {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Bytes> for LongString {
    fn from(b: Bytes) -> Self {
        Self(b)
    }
}

impl From<Vec<u8>> for LongString {
    fn from(b: Vec<u8>) -> Self {
        Self(b.into())
    }
}

impl From<String> for LongString {
    fn from(s: String) -> Self {
        Self(s.into())
    }
}

impl From<&str> for LongString {
    fn from(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<&[u8]> for LongString {
    fn from(s: &[u8]) -> Self {
        Self(Bytes::copy_from_slice(s))
    }
}

impl From<LongString> for Bytes {
    fn from(s: LongString) -> Self {
        s.0
    }
}

impl PartialEq<[u8]> for LongString {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for LongString {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for LongString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => fmt::Debug::fmt(&self.0, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_string_length_is_checked() {
        assert!(ShortString::try_new("a".repeat(255)).is_ok());
        assert_eq!(
            ShortString::try_new("a".repeat(256)),
            Err(Error::StringTooLong { len: 256, max: 255 })
        );
        // The limit is in bytes: 128 two-byte characters are too long.
        assert!(ShortString::try_from("é".repeat(128).as_str()).is_err());
        assert_eq!(ShortString::from_static("direct"), "direct");
        assert_eq!(ShortString::from_wire(&[0xff]), None);
    }

    #[test]
    fn window_ascii_test_sees_exactly_the_first_len_bytes() {
        for len in 0..=INLINE {
            for bad in 0..INLINE {
                let mut w = [b'a'; INLINE];
                w[bad] = 0xc3;
                let n = len as u8;
                assert_eq!(window_is_ascii(&w, n), bad >= len, "len {len} bad {bad}");
                // A non-ASCII window that is still UTF-8 decodes either way.
                let mut u = [b'a'; INLINE];
                u[..2].copy_from_slice("é".as_bytes());
                let mut s = ShortString::new();
                assert_eq!(s.set_from_wire_window(&u, n), len != 1, "len {len}");
            }
        }
    }

    #[test]
    fn short_strings_inline_and_on_the_heap_behave_alike() {
        use std::collections::HashMap;

        // 31 bytes stay in place, 32 go to the heap; views, order, equality
        // and hashing do not depend on where the bytes are.
        let at = |n: usize| ShortString::try_new("é".repeat(n / 2) + &"a".repeat(n % 2)).unwrap();
        let (inline, heap) = (at(31), at(32));
        assert!(matches!(inline.0, Repr::Inline { .. }));
        assert!(matches!(heap.0, Repr::Heap(_)));
        assert_eq!(inline.as_bytes().len(), 31);
        assert_eq!(heap.as_str(), "é".repeat(16));
        assert!(inline < heap);
        let mut map = HashMap::new();
        map.insert(heap.clone(), 1);
        map.insert(inline.clone(), 2);
        assert_eq!(map.get(heap.as_str()), Some(&1));
        assert_eq!(map.get(inline.as_str()), Some(&2));

        // From the wire: the window's bytes past the string are not part of it.
        let mut window = [b'x'; INLINE];
        window[..3].copy_from_slice(b"abc");
        let mut s = heap.clone();
        assert!(s.set_from_wire_window(&window, 3));
        assert_eq!(s, "abc");
        assert_eq!(s, ShortString::from_wire(b"abc").unwrap());
        assert_eq!(s.wire_len(), 3);
        window[1] = 0xff;
        assert!(!s.set_from_wire_window(&window, 3));
        assert!(!s.set_from_wire_window(&window, 32));
        assert_eq!(s, "abc", "left alone on failure");
        assert_eq!(ShortString::default(), ShortString::from_wire(b"").unwrap());
        assert_eq!(ShortString::from_static("direct").into_string(), "direct");
        assert_eq!(String::from(heap.clone()), heap.as_str());
    }

    #[test]
    fn long_string_views() {
        let s = LongString::from("héllo");
        assert_eq!(s.as_str(), Some("héllo"));
        assert_eq!(LongString::from(vec![0xff]).as_str(), None);
        assert_eq!(
            format!("{:?}", LongString::from_static(b"PLAIN")),
            "\"PLAIN\""
        );
    }
}
