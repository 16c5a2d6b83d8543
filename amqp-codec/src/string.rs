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
use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

use crate::error::Error;

/// A `shortstr`: UTF-8, at most [`ShortString::MAX_LEN`] bytes.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShortString(String);

impl ShortString {
    /// Longest `shortstr` in bytes: its length prefix is one octet.
    pub const MAX_LEN: usize = 255;

    /// The empty string.
    #[must_use]
    pub const fn new() -> Self {
        Self(String::new())
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
        Ok(Self(s))
    }

    /// For the generator's spec defaults, all of which are short ASCII.
    /// Anything longer becomes the empty string rather than panic.
    pub(crate) fn from_static(s: &'static str) -> Self {
        if s.len() <= Self::MAX_LEN {
            Self(s.to_owned())
        } else {
            Self::new()
        }
    }

    /// Decodes the bytes of a received shortstr (already at most 255 long).
    pub(crate) fn from_wire(b: &[u8]) -> Option<Self> {
        std::str::from_utf8(b).ok().map(|s| Self(s.to_owned()))
    }

    /// The string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owned `String` inside.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }

    /// The length prefix as it goes on the wire.
    pub(crate) fn wire_len(&self) -> u8 {
        u8::try_from(self.0.len()).unwrap_or(u8::MAX)
    }
}

impl Deref for ShortString {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ShortString {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for ShortString {
    fn borrow(&self) -> &str {
        &self.0
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
        Self::try_new(s)
    }
}

impl From<ShortString> for String {
    fn from(s: ShortString) -> Self {
        s.0
    }
}

impl PartialEq<str> for ShortString {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ShortString {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Debug for ShortString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ShortString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
