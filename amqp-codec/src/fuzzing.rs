//! Plain entry points for the fuzz targets in `fuzz/`, so an ordinary
//! `cargo test` can replay their corpora on stable Rust. Each must hold for
//! any input: no panic, bounded work and memory, and whatever decodes
//! re-encodes to something that decodes to the same value.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::codec::{Decoder, decode_protocol_header, encode, encode_method};
use crate::config::{ClientConfig, Limits, ServerConfig, Tune};
use crate::conn::Connection;
use crate::content::{Assembled, Command, ContentAssembler};
use crate::error::Error;
use crate::event::Event;
use crate::field_table::FieldTable;
use crate::frame::{Frame, PROTOCOL_HEADER};
use crate::method::{
    BasicAck, BasicConsume, BasicConsumeOk, BasicDeliver, BasicGet, BasicPublish, BasicQos,
    BasicQosOk, ChannelFlowOk, ChannelOpen, ChannelOpenOk, ConfirmSelect, ConfirmSelectOk,
    ConnectionOpen, ConnectionOpenOk, ConnectionStart, ConnectionStartOk, ConnectionTune,
    ConnectionTuneOk, Method, TxSelectOk,
};
use crate::properties::BasicProperties;
use crate::string::{LongString, ShortString};

fn small_limits() -> Limits {
    Limits {
        initial_frame_max: 1 << 16,
        max_frame_size: 1 << 18,
        max_table_depth: 16,
        max_table_size: 1 << 16,
        max_body_size: 1 << 20,
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

/// `f` encodes, and decodes back to itself.
fn round_trip(f: &Frame, limits: Limits, frame_max: u32) {
    let mut out = BytesMut::new();
    if encode(f, &mut out).is_err() {
        return;
    }
    let mut d = Decoder::new(limits);
    d.set_frame_max(frame_max);
    let again = d.decode(&mut out);
    assert!(
        matches!(&again, Ok(Some(g)) if g == f),
        "{f:?} re-decoded as {again:?}"
    );
    assert!(out.is_empty(), "re-encoding left {} bytes", out.len());
}

/// Frame decoder fed `data` in chunks, each frame round-tripped and passed
/// to a per-channel content assembler; then `data` as a protocol header.
pub fn frame(data: &[u8]) {
    let limits = small_limits();
    let mut d = Decoder::new(limits);
    let mut channels: BTreeMap<u16, ContentAssembler> = BTreeMap::new();
    let mut buf = BytesMut::new();
    'input: for c in chunks(data) {
        buf.extend_from_slice(c);
        loop {
            let f = match d.decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => break 'input,
            };
            round_trip(&f, limits, d.frame_max());
            let channel = f.channel();
            if channels.len() >= 64 && !channels.contains_key(&channel) {
                continue;
            }
            let a = channels
                .entry(channel)
                .or_insert_with(|| ContentAssembler::new(limits.max_body_size));
            let r = match f {
                Frame::Method { method, .. } => {
                    if let Method::ConnectionTune(t) = &method {
                        d.set_frame_max(t.frame_max);
                    }
                    a.method(method)
                }
                Frame::Header { header, .. } => a.header(header),
                Frame::Body { payload, .. } => a.body(payload),
                Frame::Heartbeat => Ok(None),
            };
            if r.is_err() {
                break 'input;
            }
        }
    }
    let mut buf = BytesMut::from(data);
    let _ = decode_protocol_header(&mut buf);
    let frames = commands(data, Path::Frames);
    assert_eq!(commands(data, Path::Take), frames);
    assert_eq!(commands(data, Path::Borrow), frames);
}

/// How [`commands`] decodes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// [`Decoder::decode`] and the assembler's frame methods.
    Frames,
    /// [`Decoder::decode_into`], each command taken.
    Take,
    /// [`Decoder::decode_into`], each command read where it was assembled
    /// (and cloned).
    Borrow,
}

