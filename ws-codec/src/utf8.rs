//! Incremental UTF-8 validation for text messages (RFC 6455 §8.1).
//!
//! A text message may be split across fragments, and a fragment across reads,
//! at any byte, even inside a code point. [`Utf8Validator`] keeps the at most
//! three bytes of an unfinished code point between chunks, so an invalid
//! sequence is reported as soon as its first wrong byte arrives rather than
//! when the message ends.

/// Streaming UTF-8 validator.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// Bytes of an incomplete code point carried over from the last chunk.
    pending: [u8; 4],
    pending_len: u8,
}

/// The input is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error;

impl Utf8Validator {
    /// A validator at the start of a message.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            pending: [0; 4],
            pending_len: 0,
        }
    }

    /// Validates the next chunk. Errors as soon as a byte makes the sequence
    /// invalid; an incomplete code point at the end of `chunk` is kept.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), Utf8Error> {
        if self.pending_len > 0 {
            // Complete the carried code point one byte at a time.
            while let Some((&b, rest)) = chunk.split_first() {
                let n = usize::from(self.pending_len);
                let Some(slot) = self.pending.get_mut(n) else {
                    return Err(Utf8Error);
                };
                *slot = b;
                self.pending_len += 1;
                chunk = rest;
                let cp = self.pending.get(..=n).ok_or(Utf8Error)?;
                match std::str::from_utf8(cp) {
                    Ok(_) => {
                        self.pending_len = 0;
                        break;
                    }
                    Err(e) if e.error_len().is_some() => return Err(Utf8Error),
                    Err(_) => {}
                }
            }
            if self.pending_len > 0 {
                return Ok(());
            }
        }
        match simdutf8::compat::from_utf8(chunk) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(e) => {
                let tail = chunk.get(e.valid_up_to()..).ok_or(Utf8Error)?;
                let dst = self.pending.get_mut(..tail.len()).ok_or(Utf8Error)?;
                dst.copy_from_slice(tail);
                self.pending_len = u8::try_from(tail.len()).map_err(|_| Utf8Error)?;
                Ok(())
            }
        }
    }

    /// Ends the message: an unfinished code point is an error.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let ok = self.pending_len == 0;
        *self = Self::new();
        if ok { Ok(()) } else { Err(Utf8Error) }
    }

    /// Validates a whole message in one call.
    pub fn validate(bytes: &[u8]) -> Result<(), Utf8Error> {
        simdutf8::basic::from_utf8(bytes)
            .map(|_| ())
            .map_err(|_| Utf8Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chunked(bytes: &[u8], cuts: &[usize]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &c in cuts {
            let c = c.clamp(start, bytes.len());
            v.feed(&bytes[start..c])?;
            start = c;
        }
        v.feed(&bytes[start..])?;
        v.finish()
    }

    #[test]
    fn fails_fast_inside_a_code_point() {
        let mut v = Utf8Validator::new();
        // U+1D11E begins F0 9D 84 9E; F0 9D then 'a' is wrong at 'a'.
        v.feed(&[0xF0]).unwrap();
        v.feed(&[0x9D]).unwrap();
        assert_eq!(v.feed(b"a"), Err(Utf8Error));
    }

    #[test]
    fn fails_fast_on_surrogate_prefix() {
        // ED A0 can never start a valid sequence (UTF-16 surrogate).
        let mut v = Utf8Validator::new();
        v.feed(&[0xCE, 0xBA, 0xED]).unwrap();
        assert_eq!(v.feed(&[0xA0]), Err(Utf8Error));
        // F4 90 is above U+10FFFF.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xF4, 0x90]), Err(Utf8Error));
    }

    #[test]
    fn unfinished_code_point_at_end_is_error() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xE2, 0x82]).unwrap();
        assert_eq!(v.finish(), Err(Utf8Error));
    }

    proptest! {
        #[test]
        fn chunking_never_changes_the_verdict(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            cuts in proptest::collection::vec(0usize..64, 0..6),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let expect = std::str::from_utf8(&bytes).is_ok();
            prop_assert_eq!(chunked(&bytes, &cuts).is_ok(), expect);
        }

        #[test]
        fn valid_strings_pass_any_split(s in "\\PC{0,40}", cut in 0usize..200) {
            let b = s.as_bytes();
            prop_assert!(chunked(b, &[cut.min(b.len())]).is_ok());
        }
    }
}
