//! SCRAM (RFC 5802) with SHA-1 and SHA-256 (RFC 7677), without channel
//! binding: the client sends GS2 header `n,,` (a server also accepts
//! `y,,`, RFC 5802 §6, since it offers no `-PLUS` variant) and `c=biws`.
//!
//! The server never sees the password: it keeps [`StoredCredentials`]
//! (salt, iteration count, StoredKey, ServerKey; RFC 5802 §3) and checks the
//! client's proof against StoredKey. The client checks the server's
//! signature and fails if it is wrong, so a server that does not know the
//! credentials is caught.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::sasl::{SaslCondition, saslprep};

/// The hash function of a SCRAM variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramHash {
    /// SCRAM-SHA-1.
    Sha1,
    /// SCRAM-SHA-256.
    Sha256,
}

impl ScramHash {
    fn h(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => Sha1::digest(data).to_vec(),
            Self::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
        let bad_key = |_| Error::sasl(SaslCondition::TemporaryAuthFailure, "HMAC key");
        Ok(match self {
            Self::Sha1 => {
                let mut m = Hmac::<Sha1>::new_from_slice(key).map_err(bad_key)?;
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            Self::Sha256 => {
                let mut m = Hmac::<Sha256>::new_from_slice(key).map_err(bad_key)?;
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        })
    }

    /// `Hi(password, salt, i)` (RFC 5802 §2.2): PBKDF2 with HMAC.
    fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            Self::Sha1 => {
                pbkdf2::pbkdf2_hmac_array::<Sha1, 20>(password, salt, iterations).to_vec()
            }
            Self::Sha256 => {
                pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password, salt, iterations).to_vec()
            }
        }
    }
}

/// What a server stores per user (RFC 5802 §3, §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredentials {
    /// The variant these keys are for.
    pub hash: ScramHash,
    /// The salt.
    pub salt: Vec<u8>,
    /// The iteration count.
    pub iterations: u32,
    /// `H(ClientKey)`.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: Vec<u8>,
}

