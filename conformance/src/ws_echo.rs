//! The WebSocket echo runners shared by `ws-peer` and `demo`: the echo
//! server's per-connection loop, the echo client's conformance checks, and
//! the throughput workloads.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use ws_codec::{CloseCode, Event, Message, OpCode};

use crate::ws_driver::{self, DriverError, WsStream, WsUrl, describe_extensions};

/// What one echo-server connection did.
#[derive(Debug, Default)]
pub struct EchoOutcome {
    /// Messages echoed.
    pub messages: u64,
    /// The agreed extensions, as answered.
    pub extensions: String,
    /// The close code when the close handshake completed cleanly.
    pub clean_close: Option<CloseCode>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// The `VERDICT ...` text message, in verdict mode.
    pub verdict: Option<String>,
    /// In verdict mode, the peer asked for the server-sent probe
    /// ([`PROBE_TEXT`], [`PROBE_BINARY`], pings between fragments).
    pub probed: bool,
    /// Payloads of the pongs received.
    pub pongs: Vec<Vec<u8>>,
}

/// The fragmented text message the verdict-mode server sends on `PROBE`.
pub const PROBE_TEXT: [&str; 3] = ["frag", "mented ☃ ", "message"];
/// The fragmented binary message sent after it.
pub const PROBE_BINARY: [&[u8]; 2] = [&[1, 2, 3], &[4, 5]];
/// The pings sent with the probe: one before it, one between fragments.
pub const PROBE_PINGS: [&[u8]; 2] = [b"probe", b"between fragments"];

/// Serves one echo connection on `tcp`: every text or binary message goes
/// back once, reassembled, with its type. With `verdict`, a text message
/// starting with `VERDICT ` is recorded instead of echoed (the Chromium page
/// reports its result that way). `log` prints the agreed extensions and the
/// end of the connection to stderr.
pub fn serve_echo(tcp: TcpStream, deflate: bool, verdict: bool, log: bool) -> EchoOutcome {
    let peer = tcp
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    let mut out = EchoOutcome::default();
    match WsStream::accept(tcp, ws_driver::config(deflate)) {
        Ok((mut ws, request, extensions)) => {
            out.extensions = describe_extensions(&extensions);
            if log {
                let offered = describe_extensions(&request.extensions);
                eprintln!(
                    "connection from {peer}: offered={offered} negotiated={}",
                    out.extensions
                );
            }
            if let Err(e) = echo_loop(&mut ws, verdict, &mut out) {
                out.error = Some(e.to_string());
            }
            ws.finish();
        }
        Err(e) => out.error = Some(format!("opening handshake: {e}")),
    }
    if log {
        match (&out.clean_close, &out.error) {
            (Some(code), None) => eprintln!(
                "connection from {peer}: closed after {} messages: code={}",
                out.messages, code.0
            ),
            (_, err) => eprintln!(
                "connection from {peer}: failed after {} messages: {}",
                out.messages,
                err.as_deref().unwrap_or("unknown error")
            ),
        }
    }
    out
}

fn echo_loop(ws: &mut WsStream, verdict: bool, out: &mut EchoOutcome) -> Result<(), DriverError> {
    loop {
        match ws.next_event()? {
            Event::Message(Message::Text(t)) => {
                if verdict && t.as_str().starts_with("VERDICT ") {
                    out.verdict = Some(t.as_str().to_owned());
                    continue;
                }
                if verdict && t.as_str() == "PROBE" {
                    // What a browser cannot send, it must receive: pings, and
                    // fragmented messages with a ping between fragments.
                    send_probe(ws)?;
                    out.probed = true;
                    continue;
                }
                ws.conn().send_text(t.as_str())?;
                out.messages += 1;
            }
            Event::Message(Message::Binary(b)) => {
                ws.conn().send_binary(&b)?;
                out.messages += 1;
            }
            Event::Closed {
                code, error: None, ..
            } => {
                out.clean_close = Some(code);
                return Ok(());
            }
            Event::Closed { error: Some(e), .. } => return Err(DriverError::Ws(e)),
            Event::Pong(p) => out.pongs.push(p.to_vec()),
            // Pings are answered by the codec.
            _ => {}
        }
    }
}

fn send_probe(ws: &mut WsStream) -> Result<(), DriverError> {
    let c = ws.conn();
    c.send_ping(PROBE_PINGS[0])?;
    let [a, b, rest] = PROBE_TEXT;
    c.send_fragment(OpCode::Text, a.as_bytes(), false)?;
    c.send_ping(PROBE_PINGS[1])?;
    c.send_fragment(OpCode::Continuation, b.as_bytes(), false)?;
    c.send_fragment(OpCode::Continuation, rest.as_bytes(), true)?;
    let [x, y] = PROBE_BINARY;
    c.send_fragment(OpCode::Binary, x, false)?;
    c.send_fragment(OpCode::Continuation, y, true)?;
    ws.flush()
}

