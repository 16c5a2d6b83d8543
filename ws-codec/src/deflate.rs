//! permessage-deflate (RFC 7692): negotiation of its four parameters, and
//! per-message compression with raw DEFLATE (flate2 over zlib-rs, which,
//! unlike miniz, honours window sizes below 15 bits).
//!
//! Window bits 8 are declined as zlib-based peers do: zlib silently raises an
//! 8-bit raw window to 9, which would break a peer that relied on 8.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::config::Role;
use crate::error::{Error, HandshakeError};
use crate::handshake::Extension;

/// The extension token (RFC 7692 §7).
pub const NAME: &str = "permessage-deflate";
/// The tail a sync flush leaves, stripped on send and restored on receive
/// (§7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What a client offers, or what a server is willing to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Ask (client) or require (server) that the server reset its
    /// compression context after each message (§7.1.1.1).
    pub server_no_context_takeover: bool,
    /// Ask (server) or promise (client) that the client reset its
    /// compression context after each message (§7.1.1.2).
    pub client_no_context_takeover: bool,
    /// Largest LZ77 window the server may compress with, 9–15 (§7.1.2.1).
    pub server_max_window_bits: u8,
    /// Largest LZ77 window the client may compress with, 9–15 (§7.1.2.2).
    pub client_max_window_bits: u8,
    /// zlib compression level, 0–9.
    pub level: u32,
    /// Messages shorter than this are sent uncompressed (RSV1 clear).
    pub min_compress_size: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            level: 6,
            min_compress_size: 0,
        }
    }
}

/// Parameters both ends agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its context after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its context after each message.
    pub client_no_context_takeover: bool,
    /// The server's window bits.
    pub server_max_window_bits: u8,
    /// The client's window bits.
    pub client_max_window_bits: u8,
}

/// Parsed parameters of one offer or answer; `None` = absent,
/// `Some(None)` = valueless.
#[derive(Default)]
struct Params {
    snct: bool,
    cnct: bool,
    smwb: Option<Option<u8>>,
    cmwb: Option<Option<u8>>,
}

fn parse_params(ext: &Extension) -> Option<Params> {
    let mut p = Params::default();
    let bits = |v: &Option<String>| -> Option<Option<u8>> {
        match v {
            None => Some(None),
            // §7.1.2: a decimal 8–15 without leading zeros.
            Some(s) if !s.starts_with('0') => match s.parse::<u8>() {
                Ok(b @ 8..=15) => Some(Some(b)),
                _ => None,
            },
            Some(_) => None,
        }
    };
    for (k, v) in &ext.params {
        match k.as_str() {
            "server_no_context_takeover" if !p.snct && v.is_none() => p.snct = true,
            "client_no_context_takeover" if !p.cnct && v.is_none() => p.cnct = true,
            "server_max_window_bits" if p.smwb.is_none() => {
                // §7.1.2.1: this one must have a value.
                p.smwb = Some(Some(bits(v)??));
            }
            "client_max_window_bits" if p.cmwb.is_none() => p.cmwb = Some(bits(v)?),
            _ => return None,
        }
    }
    Some(p)
}

impl DeflateConfig {
    /// The offer a client sends (§5.1). `client_max_window_bits` is always
    /// offered, so a server may shrink the client's window.
    #[must_use]
    pub fn offer(&self) -> Extension {
        let mut params = Vec::new();
        if self.server_no_context_takeover {
            params.push(("server_no_context_takeover".to_owned(), None));
        }
        if self.client_no_context_takeover {
            params.push(("client_no_context_takeover".to_owned(), None));
        }
        if self.server_max_window_bits < 15 {
            params.push((
                "server_max_window_bits".to_owned(),
                Some(self.server_max_window_bits.to_string()),
            ));
        }
        let cmwb =
            (self.client_max_window_bits < 15).then(|| self.client_max_window_bits.to_string());
        params.push(("client_max_window_bits".to_owned(), cmwb));
        Extension {
            name: NAME.to_owned(),
            params,
        }
    }

    /// Server side: accepts the first acceptable permessage-deflate offer
    /// (§5.1) and returns the agreed parameters and the answer to send.
    /// Offers with unknown, repeated or invalid parameters, or asking for an
    /// 8-bit server window, are declined.
    #[must_use]
    pub fn accept(&self, offers: &[Extension]) -> Option<(DeflateParams, Extension)> {
        offers
            .iter()
            .filter(|e| e.name == NAME)
            .find_map(|e| self.accept_one(e))
    }