impl StoredCredentials {
    /// Derives the stored keys from a password (at registration time).
    pub fn derive(
        hash: ScramHash,
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Result<Self, Error> {
        let salted = hash.hi(saslprep::check(password)?.as_bytes(), salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key")?;
        Ok(Self {
            hash,
            salt: salt.to_vec(),
            iterations,
            stored_key: hash.h(&client_key),
            server_key: hash.hmac(&salted, b"Server Key")?,
        })
    }
}

fn malformed(reason: &'static str) -> Error {
    Error::sasl(SaslCondition::MalformedRequest, reason)
}

/// Checks a nonce: printable ASCII without `,` (RFC 5802 §7).
fn check_nonce(n: &str) -> Result<&str, Error> {
    if n.is_empty() || !n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',') {
        return Err(malformed("bad nonce"));
    }
    Ok(n)
}

/// `saslname` escaping (RFC 5802 §5.1): `,` as `=2C`, `=` as `=3D`.
fn escape_name(s: &str) -> String {
    s.replace('=', "=3D").replace(',', "=2C")
}

fn unescape_name(s: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let code = rest.get(i..i + 3);
        out.push(match code {
            Some("=2C") => ',',
            Some("=3D") => '=',
            _ => return Err(malformed("bad saslname escape")),
        });
        rest = rest.get(i + 3..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits `k=v,k=v` and checks the keys come in the given order; extra
/// trailing attributes are ignored unless `strict`.
fn attrs<const N: usize>(msg: &str, keys: [char; N]) -> Result<[&str; N], Error> {
    let mut out = [""; N];
    let mut parts = msg.split(',');
    for (slot, key) in out.iter_mut().zip(keys) {
        let part = parts.next().ok_or(malformed("missing attribute"))?;
        let mut kv = part.splitn(2, '=');
        match (kv.next(), kv.next()) {
            (Some(k), Some(v)) if k.len() == 1 && k.starts_with(key) => *slot = v,
            (Some("m"), _) => return Err(malformed("mandatory extension not supported")),
            _ => return Err(malformed("unexpected attribute")),
        }
    }
    Ok(out)
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// Compares without an early exit, so timing does not tell how much of a
/// proof was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn utf8(msg: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(msg).map_err(|_| malformed("not UTF-8"))
}

#[derive(Debug, Clone)]
enum ClientState {
    Initial,
    SentFirst,
    SentFinal { server_signature: Vec<u8> },
    Done,
}

/// The client side of one SCRAM exchange.
#[derive(Debug, Clone)]
pub struct ScramClient {
    hash: ScramHash,
    password: String,
    first_bare: String,
    nonce: String,
    min_iterations: u32,
    max_iterations: u32,
    state: ClientState,
}

impl ScramClient {
    /// A client for `username` and `password`, with `nonce` (printable
    /// ASCII without `,`; at least 16 random bytes' worth from the
    /// caller's CSPRNG). Iteration counts from 4096 (RFC 7677 §4's minimum)
    /// to 10,000,000 are accepted.
    pub fn new(
        hash: ScramHash,
        username: &str,
        password: &str,
        nonce: &str,
    ) -> Result<Self, Error> {
        let username = saslprep::check(username)?;
        let nonce = check_nonce(nonce)?;
        Ok(Self {
            hash,
            password: saslprep::check(password)?.to_owned(),
            first_bare: format!("n={},r={nonce}", escape_name(username)),
            nonce: nonce.to_owned(),
            min_iterations: 4096,
            max_iterations: 10_000_000,
            state: ClientState::Initial,
        })
    }

    /// Accepts iteration counts in `min..=max` instead: a server's huge
    /// count would make the client burn CPU, a tiny one weakens the hash.
    #[must_use]
    pub const fn with_iteration_bounds(mut self, min: u32, max: u32) -> Self {
        self.min_iterations = min;
        self.max_iterations = max;
        self
    }

    /// The client-first-message, for `<auth/>`.
    pub fn client_first(&mut self) -> Result<Vec<u8>, Error> {
        if !matches!(self.state, ClientState::Initial) {
            return Err(Error::InvalidState("client-first already sent"));
        }
        self.state = ClientState::SentFirst;
        Ok(format!("n,,{}", self.first_bare).into_bytes())
    }

    /// Takes the server-first-message (a `<challenge/>`) and returns the
    /// client-final-message for `<response/>`.
    pub fn handle_server_first(&mut self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        if !matches!(self.state, ClientState::SentFirst) {
            return Err(Error::InvalidState("not waiting for server-first"));
        }
        let server_first = utf8(msg)?;
        let [nonce, salt, iterations] = attrs(server_first, ['r', 's', 'i'])?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(malformed("server nonce does not extend ours"));
        }
        check_nonce(nonce)?;
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| malformed("salt not base64"))?;
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| malformed("bad iteration count"))?;
        if salt.is_empty() || !(self.min_iterations..=self.max_iterations).contains(&iterations) {
            return Err(malformed("salt or iteration count out of bounds"));
        }
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare);
        let h = self.hash;
        let salted = h.hi(self.password.as_bytes(), &salt, iterations);
        let client_key = h.hmac(&salted, b"Client Key")?;
        let stored_key = h.h(&client_key);
        let client_signature = h.hmac(&stored_key, auth_message.as_bytes())?;
        let proof = xor(&client_key, &client_signature);
        let server_key = h.hmac(&salted, b"Server Key")?;
        let server_signature = h.hmac(&server_key, auth_message.as_bytes())?;
        self.state = ClientState::SentFinal { server_signature };
        Ok(format!("{without_proof},p={}", STANDARD.encode(proof)).into_bytes())
    }

    /// Takes the server-final-message (the `<success/>` payload) and
    /// checks the server's signature: an `e=` error or a wrong signature
    /// fails the exchange (`not-authorized`).
    pub fn handle_server_final(&mut self, msg: &[u8]) -> Result<(), Error> {
        let ClientState::SentFinal { server_signature } = &self.state else {
            return Err(Error::InvalidState("not waiting for server-final"));
        };
        let text = utf8(msg)?;
        if text.starts_with("e=") {
            return Err(Error::sasl(
                SaslCondition::NotAuthorized,
                "server reported an error",
            ));
        }
        let [v] = attrs(text, ['v'])?;
        let v = STANDARD
            .decode(v)
            .map_err(|_| malformed("signature not base64"))?;
        if !constant_time_eq(&v, server_signature) {
            return Err(Error::sasl(
                SaslCondition::NotAuthorized,
                "server signature is wrong",
            ));
        }
        self.state = ClientState::Done;
        Ok(())
    }
}

/// What the client-first-message says, for the server to look the user
/// up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFirst {
    /// The authentication identity (unescaped).
    pub username: String,
    /// The GS2 authorization identity, if any.
    pub authzid: Option<String>,
}

#[derive(Debug, Clone)]
enum ServerState {
    Initial,
    GotFirst {
        gs2: String,
        first_bare: String,
        nonce: String,
    },
    SentFirst {
        gs2: String,
        first_bare: String,
        server_first: String,
        nonce: String,
        creds: StoredCredentials,
    },
    Done,
}

