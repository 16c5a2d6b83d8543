//! Helpers for the connection tests: in-memory client/server pairs, a
//! scripted raw peer that writes frames by hand, and event matching.
#![allow(dead_code, unreachable_pub, clippy::needless_pass_by_value)]

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use grpc_codec::codec::encode;
use grpc_codec::frame::{Data, GoAway, Headers, SettingsFrame};
use grpc_codec::hpack::{self, Header};
use grpc_codec::{
    Config, Connection, Decoder, Error, ErrorCode, Event, Frame, Limits, PREFACE, Request,
    Response, StreamId,
};

pub fn t0() -> Instant {
    use std::sync::OnceLock;
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}

pub fn at(ms: u64) -> Instant {
    t0() + Duration::from_millis(ms)
}

pub fn sid(n: u32) -> StreamId {
    StreamId::new(n)
}

pub fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Everything `c` has to send, concatenated.
pub fn drain(c: &mut Connection) -> Vec<u8> {
    let mut v = Vec::new();
    while let Some(b) = c.poll_transmit() {
        v.extend_from_slice(&b);
    }
    v
}

/// Moves bytes both ways until neither side has anything to send.
pub fn pump(client: &mut Connection, server: &mut Connection) {
    loop {
        let to_server = drain(client);
        let to_client = drain(server);
        if to_server.is_empty() && to_client.is_empty() {
            return;
        }
        server.handle_input(&to_server, t0()).unwrap();
        client.handle_input(&to_client, t0()).unwrap();
    }
}

/// A connected pair with both SETTINGS exchanged and the events so far
/// drained.
pub fn pair(client_cfg: Config, server_cfg: Config) -> (Connection, Connection) {
    let mut c = Connection::client(client_cfg, t0());
    let mut s = Connection::server(server_cfg, t0());
    pump(&mut c, &mut s);
    assert!(matches!(
        events(&mut c).as_slice(),
        [Event::Connected { .. }]
    ));
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Connected { .. }]
    ));
    (c, s)
}

pub fn get(path: &'static str) -> Request {
    Request::new("GET", "https", "example.com", path)
}

pub fn post(path: &'static str) -> Request {
    Request::new("POST", "https", "example.com", path)
}

/// Frames in `bytes` (one side's output), preface skipped.
pub fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut buf = BytesMut::from(bytes);
    if buf.starts_with(PREFACE) {
        let _ = buf.split_to(PREFACE.len());
    }
    let mut d = Decoder::new(Limits {
        max_frame_size: (1 << 24) - 1,
        max_header_block_size: 1 << 24,
        max_continuation_frames: usize::MAX,
        ..Limits::default()
    });
    let mut v = Vec::new();
    while let Some(f) = d.decode(&mut buf).unwrap() {
        v.push(f);
    }
    assert!(buf.is_empty(), "trailing bytes in output");
    v
}

/// The GOAWAY in `bytes`, if any.
pub fn goaway(bytes: &[u8]) -> Option<GoAway> {
    frames(bytes).into_iter().find_map(|f| match f {
        Frame::GoAway(g) => Some(g),
        _ => None,
    })
}

/// The RST_STREAM codes in `bytes`, by stream.
pub fn resets(bytes: &[u8]) -> Vec<(u32, ErrorCode)> {
    frames(bytes)
        .into_iter()
        .filter_map(|f| match f {
            Frame::RstStream(r) => Some((r.stream_id.value(), r.code)),
            _ => None,
        })
        .collect()
}

#[track_caller]
pub fn assert_conn_error(e: &Error, code: ErrorCode) {
    assert!(
        matches!(e, Error::Connection { code: c, .. } if *c == code),
        "expected connection error {code}, got {e:?}"
    );
}

/// A peer written by hand: frames encoded as given, header blocks with
/// its own HPACK encoder.
pub struct RawPeer {
    pub encoder: hpack::Encoder,
    pub buf: BytesMut,
}

impl RawPeer {
    pub fn new() -> Self {
        Self {
            encoder: hpack::Encoder::new(),
            buf: BytesMut::new(),
        }
    }

    /// A client: preface and empty SETTINGS.
    pub fn client() -> Self {
        let mut p = Self::new();
        p.buf.extend_from_slice(PREFACE);
        p.frame(Frame::Settings(SettingsFrame::default()));
        p
    }

    /// A server: empty SETTINGS.
    pub fn server() -> Self {
        let mut p = Self::new();
        p.frame(Frame::Settings(SettingsFrame::default()));
        p
    }

    pub fn frame(&mut self, f: Frame) -> &mut Self {
        encode(&f, &mut self.buf).unwrap();
        self
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    pub fn block(&mut self, fields: &[Header]) -> Bytes {
        let mut b = BytesMut::new();
        self.encoder.encode(fields, &mut b);
        b.freeze()
    }

    pub fn headers(&mut self, id: u32, fields: &[Header], end_stream: bool) -> &mut Self {
        let block = self.block(fields);
        self.frame(Frame::Headers(Headers::new(sid(id), block, end_stream)))
    }

    pub fn request(&mut self, id: u32, end_stream: bool) -> &mut Self {
        self.headers(id, &request_fields(), end_stream)
    }

    pub fn data(&mut self, id: u32, data: &'static [u8], end_stream: bool) -> &mut Self {
        self.frame(Frame::Data(Data::new(
            sid(id),
            Bytes::from_static(data),
            end_stream,
        )))
    }

    pub fn take(&mut self) -> Vec<u8> {
        self.buf.split().to_vec()
    }
}

pub fn h(n: &'static str, v: &'static str) -> Header {
    Header::new(n, v)
}

pub fn request_fields() -> Vec<Header> {
    vec![
        h(":method", "GET"),
        h(":scheme", "https"),
        h(":authority", "example.com"),
        h(":path", "/"),
    ]
}

/// A server fed `bytes` at `t0`: the result, its events and its output.
pub fn server_after(cfg: Config, bytes: &[u8]) -> (Result<(), Error>, Vec<Event>, Vec<u8>) {
    let mut s = Connection::server(cfg, t0());
    let r = s.handle_input(bytes, t0());
    (r, events(&mut s), drain(&mut s))
}

pub fn ok_response() -> Response {
    Response::new(200)
}