    fn accept_one(&self, offer: &Extension) -> Option<(DeflateParams, Extension)> {
        let p = parse_params(offer)?;
        let our_s = self.server_max_window_bits.clamp(9, 15);
        let server_bits = match p.smwb {
            Some(Some(8)) => return None,
            Some(Some(b)) => b.min(our_s),
            _ => our_s,
        };
        let our_c = self.client_max_window_bits.clamp(9, 15);
        let client_bits = match p.cmwb {
            Some(Some(b)) => b.min(our_c),
            // Without the parameter the client may use 15 bits; we inflate
            // with a 15-bit window, so that is always acceptable.
            _ => 15.min(if p.cmwb.is_some() { our_c } else { 15 }),
        };
        let params = DeflateParams {
            server_no_context_takeover: p.snct || self.server_no_context_takeover,
            client_no_context_takeover: p.cnct || self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        };
        let mut answer = Vec::new();
        if params.server_no_context_takeover {
            answer.push(("server_no_context_takeover".to_owned(), None));
        }
        if params.client_no_context_takeover {
            answer.push(("client_no_context_takeover".to_owned(), None));
        }
        if p.smwb.is_some() || server_bits < 15 {
            answer.push((
                "server_max_window_bits".to_owned(),
                Some(server_bits.to_string()),
            ));
        }
        if p.cmwb.is_some() && (client_bits < 15 || matches!(p.cmwb, Some(Some(_)))) {
            answer.push((
                "client_max_window_bits".to_owned(),
                Some(client_bits.to_string()),
            ));
        }
        Some((
            params,
            Extension {
                name: NAME.to_owned(),
                params: answer,
            },
        ))
    }

    /// Client side: checks the server's answer against this offer (§5.1,
    /// §7.1) and returns the agreed parameters.
    pub fn check_answer(&self, answer: &Extension) -> Result<DeflateParams, HandshakeError> {
        let bad = |why: &str| HandshakeError::BadExtension(format!("{answer}: {why}"));
        if answer.name != NAME {
            return Err(bad("not offered"));
        }
        let p = parse_params(answer).ok_or_else(|| bad("invalid parameters"))?;
        if self.server_no_context_takeover && !p.snct {
            return Err(bad("server_no_context_takeover was required"));
        }
        let server_bits = match p.smwb {
            Some(Some(b))
                if self.server_max_window_bits < 15 && b > self.server_max_window_bits =>
            {
                return Err(bad("server window larger than requested"));
            }
            Some(Some(b)) => b,
            _ => 15,
        };
        let client_bits = match p.cmwb {
            Some(Some(8)) => return Err(bad("an 8-bit client window is not supported")),
            Some(Some(b)) => b.min(self.client_max_window_bits.clamp(9, 15)),
            Some(None) => return Err(bad("client_max_window_bits needs a value")),
            None => self.client_max_window_bits.clamp(9, 15),
        };
        Ok(DeflateParams {
            server_no_context_takeover: p.snct,
            client_no_context_takeover: p.cnct || self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        })
    }
}

/// Per-connection compression state, allocated only when negotiated.
pub struct Deflate {
    compress: Compress,
    decompress: Decompress,
    reset_compress: bool,
    reset_decompress: bool,
    min_compress_size: usize,
    /// Compressed bytes received so far of the current message.
    message_in: usize,
    /// The last inflated block was final (BFINAL): the message's DEFLATE
    /// stream is over, so the restored tail must not start a new one.
    stream_ended: bool,
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate").finish_non_exhaustive()
    }
}

impl Deflate {
    /// State for `role` under the agreed `params`.
    #[must_use]
    pub fn new(params: &DeflateParams, role: Role, level: u32, min_compress_size: usize) -> Self {
        let (ours, ours_reset, theirs_reset) = match role {
            Role::Server => (
                params.server_max_window_bits,
                params.server_no_context_takeover,
                params.client_no_context_takeover,
            ),
            Role::Client => (
                params.client_max_window_bits,
                params.client_no_context_takeover,
                params.server_no_context_takeover,
            ),
        };
        Self {
            compress: Compress::new_with_window_bits(
                Compression::new(level.min(9)),
                false,
                ours.clamp(9, 15),
            ),
            // A 15-bit window inflates anything a smaller window produced.
            decompress: Decompress::new_with_window_bits(false, 15),
            reset_compress: ours_reset,
            reset_decompress: theirs_reset,
            min_compress_size,
            message_in: 0,
            stream_ended: false,
        }
    }

    /// Whether a message of `len` bytes is worth compressing.
    #[must_use]
    pub const fn should_compress(&self, len: usize) -> bool {
        len >= self.min_compress_size
    }

