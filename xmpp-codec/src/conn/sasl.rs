//! SASL negotiation (RFC 6120 §6.4): the `<auth/>`, `<challenge/>`,
//! `<response/>`, `<success/>`, `<failure/>` elements around the
//! mechanisms of [`crate::sasl`].

use crate::element::Element;
use crate::error::Error;
use crate::sasl::scram::{ScramClient, ScramHash, ScramServer};
use crate::sasl::{Mechanism, NS_SASL, SaslCondition, decode_payload, encode_payload, plain};

/// Strongest first: what a client picks among those offered.
const PREFERENCE: [Mechanism; 3] = [
    Mechanism::ScramSha256,
    Mechanism::ScramSha1,
    Mechanism::Plain,
];

/// `EXTERNAL` (RFC 4422 Appendix A), for s2s.
pub(crate) const EXTERNAL: &str = "EXTERNAL";

/// A SASL element with a base64 payload.
pub(crate) fn element(name: &'static str, payload: Option<&[u8]>) -> Element {
    let el = Element::new(name, NS_SASL);
    match payload {
        Some(p) => el.with_text(encode_payload(p)),
        None => el,
    }
}

/// `<auth mechanism=..>`.
pub(crate) fn auth(mechanism: &str, payload: &[u8]) -> Element {
    element("auth", Some(payload)).with_attr("mechanism", mechanism.to_owned())
}

/// `<failure><condition/></failure>` (§6.5).
pub(crate) fn failure(condition: SaslCondition) -> Element {
    Element::new("failure", NS_SASL).with_child(Element::new(condition.as_str(), NS_SASL))
}

/// The condition of a received `<failure/>`.
pub(crate) fn failure_condition(el: &Element) -> SaslCondition {
    el.children()
        .find_map(|c| SaslCondition::from_name(c.name()))
        .unwrap_or(SaslCondition::NotAuthorized)
}

fn scram_hash(m: Mechanism) -> Option<ScramHash> {
    match m {
        Mechanism::ScramSha1 => Some(ScramHash::Sha1),
        Mechanism::ScramSha256 => Some(ScramHash::Sha256),
        Mechanism::Plain => None,
    }
}

/// The client side of one exchange.
#[derive(Debug)]
pub(crate) enum ClientSasl {
    Plain,
    Scram(Box<ScramClient>),
}

impl ClientSasl {
    /// Picks the strongest mechanism both allow and starts it: the
    /// `<auth/>` to send.
    pub(crate) fn start(
        allowed: &[Mechanism],
        offered: &[String],
        username: &str,
        password: &str,
        nonce: &str,
        iterations: &std::ops::RangeInclusive<u32>,
    ) -> Result<(Self, Element), Error> {
        let m = PREFERENCE
            .into_iter()
            .find(|m| allowed.contains(m) && offered.iter().any(|o| o == m.name()))
            .ok_or(Error::Sasl {
                condition: SaslCondition::InvalidMechanism,
                reason: "no mechanism both sides allow",
            })?;
        Ok(match scram_hash(m) {
            Some(hash) => {
                let mut c = ScramClient::new(hash, username, password, nonce)?
                    .with_iteration_bounds(*iterations.start(), *iterations.end());
                let first = c.client_first()?;
                (Self::Scram(Box::new(c)), auth(m.name(), &first))
            }
            None => (
                Self::Plain,
                auth(m.name(), &plain::client_message(None, username, password)?),
            ),
        })
    }

    /// A `<challenge/>`: the `<response/>` to send.
    pub(crate) fn challenge(&mut self, el: &Element) -> Result<Element, Error> {
        let data = decode_payload(el.text().as_str())?;
        match self {
            Self::Scram(c) => Ok(element("response", Some(&c.handle_server_first(&data)?))),
            Self::Plain => Err(Error::Sasl {
                condition: SaslCondition::MalformedRequest,
                reason: "a challenge to PLAIN",
            }),
        }
    }