/// The server side of one SCRAM exchange.
#[derive(Debug, Clone)]
pub struct ScramServer {
    hash: ScramHash,
    nonce_suffix: String,
    state: ServerState,
}

impl ScramServer {
    /// A server for `hash`, appending `nonce_suffix` (printable ASCII
    /// without `,`, from the caller's CSPRNG) to the client's nonce.
    pub fn new(hash: ScramHash, nonce_suffix: &str) -> Result<Self, Error> {
        Ok(Self {
            hash,
            nonce_suffix: check_nonce(nonce_suffix)?.to_owned(),
            state: ServerState::Initial,
        })
    }

    /// Takes the client-first-message (the `<auth/>` payload). Then look
    /// up the user and call [`Self::server_first`]; for an unknown user,
    /// continue with made-up credentials so the answer does not reveal
    /// which users exist, and the proof will fail.
    pub fn handle_client_first(&mut self, msg: &[u8]) -> Result<ClientFirst, Error> {
        if !matches!(self.state, ServerState::Initial) {
            return Err(Error::InvalidState("client-first already handled"));
        }
        let text = utf8(msg)?;
        let mut parts = text.splitn(3, ',');
        let (Some(cb), Some(authz), Some(first_bare)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("no GS2 header"));
        };
        if cb != "n" && cb != "y" {
            return Err(malformed("channel binding is not supported"));
        }
        let authzid = match authz {
            "" => None,
            a => Some(unescape_name(
                a.strip_prefix("a=").ok_or(malformed("bad authzid"))?,
            )?),
        };
        let [user, nonce] = attrs(first_bare, ['n', 'r'])?;
        let username = unescape_name(user)?;
        saslprep::check(&username)?;
        check_nonce(nonce)?;
        self.state = ServerState::GotFirst {
            gs2: format!("{cb},{authz},"),
            first_bare: first_bare.to_owned(),
            nonce: format!("{nonce}{}", self.nonce_suffix),
        };
        Ok(ClientFirst { username, authzid })
    }

    /// The server-first-message (for `<challenge/>`) with the user's
    /// stored credentials.
    pub fn server_first(&mut self, creds: &StoredCredentials) -> Result<Vec<u8>, Error> {
        let ServerState::GotFirst {
            gs2,
            first_bare,
            nonce,
        } = std::mem::replace(&mut self.state, ServerState::Done)
        else {
            return Err(Error::InvalidState("client-first not handled"));
        };
        if creds.hash != self.hash {
            return Err(Error::InvalidState("credentials for another hash"));
        }
        let server_first = format!(
            "r={nonce},s={},i={}",
            STANDARD.encode(&creds.salt),
            creds.iterations
        );
        let out = server_first.clone().into_bytes();
        self.state = ServerState::SentFirst {
            gs2,
            first_bare,
            server_first,
            nonce,
            creds: creds.clone(),
        };
        Ok(out)
    }

    /// Takes the client-final-message (the `<response/>` payload), checks
    /// the channel binding data, the nonce and the proof, and returns the
    /// server-final-message for `<success/>`. A wrong proof is
    /// `not-authorized`.
    pub fn handle_client_final(&mut self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let ServerState::SentFirst {
            gs2,
            first_bare,
            server_first,
            nonce,
            creds,
        } = std::mem::replace(&mut self.state, ServerState::Done)
        else {
            return Err(Error::InvalidState("server-first not sent"));
        };
        let text = utf8(msg)?;
        let (without_proof, proof) = text.rsplit_once(",p=").ok_or(malformed("no proof"))?;
        let [c, r] = attrs(without_proof, ['c', 'r'])?;
        if STANDARD.decode(c).ok().as_deref() != Some(gs2.as_bytes()) {
            return Err(malformed("channel binding data does not match"));
        }
        if r != nonce {
            return Err(malformed("nonce does not match"));
        }
        let proof = STANDARD
            .decode(proof)
            .map_err(|_| malformed("proof not base64"))?;
        let auth_message = format!("{first_bare},{server_first},{without_proof}");
        let h = self.hash;
        let client_signature = h.hmac(&creds.stored_key, auth_message.as_bytes())?;
        let client_key = xor(&proof, &client_signature);
        if proof.len() != client_signature.len()
            || !constant_time_eq(&h.h(&client_key), &creds.stored_key)
        {
            return Err(Error::sasl(SaslCondition::NotAuthorized, "wrong proof"));
        }
        let server_signature = h.hmac(&creds.server_key, auth_message.as_bytes())?;
        Ok(format!("v={}", STANDARD.encode(server_signature)).into_bytes())
    }
}
