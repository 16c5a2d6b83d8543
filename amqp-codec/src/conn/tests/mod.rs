//! Connection tests: in-memory client/server pairs wired through
//! `poll_transmit`/`handle_input`, byte-level replays, hostile input.

use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::*;
use crate::codec::{encode, encode_content};
use crate::config::{ClientConfig, ServerConfig, Tune};
use crate::event::Event;
use crate::frame::Frame;
use crate::method::*;
use crate::properties::BasicProperties;
use crate::string::ShortString;

mod channels;
mod chunking;
mod content;
mod errors;
mod heartbeat;
mod modes;
mod negotiation;
mod replay;

fn t0() -> Instant {
    use std::sync::OnceLock;
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}

fn at(secs: u64) -> Instant {
    t0() + Duration::from_secs(secs)
}

fn short(text: &str) -> ShortString {
    ShortString::try_new(text).unwrap()
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Frames in `bytes` (one side's output), decoded.
fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut buf = BytesMut::from(bytes);
    if buf.starts_with(b"AMQP") {
        let _ = buf.split_to(8);
    }
    let mut d = Decoder::new(crate::Limits {
        initial_frame_max: 1 << 24,
        ..crate::Limits::default()
    });
    let mut v = Vec::new();
    while let Some(f) = d.decode(&mut buf).unwrap() {
        v.push(f);
    }
    assert!(buf.is_empty(), "trailing bytes in output");
    v
}

/// The methods in `bytes`, with their channels.
fn methods(bytes: &[u8]) -> Vec<(u16, Method)> {
    frames(bytes)
        .into_iter()
        .filter_map(|f| match f {
            Frame::Method { channel, method } => Some((channel, method)),
            _ => None,
        })
        .collect()
}

/// The `connection.close` in a side's output.
fn sent_close(c: &mut Connection) -> Option<ConnectionClose> {
    let out = c.poll_transmit()?;
    methods(&out).into_iter().find_map(|(_, m)| match m {
        Method::ConnectionClose(c) => Some(c),
        _ => None,
    })
}

fn method_frame(channel: u16, m: impl Into<Method>) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_method(channel, &m.into(), &mut b).unwrap();
    b.to_vec()
}

fn content_frames(channel: u16, body: &[u8]) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_content(channel, 60, &BasicProperties::default(), body, 0, &mut b).unwrap();
    b.to_vec()
}

fn heartbeat_frame() -> Vec<u8> {
    let mut b = BytesMut::new();
    encode(&Frame::Heartbeat, &mut b).unwrap();
    b.to_vec()
}

fn closed_error(evs: &[Event]) -> Option<Error> {
    evs.iter().find_map(|e| match e {
        Event::Closed { error, .. } => error.clone(),
        _ => None,
    })
}

/// Configs with the same tuning on both sides.
fn configs(tune: Tune) -> (ClientConfig, ServerConfig) {
    let c = ClientConfig {
        tune,
        ..ClientConfig::default()
    };
    let s = ServerConfig {
        tune,
        ..ServerConfig::default()
    };
    (c, s)
}

/// A client and a server wired together.
struct Pair {
    c: Connection,
    s: Connection,
    now: Instant,
}

impl Pair {
    /// Negotiated with every login and vhost accepted; events drained.
    fn connected(c: ClientConfig, s: ServerConfig) -> Self {
        let mut p = Self {
            c: Connection::client(c, t0()),
            s: Connection::server(s, t0()),
            now: t0(),
        };
        p.pump();
        assert!(matches!(
            events(&mut p.s).as_slice(),
            [Event::Authenticate { .. }]
        ));
        p.s.accept_auth().unwrap();
        p.pump();
        assert!(matches!(
            events(&mut p.s).as_slice(),
            [Event::OpenVhost { .. }]
        ));
        p.s.accept_vhost().unwrap();
        p.pump();
        assert!(matches!(
            events(&mut p.s).as_slice(),
            [Event::Connected { .. }]
        ));
        assert!(matches!(
            events(&mut p.c).as_slice(),
            [Event::Connected { .. }]
        ));
        p
    }

    fn new() -> Self {
        let (c, s) = configs(Tune::default());
        Self::connected(c, s)
    }

    /// Also with channel 1 open.
    fn with_channel() -> Self {
        let mut p = Self::new();
        p.c.open_channel(1).unwrap();
        p.pump();
        assert_eq!(
            events(&mut p.c),
            [Event::ChannelOpened { channel: 1 }],
            "client"
        );
        assert_eq!(
            events(&mut p.s),
            [Event::ChannelOpened { channel: 1 }],
            "server"
        );
        p
    }

    /// Moves bytes both ways until neither side has any to send.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            if let Some(b) = self.c.poll_transmit() {
                let _ = self.s.handle_input(&b, self.now);
                moved = true;
            }
            if let Some(b) = self.s.poll_transmit() {
                let _ = self.c.handle_input(&b, self.now);
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }

    /// Client request, server reply: the server's event and the client's.
    fn roundtrip(&mut self, ch: u16, req: impl Into<Method>, reply: impl Into<Method>) {
        let (req, reply) = (req.into(), reply.into());
        self.c.send_method(ch, &req).unwrap();
        self.pump();
        assert_eq!(
            events(&mut self.s),
            [Event::Method {
                channel: ch,
                method: req
            }]
        );
        self.s.send_method(ch, &reply).unwrap();
        self.pump();
        assert_eq!(
            events(&mut self.c),
            [Event::Method {
                channel: ch,
                method: reply
            }]
        );
    }
}
