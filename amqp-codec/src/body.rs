//! A received message body (AMQP 0-9-1 §4.2.6.2): the payloads of its body
//! frames, kept as they were split off the read buffer.
//!
//! A body longer than frame-max arrives in several frames, with frame
//! headers between the pieces on the wire, so it cannot be one slice of the
//! read buffer. Rather than copy the pieces together, [`Body`] keeps them
//! in order ([`Body::chunks`]); a reader that needs one contiguous slice
//! asks for it ([`Body::to_bytes`]) and pays the copy then. A body in one
//! frame, the usual case, is that frame's payload.
//!
//! A hostile peer could split a body into one-byte frames to make the list
//! of pieces outgrow the body; past [`MAX_CHUNKS`] pieces the
//! [`ContentAssembler`](crate::ContentAssembler) copies them into one
//! buffer instead.

use std::fmt;

use bytes::{BufMut as _, Bytes, BytesMut};

/// Pieces a body keeps before they are gathered into one buffer: 32 MiB of
/// zero-copy body at RabbitMQ's default frame-max of 128 KiB, 4 MiB at the
/// smallest frame-max of 4 KiB, and at most 32 KiB of piece handles.
pub const MAX_CHUNKS: usize = 1024;

/// A message body: one or more pieces of bytes, in order.
///
/// Equality compares the bytes, not how they are split.
#[derive(Clone, Default)]
pub struct Body(Repr);

#[derive(Clone)]
enum Repr {
    One(Bytes),
    /// Two or more non-empty pieces, and their total length.
    Chunks(Vec<Bytes>, usize),
}

impl Default for Repr {
    fn default() -> Self {
        Self::One(Bytes::new())
    }
}

impl Body {
    /// The empty body.
    #[must_use]
    pub const fn new() -> Self {
        Self(Repr::One(Bytes::new()))
    }

    /// A body made of `chunks`, in order; empty ones are dropped.
    #[must_use]
    pub fn from_chunks(mut chunks: Vec<Bytes>) -> Self {
        chunks.retain(|c| !c.is_empty());
        if chunks.len() <= 1 {
            return Self(Repr::One(chunks.pop().unwrap_or_default()));
        }
        let len = chunks.iter().map(Bytes::len).sum();
        Self(Repr::Chunks(chunks, len))
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::One(b) => b.len(),
            Repr::Chunks(_, len) => *len,
        }
    }

    /// Whether the body is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pieces in order: one for a body that came in one frame (or was
    /// gathered), one per body frame otherwise. None is empty unless the
    /// body is.
    #[must_use]
    pub fn chunks(&self) -> &[Bytes] {
        match &self.0 {
            Repr::One(b) => std::slice::from_ref(b),
            Repr::Chunks(c, _) => c,
        }
    }

    /// The body as one slice, if it is in one piece.
    #[must_use]
    pub fn as_contiguous(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::One(b) => Some(b),
            Repr::Chunks(..) => None,
        }
    }

    /// The body as one [`Bytes`]: shared when it is in one piece, copied
    /// together otherwise.
    #[must_use]
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::One(b) => b.clone(),
            Repr::Chunks(c, len) => {
                let mut out = BytesMut::with_capacity(*len);
                for chunk in c {
                    out.put_slice(chunk);
                }
                out.freeze()
            }
        }
    }

    /// The body copied into a `Vec`.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        for chunk in self.chunks() {
            out.extend_from_slice(chunk);
        }
        out
    }

    /// The body's bytes one by one, across its pieces.
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.chunks().iter().flat_map(|c| c.iter().copied())
    }

    /// Whether the body's bytes are `other`'s, without gathering them.
    fn eq_slice(&self, mut other: &[u8]) -> bool {
        if other.len() != self.len() {
            return false;
        }
        self.chunks()
            .iter()
            .all(|c| match other.split_at_checked(c.len()) {
                Some((head, rest)) if head == &c[..] => {
                    other = rest;
                    true
                }
                _ => false,
            })
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Self(Repr::One(b))
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Self(Repr::One(v.into()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Self(Repr::One(Bytes::from_static(s)))
    }
}

impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        match other.as_contiguous() {
            Some(b) => self.eq_slice(b),
            None => self.len() == other.len() && self.bytes().eq(other.bytes()),
        }
    }
}

impl Eq for Body {}

impl PartialEq<[u8]> for Body {
    fn eq(&self, other: &[u8]) -> bool {
        self.eq_slice(other)
    }
}

impl PartialEq<&[u8]> for Body {
    fn eq(&self, other: &&[u8]) -> bool {
        self.eq_slice(other)
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Body {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.eq_slice(&other[..])
    }
}

impl PartialEq<Vec<u8>> for Body {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.eq_slice(other)
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::One(b) => fmt::Debug::fmt(b, f),
            Repr::Chunks(c, len) => write!(f, "Body({len} bytes in {} chunks)", c.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_and_whole_bodies_compare_by_bytes() {
        let whole = Body::from(b"hello world".to_vec());
        let split = Body::from_chunks(vec![
            Bytes::from_static(b"hel"),
            Bytes::new(),
            Bytes::from_static(b"lo wo"),
            Bytes::from_static(b"rld"),
        ]);
        assert_eq!(split.chunks().len(), 3);
        assert_eq!(split.len(), 11);
        assert!(split.as_contiguous().is_none());
        assert_eq!(whole, split);
        assert_eq!(split, whole);
        assert_eq!(split, &b"hello world"[..]);
        assert_ne!(split, &b"hello worle"[..]);
        assert_ne!(split, &b"hello worl"[..]);
        assert_eq!(split.to_bytes(), Bytes::from_static(b"hello world"));
        assert_eq!(split.to_vec(), b"hello world");
        let other = Body::from_chunks(vec![Bytes::from_static(b"hello "), "world".into()]);
        assert_eq!(split, other);
        assert_eq!(format!("{split:?}"), "Body(11 bytes in 3 chunks)");
    }

    #[test]
    fn one_piece_stays_shared() {
        let b = Bytes::from_static(b"abc");
        let body = Body::from_chunks(vec![Bytes::new(), b.clone()]);
        assert_eq!(body.as_contiguous().map(|c| c.as_ptr()), Some(b.as_ptr()));
        assert_eq!(body.to_bytes().as_ptr(), b.as_ptr());
        assert!(Body::from_chunks(Vec::new()).is_empty());
        assert_eq!(Body::new().chunks(), &[Bytes::new()]);
    }
}
