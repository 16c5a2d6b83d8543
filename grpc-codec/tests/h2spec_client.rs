//! h2spec's cases turned around: a raw server writes frames at our CLIENT
//! machine, judged as h2spec judges (GOAWAY with the code or a close for
//! connection errors; RST_STREAM or GOAWAY for stream errors). Where
//! h2spec's client mode has no case (response HEADERS semantics, GOAWAY
//! handling, PUSH_PROMISE refusal) the rule is RFC 9113's. `summary`
//! prints per-section pass counts.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use grpc_codec::hpack::{self, Header};
use grpc_codec::{
    Config, Connection, Decoder, Error, ErrorCode, Event, Frame, Limits, PREFACE, Request,
};

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const PUSH_PROMISE: u8 = 0x5;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

type Verdict = Result<(), String>;

fn raw(t: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut v = vec![len[1], len[2], len[3], t, flags];
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn settings(params: &[(u16, u32)]) -> Vec<u8> {
    params
        .iter()
        .flat_map(|(id, v)| id.to_be_bytes().into_iter().chain(v.to_be_bytes()))
        .collect()
}

/// A raw server in front of our client, which has opened stream 1.
struct Srv {
    client: Connection,
    now: Instant,
    enc: hpack::Encoder,
    frames: Decoder,
    inbuf: BytesMut,
    queue: VecDeque<Frame>,
    events: Vec<Event>,
}

impl Srv {
    /// Connected (SETTINGS both ways) with GET / open on stream 1 if
    /// `get`, else a POST whose body "hello" waits for the window.
    fn with(server_settings: &[(u16, u32)], get: bool) -> Self {
        let now = Instant::now();
        let mut client = Connection::client(Config::default(), now);
        let mut s = Self {
            client: Connection::client(Config::default(), now),
            now,
            enc: hpack::Encoder::new(),
            frames: Decoder::new(Limits {
                max_frame_size: (1 << 24) - 1,
                ..Limits::default()
            }),
            inbuf: BytesMut::new(),
            queue: VecDeque::new(),
            events: Vec::new(),
        };
        let req = Request::new(if get { "GET" } else { "POST" }, "http", "127.0.0.1", "/");
        client.send_request(&req, get).unwrap();
        s.client = client;
        s.collect();
        let mut hello = raw(SETTINGS, 0, 0, &settings(server_settings));
        hello.extend(raw(SETTINGS, 1, 0, &[]));
        s.send(&hello);
        s.queue.clear();
        if !get {
            // Queued once the server's window is known (before its
            // SETTINGS the default 65535 applies, §6.9.2).
            s.client
                .send_data(
                    grpc_codec::StreamId::new(1),
                    Bytes::from_static(b"hello"),
                    true,
                )
                .unwrap();
        }
        s.send(&[]);
        s
    }

    fn new() -> Self {
        Self::with(&[], true)
    }

    fn send(&mut self, bytes: &[u8]) {
        let _ = self.client.handle_input(bytes, self.now);
        self.collect();
    }

    fn send_frame(&mut self, t: u8, flags: u8, stream: u32, payload: &[u8]) {
        self.send(&raw(t, flags, stream, payload));
    }

    fn block(&mut self, fields: &[(&str, &str)]) -> Vec<u8> {
        let fields: Vec<Header> = fields
            .iter()
            .map(|(n, v)| Header::new(n.to_string(), v.to_string()))
            .collect();
        let mut b = BytesMut::new();
        self.enc.encode(&fields, &mut b);
        b.to_vec()
    }

    /// A response head on stream 1.
    fn respond(&mut self, fields: &[(&str, &str)], flags: u8) {
        let b = self.block(fields);
        self.send_frame(HEADERS, flags | END_HEADERS, 1, &b);
    }

    fn collect(&mut self) {
        while let Some(ev) = self.client.poll_event() {
            self.events.push(ev);
        }
        while let Some(b) = self.client.poll_transmit() {
            self.inbuf.extend_from_slice(&b);
        }
        if self.inbuf.starts_with(PREFACE) {
            let _ = self.inbuf.split_to(PREFACE.len());
        }
        while let Some(f) = self.frames.decode(&mut self.inbuf).unwrap() {
            self.queue.push_back(f);
        }
    }

    fn next(&mut self) -> Option<Frame> {
        self.queue.pop_front()
    }

    fn connection_error(&mut self, code: ErrorCode) -> Verdict {
        while let Some(f) = self.next() {
            if let Frame::GoAway(g) = f {
                return if g.code == code {
                    Ok(())
                } else {
                    Err(format!("GOAWAY {}, expected {code}", g.code))
                };
            }
        }
        if self.client.is_closed() {
            Ok(())
        } else {
            Err(format!("no GOAWAY, expected {code}"))
        }
    }

    fn stream_error(&mut self, code: ErrorCode) -> Verdict {
        while let Some(f) = self.next() {
            match f {
                Frame::GoAway(g) => {
                    return if g.code == code {
                        Ok(())
                    } else {
                        Err(format!("GOAWAY {}, expected {code}", g.code))
                    };
                }
                Frame::RstStream(r) => {
                    return if r.code == code {
                        Ok(())
                    } else {
                        Err(format!("RST_STREAM {}, expected {code}", r.code))
                    };
                }
                _ => {}
            }
        }
        Err(format!("no RST_STREAM, expected {code}"))
    }

    fn ping_ack(&mut self) -> Verdict {
        self.send_frame(PING, 0, 0, b"h2specpg");
        while let Some(f) = self.next() {
            match f {
                Frame::Ping(p) if p.ack && &p.data == b"h2specpg" => return Ok(()),
                Frame::GoAway(g) => return Err(format!("GOAWAY {}", g.code)),
                _ => {}
            }
        }
        Err("no PING ACK".into())
    }

    fn settings_ack(&mut self) -> Verdict {
        while let Some(f) = self.next() {
            if matches!(&f, Frame::Settings(s) if s.ack) {
                return Ok(());
            }
            if let Frame::GoAway(g) = f {
                return Err(format!("GOAWAY {}", g.code));
            }
        }
        Err("no SETTINGS ACK".into())
    }
}

fn bad_setting(id: u16, value: u32, code: ErrorCode) -> Verdict {
    let mut s = Srv::new();
    s.send_frame(SETTINGS, 0, 0, &settings(&[(id, value)]));
    s.connection_error(code)
}

const PROTOCOL: ErrorCode = ErrorCode::PROTOCOL_ERROR;
const FRAME_SIZE: ErrorCode = ErrorCode::FRAME_SIZE_ERROR;
const FLOW: ErrorCode = ErrorCode::FLOW_CONTROL_ERROR;
const OK: &[(&str, &str)] = &[(":status", "200")];

type Case = (&'static str, &'static str, fn() -> Verdict);

const CASES: &[Case] = &[
    ("3.5", "server preface not SETTINGS: PROTOCOL_ERROR", || {
        let now = Instant::now();
        let mut c = Connection::client(Config::default(), now);
        let _ = c.handle_input(&raw(PING, 0, 0, b"h2specpg"), now);
        let out: Vec<u8> = std::iter::from_fn(|| c.poll_transmit()).flatten().collect();
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(&out[PREFACE.len()..]);
        while let Some(f) = d.decode(&mut buf).unwrap() {
            if let Frame::GoAway(g) = f {
                return if g.code == PROTOCOL {
                    Ok(())
                } else {
                    Err(format!("GOAWAY {}", g.code))
                };
            }
        }
        Err("no GOAWAY".into())
    }),
    ("4.1", "unknown frame type ignored", || {
        let mut s = Srv::new();
        s.send_frame(0x16, 0, 0, b"unknown");
        s.ping_ack()
    }),
    (
        "4.2",
        "DATA over SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR",
        || {
            let mut s = Srv::new();
            s.respond(OK, 0);
            s.send_frame(DATA, END_STREAM, 1, &[0; (1 << 14) + 1]);
            s.stream_error(FRAME_SIZE)
        },
    ),
    ("4.3", "invalid header block: COMPRESSION_ERROR", || {
        let mut s = Srv::new();
        s.send_frame(HEADERS, END_HEADERS, 1, &[0x40]);
        s.connection_error(ErrorCode::COMPRESSION_ERROR)
    }),
    ("5.1", "DATA on an idle stream: PROTOCOL_ERROR", || {
        let mut s = Srv::new();
        s.send_frame(DATA, 0, 3, b"test");
        s.connection_error(PROTOCOL)
    }),
    (
        "5.1",
        "HEADERS on a server stream without push: PROTOCOL_ERROR",
        || {
            let mut s = Srv::new();
            let b = s.block(OK);
            s.send_frame(HEADERS, END_HEADERS, 2, &b);
            s.connection_error(PROTOCOL)
        },
    ),
    (
        "5.1",
        "DATA after the response ended: STREAM_CLOSED",
        || {
            let mut s = Srv::new();
            s.respond(OK, END_STREAM);
            s.send_frame(DATA, END_STREAM, 1, b"test");
            s.stream_error(ErrorCode::STREAM_CLOSED)
        },
    ),
    ("5.4.1", "invalid PING: GOAWAY", || {
        let mut s = Srv::new();
        s.send_frame(PING, 0, 1, b"h2specpg");
        s.connection_error(PROTOCOL)
    }),
    ("6.1", "DATA on stream 0: PROTOCOL_ERROR", || {
        let mut s = Srv::new();
        s.send_frame(DATA, 0, 0, b"test");
        s.connection_error(PROTOCOL)
    }),
    ("6.2", "HEADERS on stream 0: PROTOCOL_ERROR", || {
        let mut s = Srv::new();
        let b = s.block(OK);
        s.send_frame(HEADERS, END_HEADERS, 0, &b);
        s.connection_error(PROTOCOL)
    }),
    ("6.5", "SETTINGS ACK with payload: FRAME_SIZE_ERROR", || {
        let mut s = Srv::new();
        s.send_frame(SETTINGS, 1, 0, &settings(&[(3, 1)]));
        s.connection_error(FRAME_SIZE)
    }),
    (
        "6.5",
        "SETTINGS length not a multiple of 6: FRAME_SIZE_ERROR",
        || {
            let mut s = Srv::new();
            s.send_frame(SETTINGS, 0, 0, &[0, 3, 0, 0]);
            s.connection_error(FRAME_SIZE)
        },
    ),
    (
        "6.5.2",
        "SETTINGS_ENABLE_PUSH 1 from a server: PROTOCOL_ERROR",
        || bad_setting(2, 1, PROTOCOL),
    ),
    ("6.5.2", "SETTINGS_ENABLE_PUSH 2: PROTOCOL_ERROR", || {
        bad_setting(2, 2, PROTOCOL)
    }),
    (
        "6.5.2",
        "SETTINGS_INITIAL_WINDOW_SIZE 2^31: FLOW_CONTROL_ERROR",
        || bad_setting(4, 1 << 31, FLOW),
    ),
    (
        "6.5.2",
        "SETTINGS_MAX_FRAME_SIZE below 2^14: PROTOCOL_ERROR",
        || bad_setting(5, (1 << 14) - 1, PROTOCOL),
    ),
    (
        "6.5.2",
        "SETTINGS_MAX_FRAME_SIZE 2^24: PROTOCOL_ERROR",
        || bad_setting(5, 1 << 24, PROTOCOL),
    ),
    ("6.5.2", "unknown setting ignored and ACKed", || {
        let mut s = Srv::new();
        s.send_frame(SETTINGS, 0, 0, &settings(&[(0xff, 1)]));
        s.settings_ack()
    }),
    ("6.5.3", "SETTINGS ACKed at once", || {
        let mut s = Srv::new();
        s.send_frame(SETTINGS, 0, 0, &settings(&[(3, 10)]));
        s.settings_ack()
    }),
    ("6.7", "PING answered with the same data", || {
        Srv::new().ping_ack()
    }),
    (
        "6.7",
        "PING with a length other than 8: FRAME_SIZE_ERROR",
        || {
            let mut s = Srv::new();
            s.send_frame(PING, 0, 0, b"short");
            s.connection_error(FRAME_SIZE)
        },
    ),
    ("6.8", "GOAWAY on a stream: PROTOCOL_ERROR", || {
        let mut s = Srv::new();
        s.send_frame(GOAWAY, 0, 1, &[0; 8]);
        s.connection_error(PROTOCOL)
    }),
    (
        "6.8",
        "GOAWAY below our stream: it is refused, no new requests",
        || {
            let mut s = Srv::new();
            s.send_frame(GOAWAY, 0, 0, &[0; 8]);
            let refused = s.events.iter().any(|e| {
            matches!(e, Event::Reset { stream, code, .. } if stream.value() == 1 && *code == ErrorCode::REFUSED_STREAM)
        });
            let again = s
                .client
                .send_request(&Request::new("GET", "http", "a", "/"), true);
            match (refused, again) {
                (true, Err(Error::GoingAway | Error::Closed)) => Ok(()),
                (r, a) => Err(format!("refused reported: {r}, new request: {a:?}")),
            }
        },
    ),
    (
        "6.9",
        "WINDOW_UPDATE of 0 on the connection: PROTOCOL_ERROR",
        || {
            let mut s = Srv::new();
            s.send_frame(WINDOW_UPDATE, 0, 0, &0u32.to_be_bytes());
            s.connection_error(PROTOCOL)
        },
    ),
    (
        "6.9",
        "WINDOW_UPDATE of 0 on a stream: PROTOCOL_ERROR",
        || {
            let mut s = Srv::new();
            s.send_frame(WINDOW_UPDATE, 0, 1, &0u32.to_be_bytes());
            s.stream_error(PROTOCOL)
        },
    ),
    (
        "6.9.1",
        "connection window above 2^31-1: FLOW_CONTROL_ERROR",
        || {
            let mut s = Srv::new();
            s.send_frame(WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes());
            s.send_frame(WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes());
            s.connection_error(FLOW)
        },
    ),
    (
        "6.9.1",
        "stream window above 2^31-1: RST_STREAM FLOW_CONTROL_ERROR",
        || {
            let mut s = Srv::new();
            s.send_frame(WINDOW_UPDATE, 0, 1, &0x7fff_ffffu32.to_be_bytes());
            s.send_frame(WINDOW_UPDATE, 0, 1, &0x7fff_ffffu32.to_be_bytes());
            s.stream_error(FLOW)
        },
    ),
    (
        "6.9.1",
        "SETTINGS_INITIAL_WINDOW_SIZE 1: the body goes 1 byte at a time",
        || {
            let mut s = Srv::with(&[(4, 1)], false);
            let data: Vec<usize> = std::iter::from_fn(|| s.next())
                .filter_map(|f| {
                    if let Frame::Data(d) = f {
                        Some(d.data.len())
                    } else {
                        None
                    }
                })
                .collect();
            if data != [1] {
                return Err(format!("DATA lengths {data:?}, expected [1]"));
            }
            s.send_frame(WINDOW_UPDATE, 0, 1, &4u32.to_be_bytes());
            match s.next() {
                Some(Frame::Data(d)) if d.data.len() == 4 && d.end_stream => Ok(()),
                other => Err(format!("{other:?}, expected the last 4 bytes")),
            }
        },
    ),
    (
        "6.10",
        "CONTINUATION without HEADERS: PROTOCOL_ERROR",
        || {
            let mut s = Srv::new();
            let b = s.block(OK);
            s.send_frame(CONTINUATION, END_HEADERS, 1, &b);
            s.connection_error(PROTOCOL)
        },
    ),
    ("8.1", "response without :status: PROTOCOL_ERROR", || {
        let mut s = Srv::new();
        s.respond(&[("x-test", "ok")], END_STREAM);
        s.stream_error(PROTOCOL)
    }),
    (
        "8.1",
        "response with a request pseudo-header: PROTOCOL_ERROR",
        || {
            let mut s = Srv::new();
            s.respond(&[(":status", "200"), (":method", "GET")], END_STREAM);
            s.stream_error(PROTOCOL)
        },
    ),
    (
        "8.1",
        "pseudo-header after a regular field: PROTOCOL_ERROR",
        || {
            let mut s = Srv::new();
            s.respond(&[("x-test", "ok"), (":status", "200")], END_STREAM);
            s.stream_error(PROTOCOL)
        },
    ),
    ("8.1", "uppercase field name: PROTOCOL_ERROR", || {
        let mut s = Srv::new();
        s.respond(&[(":status", "200"), ("X-TEST", "ok")], END_STREAM);
        s.stream_error(PROTOCOL)
    }),
    ("8.1", "connection-specific field: PROTOCOL_ERROR", || {
        let mut s = Srv::new();
        s.respond(&[(":status", "200"), ("connection", "close")], END_STREAM);
        s.stream_error(PROTOCOL)
    }),
    ("8.1", "pseudo-header in trailers: PROTOCOL_ERROR", || {
        let mut s = Srv::new();
        s.respond(OK, 0);
        s.send_frame(DATA, 0, 1, b"test");
        s.respond(&[(":status", "200")], END_STREAM);
        s.stream_error(PROTOCOL)
    }),
    (
        "8.1",
        "content-length not matching the DATA: PROTOCOL_ERROR",
        || {
            let mut s = Srv::new();
            s.respond(&[(":status", "200"), ("content-length", "3")], 0);
            s.send_frame(DATA, END_STREAM, 1, b"test");
            s.stream_error(PROTOCOL)
        },
    ),
    (
        "8.1",
        "DATA before the response head: PROTOCOL_ERROR",
        || {
            let mut s = Srv::new();
            s.send_frame(DATA, END_STREAM, 1, b"test");
            s.stream_error(PROTOCOL)
        },
    ),
    ("8.1", "a complete response is reported", || {
        let mut s = Srv::new();
        s.respond(OK, 0);
        s.send_frame(DATA, END_STREAM, 1, b"test");
        let ok = s
            .events
            .iter()
            .any(|e| matches!(e, Event::Response { response, .. } if response.status == 200))
            && s.events.iter().any(
                |e| matches!(e, Event::Data { data, end_stream: true, .. } if &data[..] == b"test"),
            );
        if ok {
            Ok(())
        } else {
            Err(format!("events {:?}", s.events))
        }
    }),
    (
        "8.2",
        "PUSH_PROMISE with push disabled: PROTOCOL_ERROR",
        || {
            let mut s = Srv::new();
            let mut payload = 2u32.to_be_bytes().to_vec();
            payload.extend(s.block(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/p"),
                (":authority", "a"),
            ]));
            s.send_frame(PUSH_PROMISE, END_HEADERS, 1, &payload);
            s.connection_error(PROTOCOL)
        },
    ),
];

#[test]
fn summary() {
    let mut sections: Vec<(&str, usize, usize)> = Vec::new();
    let mut failures = Vec::new();
    for (section, desc, run) in CASES {
        let r = run();
        let i = sections
            .iter()
            .position(|s| s.0 == *section)
            .unwrap_or_else(|| {
                sections.push((section, 0, 0));
                sections.len() - 1
            });
        sections[i].2 += 1;
        match r {
            Ok(()) => sections[i].1 += 1,
            Err(e) => failures.push(format!("{section} {desc}: {e}")),
        }
    }
    for (s, pass, total) in &sections {
        println!("h2spec client {s}: {pass}/{total} passed");
    }
    println!(
        "h2spec client total: {}/{} passed",
        CASES.len() - failures.len(),
        CASES.len()
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{} client cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
