//! A deliberately small stand-in for SASLprep (RFC 4013) and the PRECIS
//! profiles (RFC 8265) that RFC 5802 §5.1 and RFC 4616 §2 ask for.
//!
//! It maps nothing and normalizes nothing; it refuses empty strings and
//! strings with control characters (C0, DEL, C1: RFC 4013 §2.3 prohibits
//! them), which are the inputs whose meaning could differ between peers.
//! ASCII and already-NFC text, which is what real clients send, passes
//! unchanged and so hashes the same as under full SASLprep. Non-ASCII
//! spaces (RFC 4013 §2.1 maps them to U+0020) and unnormalized text pass
//! through as given.

use crate::error::Error;
use crate::sasl::SaslCondition;

/// Checks `s` as a username or password: non-empty, no control
/// characters.
pub fn check(s: &str) -> Result<&str, Error> {
    if s.is_empty() {
        return Err(Error::sasl(
            SaslCondition::MalformedRequest,
            "empty credential",
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::sasl(
            SaslCondition::MalformedRequest,
            "control character in credential",
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_controls_and_empty() {
        assert!(check("user").is_ok());
        assert!(check("pâssword with spaces").is_ok());
        for bad in ["", "a\u{0}b", "a\tb", "a\u{7f}", "a\u{85}"] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }
}
