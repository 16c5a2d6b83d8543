//! Chunk-split invariance: a peer's byte stream fed in any chunks gives
//! the same events as fed whole.

use proptest::prelude::*;

use super::*;
use crate::sasl::Sasl;

const FRAME_MAX: u32 = 4096;

fn tune() -> Tune {
    Tune {
        channel_max: 16,
        frame_max: FRAME_MAX,
        heartbeat: 30,
    }
}

struct Stream(BytesMut);

impl Stream {
    fn new() -> Self {
        Self(BytesMut::new())
    }
    fn method(&mut self, channel: u16, m: impl Into<Method>) -> &mut Self {
        encode_method(channel, &m.into(), &mut self.0).unwrap();
        self
    }
    fn content(&mut self, channel: u16, m: impl Into<Method>, body: &[u8]) -> &mut Self {
        let props = BasicProperties {
            message_id: Some(short("id")),
            delivery_mode: Some(2),
            ..BasicProperties::default()
        };
        self.method(channel, m);
        encode_content(channel, 60, &props, body, FRAME_MAX, &mut self.0).unwrap();
        self
    }
    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    fn take(&mut self) -> Vec<u8> {
        self.0.split().to_vec()
    }
}

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

/// The server's side of a session in segments; after each the client
/// acts (opens channels, publishes...) before the next arrives.
fn server_segments() -> Vec<Vec<u8>> {
    let mut s = Stream::new();
    let start = ConnectionStart::default();
    let t = ConnectionTune {
        channel_max: 16,
        frame_max: FRAME_MAX,
        heartbeat: 30,
    };
    let handshake = s
        .method(0, start)
        .method(0, t)
        .method(0, ConnectionOpenOk::default())
        .take();
    let deliver = |tag| BasicDeliver {
        consumer_tag: short("ctag"),
        delivery_tag: tag,
        routing_key: short("q"),
        ..BasicDeliver::default()
    };
    let open_oks = s
        .method(1, ChannelOpenOk::default())
        .method(2, ChannelOpenOk::default())
        .take();
    let session = s
        .method(
            1,
            BasicConsumeOk {
                consumer_tag: short("ctag"),
            },
        )
        .method(1, ConfirmSelectOk)
        .content(1, deliver(1), &[])
        .raw(&heartbeat_frame())
        .content(1, deliver(2), &body(1))
        .content(1, deliver(3), &body(5000))
        .method(
            1,
            BasicAck {
                delivery_tag: 2,
                multiple: true,
            },
        )
        .method(
            1,
            BasicNack {
                delivery_tag: 3,
                multiple: false,
                requeue: false,
            },
        )
        .content(
            2,
            BasicGetOk {
                delivery_tag: 1,
                message_count: 0,
                ..BasicGetOk::default()
            },
            &body(9000),
        )
        .method(2, BasicQosOk)
        .method(
            0,
            ConnectionBlocked {
                reason: short("memory"),
            },
        )
        .content(1, deliver(4), &body(20_000))
        .method(0, ConnectionUnblocked)
        .method(1, ChannelFlow { active: false })
        .method(
            1,
            BasicCancel {
                consumer_tag: short("ctag"),
                nowait: true,
            },
        )
        .method(
            2,
            ChannelClose {
                reply_code: 406,
                reply_text: short("PRECONDITION_FAILED - x"),
                class_id: 60,
                method_id: 10,
            },
        )
        .content(
            1,
            BasicReturn {
                reply_code: 312,
                reply_text: short("NO_ROUTE"),
                ..BasicReturn::default()
            },
            &body(4100),
        )
        .method(
            0,
            ConnectionClose {
                reply_code: 320,
                reply_text: short("CONNECTION_FORCED - bye"),
                class_id: 0,
                method_id: 0,
            },
        )
        .take();
    vec![handshake, open_oks, session]
}

/// What the client does after segment `i`.
fn client_acts(c: &mut Connection, i: usize) {
    match i {
        0 => {
            c.open_channel(1).unwrap();
            c.open_channel(2).unwrap();
        }
        1 => {
            let consume = BasicConsume {
                queue: short("q"),
                consumer_tag: short("ctag"),
                ..BasicConsume::default()
            };
            c.send_method(1, &consume.into()).unwrap();
            c.send_method(1, &ConfirmSelect::default().into()).unwrap();
            for n in [0, 1, 5000] {
                let props = BasicProperties::default();
                c.publish(1, &BasicPublish::default(), &props, &body(n))
                    .unwrap();
            }
            c.send_method(2, &BasicGet::default().into()).unwrap();
            c.send_method(2, &BasicQos::default().into()).unwrap();
        }
        _ => {}
    }
}

fn run_client(chunks: &[usize]) -> Vec<Event> {
    let mut c = Connection::client(
        ClientConfig {
            tune: tune(),
            ..ClientConfig::new(Sasl::plain("u", "p"), "/")
        },
        t0(),
    );
    let mut evs = Vec::new();
    for (i, seg) in server_segments().iter().enumerate() {
        feed(&mut c, seg, chunks);
        evs.extend(events(&mut c));
        client_acts(&mut c, i);
    }
    evs
}

fn feed(c: &mut Connection, data: &[u8], chunks: &[usize]) {
    let mut rest = data;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
        let (now, later) = rest.split_at(n);
        let _ = c.handle_input(now, t0());
        c.poll_transmit();
        rest = later;
    }
}

