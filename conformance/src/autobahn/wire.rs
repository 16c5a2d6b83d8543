//! The fuzzer's own view of the wire, written apart from ws-codec's codec so
//! the two cannot share a bug: frame encoding, a frame reader that checks
//! everything the peer under test sends, the opening handshake, and
//! permessage-deflate (RFC 7692) on raw flate2.

use bytes::{Buf as _, BytesMut};
use flate2::{Compress, Compression, FlushCompress};

use super::inflate::Inflate;

/// Opcodes (RFC 6455 §5.2), as the raw 4-bit values the fuzzer puts on the
/// wire (reserved ones included).
pub(crate) const CONT: u8 = 0x0;
pub(crate) const TEXT: u8 = 0x1;
pub(crate) const BINARY: u8 = 0x2;
pub(crate) const CLOSE: u8 = 0x8;
pub(crate) const PING: u8 = 0x9;
pub(crate) const PONG: u8 = 0xA;

/// The `Sec-WebSocket-Key` the fuzzing client sends and the accept value
/// RFC 6455 §1.3 gives for it, so the server's SHA-1 is checked against the
/// spec rather than against ws-codec's own function.
pub(crate) const FUZZ_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const FUZZ_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The trailer a sync flush leaves, stripped on the wire (RFC 7692 §7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Something the fuzzer received from the peer (or expects to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ev {
    /// A whole text message.
    Text(Vec<u8>),
    /// A whole binary message.
    Binary(Vec<u8>),
    /// A ping (our peers never send one unprompted).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
}

impl Ev {
    /// A short description for failure reports.
    pub(crate) fn describe(&self) -> String {
        let (kind, data) = match self {
            Self::Text(d) => ("text", d),
            Self::Binary(d) => ("binary", d),
            Self::Ping(d) => ("ping", d),
            Self::Pong(d) => ("pong", d),
        };
        format!("{kind}[{}]{}", data.len(), hex_prefix(data, 16))
    }
}

/// Up to `max` bytes as hex, `…` marking a cut.
pub(crate) fn hex_prefix(data: &[u8], max: usize) -> String {
    let mut s: String = data.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if data.len() > max {
        s.push('…');
    }
    if s.is_empty() { s } else { format!(" {s}") }
}

/// One frame's wire form (§5.2) with the shortest length encoding, masked
/// with `mask` if given. `rsv` is the three RSV bits (RSV1 = 4).
pub(crate) fn encode(
    fin: bool,
    rsv: u8,
    opcode: u8,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 14);
    v.push((u8::from(fin) << 7) | ((rsv & 7) << 4) | (opcode & 0x0f));
    let m = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    match len {
        0..=125 => v.push(m | u8::try_from(len).unwrap_or(0)),
        126..=0xffff => {
            v.push(m | 126);
            v.extend_from_slice(&u16::try_from(len).unwrap_or(0).to_be_bytes());
        }
        _ => {
            v.push(m | 127);
            v.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            v.extend_from_slice(&k);
            v.extend(payload.iter().zip(k.iter().cycle()).map(|(b, k)| b ^ k));
        }
        None => v.extend_from_slice(payload),
    }
    v
}

/// Length of the header [`encode`] writes for a `len`-byte payload.
pub(crate) const fn header_len(len: usize, masked: bool) -> usize {
    let base = if len < 126 {
        2
    } else if len <= 0xffff {
        4
    } else {
        10
    };
    if masked { base + 4 } else { base }
}

/// A close frame payload: the code (if any) and the reason bytes.
pub(crate) fn close_payload(code: Option<u16>, reason: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(2 + reason.len());
    if let Some(c) = code {
        p.extend_from_slice(&c.to_be_bytes());
    }
    p.extend_from_slice(reason);
    p
}

/// A frame from the peer, unmasked.
struct RawFrame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    payload: Vec<u8>,
}

/// A message being reassembled.
struct Partial {
    text: bool,
    compressed: bool,
    data: Vec<u8>,
}

