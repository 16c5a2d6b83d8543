//! A raw HTTP/2 client that drives our server machine the way h2spec
//! drives a server over TCP, and h2spec's verdicts (spec/verifier.go)
//! over what the server writes back.
//!
//! The server runs a tiny application: every complete request (END_STREAM
//! on its HEADERS, DATA or trailers) is answered with 200 and [`BODY`]
//! (HEAD gets the head only), as h2spec expects of the server under test.

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use grpc_codec::hpack::{self, Header};
use grpc_codec::{
    Config, Connection, Decoder, ErrorCode, Event, Frame, FrameType, Limits, PREFACE, Response,
    StreamId,
};

/// The body the server answers every request with (h2spec needs at least
/// 5 bytes for its flow-control cases).
pub const BODY: &[u8] = b"hello from grpc-codec\n";

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const PRIORITY: u8 = 0x2;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PUSH_PROMISE: u8 = 0x5;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIO: u8 = 0x20;

/// The wire form of a frame, built by hand (so invalid ones too).
pub fn raw(t: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut v = vec![len[1], len[2], len[3], t, flags];
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// A SETTINGS payload.
pub fn settings(params: &[(u16, u32)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (id, val) in params {
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&val.to_be_bytes());
    }
    v
}

/// What h2spec's `Conn.WaitEvent` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Frame(Frame),
    /// The server closed the transport (its machine is closed and all its
    /// output was read).
    Closed,
    /// Nothing more comes without more input (h2spec's 2 s timeout).
    Timeout,
}

/// How a case ended: `Err` says what h2spec would print as "actual".
pub type Verdict = Result<(), String>;

pub struct Peer {
    pub server: Connection,
    now: Instant,
    pub enc: hpack::Encoder,
    dec: hpack::Decoder,
    frames: Decoder,
    inbuf: BytesMut,
    queue: VecDeque<Frame>,
    /// Streams whose request head arrived without END_STREAM.
    open_requests: HashSet<StreamId>,
    head_requests: HashSet<StreamId>,
    /// Every frame the server wrote, in order.
    pub seen: Vec<Frame>,
    /// The application does not answer requests (streams stay
    /// half-closed (remote)).
    pub hold: bool,
}

