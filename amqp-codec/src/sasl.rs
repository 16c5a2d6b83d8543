//! SASL for `connection.start-ok`/`secure-ok` (AMQP 0-9-1 §1.4.2.2): the
//! mechanisms RabbitMQ ships with, PLAIN (RFC 4616), AMQPLAIN (RabbitMQ's
//! field-table login) and EXTERNAL (RFC 4422 appendix A, identity from the
//! TLS client certificate).
//!
//! A client builds its response from [`Sasl`] credentials; a server decodes
//! the response it receives into [`Credentials`] for the application to
//! check. Passwords never appear in `Debug` output.

use std::fmt;

use bytes::{BufMut as _, Bytes, BytesMut};

use crate::config::Limits;
use crate::error::Error;
use crate::field_table::{FieldTable, FieldValue};
use crate::string::{LongString, ShortString};

/// A SASL mechanism this crate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `PLAIN`: authzid, username and password separated by NUL.
    Plain,
    /// `AMQPLAIN`: a field table's entries `LOGIN` and `PASSWORD`, without
    /// the table's length prefix.
    AmqPlain,
    /// `EXTERNAL`: identity established outside AMQP (TLS); the response is
    /// an optional authorization identity.
    External,
}

impl Mechanism {
    /// The name in `mechanisms` and `mechanism`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::AmqPlain => "AMQPLAIN",
            Self::External => "EXTERNAL",
        }
    }

    /// The mechanism named `name` (case-sensitive, as SASL names are).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "PLAIN" => Some(Self::Plain),
            "AMQPLAIN" => Some(Self::AmqPlain),
            "EXTERNAL" => Some(Self::External),
            _ => None,
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A client's credentials: the mechanism and what its response carries.
#[derive(Clone, PartialEq, Eq)]
pub enum Sasl {
    /// `PLAIN` with an empty authorization identity.
    Plain {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// `AMQPLAIN`.
    AmqPlain {
        /// User name (`LOGIN`).
        username: String,
        /// Password (`PASSWORD`).
        password: String,
    },
    /// `EXTERNAL`, usually with an empty authorization identity.
    External {
        /// Authorization identity; empty to act as the authenticated one.
        authzid: String,
    },
}

impl Sasl {
    /// `PLAIN` credentials.
    #[must_use]
    pub fn plain(username: &str, password: &str) -> Self {
        Self::Plain {
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    /// The mechanism.
    #[must_use]
    pub const fn mechanism(&self) -> Mechanism {
        match self {
            Self::Plain { .. } => Mechanism::Plain,
            Self::AmqPlain { .. } => Mechanism::AmqPlain,
            Self::External { .. } => Mechanism::External,
        }
    }

    /// The `response` of `connection.start-ok`. Fails only for an AMQPLAIN
    /// credential over 4 GiB.
    pub fn response(&self) -> Result<LongString, Error> {
        match self {
            Self::Plain { username, password } => {
                let mut b = BytesMut::with_capacity(username.len() + password.len() + 2);
                b.put_u8(0);
                b.put_slice(username.as_bytes());
                b.put_u8(0);
                b.put_slice(password.as_bytes());
                Ok(b.freeze().into())
            }
            Self::AmqPlain { username, password } => {
                let mut t = FieldTable::new();
                t.push(
                    ShortString::try_new("LOGIN")?,
                    FieldValue::LongString(username.as_str().into()),
                );
                t.push(
                    ShortString::try_new("PASSWORD")?,
                    FieldValue::LongString(password.as_str().into()),
                );
                let mut b = BytesMut::new();
                t.encode(&mut b)?;
                // The table's entries without its length prefix.
                Ok(b.freeze().slice(4..).into())
            }
            Self::External { authzid } => Ok(authzid.as_str().into()),
        }
    }
}

impl Default for Sasl {
    /// `PLAIN` as `guest`/`guest`, RabbitMQ's default user.
    fn default() -> Self {
        Self::plain("guest", "guest")
    }
}

impl fmt::Debug for Sasl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain { username, .. } | Self::AmqPlain { username, .. } => f
                .debug_struct(self.mechanism().name())
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Self::External { authzid } => f
                .debug_struct("EXTERNAL")
                .field("authzid", authzid)
                .finish(),
        }
    }
}