/// Deterministic pseudo-random bytes (xorshift64*), for payloads.
#[must_use]
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Pseudo-random English-like ASCII text (compressible, like real text).
#[must_use]
pub fn random_text(len: usize, seed: u64) -> String {
    const WORDS: [&str; 16] = [
        "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "socket", "frame",
        "message", "deflate", "echo", "server", "client", "payload",
    ];
    let picks = random_bytes(len / 2 + 16, seed);
    let mut s = String::with_capacity(len + 16);
    for b in picks {
        if s.len() >= len {
            break;
        }
        s.push_str(WORDS[usize::from(b) % WORDS.len()]);
        s.push(if b % 11 == 0 { '\n' } else { ' ' });
    }
    s.truncate(len);
    s
}

/// The result of the echo client's conformance checks.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Checks passed.
    pub passed: u32,
    /// Checks failed (including those not run after the connection died).
    pub failed: u32,
    /// The agreed extensions, once connected.
    pub extensions: Option<String>,
}

/// Why a check failed; `fatal` when the connection cannot take more checks
/// (an I/O error, a timeout, a closed connection), not just a wrong echo.
struct Fail {
    why: String,
    fatal: bool,
}

impl Fail {
    fn wrong(why: String) -> Self {
        Self { why, fatal: false }
    }
}

impl From<DriverError> for Fail {
    fn from(e: DriverError) -> Self {
        Self {
            why: e.to_string(),
            fatal: true,
        }
    }
}

impl From<ws_codec::Error> for Fail {
    fn from(e: ws_codec::Error) -> Self {
        Self {
            why: format!("send: {e}"),
            fatal: true,
        }
    }
}

/// One message to send: its frames (one means unfragmented) and its type.
struct Sent<'a> {
    text: bool,
    parts: Vec<&'a [u8]>,
}

/// Sends one message as `parts` (fragmented when more than one) and checks
/// that the echo has the same type and bytes.
fn echo_check(ws: &mut WsStream, msg: &Sent<'_>) -> Result<(), Fail> {
    let first = if msg.text {
        OpCode::Text
    } else {
        OpCode::Binary
    };
    match msg.parts.as_slice() {
        [one] if msg.text => {
            let s = std::str::from_utf8(one).map_err(|e| Fail::wrong(format!("test bug: {e}")))?;
            ws.conn().send_text(s)?;
        }
        [one] => ws.conn().send_binary(one)?,
        parts => {
            for (i, p) in parts.iter().enumerate() {
                let op = if i == 0 { first } else { OpCode::Continuation };
                ws.conn().send_fragment(op, p, i + 1 == parts.len())?;
            }
        }
    }
    let want: Vec<u8> = msg.parts.concat();
    match ws.next_event()? {
        Event::Message(m) => {
            let (got_text, got) = match &m {
                Message::Text(t) => (true, t.as_bytes()),
                Message::Binary(b) => (false, &b[..]),
            };
            let kind = |t: bool| if t { "text" } else { "binary" };
            if got_text != msg.text || got != want.as_slice() {
                return Err(Fail::wrong(format!(
                    "sent {} len={}, got {} len={}{}",
                    kind(msg.text),
                    want.len(),
                    kind(got_text),
                    got.len(),
                    if got.len() == want.len() {
                        " (bytes differ)"
                    } else {
                        ""
                    }
                )));
            }
            Ok(())
        }
        other => Err(unexpected("the echo", &other)),
    }
}

/// A fatal failure for an event the check did not expect.
fn unexpected(wanted: &str, got: &Event) -> Fail {
    let got = match got {
        Event::Closed { code, reason, .. } => format!("close {}: {reason}", code.0),
        Event::Message(m) => format!("a message of {} bytes", m.as_bytes().len()),
        other => format!("{other:?}"),
    };
    Fail {
        why: format!("expected {wanted}, got {got}"),
        fatal: true,
    }
}

/// Waits for a pong carrying `payload`.
fn expect_pong(ws: &mut WsStream, payload: &[u8]) -> Result<(), Fail> {
    match ws.next_event()? {
        Event::Pong(p) if p == payload => Ok(()),
        Event::Pong(p) => Err(Fail::wrong(format!("pong payload {p:?}, want {payload:?}"))),
        other => Err(unexpected("a pong", &other)),
    }
}