impl Peer {
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        let now = Instant::now();
        let mut p = Self {
            server: Connection::server(config, now),
            now,
            enc: hpack::Encoder::new(),
            dec: hpack::Decoder::new(
                hpack::DEFAULT_TABLE_SIZE,
                hpack::Limits {
                    max_header_list_size: 1 << 20,
                    max_string_len: 1 << 20,
                },
            ),
            frames: Decoder::new(Limits {
                max_frame_size: (1 << 24) - 1,
                max_header_block_size: 1 << 24,
                max_continuation_frames: usize::MAX,
                ..Limits::default()
            }),
            inbuf: BytesMut::new(),
            queue: VecDeque::new(),
            open_requests: HashSet::new(),
            head_requests: HashSet::new(),
            seen: Vec::new(),
            hold: false,
        };
        p.collect();
        p
    }

    /// Writes bytes to the server, runs its application, reads its output.
    pub fn send(&mut self, bytes: &[u8]) {
        // The error, if any, shows as GOAWAY and a closed machine.
        let _ = self.server.handle_input(bytes, self.now);
        self.collect();
    }

    pub fn send_frame(&mut self, t: u8, flags: u8, stream: u32, payload: &[u8]) {
        self.send(&raw(t, flags, stream, payload));
    }

    /// h2spec's `Conn.Handshake`: preface and empty SETTINGS, the
    /// server's SETTINGS must come first and is ACKed, then its ACK of
    /// ours.
    pub fn handshake(&mut self) -> Verdict {
        let mut hello = PREFACE.to_vec();
        hello.extend(raw(SETTINGS, 0, 0, &[]));
        self.send(&hello);
        match self.wait_event() {
            Ev::Frame(Frame::Settings(s)) if !s.ack => {}
            other => return Err(format!("handshake: expected SETTINGS, got {other:?}")),
        }
        self.send_frame(SETTINGS, ACK, 0, &[]);
        loop {
            match self.wait_event() {
                Ev::Frame(Frame::Settings(s)) if s.ack => return Ok(()),
                Ev::Frame(Frame::WindowUpdate(_)) => {}
                other => return Err(format!("handshake: expected SETTINGS ACK, got {other:?}")),
            }
        }
    }

    /// A request head's fields, as h2spec's `CommonHeaders` (plus extra).
    pub fn common_headers(method: &str) -> Vec<Header> {
        vec![
            Header::new(":method", method.to_owned()),
            Header::new(":scheme", "http"),
            Header::new(":path", "/"),
            Header::new(":authority", "127.0.0.1"),
        ]
    }

    /// HPACK-encodes `fields` with the connection's encoder.
    pub fn encode(&mut self, fields: &[Header]) -> Vec<u8> {
        let mut b = BytesMut::new();
        self.enc.encode(fields, &mut b);
        b.to_vec()
    }

    /// A GET request head block.
    pub fn get_block(&mut self) -> Vec<u8> {
        self.encode(&Self::common_headers("GET"))
    }

    /// A POST request head block.
    pub fn post_block(&mut self) -> Vec<u8> {
        self.encode(&Self::common_headers("POST"))
    }

    /// h2spec's `DummyHeaders(c, n)`: `n` fields `x-dummyN`.
    pub fn dummy_block(&mut self, n: usize) -> Vec<u8> {
        let fields: Vec<Header> = (0..n)
            .map(|i| Header::new(format!("x-dummy{i}"), "x".repeat(32)))
            .collect();
        self.encode(&fields)
    }

    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS from its first
    /// SETTINGS frame.
    pub fn server_max_streams(&self) -> Option<u32> {
        self.seen.iter().find_map(|f| match f {
            Frame::Settings(s) if !s.ack => s.get(grpc_codec::SettingId::MAX_CONCURRENT_STREAMS),
            _ => None,
        })
    }

    /// A GET on `stream`, END_STREAM and END_HEADERS set.
    pub fn get(&mut self, stream: u32) {
        let block = self.get_block();
        self.send_frame(HEADERS, END_STREAM | END_HEADERS, stream, &block);
    }

    fn collect(&mut self) {
        self.run_app();
        while let Some(b) = self.server.poll_transmit() {
            self.inbuf.extend_from_slice(&b);
        }
        loop {
            match self.frames.decode(&mut self.inbuf) {
                Ok(Some(f)) => {
                    if let Frame::Headers(h) = &f {
                        // Keep our HPACK decoder in step with the server's encoder.
                        let _ = self.dec.decode_to_vec(&h.fragment);
                    }
                    self.seen.push(f.clone());
                    self.queue.push_back(f);
                }
                Ok(None) => break,
                Err(e) => panic!("server wrote an undecodable frame: {e}"),
            }
        }
    }

    /// The server's application: answers complete requests.
    fn run_app(&mut self) {
        let mut done = Vec::new();
        while let Some(ev) = self.server.poll_event() {
            match ev {
                Event::Request {
                    stream,
                    request,
                    end_stream,
                } => {
                    if &request.method[..] == b"HEAD" {
                        self.head_requests.insert(stream);
                    }
                    if end_stream {
                        done.push(stream);
                    } else {
                        self.open_requests.insert(stream);
                    }
                }
                Event::Data {
                    stream,
                    end_stream: true,
                    ..
                }
                | Event::Trailers { stream, .. }
                    if self.open_requests.remove(&stream) =>
                {
                    done.push(stream);
                }
                Event::Reset { stream, .. } => {
                    self.open_requests.remove(&stream);
                }
                _ => {}
            }
        }
        if self.hold {
            return;
        }
        for stream in done {
            let head = self.head_requests.remove(&stream);
            let resp = Response::new(200).header("content-type", "text/plain");
            if head {
                let _ = self.server.send_response(stream, &resp, true);
            } else if self.server.send_response(stream, &resp, false).is_ok() {
                let _ = self
                    .server
                    .send_data(stream, Bytes::from_static(BODY), true);
            }
        }
    }

    /// h2spec's `Conn.WaitEvent`.
    pub fn wait_event(&mut self) -> Ev {
        if let Some(f) = self.queue.pop_front() {
            return Ev::Frame(f);
        }
        if self.server.is_closed() {
            Ev::Closed
        } else {
            Ev::Timeout
        }
    }

    /// h2spec's `WaitEventByType`: skips other frames.
    pub fn wait_frame(&mut self, t: FrameType) -> Result<Frame, String> {
        loop {
            match self.wait_event() {
                Ev::Frame(f) if f.frame_type() == t => return Ok(f),
                Ev::Frame(_) => {}
                other => return Err(format!("expected {t:?}, got {other:?}")),
            }
        }
    }

    /// h2spec's `VerifyConnectionError`, strict about the code: a GOAWAY
    /// with one of `codes`, or a close without GOAWAY.
    pub fn connection_error(&mut self, codes: &[ErrorCode]) -> Verdict {
        loop {
            match self.wait_event() {
                Ev::Closed => return Ok(()),
                Ev::Frame(Frame::GoAway(g)) => {
                    return if codes.contains(&g.code) {
                        Ok(())
                    } else {
                        Err(format!(
                            "GOAWAY {} ({:?}), expected {codes:?}",
                            g.code, g.debug_data
                        ))
                    };
                }
                Ev::Frame(_) => {}
                Ev::Timeout => return Err(format!("timeout, expected GOAWAY {codes:?}")),
            }
        }
    }

    /// h2spec's `VerifyStreamError`, strict about the code: RST_STREAM or
    /// GOAWAY with one of `codes`, or a close.
    pub fn stream_error(&mut self, codes: &[ErrorCode]) -> Verdict {
        loop {
            match self.wait_event() {
                Ev::Closed => return Ok(()),
                Ev::Frame(Frame::GoAway(g)) => {
                    return if codes.contains(&g.code) {
                        Ok(())
                    } else {
                        Err(format!(
                            "GOAWAY {} ({:?}), expected {codes:?}",
                            g.code, g.debug_data
                        ))
                    };
                }
                Ev::Frame(Frame::RstStream(r)) => {
                    return if codes.contains(&r.code) {
                        Ok(())
                    } else {
                        Err(format!("RST_STREAM {}, expected {codes:?}", r.code))
                    };
                }
                Ev::Frame(_) => {}
                Ev::Timeout => return Err(format!("timeout, expected RST_STREAM {codes:?}")),
            }
        }
    }

    /// h2spec's `VerifyConnectionClose`.
    pub fn connection_close(&mut self) -> Verdict {
        loop {
            match self.wait_event() {
                Ev::Closed => return Ok(()),
                Ev::Frame(_) => {}
                Ev::Timeout => return Err("timeout, expected the connection closed".into()),
            }
        }
    }

    /// h2spec's `VerifyStreamClose`: a frame with END_STREAM.
    pub fn stream_close(&mut self) -> Verdict {
        loop {
            match self.wait_event() {
                Ev::Frame(Frame::Data(d)) if d.end_stream => return Ok(()),
                Ev::Frame(Frame::Headers(h)) if h.end_stream => return Ok(()),
                Ev::Frame(Frame::GoAway(g)) => {
                    return Err(format!(
                        "GOAWAY {} ({:?}), expected END_STREAM",
                        g.code, g.debug_data
                    ));
                }
                Ev::Frame(Frame::RstStream(r)) => {
                    return Err(format!("RST_STREAM {}, expected END_STREAM", r.code));
                }
                Ev::Frame(_) => {}
                other => return Err(format!("{other:?}, expected END_STREAM")),
            }
        }
    }

    /// h2spec's `VerifyEventType`.
    pub fn event_type(&mut self, t: FrameType) -> Verdict {
        self.wait_frame(t).map(|_| ())
    }

    /// h2spec's acceptance check after sending something harmless: the
    /// connection is still alive and answers a PING (its `VerifyPingFrameWithAck`
    /// after a valid frame).
    pub fn ping_ack(&mut self) -> Verdict {
        let data = *b"h2specpg";
        self.send_frame(PING, 0, 0, &data);
        loop {
            match self.wait_event() {
                Ev::Frame(Frame::Ping(p)) if p.ack && p.data == data => return Ok(()),
                Ev::Frame(Frame::GoAway(g)) => {
                    return Err(format!(
                        "GOAWAY {} ({:?}), expected PING ACK",
                        g.code, g.debug_data
                    ));
                }
                Ev::Frame(_) => {}
                other => return Err(format!("{other:?}, expected PING ACK")),
            }
        }
    }

    /// A PING (with ACK) answered, or a clean close: h2spec's check that the
    /// connection took a frame without an error.
    pub fn ping_or_close(&mut self) -> Verdict {
        self.send_frame(PING, 0, 0, b"h2specpg");
        loop {
            match self.wait_event() {
                Ev::Frame(grpc_codec::Frame::Ping(ping)) if ping.ack => return Ok(()),
                Ev::Frame(grpc_codec::Frame::GoAway(g))
                    if g.code != grpc_codec::ErrorCode::NO_ERROR =>
                {
                    return Err(format!("GOAWAY {}", g.code));
                }
                Ev::Frame(_) => {}
                Ev::Closed => return Ok(()),
                Ev::Timeout => return Err("timeout, expected PING ACK".into()),
            }
        }
    }

    /// Whether the server's output so far holds no GOAWAY and no
    /// RST_STREAM.
    pub fn no_errors(&self) -> Verdict {
        for f in &self.seen {
            match f {
                Frame::GoAway(g) => return Err(format!("GOAWAY {} ({:?})", g.code, g.debug_data)),
                Frame::RstStream(r) => {
                    return Err(format!("RST_STREAM {} on {}", r.code, r.stream_id.value()));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