/// Parses and checks what the peer under test sends: masking matches its
/// role, lengths are minimal, control frames are short and whole, RSV1 only
/// on a compressed message's first frame, text is UTF-8, nothing follows the
/// close frame. Any breach is recorded in `violations`.
pub(crate) struct FrameReader {
    buf: BytesMut,
    masked: bool,
    inflate: Option<Inflate>,
    msg: Option<Partial>,
    /// Messages, pings and pongs in arrival order.
    pub(crate) events: Vec<Ev>,
    /// The peer's close frame: `Some(None)` for one without a code.
    pub(crate) close: Option<Option<u16>>,
    /// What the peer did wrong.
    pub(crate) violations: Vec<String>,
}

impl FrameReader {
    /// A reader for a peer that must mask (`masked`: the peer is a client)
    /// and inflates compressed messages with `inflate` if negotiated.
    pub(crate) fn new(masked: bool, inflate: Option<Inflate>) -> Self {
        Self {
            buf: BytesMut::new(),
            masked,
            inflate,
            msg: None,
            events: Vec::new(),
            close: None,
            violations: Vec::new(),
        }
    }

    /// Feeds bytes read from the peer.
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        while self.violations.is_empty() {
            match self.next_frame() {
                Some(f) => self.on_frame(f),
                None => break,
            }
        }
    }

    fn next_frame(&mut self) -> Option<RawFrame> {
        let b = &self.buf;
        let b0 = *b.first()?;
        let b1 = *b.get(1)?;
        let (len, mut pos, minimal) = match b1 & 0x7f {
            126 => {
                let l = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
                (u64::from(l), 4, l >= 126)
            }
            127 => {
                let mut w = [0u8; 8];
                w.copy_from_slice(b.get(2..10)?);
                let l = u64::from_be_bytes(w);
                (l, 10, l > 0xffff && l >> 63 == 0)
            }
            n => (u64::from(n), 2, true),
        };
        let masked = b1 & 0x80 != 0;
        let key = if masked {
            let k = b.get(pos..pos + 4)?;
            pos += 4;
            Some([*k.first()?, *k.get(1)?, *k.get(2)?, *k.get(3)?])
        } else {
            None
        };
        if !minimal {
            self.violations.push(format!("non-minimal length {len}"));
            return None;
        }
        if masked != self.masked {
            self.violations.push(format!(
                "frame {} but the peer must {}",
                if masked { "masked" } else { "unmasked" },
                if self.masked { "mask" } else { "not mask" }
            ));
            return None;
        }
        let end = pos.checked_add(usize::try_from(len).ok()?)?;
        let mut payload = b.get(pos..end)?.to_vec();
        if let Some(k) = key {
            for (p, k) in payload.iter_mut().zip(k.iter().cycle()) {
                *p ^= k;
            }
        }
        self.buf.advance(end);
        Some(RawFrame {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 7,
            opcode: b0 & 0x0f,
            payload,
        })
    }

    fn on_frame(&mut self, f: RawFrame) {
        if self.close.is_some() {
            self.violations.push(format!(
                "frame (opcode {:#x}) after the close frame",
                f.opcode
            ));
            return;
        }
        let rsv1_ok = matches!(f.opcode, TEXT | BINARY) && self.inflate.is_some();
        if f.rsv & 3 != 0 || (f.rsv & 4 != 0 && !rsv1_ok) {
            self.violations.push(format!("RSV bits {:#05b}", f.rsv));
            return;
        }
        if f.opcode & 8 != 0 && (!f.fin || f.payload.len() > 125) {
            self.violations
                .push("fragmented or over-long control frame".to_owned());
            return;
        }
        match f.opcode {
            PING => self.events.push(Ev::Ping(f.payload)),
            PONG => self.events.push(Ev::Pong(f.payload)),
            CLOSE => self.on_close(&f.payload),
            TEXT | BINARY => {
                if self.msg.is_some() {
                    self.violations
                        .push("new message inside a fragmented one".to_owned());
                    return;
                }
                self.msg = Some(Partial {
                    text: f.opcode == TEXT,
                    compressed: f.rsv & 4 != 0,
                    data: Vec::new(),
                });
                self.on_data(f.fin, &f.payload);
            }
            CONT => {
                if self.msg.is_none() {
                    self.violations
                        .push("continuation without a message".to_owned());
                    return;
                }
                self.on_data(f.fin, &f.payload);
            }
            op => self.violations.push(format!("reserved opcode {op:#x}")),
        }
    }

    fn on_data(&mut self, fin: bool, payload: &[u8]) {
        let Some(m) = self.msg.as_mut() else {
            return;
        };
        m.data.extend_from_slice(payload);
        if !fin {
            return;
        }
        let Some(m) = self.msg.take() else {
            return;
        };
        let data = if m.compressed {
            let Some(inf) = self.inflate.as_mut() else {
                return;
            };
            match inf.message(&m.data) {
                Ok(d) => d,
                Err(e) => {
                    self.violations
                        .push(format!("compressed message does not inflate: {e}"));
                    return;
                }
            }
        } else {
            m.data
        };
        if m.text {
            if std::str::from_utf8(&data).is_err() {
                self.violations.push("text message is not UTF-8".to_owned());
                return;
            }
            self.events.push(Ev::Text(data));
        } else {
            self.events.push(Ev::Binary(data));
        }
    }

    fn on_close(&mut self, p: &[u8]) {
        match p {
            [] => self.close = Some(None),
            [_] => self.violations.push("1-byte close payload".to_owned()),
            [hi, lo, reason @ ..] => {
                if std::str::from_utf8(reason).is_err() {
                    self.violations.push("close reason is not UTF-8".to_owned());
                }
                self.close = Some(Some(u16::from_be_bytes([*hi, *lo])));
            }
        }
    }
}