    /// Compresses one whole message into `out` (§7.2.1): sync flush, then the
    /// trailing `00 00 ff ff` removed.
    pub fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        out.reserve(data.len() / 2 + 64);
        let mut consumed = 0usize;
        loop {
            let before_in = self.compress.total_in();
            let input = data.get(consumed..).unwrap_or_default();
            self.compress
                .compress_vec(input, out, FlushCompress::Sync)
                .map_err(|e| Error::Inflate(e.to_string()))?;
            consumed += usize::try_from(self.compress.total_in() - before_in).unwrap_or(0);
            // zlib finished the flush iff it stopped with output space left.
            if consumed >= data.len() && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity().max(64));
        }
        if out.len() >= start + 4 && out.ends_with(&TAIL) {
            out.truncate(out.len() - 4);
        }
        if out.len() == start {
            // zlib emits nothing for an empty message after a flush; §7.2.3.6
            // spells an empty message as one empty non-final block.
            out.push(0x00);
        }
        if self.reset_compress {
            self.compress.reset();
        }
        Ok(())
    }

    /// Inflates one frame's `data` of a compressed message, appending to
    /// `out`; `fin` marks the message's last frame (§7.2.2). Fails with
    /// [`Error::MessageTooLarge`] as soon as `out` would exceed `limit`,
    /// without allocating past it.
    pub fn decompress(
        &mut self,
        data: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), Error> {
        self.inflate(data, out, limit)?;
        self.message_in += data.len();
        if fin {
            // Some peers send an empty compressed message as no bytes at all;
            // the tail alone would not inflate, so such a message is empty.
            let had_input = std::mem::take(&mut self.message_in) > 0;
            if had_input && !std::mem::take(&mut self.stream_ended) {
                self.inflate(&TAIL, out, limit)?;
            }
            if self.reset_decompress {
                self.decompress.reset(false);
            }
        }
        Ok(())
    }

    fn inflate(&mut self, mut input: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), Error> {
        loop {
            if out.len() == out.capacity() {
                if out.len() > limit {
                    return Err(Error::MessageTooLarge { limit });
                }
                // Grow geometrically but never past limit + 1: one byte over
                // the limit is enough to know the message is too big.
                let target = (out.len() * 2).max(4096).min(limit.saturating_add(1));
                out.reserve_exact(target.saturating_sub(out.len()).max(1));
            }
            let before_in = self.decompress.total_in();
            let status = self
                .decompress
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|e| Error::Inflate(e.to_string()))?;
            let used = usize::try_from(self.decompress.total_in() - before_in).unwrap_or(0);
            input = input.get(used..).unwrap_or_default();
            if used > 0 {
                self.stream_ended = false;
            }
            if out.len() > limit {
                return Err(Error::MessageTooLarge { limit });
            }
            if status == Status::StreamEnd {
                // A final block ends the DEFLATE stream (RFC 7692 §7.2.3.4);
                // anything after it in the message starts a fresh one.
                self.decompress.reset(false);
                self.stream_ended = true;
            }
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(());
            }
            if used == 0 && out.len() < out.capacity() && status != Status::StreamEnd {
                return Err(Error::Inflate("stalled on input".to_owned()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::parse_extensions;

    fn ext(s: &str) -> Vec<Extension> {
        parse_extensions(s).unwrap()
    }

    /// RFC 7692 §7.2.3.1: "Hello" compressed is c2 48 cd c9 c9 07 00.
    #[test]
    fn rfc_hello() {
        let p = DeflateConfig::default().accept(&ext(NAME)).unwrap().0;
        let mut d = Deflate::new(&p, Role::Client, 6, 0);
        let mut out = Vec::new();
        d.decompress(
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            true,
            &mut out,
            100,
        )
        .unwrap();
        assert_eq!(out, b"Hello");
        // §7.2.3.2: the same message again, with context takeover, shrinks.
        let mut out = Vec::new();
        d.decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], true, &mut out, 100)
            .unwrap();
        assert_eq!(out, b"Hello");
        // §7.2.3.1 fragmented: "Hello" split over two frames.
        let mut out = Vec::new();
        d.decompress(&[0xf2, 0x48, 0xcd], false, &mut out, 100)
            .unwrap();
        d.decompress(&[0xc9, 0xc9, 0x07, 0x00], true, &mut out, 100)
            .unwrap();
        assert_eq!(out, b"Hello");
    }

    /// §7.2.3.3: a stored (uncompressed) block.
    #[test]
    fn rfc_stored_block() {
        let p = DeflateConfig::default().accept(&ext(NAME)).unwrap().0;
        let mut d = Deflate::new(&p, Role::Client, 6, 0);
        let mut out = Vec::new();
        d.decompress(
            &[
                0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ],
            true,
            &mut out,
            100,
        )
        .unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn round_trip_with_and_without_context_takeover() {
        for snct in [false, true] {
            for bits in [9u8, 12, 15] {
                let cfg = DeflateConfig {
                    server_no_context_takeover: snct,
                    server_max_window_bits: bits,
                    ..DeflateConfig::default()
                };
                let (p, _) = cfg.accept(&ext(NAME)).unwrap();
                let mut s = Deflate::new(&p, Role::Server, 6, 0);
                let mut c = Deflate::new(&p, Role::Client, 6, 0);
                for msg in [
                    &b"hello hello hello"[..],
                    b"",
                    &[7u8; 100_000][..],
                    b"hello",
                ] {
                    let mut z = Vec::new();
                    s.compress(msg, &mut z).unwrap();
                    let mut out = Vec::new();
                    c.decompress(&z, true, &mut out, 1 << 20).unwrap();
                    assert_eq!(out, msg);
                }
            }
        }
    }

    #[test]
    fn bomb_stops_at_the_limit() {
        let p = DeflateConfig::default().accept(&ext(NAME)).unwrap().0;
        let mut s = Deflate::new(&p, Role::Server, 9, 0);
        let mut z = Vec::new();
        s.compress(&vec![0u8; 10 << 20], &mut z).unwrap();
        assert!(z.len() < 20_000);
        let mut c = Deflate::new(&p, Role::Client, 6, 0);
        let mut out = Vec::new();
        assert_eq!(
            c.decompress(&z, true, &mut out, 1 << 20),
            Err(Error::MessageTooLarge { limit: 1 << 20 })
        );
        assert!(out.capacity() <= (1 << 20) + 1);
    }

    /// §7.2.3.4: a message may end its DEFLATE stream with a final block,
    /// with or without the trailing empty block byte; the next message
    /// must still inflate.
    #[test]
    fn rfc_final_block_then_another_message() {
        for msg in [
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00][..],
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00][..],
        ] {
            let p = DeflateConfig::default().accept(&ext(NAME)).unwrap().0;
            let mut d = Deflate::new(&p, Role::Client, 6, 0);
            let mut out = Vec::new();
            d.decompress(msg, true, &mut out, 100).unwrap();
            assert_eq!(out, b"Hello");
            let mut out = Vec::new();
            d.decompress(
                &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
                true,
                &mut out,
                100,
            )
            .unwrap();
            assert_eq!(out, b"Hello", "after {msg:02x?}");
        }
    }

    #[test]
    fn garbage_is_an_inflate_error() {
        let p = DeflateConfig::default().accept(&ext(NAME)).unwrap().0;
        let mut c = Deflate::new(&p, Role::Client, 6, 0);
        let r = c.decompress(&[0xff, 0xff, 0xff, 0xff], true, &mut Vec::new(), 1000);
        assert!(matches!(r, Err(Error::Inflate(_))), "{r:?}");
    }

    #[test]
    fn server_negotiation() {
        let cfg = DeflateConfig::default();
        // Chromium / Node ws: valueless client_max_window_bits.
        let (p, a) = cfg
            .accept(&ext("permessage-deflate; client_max_window_bits"))
            .unwrap();
        assert_eq!(p.client_max_window_bits, 15);
        assert_eq!(a.to_string(), "permessage-deflate");
        // Python websockets' client default.
        let (p, a) = cfg
            .accept(&ext(
                "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
            ))
            .unwrap();
        assert_eq!(
            (p.server_max_window_bits, p.client_max_window_bits),
            (12, 12)
        );
        assert_eq!(
            a.to_string(),
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
        );
        // An 8-bit server window is declined; the next offer is taken.
        let (p, _) = cfg
            .accept(&ext(
                "permessage-deflate; server_max_window_bits=8, permessage-deflate",
            ))
            .unwrap();
        assert_eq!(p.server_max_window_bits, 15);
        // Unknown, duplicated or malformed parameters decline the offer.
        for bad in [
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=010",
            "permessage-deflate; server_no_context_takeover=1",
        ] {
            assert!(cfg.accept(&ext(bad)).is_none(), "{bad}");
        }
        // A server that wants small client windows asks only when offered.
        let small = DeflateConfig {
            client_max_window_bits: 10,
            client_no_context_takeover: true,
            ..cfg
        };
        let (_, a) = small
            .accept(&ext("permessage-deflate; client_max_window_bits"))
            .unwrap();
        assert_eq!(
            a.to_string(),
            "permessage-deflate; client_no_context_takeover; client_max_window_bits=10"
        );
    }

    #[test]
    fn client_checks_the_answer() {
        let cfg = DeflateConfig {
            server_max_window_bits: 12,
            ..DeflateConfig::default()
        };
        assert_eq!(
            cfg.offer().to_string(),
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits"
        );
        let ok = cfg
            .check_answer(
                &ext("permessage-deflate; server_max_window_bits=10; client_max_window_bits=9")[0],
            )
            .unwrap();
        assert_eq!(
            (ok.server_max_window_bits, ok.client_max_window_bits),
            (10, 9)
        );
        for bad in [
            "permessage-deflate; server_max_window_bits=13",
            "permessage-deflate; client_max_window_bits=8",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; x",
            "x-webkit-deflate-frame",
        ] {
            assert!(cfg.check_answer(&ext(bad)[0]).is_err(), "{bad}");
        }
    }
}