/// The client's side of a session, in one piece: the server stops at the
/// login and vhost by itself.
fn client_stream() -> Vec<u8> {
    let mut s = Stream::new();
    let start_ok = ConnectionStartOk {
        mechanism: short("PLAIN"),
        response: "\0u\0p".into(),
        ..ConnectionStartOk::default()
    };
    let tune_ok = ConnectionTuneOk {
        channel_max: 16,
        frame_max: FRAME_MAX,
        heartbeat: 30,
    };
    s.raw(b"AMQP\x00\x00\x09\x01")
        .method(0, start_ok)
        .method(0, tune_ok)
        .method(0, ConnectionOpen::default())
        .method(1, ChannelOpen::default())
        .method(3, ChannelOpen::default())
        .method(1, ConfirmSelect::default())
        .content(1, BasicPublish::default(), &body(10_000))
        .raw(&heartbeat_frame())
        .content(1, BasicPublish::default(), &[])
        .method(3, TxSelect)
        .content(3, BasicPublish::default(), &body(4088))
        .method(3, TxCommit)
        .method(3, TxCommit)
        .method(
            1,
            BasicAck {
                delivery_tag: 1,
                multiple: true,
            },
        )
        .method(1, ChannelFlow { active: false })
        .method(3, ConfirmSelect::default())
        .method(3, BasicQos::default())
        .method(3, ChannelCloseOk)
        .method(1, ChannelClose::default())
        .method(
            0,
            ConnectionClose {
                reply_code: 200,
                ..ConnectionClose::default()
            },
        );
    s.take()
}

fn run_server(chunks: &[usize]) -> Vec<Event> {
    let mut s = Connection::server(
        ServerConfig {
            tune: tune(),
            ..ServerConfig::default()
        },
        t0(),
    );
    let mut evs = Vec::new();
    let data = client_stream();
    let mut rest = &data[..];
    let mut sizes = chunks.iter().cycle();
    loop {
        for e in events(&mut s) {
            match e {
                Event::Authenticate { .. } => s.accept_auth().unwrap(),
                Event::OpenVhost { .. } => s.accept_vhost().unwrap(),
                _ => {}
            }
            evs.push(e);
        }
        if !s.events.is_empty() {
            continue;
        }
        if rest.is_empty() {
            break;
        }
        let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
        let (now, later) = rest.split_at(n);
        let _ = s.handle_input(now, t0());
        rest = later;
    }
    evs
}

#[test]
fn sessions_end_as_scripted() {
    let evs = run_client(&[usize::MAX]);
    assert!(
        evs.iter()
            .all(|e| closed_error(std::slice::from_ref(e)).is_none()),
        "{evs:#?}"
    );
    assert!(matches!(
        evs.last(),
        Some(Event::Closed {
            reply_code: 320,
            by_peer: true,
            ..
        })
    ));
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, Event::Confirm { .. }))
            .count(),
        3
    );
    let evs = run_server(&[usize::MAX]);
    assert!(
        evs.iter()
            .all(|e| closed_error(std::slice::from_ref(e)).is_none()),
        "{evs:#?}"
    );
    assert!(matches!(
        evs.last(),
        Some(Event::Closed {
            reply_code: 200,
            by_peer: true,
            ..
        })
    ));
    assert!(evs.iter().any(|e| matches!(
        e,
        Event::ChannelClosed {
            channel: 3,
            reply_code: 406,
            ..
        }
    )));
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::Publish(p) if p.confirm_tag == Some(2)))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn client_events_do_not_depend_on_chunking(
        chunks in prop::collection::vec(1usize..700, 1..40)
    ) {
        prop_assert_eq!(run_client(&chunks), run_client(&[usize::MAX]));
    }

    #[test]
    fn server_events_do_not_depend_on_chunking(
        chunks in prop::collection::vec(1usize..700, 1..40)
    ) {
        prop_assert_eq!(run_server(&chunks), run_server(&[usize::MAX]));
    }
}

/// A cheap stand-in for the fuzz targets in `cargo test`: each session
/// stream with random bytes changed, cut short, or chunked oddly, through
/// the same plain functions the targets call. None may panic.
#[test]
fn mutated_sessions_do_not_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let client_side = server_segments().concat();
    let server_side = client_stream();
    // The targets add their own handshake and channel 1: skip ours.
    let inputs = [
        (
            crate::fuzzing::conn_client as fn(&[u8]),
            &client_side[..],
            5,
        ),
        (crate::fuzzing::conn_server, &server_side[..], 4),
    ];
    for (target, stream, frames) in inputs {
        let body = skip_frames(stream, frames);
        assert!(body.len() > 10_000);
        for i in 0..300 {
            let mut data = vec![(rand() % 256) as u8];
            data.extend_from_slice(body);
            for _ in 0..(i % 8) {
                let at = (rand() as usize) % data.len();
                data[at] = (rand() % 256) as u8;
            }
            let cut = (rand() as usize) % (data.len() + 1);
            target(&data[..cut.max(data.len() / 2)]);
        }
        target(&[]);
        target(body);
    }
}

/// `stream` past its protocol header, if any, and its first `n` frames.
fn skip_frames(stream: &[u8], n: usize) -> &[u8] {
    let mut buf = BytesMut::from(stream);
    if buf.starts_with(b"AMQP") {
        let _ = buf.split_to(8);
    }
    let mut d = Decoder::default();
    for _ in 0..n {
        d.decode(&mut buf).unwrap().unwrap();
    }
    &stream[stream.len() - buf.len()..]
}