/// Compresses one direction's messages (RFC 7692 §7.2.1).
pub(crate) struct Compressor {
    c: Compress,
    reset: bool,
}

impl Compressor {
    /// A window of `bits` (9–15), reset after every message if `reset`.
    pub(crate) fn new(bits: u8, reset: bool) -> Self {
        Self {
            c: Compress::new_with_window_bits(Compression::new(6), false, bits.clamp(9, 15)),
            reset,
        }
    }

    /// One message's compressed payload, sync-flushed, tail removed.
    pub(crate) fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut done = 0usize;
        loop {
            let before = self.c.total_in();
            let input = data.get(done..).unwrap_or_default();
            if self
                .c
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .is_err()
            {
                break;
            }
            done += usize::try_from(self.c.total_in() - before).unwrap_or(0);
            if done >= data.len() && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity().max(64));
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.is_empty() {
            out.push(0x00);
        }
        if self.reset {
            self.c.reset();
        }
        out
    }
}

/// Agreed permessage-deflate parameters (RFC 7692 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pmd {
    /// The server resets its compressor after each message.
    pub(crate) server_nct: bool,
    /// The client resets its compressor after each message.
    pub(crate) client_nct: bool,
    /// The server's LZ77 window.
    pub(crate) server_bits: u8,
    /// The client's LZ77 window.
    pub(crate) client_bits: u8,
}

impl Pmd {
    /// Reads a server's answer (one `permessage-deflate` element) to an
    /// offer; `offered_cnct` is whether the accepted offer carried
    /// `client_no_context_takeover`, which binds the client either way.
    pub(crate) fn from_answer(answer: &Extension, offered_cnct: bool) -> Result<Self, String> {
        let mut p = Self {
            server_nct: false,
            client_nct: offered_cnct,
            server_bits: 15,
            client_bits: 15,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (k, v) in &answer.params {
            if seen.contains(&k.as_str()) {
                return Err(format!("parameter {k} repeated"));
            }
            seen.push(k);
            match (k.as_str(), v) {
                ("server_no_context_takeover", None) => p.server_nct = true,
                ("client_no_context_takeover", None) => p.client_nct = true,
                ("server_max_window_bits", Some(b)) => p.server_bits = window_bits(b)?,
                ("client_max_window_bits", Some(b)) => p.client_bits = window_bits(b)?,
                _ => return Err(format!("invalid answer parameter {k}={v:?}")),
            }
        }
        Ok(p)
    }

    /// The compressor for the fuzzer's side (`client`: the fuzzer is the
    /// client).
    pub(crate) fn compressor(&self, client: bool) -> Compressor {
        if client {
            Compressor::new(self.client_bits, self.client_nct)
        } else {
            Compressor::new(self.server_bits, self.server_nct)
        }
    }

    /// The inflater for what the peer sends the fuzzer.
    pub(crate) fn inflater(&self, client: bool) -> Inflate {
        if client {
            Inflate::new(self.server_bits, self.server_nct)
        } else {
            Inflate::new(self.client_bits, self.client_nct)
        }
    }
}

fn window_bits(v: &str) -> Result<u8, String> {
    match v.parse::<u8>() {
        Ok(b @ 9..=15) if !v.starts_with('0') => Ok(b),
        _ => Err(format!("window bits {v:?} outside 9–15")),
    }
}

/// One element of a `Sec-WebSocket-Extensions` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extension {
    /// Extension token, lower-cased.
    pub(crate) name: String,
    /// Parameters in order, valueless ones `None`.
    pub(crate) params: Vec<(String, Option<String>)>,
}

