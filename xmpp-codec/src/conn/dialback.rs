//! Server dialback (XEP-0220) elements and keys (XEP-0185).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::element::Element;

/// The dialback namespace, bound to prefix `db` on s2s streams.
pub const NS_DIALBACK: &str = "jabber:server:dialback";

/// The dialback key (XEP-0185 §3): HMAC-SHA256 keyed with the hex
/// SHA-256 of `secret`, over `receiving originating stream_id`, as lower-case
/// hex.
#[must_use]
pub fn key(secret: &str, receiving: &str, originating: &str, stream_id: &str) -> String {
    let k = hex(&Sha256::digest(secret.as_bytes()));
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(k.as_bytes()) else {
        return String::new();
    };
    mac.update(receiving.as_bytes());
    mac.update(b" ");
    mac.update(originating.as_bytes());
    mac.update(b" ");
    mac.update(stream_id.as_bytes());
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Compares without an early exit.
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A `db:result` or `db:verify` element.
pub(crate) fn element(name: &'static str, from: &str, to: &str) -> Element {
    Element::new(name, NS_DIALBACK)
        .with_prefix("db")
        .with_attr("from", from.to_owned())
        .with_attr("to", to.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xep_0185_example() {
        // XEP-0185's main example inputs (the script on the XSF wiki that
        // generated it: Receiving Server domain2.tld, Originating Server
        // domain1.tld), computed with Python's hashlib/hmac.
        assert_eq!(
            key(
                "s3cr3tf0rd14lb4ck",
                "domain2.tld",
                "domain1.tld",
                "D60000229F"
            ),
            "5e598fae34b90be084fb6a4a8a543ceb33549140bac9d829ef8d734d900616e4"
        );
    }
}
