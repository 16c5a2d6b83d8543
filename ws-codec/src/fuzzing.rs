//! Plain entry points for the fuzz targets in `fuzz/`, so an ordinary
//! `cargo test` can replay their corpora on stable Rust. Each must hold for
//! any input: no panic, bounded work and memory.

use bytes::BytesMut;

use crate::config::{Config, Limits, MaskSource, Role};
#[cfg(feature = "deflate")]
use crate::deflate::{Deflate, DeflateConfig};
use crate::handshake::{self, ClientRequest};
use crate::{Connection, Decoder, Event};

fn small_limits() -> Limits {
    Limits {
        max_frame_size: 1 << 16,
        max_message_size: 1 << 18,
        max_handshake_size: 4096,
        max_queued_output: 1 << 20,
    }
}

/// Splits `data` into chunks whose sizes come from its first byte, so one
/// input covers both content and read boundaries.
fn chunks(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (step, rest) = match data.split_first() {
        Some((s, r)) => (usize::from(*s % 64) + 1, r),
        None => (1, data),
    };
    rest.chunks(step)
}

/// Frame decoder, both roles, deflate bit allowed or not.
pub fn decode(data: &[u8]) {
    for role in [Role::Server, Role::Client] {
        for rsv1 in [false, true] {
            let mut d = Decoder::new(role, 1 << 16);
            d.set_rsv1_allowed(rsv1);
            let mut buf = BytesMut::new();
            for c in chunks(data) {
                buf.extend_from_slice(c);
                while let Ok(Some(_)) = d.decode(&mut buf) {}
            }
        }
    }
}

/// Server handshake parser, and the answer built from what it parsed.
pub fn handshake_server(data: &[u8]) {
    if let Ok(Some((req, _))) = handshake::parse_request(data, 4096) {
        let _ =
            handshake::accept_response(&req.key, req.protocols.first().map(String::as_str), &[]);
        #[cfg(feature = "deflate")]
        let _ = DeflateConfig::default().accept(&req.extensions);
    } else if let Err(e) = handshake::parse_request(data, 4096) {
        let _ = handshake::error_response(&e);
    }
}

/// Client handshake answer parser.
pub fn handshake_client(data: &[u8]) {
    let offered = ["chat".to_owned()];
    if let Ok(Some((resp, _))) =
        handshake::parse_response(data, "dGhlIHNhbXBsZSBub25jZQ==", &offered, 4096)
    {
        #[cfg(feature = "deflate")]
        for e in &resp.extensions {
            let _ = DeflateConfig::default().check_answer(e);
        }
        let _ = resp;
    }
}

fn drive(mut c: Connection, data: &[u8], accept: bool) {
    for chunk in chunks(data) {
        let failed = c.handle_input(chunk).is_err();
        while let Some(ev) = c.poll_event() {
            match ev {
                Event::Request(_) if accept => {
                    let _ = c.accept();
                }
                // Answering each message exercises the send path (and the
                // compressor) as often as the peer makes us, no more.
                Event::Message(m) => {
                    let _ = c.send_binary(m.as_bytes());
                }
                _ => {}
            }
        }
        let _ = c.poll_transmit();
        if failed {
            break;
        }
    }
}

/// A server connection (deflate on) fed arbitrary bytes after a valid
/// request, and before one.
pub fn conn_server(data: &[u8]) {
    let cfg = Config {
        limits: small_limits(),
        #[cfg(feature = "deflate")]
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    };
    let mut input = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n".to_vec();
    let first = data.first().copied().unwrap_or(0);
    input.insert(0, first);
    input.extend_from_slice(data.get(1..).unwrap_or_default());
    drive(Connection::server(cfg.clone()), &input, true);
    drive(Connection::server(cfg), data, true);
}

/// A client connection fed a valid `101` with deflate, then arbitrary
/// frames; and fed arbitrary bytes as its answer.
pub fn conn_client(data: &[u8]) {
    let cfg = Config {
        limits: small_limits(),
        #[cfg(feature = "deflate")]
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    };
    let req = ClientRequest::new("x", "/");
    let mut c = Connection::client(cfg.clone(), &req, MaskSource::Seed(1));
    let head = c.poll_transmit().unwrap_or_default();
    let key = head
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"Sec-WebSocket-Key: "))
        .and_then(|k| std::str::from_utf8(k).ok())
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    // The answer a permessage-deflate server gives to our offer.
    #[cfg(feature = "deflate")]
    let ext: Vec<handshake::Extension> = DeflateConfig::default()
        .accept(&[DeflateConfig::default().offer()])
        .map(|(_, answer)| answer)
        .into_iter()
        .collect();
    #[cfg(not(feature = "deflate"))]
    let ext: Vec<handshake::Extension> = Vec::new();
    let mut input = handshake::accept_response(&key, None, &ext);
    let first = data.first().copied().unwrap_or(0);
    input.insert(0, first);
    input.extend_from_slice(data.get(1..).unwrap_or_default());
    drive(c, &input, false);
    drive(
        Connection::client(cfg, &req, MaskSource::Seed(2)),
        data,
        false,
    );
}

/// Inflating arbitrary bytes as a compressed message, bounded.
#[cfg(feature = "deflate")]
pub fn deflate(data: &[u8]) {
    if let Some((p, _)) = DeflateConfig::default().accept(&[DeflateConfig::default().offer()]) {
        let mut d = Deflate::new(&p, Role::Server, 6, 0);
        let mut out = Vec::new();
        for c in chunks(data) {
            out.clear();
            if d.decompress(c, false, &mut out, 1 << 18).is_err() {
                return;
            }
        }
        let _ = d.decompress(&[], true, &mut out, 1 << 18);
        let mut z = Vec::new();
        let _ = d.compress(data, &mut z);
    }
}