/// The commands (`None` for a heartbeat) and first error of `data` fed in
/// chunks, through [`Frame`]s or decoded in place
/// ([`Decoder::decode_into`]), which must agree.
fn commands(data: &[u8], path: Path) -> (Vec<(u16, Option<Command>)>, Option<Error>) {
    let limits = small_limits();
    let mut d = Decoder::new(limits);
    let mut channels: BTreeMap<u16, ContentAssembler> = BTreeMap::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for c in chunks(data) {
        buf.extend_from_slice(c);
        while let Some(channel) = Decoder::peek_channel(&buf) {
            if channels.len() >= 64 && !channels.contains_key(&channel) {
                return (out, None);
            }
            let a = channels
                .entry(channel)
                .or_insert_with(|| ContentAssembler::new(limits.max_body_size));
            let r = if path == Path::Frames {
                d.decode(&mut buf).and_then(|f| {
                    f.map(|f| {
                        Ok(match f {
                            Frame::Method { method, .. } => a.method(method)?.map(Some),
                            Frame::Header { header, .. } => a.header(header)?.map(Some),
                            Frame::Body { payload, .. } => a.body(payload)?.map(Some),
                            Frame::Heartbeat => Some(None),
                        })
                    })
                    .transpose()
                })
            } else {
                d.decode_into(&mut buf, a).map(|done| {
                    done.map(|done| match done {
                        Assembled::Heartbeat => Some(None),
                        Assembled::Partial => None,
                        Assembled::Complete if path == Path::Take => a.take_command().map(Some),
                        Assembled::Complete => a.command().cloned().map(Some),
                    })
                })
            };
            match r {
                Ok(None) => break,
                Ok(Some(None)) => {}
                Ok(Some(Some(cmd))) => {
                    if let Some(Method::ConnectionTune(t)) = cmd.as_ref().map(|c| &c.method) {
                        d.set_frame_max(t.frame_max);
                    }
                    out.push((channel, cmd));
                }
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

/// Field table decoder, on `data` as a whole length-prefixed table and on
/// `data` as a table's contents; what decodes round-trips.
pub fn field_table(data: &[u8]) {
    let limits = small_limits();
    let mut prefixed = BytesMut::with_capacity(data.len() + 4);
    prefixed.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    prefixed.extend_from_slice(data);
    for src in [Bytes::copy_from_slice(data), prefixed.freeze()] {
        let Ok(t) = FieldTable::decode(&src, &limits) else {
            continue;
        };
        let mut out = BytesMut::new();
        if t.encode(&mut out).is_ok() {
            let again = FieldTable::decode(&out.freeze(), &limits);
            assert!(again.as_ref() == Ok(&t), "{t:?} re-decoded as {again:?}");
        }
    }
}

/// Connection limits for the connection targets: small, so hostile sizes
/// fail fast.
fn conn_limits() -> Limits {
    Limits {
        initial_frame_max: 1 << 16,
        max_frame_size: 1 << 16,
        max_body_size: 1 << 18,
        ..small_limits()
    }
}

/// Feeds `data` to `conn` in chunks, acting on events as `react` says,
/// with time moving a second per chunk; checks that a failure is sticky.
fn drive(conn: &mut Connection, data: &[u8], mut react: impl FnMut(&mut Connection, Event)) {
    let start = Instant::now();
    let mut failed: Option<Error> = None;
    for (i, c) in chunks(data).enumerate() {
        let now = start + Duration::from_secs(u64::try_from(i).unwrap_or(u64::MAX));
        let r = conn.handle_input(c, now);
        if let Some(e) = &failed {
            assert_eq!(r.as_ref(), Err(e), "failure not sticky");
        }
        if let Err(e) = r {
            failed.get_or_insert(e);
        }
        conn.handle_timeout(now);
        while let Some(ev) = conn.poll_event() {
            react(conn, ev);
        }
        let _ = conn.poll_transmit();
        let _ = conn.poll_timeout();
    }
}

/// A client past its handshake with channels 1 and 2 open, fed `data` as
/// the server's further bytes. On channel 1 it has asked to consume (tag
/// `ctag`), selected confirms and published three messages; on channel 2
/// it has sent basic.get and basic.qos. It acks deliveries, publishes on
/// confirms and reopens closed channels.
pub fn conn_client(data: &[u8]) {
    let now = Instant::now();
    let config = ClientConfig {
        limits: conn_limits(),
        ..ClientConfig::default()
    };
    let mut c = Connection::client(config, now);
    let mut prefix = BytesMut::new();
    for m in [
        Method::from(ConnectionStart::default()),
        ConnectionTune {
            channel_max: 8,
            frame_max: 4096,
            heartbeat: 5,
        }
        .into(),
        ConnectionOpenOk::default().into(),
    ] {
        let _ = encode_method(0, &m, &mut prefix);
    }
    let _ = c.handle_input(&prefix, now);
    let _ = c.open_channel(1);
    let _ = c.open_channel(2);
    prefix.clear();
    for ch in [1, 2] {
        let _ = encode_method(ch, &ChannelOpenOk::default().into(), &mut prefix);
    }
    let _ = c.handle_input(&prefix, now);
    let consume = BasicConsume {
        consumer_tag: ShortString::try_new("ctag").unwrap_or_default(),
        ..BasicConsume::default()
    };
    let _ = c.send_method(1, &consume.into());
    let _ = c.send_method(1, &ConfirmSelect::default().into());
    let publish = BasicPublish::default();
    let props = BasicProperties::default();
    for _ in 0..3 {
        let _ = c.publish(1, &publish, &props, b"m");
    }
    let _ = c.send_method(2, &BasicGet::default().into());
    let _ = c.send_method(2, &BasicQos::default().into());
    drive(&mut c, data, |c, ev| match ev {
        Event::Delivery(d) => {
            if let Method::BasicDeliver(m) = &d.method {
                let ack = BasicAck {
                    delivery_tag: m.delivery_tag,
                    multiple: false,
                };
                let _ = c.send_method(d.channel, &ack.into());
            }
        }
        Event::Confirm { channel, .. } => {
            let _ = c.publish(channel, &publish, &props, b"again");
        }
        Event::ChannelClosed { channel, .. } => {
            let _ = c.open_channel(channel);
        }
        _ => {}
    });
}

/// A server that accepted a login and a vhost, with channel 1 open, fed
/// `data` as the client's further bytes. It confirms publishes, answers
/// a few requests and delivers on consume.
pub fn conn_server(data: &[u8]) {
    let now = Instant::now();
    let config = ServerConfig {
        limits: conn_limits(),
        tune: Tune {
            channel_max: 8,
            frame_max: 4096,
            heartbeat: 5,
        },
        ..ServerConfig::default()
    };
    let mut s = Connection::server(config, now);
    let mut prefix = BytesMut::from(&PROTOCOL_HEADER[..]);
    let start_ok = ConnectionStartOk {
        mechanism: ShortString::try_new("PLAIN").unwrap_or_default(),
        response: LongString::from_static(b"\0u\0p"),
        ..ConnectionStartOk::default()
    };
    let tune_ok = ConnectionTuneOk {
        channel_max: 8,
        frame_max: 4096,
        heartbeat: 5,
    };
    for m in [
        Method::from(start_ok),
        tune_ok.into(),
        ConnectionOpen::default().into(),
    ] {
        let _ = encode_method(0, &m, &mut prefix);
    }
    let _ = encode_method(1, &ChannelOpen::default().into(), &mut prefix);
    let props = BasicProperties::default();
    let answer = |s: &mut Connection, ev: Event| match ev {
        Event::Authenticate { .. } => {
            let _ = s.accept_auth();
        }
        Event::OpenVhost { .. } => {
            let _ = s.accept_vhost();
        }
        Event::Publish(p) => {
            if let Some(tag) = p.confirm_tag {
                let ack = BasicAck {
                    delivery_tag: tag,
                    multiple: tag % 2 == 0,
                };
                let _ = s.send_method(p.channel, &ack.into());
            }
        }
        Event::Method { channel, method } => {
            let reply: Option<Method> = match method {
                Method::ConfirmSelect(_) => Some(ConfirmSelectOk.into()),
                Method::TxSelect(_) => Some(TxSelectOk.into()),
                Method::BasicQos(_) => Some(BasicQosOk.into()),
                Method::BasicConsume(c) => {
                    let deliver = BasicDeliver {
                        consumer_tag: c.consumer_tag.clone(),
                        delivery_tag: 1,
                        ..BasicDeliver::default()
                    };
                    let _ = s.send_content(channel, &deliver.into(), &props, b"hello");
                    Some(
                        BasicConsumeOk {
                            consumer_tag: c.consumer_tag,
                        }
                        .into(),
                    )
                }
                _ => None,
            };
            if let Some(r) = reply {
                let _ = s.send_method(channel, &r);
            }
        }
        Event::Flow { channel, active } => {
            let _ = s.send_method(channel, &ChannelFlowOk { active }.into());
        }
        _ => {}
    };
    let _ = s.handle_input(&prefix, now);
    while let Some(ev) = s.poll_event() {
        answer(&mut s, ev);
    }
    drive(&mut s, data, answer);
}
