//! SCRAM-SHA-1 and SCRAM-SHA-256 against RFC 5802 §5 and RFC 7677 §3
//! (`../shared/vectors/scram.json`, with intermediate keys), and against
//! the SCRAM exchanges recorded with Prosody and ejabberd.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Json, vector};
use xmpp_codec::sasl::scram::{ScramClient, ScramHash, ScramServer, StoredCredentials};
use xmpp_codec::sasl::{SaslCondition, decode_payload};
use xmpp_codec::{Element, Error};

fn hash(mech: &str) -> ScramHash {
    match mech {
        "SCRAM-SHA-1" => ScramHash::Sha1,
        "SCRAM-SHA-256" => ScramHash::Sha256,
        m => panic!("unknown mechanism {m}"),
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vectors() -> Vec<Json> {
    let v = Json::parse(&vector("scram.json"));
    let all = v.arr().to_vec();
    assert_eq!(all.len(), 2);
    all
}

#[test]
fn client_matches_the_rfc_examples() {
    for v in vectors() {
        let h = hash(v.s("mechanism"));
        let mut c =
            ScramClient::new(h, v.s("username"), v.s("password"), v.s("client_nonce")).unwrap();
        assert_eq!(c.client_first().unwrap(), v.s("client_first").as_bytes());
        let final_ = c
            .handle_server_first(v.s("server_first").as_bytes())
            .unwrap();
        assert_eq!(
            String::from_utf8(final_).unwrap(),
            v.s("client_final"),
            "{}",
            v.s("source")
        );
        // A forged server signature fails the exchange.
        let mut forged = c.clone();
        let e = forged
            .handle_server_final(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            .unwrap_err();
        assert_eq!(e.sasl_condition(), Some(SaslCondition::NotAuthorized));
        assert!(
            forged
                .clone()
                .handle_server_final(b"e=invalid-proof")
                .is_err()
        );
        c.handle_server_final(v.s("server_final").as_bytes())
            .unwrap();
        assert!(matches!(
            c.handle_server_final(v.s("server_final").as_bytes()),
            Err(Error::InvalidState(_))
        ));
    }
}

#[test]
fn server_matches_the_rfc_examples() {
    for v in vectors() {
        let h = hash(v.s("mechanism"));
        let salt = STANDARD.decode(v.s("salt_b64")).unwrap();
        let iterations: u32 = v
            .get("iterations")
            .unwrap()
            .num()
            .to_string()
            .parse()
            .unwrap();
        let creds = StoredCredentials::derive(h, v.s("password"), &salt, iterations).unwrap();
        assert_eq!(creds.stored_key, unhex(v.s("stored_key_hex")));
        assert_eq!(creds.server_key, unhex(v.s("server_key_hex")));
        let mut s = ScramServer::new(h, v.s("server_nonce_suffix")).unwrap();
        let first = s
            .handle_client_first(v.s("client_first").as_bytes())
            .unwrap();
        assert_eq!(first.username, "user");
        assert_eq!(first.authzid, None);
        assert_eq!(
            s.server_first(&creds).unwrap(),
            v.s("server_first").as_bytes()
        );
        let mut wrong = s.clone();
        let out = s
            .handle_client_final(v.s("client_final").as_bytes())
            .unwrap();
        assert_eq!(out, v.s("server_final").as_bytes());
        // A wrong proof is not-authorized.
        let bad = v.s("client_final").replacen(",p=", ",p=A", 1);
        let bad = format!(
            "{},p={}",
            bad.rsplit_once(",p=").unwrap().0,
            STANDARD.encode(vec![1u8; creds.stored_key.len()])
        );
        let e = wrong.handle_client_final(bad.as_bytes()).unwrap_err();
        assert_eq!(e.sasl_condition(), Some(SaslCondition::NotAuthorized));
    }
}

#[test]
fn client_and_server_agree_and_wrong_passwords_fail() {
    for h in [ScramHash::Sha1, ScramHash::Sha256] {
        let creds = StoredCredentials::derive(h, "pa,ss=word", b"salty", 4096).unwrap();
        for (pw, ok) in [("pa,ss=word", true), ("wrong", false)] {
            let mut c = ScramClient::new(h, "us,er=x", pw, "clientnonce").unwrap();
            let mut s = ScramServer::new(h, "servernonce").unwrap();
            let first = s.handle_client_first(&c.client_first().unwrap()).unwrap();
            assert_eq!(first.username, "us,er=x");
            let cf = c
                .handle_server_first(&s.server_first(&creds).unwrap())
                .unwrap();
            match s.handle_client_final(&cf) {
                Ok(sf) => {
                    assert!(ok);
                    c.handle_server_final(&sf).unwrap();
                }
                Err(e) => {
                    assert!(!ok);
                    assert_eq!(e.sasl_condition(), Some(SaslCondition::NotAuthorized));
                }
            }
        }
    }
}

#[test]
fn rejects_what_it_does_not_support() {
    let h = ScramHash::Sha1;
    let mut s = ScramServer::new(h, "sn").unwrap();
    assert!(
        s.clone()
            .handle_client_first(b"p=tls-unique,,n=user,r=abc")
            .is_err()
    );
    assert!(
        s.clone()
            .handle_client_first(b"n,,m=ext,n=user,r=abc")
            .is_err()
    );
    assert!(s.clone().handle_client_first(b"n,,n=us=er,r=abc").is_err());
    assert!(s.clone().handle_client_first(b"n,,n=user,r=a,b").is_ok());
    assert!(
        s.clone()
            .handle_client_first(b"n,,n=us\x01er,r=abc")
            .is_err()
    );
    let first = s.handle_client_first(b"y,a=admin,n=user,r=abc").unwrap();
    assert_eq!(first.authzid.as_deref(), Some("admin"));
    assert!(ScramClient::new(h, "u", "p", "bad,nonce").is_err());
    assert!(ScramClient::new(h, "u", "p\u{7}", "n").is_err());
    // Iteration counts outside the bounds, and nonces that do not extend
    // ours, are refused.
    let mut c = ScramClient::new(h, "u", "p", "abc").unwrap();
    c.client_first().unwrap();
    for bad in [
        "r=abcd,s=c2FsdA==,i=1",
        "r=xyz,s=c2FsdA==,i=4096",
        "r=abc,s=c2FsdA==,i=4096",
        "m=x,r=abcd,s=c2FsdA==,i=4096",
        "r=abcd,s=,i=4096",
    ] {
        assert!(
            c.clone().handle_server_first(bad.as_bytes()).is_err(),
            "{bad}"
        );
    }
    assert!(c.handle_server_first(b"r=abcd,s=c2FsdA==,i=4096").is_ok());
}

/// The text of the first `name` element in the recorded direction.
fn payloads(transcript: &Json, dir: &str, name: &str) -> Vec<Vec<u8>> {
    transcript
        .arr()
        .iter()
        .filter(|e| e.arr()[0].str() == dir)
        .filter_map(|e| Element::parse(e.arr()[1].str().to_owned()).ok())
        .filter(|el| el.name() == name)
        .map(|el| decode_payload(&el.text()).unwrap())
        .collect()
}

#[test]
fn client_reproduces_the_recorded_prosody_and_ejabberd_exchanges() {
    for (file, password) in [
        ("tcp_prosody_scram1.json", "secret-alice"),
        ("tcp_ejabberd_scram1.json", "secret-carol"),
        ("tcp_ejabberd_scram256.json", "secret-carol"),
    ] {
        let j = Json::parse(&vector(&format!("xmpp/{file}")));
        let t = j.get("transcript").unwrap();
        let auth = &payloads(t, "C", "auth")[0];
        let challenge = &payloads(t, "S", "challenge")[0];
        let response = &payloads(t, "C", "response")[0];
        let success = &payloads(t, "S", "success")[0];
        assert_eq!(std::str::from_utf8(success).unwrap(), j.s("server_final"));
        let auth = std::str::from_utf8(auth).unwrap();
        let user = auth.split(",n=").nth(1).unwrap().split(',').next().unwrap();
        let nonce = auth.rsplit(",r=").next().unwrap();
        let mut c = ScramClient::new(hash(j.s("mech")), user, password, nonce).unwrap();
        assert_eq!(c.client_first().unwrap(), auth.as_bytes(), "{file}");
        assert_eq!(
            &c.handle_server_first(challenge).unwrap(),
            response,
            "{file}"
        );
        c.handle_server_final(success).unwrap();
    }
}
