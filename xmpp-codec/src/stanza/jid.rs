//! XMPP addresses (RFC 7622): `localpart@domainpart/resourcepart`.
//!
//! The basics only: the split (§3.1), each part 1 to 1023 bytes (§3.2–3.4),
//! the characters RFC 7622 §3.3.1 excludes from localparts, no control
//! characters or whitespace outside the resourcepart, and a trailing dot
//! on the domain removed (§3.2). The PRECIS profiles (case mapping,
//! normalization) are not applied: parts compare as given.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::stanza::error::StanzaErrorCondition;

/// Longest part in bytes (RFC 7622 §3.2–3.4).
pub const MAX_PART: usize = 1023;

/// An XMPP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jid {
    local: Option<String>,
    domain: String,
    resource: Option<String>,
}

const fn malformed(reason: &'static str) -> Error {
    Error::InvalidStanza {
        condition: StanzaErrorCondition::JidMalformed,
        reason,
    }
}

impl Jid {
    /// Builds a JID from its parts, checking each.
    pub fn new(local: Option<&str>, domain: &str, resource: Option<&str>) -> Result<Self, Error> {
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        check_part(domain, "empty or oversized domainpart")?;
        if domain
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '@' | '/'))
        {
            return Err(malformed("bad character in domainpart"));
        }
        if let Some(l) = local {
            check_part(l, "empty or oversized localpart")?;
            if l.chars().any(|c| {
                c.is_control()
                    || c.is_whitespace()
                    || matches!(c, '"' | '&' | '\'' | '/' | ':' | '<' | '>' | '@')
            }) {
                return Err(malformed("bad character in localpart"));
            }
        }
        if let Some(r) = resource {
            check_part(r, "empty or oversized resourcepart")?;
            if r.chars().any(char::is_control) {
                return Err(malformed("control character in resourcepart"));
            }
        }
        Ok(Self {
            local: local.map(String::from),
            domain: domain.to_owned(),
            resource: resource.map(String::from),
        })
    }

    /// The localpart.
    #[must_use]
    pub fn local(&self) -> Option<&str> {
        self.local.as_deref()
    }

    /// The domainpart.
    #[must_use]
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The resourcepart.
    #[must_use]
    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// The bare JID (without resource).
    #[must_use]
    pub fn bare(&self) -> Self {
        Self {
            resource: None,
            ..self.clone()
        }
    }

    /// Whether this is a bare JID.
    #[must_use]
    pub const fn is_bare(&self) -> bool {
        self.resource.is_none()
    }

    /// This JID with `resource`.
    pub fn with_resource(&self, resource: &str) -> Result<Self, Error> {
        Self::new(self.local(), &self.domain, Some(resource))
    }
}

fn check_part(p: &str, reason: &'static str) -> Result<(), Error> {
    if p.is_empty() || p.len() > MAX_PART {
        Err(malformed(reason))
    } else {
        Ok(())
    }
}

impl FromStr for Jid {
    type Err = Error;

    /// Splits at the first `/` (the resource may contain `@` and `/`),
    /// then at the first `@` before it (RFC 7622 §3.1).
    fn from_str(s: &str) -> Result<Self, Error> {
        let (rest, resource) = match s.split_once('/') {
            Some((a, r)) => (a, Some(r)),
            None => (s, None),
        };
        let (local, domain) = match rest.split_once('@') {
            Some((l, d)) => (Some(l), d),
            None => (None, rest),
        };
        Self::new(local, domain, resource)
    }
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = &self.local {
            write!(f, "{l}@")?;
        }
        f.write_str(&self.domain)?;
        if let Some(r) = &self.resource {
            write!(f, "/{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts() {
        let j: Jid = "juliet@example.com/foo@bar/baz".parse().unwrap();
        assert_eq!(j.local(), Some("juliet"));
        assert_eq!(j.domain(), "example.com");
        assert_eq!(j.resource(), Some("foo@bar/baz"));
        assert_eq!(j.to_string(), "juliet@example.com/foo@bar/baz");
        assert_eq!(j.bare().to_string(), "juliet@example.com");
        let d: Jid = "example.com.".parse().unwrap();
        assert_eq!(d.domain(), "example.com");
        assert!(d.local().is_none() && d.is_bare());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "@example.com",
            "a@",
            "example.com/",
            "a b@example.com",
            "a<b@example.com",
            "a@exa mple.com",
            "a@b@c",
        ] {
            let e = bad.parse::<Jid>().unwrap_err();
            assert_eq!(
                e.stanza_condition(),
                Some(StanzaErrorCondition::JidMalformed),
                "{bad}"
            );
        }
        let long = "a".repeat(1024);
        assert!(format!("{long}@example.com").parse::<Jid>().is_err());
        assert!(format!("{}@example.com", &long[1..]).parse::<Jid>().is_ok());
    }
}
