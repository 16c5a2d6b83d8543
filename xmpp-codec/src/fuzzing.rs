//! Plain entry points for the fuzz targets in `fuzz/`, so an ordinary
//! `cargo test` can replay their corpora on stable Rust. Each must hold for
//! any input: no panic, bounded work and memory, any chunking decodes
//! alike, and every element re-serializes to XML that parses back equal.

use bytes::BytesMut;

use crate::codec::Decoder;
use crate::config::{Framing, Limits};
use crate::element::Element;
use crate::frame::Frame;
use crate::sasl::scram::{ScramClient, ScramHash, ScramServer, StoredCredentials};

fn small_limits() -> Limits {
    Limits {
        max_stanza_size: 1 << 14,
        max_depth: 16,
        max_attributes: 16,
        max_text_size: 1 << 12,
    }
}

/// Decodes `chunks` with a fresh decoder, restarting after each stream
/// end; returns the frames (keepalives dropped) and whether it failed.
fn decode_all<'a>(framing: Framing, chunks: impl Iterator<Item = &'a [u8]>) -> (Vec<Frame>, bool) {
    let mut d = Decoder::new(framing, small_limits());
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match d.decode(&mut buf) {
                Ok(Some(Frame::Keepalive)) => {}
                Ok(Some(f)) => {
                    if let Frame::Element(el) = &f {
                        round_trip(el, &d);
                    }
                    if matches!(f, Frame::StreamClose { .. }) {
                        d.reset();
                    }
                    frames.push(f);
                }
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

/// `el` written in the decoder's scope, and standalone, parses back equal.
fn round_trip(el: &Element, d: &Decoder) {
    let mut out = BytesMut::new();
    el.write_in(d.scope(), &mut out);
    let again = Element::parse_in(out.freeze(), d.scope(), Limits::default());
    assert!(again.as_ref() == Ok(el), "{el:?} re-parsed as {again:?}");
    let alone = Element::parse(el.to_bytes());
    assert!(
        alone.as_ref() == Ok(el),
        "{el:?} standalone re-parsed as {alone:?}"
    );
}

/// The stream decoder over `data` (after a first byte that picks the
/// framing and a chunk size), whole and in chunks: both must yield the
/// same frames and fail alike.
pub fn stream(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let framing = if first & 0x80 == 0 {
        Framing::Tcp
    } else {
        Framing::WebSocket
    };
    let step = usize::from(first & 0x3f) + 1;
    let whole = decode_all(framing, std::iter::once(rest));
    let split = decode_all(framing, rest.chunks(step));
    assert!(
        whole == split,
        "chunking changed the result: {whole:?} vs {split:?}"
    );
}

/// SCRAM server and client fed `data`, split at NUL bytes, as the peer's
/// messages; then a full exchange whose nonces come from `data`.
pub fn sasl_scram(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let (a, b, c) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    for hash in [ScramHash::Sha1, ScramHash::Sha256] {
        let Ok(creds) = StoredCredentials::derive(hash, "pencil", b"salt", 2) else {
            return;
        };
        if let Ok(mut s) = ScramServer::new(hash, "srv") {
            if s.handle_client_first(a).is_ok() && s.server_first(&creds).is_ok() {
                let _ = s.handle_client_final(b);
            }
        }
        if let Ok(mut cl) = ScramClient::new(hash, "user", "pencil", "cli") {
            cl = cl.with_iteration_bounds(1, 4);
            if cl.client_first().is_ok() && cl.handle_server_first(a).is_ok() {
                let _ = cl.handle_server_final(b);
            }
        }
        // An honest exchange with fuzzed nonces and username succeeds or
        // fails cleanly at construction.
        let (Ok(user), Ok(nonce)) = (std::str::from_utf8(c), std::str::from_utf8(b)) else {
            continue;
        };
        let (Ok(mut cl), Ok(mut s)) = (
            ScramClient::new(hash, user, "pencil", nonce),
            ScramServer::new(hash, nonce),
        ) else {
            continue;
        };
        cl = cl.with_iteration_bounds(1, 4);
        let ok = cl
            .client_first()
            .and_then(|m| s.handle_client_first(&m))
            .and_then(|_| s.server_first(&creds))
            .and_then(|m| cl.handle_server_first(&m))
            .and_then(|m| s.handle_client_final(&m))
            .and_then(|m| cl.handle_server_final(&m));
        assert!(ok.is_ok(), "honest exchange failed: {ok:?}");
    }
}

pub use crate::fuzzing_conn::{conn_client, conn_server};
