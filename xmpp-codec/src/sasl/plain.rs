//! PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd` in one message.

use crate::error::Error;
use crate::sasl::{SaslCondition, saslprep};

/// The longest authzid, authcid or password (RFC 4616 §2).
const MAX_FIELD: usize = 255;

/// The client's one message.
pub fn client_message(
    authzid: Option<&str>,
    username: &str,
    password: &str,
) -> Result<Vec<u8>, Error> {
    saslprep::check(username)?;
    saslprep::check(password)?;
    let authzid = authzid.unwrap_or_default();
    if authzid.contains('\0') || username.contains('\0') || password.contains('\0') {
        return Err(Error::sasl(
            SaslCondition::MalformedRequest,
            "NUL in credential",
        ));
    }
    let mut out = Vec::with_capacity(authzid.len() + username.len() + password.len() + 2);
    out.extend_from_slice(authzid.as_bytes());
    out.push(0);
    out.extend_from_slice(username.as_bytes());
    out.push(0);
    out.extend_from_slice(password.as_bytes());
    Ok(out)
}

/// What a PLAIN message carries, for the server to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The identity to act as, if different from `username`.
    pub authzid: Option<String>,
    /// The authentication identity.
    pub username: String,
    /// The password, to compare with the stored one.
    pub password: String,
}

/// Parses the client's message (server side).
pub fn parse(message: &[u8]) -> Result<Credentials, Error> {
    let malformed = |why| Error::sasl(SaslCondition::MalformedRequest, why);
    let text = std::str::from_utf8(message).map_err(|_| malformed("not UTF-8"))?;
    let mut parts = text.split('\0');
    let (Some(authzid), Some(username), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not three NUL-separated fields"));
    };
    if [authzid, username, password]
        .iter()
        .any(|f| f.len() > MAX_FIELD)
    {
        return Err(malformed("field over 255 bytes"));
    }
    Ok(Credentials {
        authzid: (!authzid.is_empty()).then(|| authzid.to_owned()),
        username: saslprep::check(username)?.to_owned(),
        password: saslprep::check(password)?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_transcript() {
        let m = client_message(None, "alice", "secret-alice").unwrap();
        assert_eq!(m, b"\0alice\0secret-alice");
        // From the recorded Prosody session: AGFsaWNlAHNlY3JldC1hbGljZQ==
        let c =
            parse(&crate::sasl::decode_payload("AGFsaWNlAHNlY3JldC1hbGljZQ==").unwrap()).unwrap();
        assert_eq!(c.username, "alice");
        assert_eq!(c.password, "secret-alice");
        assert_eq!(c.authzid, None);
        assert!(parse(b"a\0b").is_err());
        assert!(parse(b"a\0b\0c\0d").is_err());
        assert!(parse(b"\0\0pw").is_err());
    }
}