/// A control frame may come between a message's fragments (§5.4).
fn ping_between_fragments(ws: &mut WsStream) -> Result<(), Fail> {
    ws.conn().send_fragment(OpCode::Text, b"before ", false)?;
    ws.conn().send_ping(b"mid")?;
    ws.conn()
        .send_fragment(OpCode::Continuation, b"after", true)?;
    expect_pong(ws, b"mid")?;
    match ws.next_event()? {
        Event::Message(Message::Text(t)) if t.as_str() == "before after" => Ok(()),
        Event::Message(m) => Err(Fail::wrong(format!("echo was {m:?}"))),
        other => Err(unexpected("the echo", &other)),
    }
}

/// Closes with 1000 and waits for the server's close frame and TCP close.
fn close_check(mut ws: WsStream) -> Result<(), Fail> {
    ws.conn().close(CloseCode::NORMAL, "bye")?;
    loop {
        match ws.next_event()? {
            Event::Closed {
                code,
                error: None,
                by_peer: false,
                ..
            } => {
                if code != CloseCode::NORMAL {
                    return Err(Fail::wrong(format!(
                        "server answered close code {}",
                        code.0
                    )));
                }
                break;
            }
            Event::Message(m) => {
                return Err(Fail::wrong(format!(
                    "a message of {} bytes after our close",
                    m.as_bytes().len()
                )));
            }
            other @ Event::Closed { .. } => return Err(unexpected("the close reply", &other)),
            _ => {}
        }
    }
    if ws.finish() {
        Ok(())
    } else {
        Err(Fail::wrong(
            "server did not close TCP after the close handshake".to_owned(),
        ))
    }
}

/// Connects to the echo server at `url` and runs the checks, reporting
/// `PASS name` / `FAIL name: why` per check through `say`. After a fatal
/// failure the remaining checks count as failed without running.
pub fn run_checks(url: &WsUrl, deflate: bool, say: &mut dyn FnMut(&str)) -> CheckReport {
    let non_ascii = "hello, wörld — ☃ 𝄞".as_bytes();
    let small: Vec<u8> = (0..=255).collect();
    let ff = vec![0xff; 70_000];
    let long_text = random_text(1 << 20, 7);
    let big = random_bytes(16 << 20, 0x5eed);
    // Split inside the two-byte "ë": text fragments need not end on a
    // character boundary (§5.6), only the whole message must be UTF-8.
    let split_text = "fragmented tëxt".as_bytes();
    let at = split_text.len() - 3;
    let cases: Vec<(&str, Sent<'_>)> = vec![
        (
            "text",
            Sent {
                text: true,
                parts: vec![b"hello"],
            },
        ),
        (
            "non-ASCII text",
            Sent {
                text: true,
                parts: vec![non_ascii],
            },
        ),
        (
            "empty text",
            Sent {
                text: true,
                parts: vec![b""],
            },
        ),
        (
            "binary",
            Sent {
                text: false,
                parts: vec![&small],
            },
        ),
        (
            "empty binary",
            Sent {
                text: false,
                parts: vec![b""],
            },
        ),
        (
            "fragmented text",
            Sent {
                text: true,
                parts: vec![&split_text[..4], &split_text[4..at], &split_text[at..]],
            },
        ),
        (
            "fragmented binary",
            Sent {
                text: false,
                parts: vec![&[0, 1], b"", &ff],
            },
        ),
        (
            "1 MiB text",
            Sent {
                text: true,
                parts: vec![long_text.as_bytes()],
            },
        ),
        (
            "16 MiB binary",
            Sent {
                text: false,
                parts: vec![&big],
            },
        ),
    ];
    // handshake + cases + ping/pong + ping between fragments + close
    let total = u32::try_from(cases.len()).unwrap_or(0) + 4;

    let mut report = CheckReport::default();
    let connected = WsStream::connect(url, ws_driver::config(deflate));
    if let Ok((_, ext)) = &connected {
        let ext = describe_extensions(ext);
        say(&format!("negotiated extensions: {ext}"));
        report.extensions = Some(ext);
    }
    let mut record = |report: &mut CheckReport, name: &str, r: Result<(), Fail>| match r {
        Ok(()) => {
            report.passed += 1;
            say(&format!("PASS {name}"));
            true
        }
        Err(f) => {
            report.failed += 1;
            say(&format!("FAIL {name}: {}", f.why));
            !f.fatal
        }
    };
    let mut ws = match connected {
        Ok((ws, _)) => {
            record(&mut report, "handshake", Ok(()));
            Some(ws)
        }
        Err(e) => {
            record(&mut report, "handshake", Err(e.into()));
            None
        }
    };
    for (name, msg) in &cases {
        if let Some(w) = ws.as_mut() {
            if !record(&mut report, name, echo_check(w, msg)) {
                ws = None;
            }
        }
    }
    if let Some(w) = ws.as_mut() {
        let r = w
            .conn()
            .send_ping(b"ping-payload")
            .map_err(Fail::from)
            .and_then(|()| expect_pong(w, b"ping-payload"));
        if !record(&mut report, "ping/pong", r) {
            ws = None;
        }
    }
    if let Some(w) = ws.as_mut() {
        if !record(
            &mut report,
            "ping between fragments",
            ping_between_fragments(w),
        ) {
            ws = None;
        }
    }
    if let Some(w) = ws {
        record(&mut report, "close 1000", close_check(w));
    }
    let missing = total.saturating_sub(report.passed + report.failed);
    if missing > 0 {
        say(&format!(
            "FAIL {missing} checks not run: the connection is gone"
        ));
        report.failed += missing;
    }
    report
}

