//! [`Str`]: a cheaply clonable UTF-8 string, usually a slice of the input.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;

/// UTF-8 text: names, namespaces, attribute values and text parsed from
/// the wire. Short strings (most XMPP names, namespaces, ids and JIDs) are
/// kept inline, so making and cloning one copies a few bytes; longer ones
/// are slices of the received buffer held in [`Bytes`] (no copy unless an
/// escape had to be resolved), and cloning one is a reference count
/// increment. Inline strings spare the atomic reference count updates
/// that made up a tenth of parsing time.
#[derive(Clone)]
pub struct Str(Repr);

/// Longest string kept inline: fills the size of the [`Bytes`] variant.
const INLINE: usize = 23;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Shared(Bytes),
}

impl Default for Str {
    fn default() -> Self {
        Self::new()
    }
}

impl Str {
    /// The empty string.
    #[must_use]
    pub const fn new() -> Self {
        Self(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }

    /// A string from a `'static` literal, without copying.
    #[must_use]
    pub const fn from_static(s: &'static str) -> Self {
        Self(Repr::Shared(Bytes::from_static(s.as_bytes())))
    }

    /// A string copied from `s`.
    #[must_use]
    pub fn copy_from(s: &str) -> Self {
        Self::inline(s.as_bytes())
            .unwrap_or_else(|| Self(Repr::Shared(Bytes::copy_from_slice(s.as_bytes()))))
    }

    /// `b` (UTF-8) inline, if it is short enough.
    fn inline(b: &[u8]) -> Option<Self> {
        let len = u8::try_from(b.len())
            .ok()
            .filter(|&l| usize::from(l) <= INLINE)?;
        let mut buf = [0; INLINE];
        buf.get_mut(..b.len())?.copy_from_slice(b);
        Some(Self(Repr::Inline { len, buf }))
    }

    /// Wraps `bytes` if they are UTF-8.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, Bytes> {
        if simdutf8::basic::from_utf8(&bytes).is_ok() {
            Ok(Self(Repr::Shared(bytes)))
        } else {
            Err(bytes)
        }
    }

    /// `src[a..b]`, which this crate has already validated as UTF-8:
    /// copied inline when short, else a shared slice. `None` when out of
    /// bounds.
    pub(crate) fn validated_slice(src: &Bytes, a: usize, b: usize) -> Option<Self> {
        let bytes = src.get(a..b)?;
        if let Ok(len) = u8::try_from(bytes.len()) {
            // Most names and values are short and have more of the input
            // after them: copying a fixed `INLINE` bytes is a few moves,
            // where a copy of `len` bytes is a call to `memcpy`. The bytes
            // past `len` are never read.
            if let Some(&buf) = src.get(a..).and_then(<[u8]>::first_chunk::<INLINE>) {
                if usize::from(len) <= INLINE {
                    return Some(Self(Repr::Inline { len, buf }));
                }
            }
        }
        Some(Self::inline(bytes).unwrap_or_else(|| Self(Repr::Shared(src.slice(a..b)))))
    }

    /// `v`, which this crate has built from validated UTF-8 (resolving
    /// references): inline when short, else shared.
    pub(crate) fn from_validated_vec(v: Vec<u8>) -> Self {
        Self::inline(&v).unwrap_or_else(|| Self(Repr::Shared(Bytes::from(v))))
    }

    /// The text. Re-checks the (already valid) bytes with SIMD validation
    /// rather than trusting them through `unsafe`; comparisons
    /// (`==` with `&str`) and [`Self::as_bytes`] skip that.
    #[must_use]
    pub fn as_str(&self) -> &str {
        simdutf8::basic::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The UTF-8 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => buf.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Shared(b) => b,
        }
    }

    /// The bytes as a [`Bytes`] (a copy when the string is held inline).
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self.as_bytes()),
            Repr::Shared(b) => b,
        }
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the string is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<[u8]> for Str {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for Str {}

impl Hash for Str {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Str {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        other == self
    }
}
impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        other == *self
    }
}

impl From<&'static str> for Str {
    fn from(s: &'static str) -> Self {
        Self::from_static(s)
    }
}
impl From<String> for Str {
    fn from(s: String) -> Self {
        Self::inline(s.as_bytes()).unwrap_or_else(|| Self(Repr::Shared(Bytes::from(s))))
    }
}
impl From<&String> for Str {
    fn from(s: &String) -> Self {
        Self::copy_from(s)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_shared_compare_alike() {
        let long = "x".repeat(INLINE + 1);
        let src = Bytes::from(format!("ab{long}"));
        let short = Str::validated_slice(&src, 0, 2).unwrap_or_default();
        let shared = Str::validated_slice(&src, 2, src.len()).unwrap_or_default();
        assert!(matches!(short.0, Repr::Inline { .. }));
        assert!(matches!(shared.0, Repr::Shared(_)));
        assert_eq!(short, Str::from_static("ab"));
        assert_eq!(shared, long.as_str());
        assert_eq!(Str::from(long.clone()).into_bytes(), long.as_bytes());
        assert_eq!(short.into_bytes(), &b"ab"[..]);
        assert!(Str::validated_slice(&src, 3, 2).is_none());
        assert!(Str::new().is_empty());
        assert_eq!(std::mem::size_of::<Str>(), 32);
    }
}