/// What a server learns from a client's response, for the application to
/// verify.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and password (PLAIN or AMQPLAIN).
    Password {
        /// Authorization identity (PLAIN only; empty if none).
        authzid: String,
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// EXTERNAL: the identity comes from the transport (e.g. the TLS client
    /// certificate); this is the identity the client asks to act as.
    External {
        /// Authorization identity; empty to act as the authenticated one.
        authzid: String,
    },
}

impl Credentials {
    /// Decodes a `response` for `mechanism`; `None` if it is malformed
    /// (not UTF-8, wrong number of fields, missing table entries).
    #[must_use]
    pub fn decode(mechanism: Mechanism, response: &[u8], limits: &Limits) -> Option<Self> {
        match mechanism {
            Mechanism::Plain => {
                let text = std::str::from_utf8(response).ok()?;
                let mut parts = text.split('\0');
                let (authzid, username, password) = (parts.next()?, parts.next()?, parts.next()?);
                if parts.next().is_some() || username.is_empty() {
                    return None;
                }
                Some(Self::Password {
                    authzid: authzid.to_owned(),
                    username: username.to_owned(),
                    password: password.to_owned(),
                })
            }
            Mechanism::AmqPlain => {
                let len = u32::try_from(response.len()).ok()?;
                let mut b = BytesMut::with_capacity(response.len() + 4);
                b.put_u32(len);
                b.put_slice(response);
                let t = FieldTable::decode(&Bytes::from(b), limits).ok()?;
                let text = |k| t.get(k).and_then(FieldValue::as_str).map(str::to_owned);
                Some(Self::Password {
                    authzid: String::new(),
                    username: text("LOGIN")?,
                    password: text("PASSWORD")?,
                })
            }
            Mechanism::External => Some(Self::External {
                authzid: std::str::from_utf8(response).ok()?.to_owned(),
            }),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password {
                authzid, username, ..
            } => f
                .debug_struct("Password")
                .field("authzid", authzid)
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Self::External { authzid } => f
                .debug_struct("External")
                .field("authzid", authzid)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_round_trip() {
        let limits = Limits::default();
        let plain = Sasl::plain("codec", "codecpw");
        let r = plain.response().unwrap();
        assert_eq!(r.as_bytes(), b"\0codec\0codecpw");
        let amq = Sasl::AmqPlain {
            username: "u".into(),
            password: "p\0w".into(),
        };
        let ext = Sasl::External {
            authzid: String::new(),
        };
        for s in [plain, amq, ext] {
            let r = s.response().unwrap();
            let c = Credentials::decode(s.mechanism(), &r, &limits).unwrap();
            match (&s, c) {
                (
                    Sasl::Plain { username, password } | Sasl::AmqPlain { username, password },
                    Credentials::Password {
                        username: u,
                        password: p,
                        ..
                    },
                ) => assert_eq!((username, password), (&u, &p)),
                (Sasl::External { authzid }, Credentials::External { authzid: a }) => {
                    assert_eq!(authzid, &a);
                }
                _ => panic!("{s:?} decoded as another kind"),
            }
            assert_eq!(
                Mechanism::from_name(s.mechanism().name()),
                Some(s.mechanism())
            );
        }
    }

    #[test]
    fn malformed_responses() {
        let limits = Limits::default();
        for bad in [
            &b"no-nul"[..],
            b"\0only-user",
            b"\0\0pw",
            b"\0u\0p\0x",
            b"\0\xff\0p",
        ] {
            assert_eq!(Credentials::decode(Mechanism::Plain, bad, &limits), None);
        }
        assert_eq!(
            Credentials::decode(Mechanism::AmqPlain, b"\x05LOGINS", &limits),
            None
        );
        assert_eq!(
            Credentials::decode(Mechanism::External, b"\xff", &limits),
            None
        );
        assert_eq!(Mechanism::from_name("SCRAM-SHA-1"), None);
    }

    #[test]
    fn debug_hides_passwords() {
        let s = format!("{:?}", Sasl::plain("user", "hunter2"));
        assert!(s.contains("user") && !s.contains("hunter2"), "{s}");
        let c = Credentials::decode(Mechanism::Plain, b"\0user\0hunter2", &Limits::default());
        let s = format!("{c:?}");
        assert!(s.contains("user") && !s.contains("hunter2"), "{s}");
    }
}