/// A throughput workload: `count` messages of `size` bytes, each echoed.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Messages to send.
    pub count: u64,
    /// Payload bytes per message.
    pub size: usize,
    /// Text (English-like words) or binary (random bytes).
    pub text: bool,
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = match self.size {
            s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{} MiB", s >> 20),
            s if s >= 1 << 10 && s % (1 << 10) == 0 => format!("{} KiB", s >> 10),
            s => format!("{s} B"),
        };
        let kind = if self.text { "text" } else { "binary" };
        write!(f, "{} x {size} {kind}", self.count)
    }
}

/// What a workload measured.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Messages echoed.
    pub messages: u64,
    /// Payload bytes sent (each came back once more).
    pub bytes: u64,
    /// From the first send to the last echo, handshake excluded.
    pub elapsed: Duration,
}

/// Bytes in flight before the client stops sending and reads echoes: well
/// under loopback socket buffers, so a server blocked writing echoes and a
/// client blocked writing messages cannot wait on each other.
const WINDOW_BYTES: usize = 128 * 1024;

/// Runs `w` against the echo server at `url` and checks every echo.
pub fn run_workload(url: &WsUrl, deflate: bool, w: Workload) -> Result<Throughput, String> {
    let (mut ws, _) =
        WsStream::connect(url, ws_driver::config(deflate)).map_err(|e| e.to_string())?;
    // Distinct messages (windows into one buffer), so deflate's context
    // cannot turn a repeated payload into a few bytes.
    let span = w.size.max(64 * 1024) * 2;
    let pool = if w.text {
        random_text(span, 11).into_bytes()
    } else {
        random_bytes(span, 13)
    };
    let msg = |i: u64| {
        let off = ((i as usize).wrapping_mul(7919)) % (span - w.size + 1);
        &pool[off..off + w.size]
    };

    let start = Instant::now();
    let (mut sent, mut received) = (0u64, 0u64);
    while received < w.count {
        let mut in_flight = (sent - received) as usize * w.size;
        while sent < w.count && (sent == received || in_flight + w.size <= WINDOW_BYTES) {
            let m = msg(sent);
            let r = if w.text {
                // An ASCII pool: every window is UTF-8.
                ws.conn()
                    .send_text(std::str::from_utf8(m).map_err(|e| e.to_string())?)
            } else {
                ws.conn().send_binary(m)
            };
            r.map_err(|e| format!("send #{sent}: {e}"))?;
            sent += 1;
            in_flight += w.size;
        }
        ws.flush().map_err(|e| e.to_string())?;
        match ws
            .next_event()
            .map_err(|e| format!("after {received} echoes: {e}"))?
        {
            Event::Message(m) => {
                let ok = matches!(m, Message::Text(_)) == w.text && m.as_bytes() == msg(received);
                if !ok {
                    return Err(format!("echo #{received} differs from what was sent"));
                }
                received += 1;
            }
            Event::Closed { reason, .. } => {
                return Err(format!("closed after {received} echoes: {reason}"));
            }
            _ => {}
        }
    }
    let elapsed = start.elapsed();
    ws.conn()
        .close(CloseCode::NORMAL, "")
        .map_err(|e| e.to_string())?;
    loop {
        match ws.next_event().map_err(|e| format!("closing: {e}"))? {
            Event::Closed { error: None, .. } => break,
            Event::Closed { reason, .. } => return Err(format!("closing: {reason}")),
            _ => {}
        }
    }
    ws.finish();
    Ok(Throughput {
        messages: received,
        bytes: received * w.size as u64,
        elapsed,
    })
}