    /// `<success/>`: checks SCRAM's server signature (RFC 5802 §3).
    pub(crate) fn success(&mut self, el: &Element) -> Result<(), Error> {
        let data = decode_payload(el.text().as_str())?;
        match self {
            Self::Scram(c) => c.handle_server_final(&data),
            Self::Plain => Ok(()),
        }
    }
}

/// The server side of one exchange.
#[derive(Debug)]
pub(crate) enum ServerSasl {
    /// Waiting for the application's verdict on a PLAIN login.
    Plain { username: String },
    /// Waiting for the user's stored keys.
    ScramLookup {
        server: Box<ScramServer>,
        username: String,
    },
    /// `<challenge/>` sent, waiting for `<response/>`.
    ScramFinal {
        server: Box<ScramServer>,
        username: String,
    },
}

/// What an `<auth/>` asks for.
pub(crate) enum AuthStart {
    /// A verdict is needed: report this request.
    Pending(ServerSasl, crate::event::AuthRequest),
    /// Refuse at once with this condition.
    Fail(SaslCondition),
}

/// Starts a server exchange for `<auth/>`, given the mechanisms offered.
pub(crate) fn server_start(el: &Element, offered: &[Mechanism], nonce: &str) -> AuthStart {
    use crate::event::AuthRequest;
    let Some(m) = el
        .attr("mechanism")
        .and_then(Mechanism::from_name)
        .filter(|m| offered.contains(m))
    else {
        return AuthStart::Fail(SaslCondition::InvalidMechanism);
    };
    let data = match decode_payload(el.text().as_str()) {
        Ok(d) => d,
        Err(e) => {
            return AuthStart::Fail(
                e.sasl_condition()
                    .unwrap_or(SaslCondition::IncorrectEncoding),
            );
        }
    };
    let fail = |e: Error| {
        AuthStart::Fail(
            e.sasl_condition()
                .unwrap_or(SaslCondition::MalformedRequest),
        )
    };
    match scram_hash(m) {
        None => match plain::parse(&data) {
            Ok(c) => AuthStart::Pending(
                ServerSasl::Plain {
                    username: c.username.clone(),
                },
                AuthRequest::Plain {
                    username: c.username,
                    authzid: c.authzid,
                    password: c.password,
                },
            ),
            Err(e) => fail(e),
        },
        Some(hash) => {
            let mut server = match ScramServer::new(hash, nonce) {
                Ok(s) => Box::new(s),
                Err(e) => return fail(e),
            };
            match server.handle_client_first(&data) {
                Ok(first) => AuthStart::Pending(
                    ServerSasl::ScramLookup {
                        server,
                        username: first.username.clone(),
                    },
                    AuthRequest::Scram {
                        hash,
                        username: first.username,
                        authzid: first.authzid,
                    },
                ),
                Err(e) => fail(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongest_offered_mechanism_wins() {
        let offered = [
            "PLAIN".to_owned(),
            "SCRAM-SHA-1".to_owned(),
            "SCRAM-SHA-256".to_owned(),
        ];
        let all = PREFERENCE;
        let (_, el) = ClientSasl::start(&all, &offered, "u", "p", "nonce", &(1..=10)).unwrap();
        assert_eq!(el.attr("mechanism"), Some("SCRAM-SHA-256"));
        let (_, el) = ClientSasl::start(&all, &offered[..2], "u", "p", "nonce", &(1..=10)).unwrap();
        assert_eq!(el.attr("mechanism"), Some("SCRAM-SHA-1"));
        let (_, el) =
            ClientSasl::start(&[Mechanism::Plain], &offered, "u", "p", "n", &(1..=10)).unwrap();
        assert_eq!(el.attr("mechanism"), Some("PLAIN"));
        let e = ClientSasl::start(
            &[Mechanism::ScramSha256],
            &offered[..1],
            "u",
            "p",
            "n",
            &(1..=10),
        );
        assert!(matches!(
            e,
            Err(Error::Sasl {
                condition: SaslCondition::InvalidMechanism,
                ..
            })
        ));
    }
}