impl Extension {
    /// Whether the valueless or valued parameter `k` is present.
    pub(crate) fn has(&self, k: &str) -> bool {
        self.params.iter().any(|(n, _)| n == k)
    }

    /// The value of parameter `k`.
    pub(crate) fn value(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Parses a `Sec-WebSocket-Extensions` value (no quoted commas needed here).
pub(crate) fn parse_extensions(v: &str) -> Vec<Extension> {
    v.split(',')
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut parts = e.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default().to_ascii_lowercase();
            let params = parts
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (
                        k.trim().to_ascii_lowercase(),
                        Some(v.trim().trim_matches('"').to_owned()),
                    ),
                    None => (p.to_ascii_lowercase(), None),
                })
                .collect();
            Extension { name, params }
        })
        .collect()
}

/// An HTTP/1.1 head: the start line and the headers.
pub(crate) struct Head {
    /// `GET / HTTP/1.1` or `HTTP/1.1 101 Switching Protocols`.
    pub(crate) start: String,
    headers: Vec<(String, String)>,
}

impl Head {
    /// Parses the head at the front of `buf`; returns it and its length,
    /// or `None` while `\r\n\r\n` has not arrived.
    pub(crate) fn parse(buf: &[u8]) -> Option<(Self, usize)> {
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let text = String::from_utf8_lossy(buf.get(..end)?);
        let mut lines = text.split("\r\n");
        let start = lines.next().unwrap_or_default().to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Some((Self { start, headers }, end))
    }

    /// A header's value, repeated headers joined with `, `.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        let vals: Vec<&str> = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!vals.is_empty()).then(|| vals.join(", "))
    }
}

/// The fuzzing client's opening request, offering `offer` if given.
pub(crate) fn client_request(host: &str, offer: Option<&str>) -> Vec<u8> {
    let mut r = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {FUZZ_KEY}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if let Some(o) = offer {
        r.push_str(&format!("Sec-WebSocket-Extensions: {o}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// Checks a server's answer to [`client_request`] (§4.1) and returns its
/// extension elements.
pub(crate) fn check_response(head: &Head) -> Result<Vec<Extension>, String> {
    if !head.start.starts_with("HTTP/1.1 101") {
        return Err(format!("handshake answered {:?}", head.start));
    }
    if !head
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    {
        return Err("handshake answer lacks Upgrade: websocket".to_owned());
    }
    if head.header("sec-websocket-accept").as_deref() != Some(FUZZ_ACCEPT) {
        return Err(format!(
            "Sec-WebSocket-Accept {:?}, want {FUZZ_ACCEPT}",
            head.header("sec-websocket-accept")
        ));
    }
    Ok(head
        .header("sec-websocket-extensions")
        .map(|v| parse_extensions(&v))
        .unwrap_or_default())
}

/// The fuzzing server's `101` answer to a request with `key`.
pub(crate) fn server_response(key: &str, answer: Option<&str>) -> Vec<u8> {
    let accept = ws_codec::handshake::accept_key(key.as_bytes());
    let mut r = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n"
    );
    if let Some(a) = answer {
        r.push_str(&format!("Sec-WebSocket-Extensions: {a}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}
