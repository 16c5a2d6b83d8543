//! `<stream:features/>` (RFC 6120 §4.3.2): what the receiving entity
//! offers next.

use crate::element::Element;
use crate::sasl::NS_SASL;
use crate::stanza::stream_error::NS_STREAMS;

/// STARTTLS (RFC 6120 §5.4.1).
pub const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// Resource binding (RFC 6120 §7.4).
pub const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
/// The legacy session (RFC 3921 §3, draft-cridland-xmpp-session).
pub const NS_SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
/// The dialback stream feature (XEP-0220 §2.4).
pub const NS_DIALBACK_FEATURE: &str = "urn:xmpp:features:dialback";

/// The features of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamFeatures {
    /// STARTTLS offered; `Some(true)` when `<required/>`.
    pub starttls: Option<bool>,
    /// SASL mechanisms offered, in the server's order.
    pub mechanisms: Vec<String>,
    /// Resource binding offered.
    pub bind: bool,
    /// The legacy session offered; `Some(true)` when it must be
    /// established (no `<optional/>`).
    pub session: Option<bool>,
    /// XEP-0198 (version 3) offered.
    pub sm: bool,
    /// XEP-0220 dialback offered.
    pub dialback: bool,
}

impl StreamFeatures {
    /// Reads a `<stream:features/>`; unknown features are ignored.
    #[must_use]
    pub fn from_element(el: &Element) -> Self {
        let mut f = Self::default();
        for c in el.children() {
            match (c.ns().as_str(), c.name()) {
                (NS_TLS, "starttls") => f.starttls = Some(c.child("required", NS_TLS).is_some()),
                (NS_SASL, "mechanisms") => {
                    f.mechanisms = c
                        .children()
                        .filter(|m| m.is("mechanism", NS_SASL))
                        .map(|m| m.text().as_str().trim().to_owned())
                        .collect();
                }
                (NS_BIND, "bind") => f.bind = true,
                (NS_SESSION, "session") => {
                    f.session = Some(c.child("optional", NS_SESSION).is_none());
                }
                (super::sm::NS_SM, "sm") => f.sm = true,
                (NS_DIALBACK_FEATURE, "dialback") => f.dialback = true,
                _ => {}
            }
        }
        f
    }

    /// The `<stream:features/>` element.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let mut el = Element::new("features", NS_STREAMS).with_prefix("stream");
        if let Some(required) = self.starttls {
            let mut tls = Element::new("starttls", NS_TLS);
            if required {
                tls.push_child(Element::new("required", NS_TLS));
            }
            el.push_child(tls);
        }
        if !self.mechanisms.is_empty() {
            let mut m = Element::new("mechanisms", NS_SASL);
            for name in &self.mechanisms {
                m.push_child(Element::new("mechanism", NS_SASL).with_text(name.clone()));
            }
            el.push_child(m);
        }
        if self.bind {
            el.push_child(
                Element::new("bind", NS_BIND).with_child(Element::new("required", NS_BIND)),
            );
        }
        if let Some(required) = self.session {
            let mut s = Element::new("session", NS_SESSION);
            if !required {
                s.push_child(Element::new("optional", NS_SESSION));
            }
            el.push_child(s);
        }
        if self.sm {
            el.push_child(Element::new("sm", super::sm::NS_SM));
        }
        if self.dialback {
            el.push_child(
                Element::new("dialback", NS_DIALBACK_FEATURE)
                    .with_child(Element::new("errors", NS_DIALBACK_FEATURE)),
            );
        }
        el
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prosody_features_and_round_trip() {
        let el = Element::parse(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
             <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><required/></bind>\
             <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>\
             <sm xmlns='urn:xmpp:sm:2'><optional/></sm><sm xmlns='urn:xmpp:sm:3'><optional/></sm>\
             <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>\
             <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>\
             <mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>",
        )
        .unwrap();
        let f = StreamFeatures::from_element(&el);
        assert_eq!(f.starttls, Some(true));
        assert_eq!(f.mechanisms, ["PLAIN", "SCRAM-SHA-1"]);
        assert!(f.bind && f.sm && !f.dialback);
        assert_eq!(f.session, Some(false));
        let back = Element::parse(f.to_element().to_bytes()).unwrap();
        assert_eq!(StreamFeatures::from_element(&back), f);
    }
}
