//! `amqp://user:password@host:port/vhost` URLs.

use std::net::{SocketAddr, ToSocketAddrs};

use amqp_codec::{ClientConfig, Sasl};

use super::DriverError;

/// A parsed `amqp://user:password@host:port/vhost` URL (RabbitMQ's URI
/// spec: user, password and vhost percent-decoded; no vhost means `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpUrl {
    /// User name, `guest` when the URL has none.
    pub user: String,
    /// Password, `guest` when the URL has none.
    pub password: String,
    /// Host name or address; IPv6 addresses keep their brackets.
    pub host: String,
    /// TCP port, 5672 when the URL has none.
    pub port: u16,
    /// Virtual host.
    pub vhost: String,
}

impl AmqpUrl {
    /// Parses `url`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("amqp://")
            .ok_or_else(|| format!("{url}: only amqp:// URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((n, p)) => (percent_decode(n)?, percent_decode(p)?),
                None => (percent_decode(u)?, String::new()),
            },
            None => ("guest".to_owned(), "guest".to_owned()),
        };
        let (host, port) = match hostport.rfind(':') {
            Some(i) if !hostport[i..].contains(']') => {
                let port = hostport[i + 1..]
                    .parse::<u16>()
                    .map_err(|_| format!("{url}: bad port"))?;
                (&hostport[..i], port)
            }
            _ => (hostport, 5672),
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        // As pika and most clients: no vhost (or an empty one) is `/`.
        let vhost = match path {
            None | Some("") => "/".to_owned(),
            Some(p) => percent_decode(p)?,
        };
        Ok(Self {
            user,
            password,
            host: host.to_owned(),
            port,
            vhost,
        })
    }

    /// The client settings for this URL: PLAIN login, its vhost, and
    /// limits large enough for the runners' 16 MiB messages.
    #[must_use]
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::new(Sasl::plain(&self.user, &self.password), &self.vhost)
    }

    /// The URL with another password (for login-failure checks).
    #[must_use]
    pub fn with_password(&self, password: &str) -> Self {
        Self {
            password: password.to_owned(),
            ..self.clone()
        }
    }

    pub(super) fn socket_addr(&self) -> Result<SocketAddr, DriverError> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        (host, self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| DriverError::Unexpected(format!("{}: no address", self.host)))
    }
}

impl AmqpUrl {
    /// The URL again, user, password and vhost percent-encoded where
    /// needed; the password only `with_password`.
    #[must_use]
    pub fn to_uri(&self, with_password: bool) -> String {
        let password = if with_password {
            format!(":{}", percent_encode(&self.password))
        } else {
            String::new()
        };
        format!(
            "amqp://{}{password}@{}:{}/{}",
            percent_encode(&self.user),
            self.host,
            self.port,
            percent_encode(&self.vhost)
        )
    }
}

impl std::fmt::Display for AmqpUrl {
    /// The URL without the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_uri(false))
    }
}

/// `s` with every byte but URL-safe ones as `%XX`.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::AmqpUrl;

    #[test]
    fn parses_urls() {
        let u =
            AmqpUrl::parse("amqp://conformance:conformance-pw@127.0.0.1:5673/conformance").unwrap();
        assert_eq!(
            (
                u.user.as_str(),
                u.password.as_str(),
                u.host.as_str(),
                u.port,
                u.vhost.as_str()
            ),
            (
                "conformance",
                "conformance-pw",
                "127.0.0.1",
                5673,
                "conformance"
            )
        );
        assert_eq!(AmqpUrl::parse("amqp://h/").unwrap().vhost, "/");
        let u = AmqpUrl::parse("amqp://a%40b:p%3Aw@h:1/%2F").unwrap();
        assert_eq!(u.to_uri(true), "amqp://a%40b:p%3Aw@h:1/%2F");
        assert_eq!(u.to_string(), "amqp://a%40b@h:1/%2F");
        assert_eq!(AmqpUrl::parse(&u.to_uri(true)).unwrap(), u);
        let u = AmqpUrl::parse("amqp://localhost").unwrap();
        assert_eq!(
            (u.user.as_str(), u.port, u.vhost.as_str()),
            ("guest", 5672, "/")
        );
        let u = AmqpUrl::parse("amqp://a%40b:p%3Aw@[::1]:1/%2F").unwrap();
        assert_eq!(
            (
                u.user.as_str(),
                u.password.as_str(),
                u.host.as_str(),
                u.port,
                u.vhost.as_str()
            ),
            ("a@b", "p:w", "[::1]", 1, "/")
        );
        assert!(AmqpUrl::parse("amqps://x/").is_err());
        assert!(AmqpUrl::parse("amqp://x:99999/").is_err());
        assert!(AmqpUrl::parse("amqp:///v").is_err());
        assert!(AmqpUrl::parse("amqp://h/%zz").is_err());
    }
}
