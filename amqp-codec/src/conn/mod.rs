//! The connection state machine (AMQP 0-9-1 §1.4, §2.2, §4.2) for one
//! endpoint, client or server, over the frame codec.
//!
//! Feed bytes read from the transport to [`Connection::handle_input`] with
//! the current time, act on [`Connection::poll_event`], write out what
//! [`Connection::poll_transmit`] returns, and call
//! [`Connection::handle_timeout`] when [`Connection::poll_timeout`] says.
//! The connection negotiates, sends and checks heartbeats, answers
//! `connection.close` and `channel.close` itself (a server also
//! `channel.open`; a client also the server's `channel.flow` and
//! `basic.cancel`), and keeps one state machine per channel: open,
//! closing, content sequencing, the replies its requests wait for,
//! confirm and tx modes. A server application answers every other request
//! itself, in order ([`Event::Method`]).
//!
//! A peer error fails the connection: the matching `connection.close` is
//! queued, [`Event::Closed`] reported once, and the error is sticky: later
//! input returns it again (while the connection still waits for the
//! peer's close-ok), and `send_*` return [`Error::Closed`]. The one error
//! that ends only a channel ([`Error::PreconditionFailed`], server role) is
//! answered with `channel.close`, and the connection goes on.
//!
//! Time is the caller's: every input carries `now`, and sending frames
//! uses the latest `now` seen to restart the idle timer.
//!
//! ```
//! use std::time::Instant;
//!
//! use amqp_codec::method::{BasicPublish, ConfirmSelect, Method};
//! use amqp_codec::{
//!     BasicProperties, ClientConfig, Connection, Event, Sasl, ServerConfig,
//! };
//!
//! let now = Instant::now();
//! let mut client = Connection::client(ClientConfig::new(Sasl::plain("u", "pw"), "/"), now);
//! let mut server = Connection::server(ServerConfig::default(), now);
//! // In-memory wiring; a real runner writes to and reads from a socket.
//! let pump = |c: &mut Connection, s: &mut Connection| loop {
//!     match (c.poll_transmit(), s.poll_transmit()) {
//!         (None, None) => return Ok::<(), amqp_codec::Error>(()),
//!         (to_server, to_client) => {
//!             to_server.map_or(Ok(()), |b| s.handle_input(&b, now))?;
//!             to_client.map_or(Ok(()), |b| c.handle_input(&b, now))?;
//!         }
//!     }
//! };
//! pump(&mut client, &mut server)?;
//! assert!(matches!(server.poll_event(), Some(Event::Authenticate { .. })));
//! server.accept_auth()?;
//! pump(&mut client, &mut server)?;
//! assert!(matches!(server.poll_event(), Some(Event::OpenVhost { .. })));
//! server.accept_vhost()?;
//! pump(&mut client, &mut server)?;
//! assert!(matches!(client.poll_event(), Some(Event::Connected { .. })));
//!
//! client.open_channel(1)?;
//! client.send_method(1, &Method::from(ConfirmSelect::default()))?;
//! let tag = client.publish(1, &BasicPublish::default(), &BasicProperties::default(), b"hi")?;
//! assert_eq!(tag, Some(1));
//! pump(&mut client, &mut server)?;
//! # Ok::<(), amqp_codec::Error>(())
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::codec::{Decoder, decode_protocol_header, encode_method};
use crate::config::{ClientConfig, ServerConfig, Tune};
use crate::constants::{FRAME_END, FRAME_HEARTBEAT, class};
use crate::error::Error;
use crate::event::Event;
use crate::field_table::FieldTable;
use crate::frame::{Frame, PROTOCOL_HEADER};
use crate::method::Method;
use crate::output::OutputQueue;

mod channel;
mod close;
mod heartbeat;
mod negotiation;
mod rules;
mod send;
#[cfg(test)]
mod tests;

use channel::Channel;
use heartbeat::Heartbeat;

/// Which end of the connection this endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Opens the connection with the protocol header, logs in, opens
    /// channels, publishes and consumes.
    Client,
    /// The broker end.
    Server,
}

impl Role {
    /// The other end's role.
    #[must_use]
    pub const fn peer(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}

/// Where the connection is in its life (§1.4.2, §2.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Server: waiting for the protocol header.
    Header,
    /// Client: waiting for `connection.start`. Server: for `start-ok`.
    Start,
    /// Client: waiting for the application's answer to a challenge.
    /// Server: waiting for its verdict on a login. Input waits too.
    AuthPending,
    /// Server: waiting for `secure-ok`.
    Secure,
    /// Client: waiting for `tune` (or `secure`). Server: for `tune-ok`.
    Tune,
    /// Client: waiting for `open-ok`. Server: for `open`.
    Open,
    /// Server: waiting for the application's verdict on the vhost.
    VhostPending,
    /// Open.
    Connected,
    /// Our `connection.close` is out; only close-ok (or the peer's close)
    /// counts now.
    Closing,
    /// Over.
    Closed,
}

/// A `connection.close` or `channel.close` we sent, reported when the
/// close-ok comes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CloseReport {
    reply_code: u16,
    reply_text: String,
    class_id: u16,
    method_id: u16,
    error: Option<Error>,
}

#[derive(Debug, Clone)]
enum Side {
    Client(Box<ClientConfig>),
    Server(Box<ServerConfig>),
}

const HEARTBEAT_FRAME: [u8; 8] = [FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END];

/// One AMQP 0-9-1 endpoint, client or server.
#[derive(Debug)]
pub struct Connection {
    side: Side,
    phase: Phase,
    decoder: Decoder,
    inbuf: BytesMut,
    out: OutputQueue,
    events: VecDeque<Event>,
    channels: BTreeMap<u16, Channel>,
    tune: Option<Tune>,
    peer_properties: FieldTable,
    vhost: String,
    /// Server: the mechanism the client chose.
    mechanism: String,
    heartbeat: Heartbeat,
    /// The latest time the caller gave us.
    now: Instant,
    /// `None` when the timeout is too long to fall within `Instant`.
    handshake_deadline: Option<Instant>,
    close_timeout: Duration,
    close_deadline: Option<Instant>,
    /// Our `connection.close`, while its Closed event is still due.
    closing: Option<CloseReport>,
    blocked: Option<String>,
    error: Option<Error>,
}

impl Connection {
    fn new(side: Side, phase: Phase, now: Instant) -> Self {
        let (limits, handshake, close) = match &side {
            Side::Client(c) => (c.limits, c.handshake_timeout, c.close_timeout),
            Side::Server(s) => (s.limits, s.handshake_timeout, s.close_timeout),
        };
        Self {
            side,
            phase,
            decoder: Decoder::new(limits),
            inbuf: BytesMut::new(),
            out: OutputQueue::new(),
            events: VecDeque::new(),
            channels: BTreeMap::new(),
            tune: None,
            peer_properties: FieldTable::new(),
            vhost: String::new(),
            mechanism: String::new(),
            heartbeat: Heartbeat::new(now),
            now,
            handshake_deadline: now.checked_add(handshake),
            close_timeout: close,
            close_deadline: None,
            closing: None,
            blocked: None,
            error: None,
        }
    }

    /// A client; the protocol header (§4.2.2) is queued for
    /// `poll_transmit` at once. `now` starts the handshake timeout.
    #[must_use]
    pub fn client(config: ClientConfig, now: Instant) -> Self {
        let vhost = config.vhost.clone();
        let mut c = Self::new(Side::Client(Box::new(config)), Phase::Start, now);
        c.vhost = vhost;
        c.out.buffer().extend_from_slice(&PROTOCOL_HEADER);
        c
    }

    /// A server waiting for a client's protocol header. `now` starts the
    /// handshake timeout.
    #[must_use]
    pub fn server(config: ServerConfig, now: Instant) -> Self {
        Self::new(Side::Server(Box::new(config)), Phase::Header, now)
    }

    /// This endpoint's role.
    #[must_use]
    pub const fn role(&self) -> Role {
        match self.side {
            Side::Client(_) => Role::Client,
            Side::Server(_) => Role::Server,
        }
    }

    /// Whether the connection is open (negotiated, not closing).
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// Whether the connection is over: closed cleanly, failed and done
    /// waiting for the peer's close-ok, or timed out.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The error that failed the connection, if one did.
    #[must_use]
    pub const fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// The agreed channel-max, frame-max and heartbeat, once tuned.
    #[must_use]
    pub const fn tune(&self) -> Option<Tune> {
        self.tune
    }

    /// The peer's client or server properties, once received.
    #[must_use]
    pub const fn peer_properties(&self) -> &FieldTable {
        &self.peer_properties
    }

    /// The virtual host: the configured one (client) or the one asked
    /// for (server).
    #[must_use]
    pub fn vhost(&self) -> &str {
        &self.vhost
    }

    /// Client: the reason of the server's `connection.blocked`, while it
    /// lasts.
    #[must_use]
    pub fn blocked(&self) -> Option<&str> {
        self.blocked.as_deref()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write to the transport, if any, in order: everything
    /// queued so far in one buffer, except that a body sent with
    /// [`Connection::send_content_bytes`] comes as slices of its own
    /// buffer between the framing around them. Call until `None`.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.pop()
    }

    /// Everything queued for the transport, as slices in order for a
    /// vectored write; after writing `n` bytes of them, call
    /// [`Connection::advance_transmit`] with `n`.
    pub fn transmit_chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.out.chunks()
    }

    /// Drops the first `n` bytes of [`Connection::transmit_chunks`], which
    /// the transport took.
    pub fn advance_transmit(&mut self, n: usize) {
        self.out.advance(n);
    }

    /// Bytes queued for the transport.
    #[must_use]
    pub fn queued_output(&self) -> usize {
        self.out.len()
    }

    /// When to call [`Connection::handle_timeout`] next: the handshake
    /// timeout, the next heartbeat to send, the time the peer is presumed
    /// dead, or the end of the wait for a close-ok. `None` once closed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Closed => None,
            Phase::Closing => self.close_deadline,
            Phase::Connected => self.heartbeat.next(),
            _ => match (self.heartbeat.next(), self.handshake_deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    /// Acts on the time: sends a heartbeat if we have been silent for half
    /// the interval, fails the connection with [`Error::HeartbeatTimeout`]
    /// after two silent intervals of the peer (or
    /// [`Error::HandshakeTimeout`]), and stops waiting for a close-ok.
    /// Failures are reported as [`Event::Closed`].
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        match self.phase {
            Phase::Closed => {}
            Phase::Closing => {
                if self.close_deadline.is_some_and(|d| now >= d) {
                    self.finish_close();
                }
            }
            phase => {
                let handshake_over = self.handshake_deadline.is_some_and(|d| now >= d);
                if phase != Phase::Connected && handshake_over {
                    let _ = self.fail(Error::HandshakeTimeout);
                } else if self.heartbeat.dead_at().is_some_and(|d| now >= d) {
                    let _ = self.fail(Error::HeartbeatTimeout);
                } else if self.heartbeat.send_at().is_some_and(|d| now >= d) {
                    self.out.buffer().extend_from_slice(&HEARTBEAT_FRAME);
                    self.heartbeat.sent(now);
                }
            }
        }
    }

    /// Processes bytes read from the transport at `now`; any bytes count
    /// as a sign of life for the heartbeat. Returns the error that failed
    /// the connection, now or before; its `connection.close` is queued and
    /// [`Event::Closed`] was reported when it first happened. After a
    /// clean close, input is ignored.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) -> Result<(), Error> {
        self.now = now;
        if let Some(e) = &self.error {
            let e = e.clone();
            if self.phase == Phase::Closing {
                self.inbuf.extend_from_slice(data);
                self.await_close_ok();
            }
            return Err(e);
        }
        if self.phase == Phase::Closed {
            return Ok(());
        }
        if !data.is_empty() {
            self.heartbeat.received(now);
        }
        self.inbuf.extend_from_slice(data);
        self.process()
    }

    /// Reads what `inbuf` holds; fails the connection on an error.
    fn process(&mut self) -> Result<(), Error> {
        let r = self.read();
        r.or_else(|e| self.fail(e))
    }

    fn read(&mut self) -> Result<(), Error> {
        loop {
            match self.phase {
                Phase::Header => {
                    if !decode_protocol_header(&mut self.inbuf)? {
                        return Ok(());
                    }
                    self.send_start()?;
                }
                Phase::AuthPending | Phase::VhostPending => return self.bound_pending_input(),
                Phase::Closing => {
                    self.await_close_ok();
                    return Ok(());
                }
                Phase::Closed => {
                    self.inbuf.clear();
                    return Ok(());
                }
                _ => match self.decoder.decode(&mut self.inbuf)? {
                    Some(frame) => self.on_frame(frame)?,
                    None => return Ok(()),
                },
            }
        }
    }

    /// While the application decides on a login or vhost, input waits in
    /// `inbuf`. A client may pipeline a little (channel.open...), but not
    /// more than the larger of a frame and [`Limits::initial_frame_max`].
    ///
    /// [`Limits::initial_frame_max`]: crate::Limits
    fn bound_pending_input(&self) -> Result<(), Error> {
        let frame = self
            .decoder
            .frame_max()
            .max(self.decoder.limits().initial_frame_max);
        let limit = usize::try_from(frame)
            .unwrap_or(usize::MAX)
            .saturating_add(crate::frame::FRAME_OVERHEAD);
        if self.inbuf.len() > limit {
            return Err(Error::CommandInvalid {
                channel: 0,
                class_id: 0,
                method_id: 0,
                reason: "pipelined too much before the server's answer",
            });
        }
        Ok(())
    }

    fn on_frame(&mut self, frame: Frame) -> Result<(), Error> {
        match frame {
            Frame::Heartbeat => Ok(()),
            Frame::Method { channel: 0, method } => {
                if method.class_id() != class::CONNECTION {
                    return Err(Error::ChannelError {
                        channel: 0,
                        class_id: method.class_id(),
                        method_id: method.method_id(),
                        reason: "channel 0 carries only connection methods",
                    });
                }
                self.on_connection_method(method)
            }
            Frame::Method { channel, method } if method.class_id() == class::CONNECTION => {
                Err(Error::CommandInvalid {
                    channel,
                    class_id: method.class_id(),
                    method_id: method.method_id(),
                    reason: "connection methods belong on channel 0",
                })
            }
            f if f.channel() == 0 => Err(Error::ChannelError {
                channel: 0,
                class_id: 0,
                method_id: 0,
                reason: "content frame on channel 0",
            }),
            f if self.phase != Phase::Connected => Err(channel::frame_error(
                &f,
                "channel frame before the connection is open",
            )),
            f => self.on_channel_frame(f),
        }
    }

    fn on_connection_method(&mut self, method: Method) -> Result<(), Error> {
        match method {
            Method::ConnectionClose(c) => self.on_peer_close(c),
            m if self.phase == Phase::Connected => self.on_connected_method(m),
            m => self.on_negotiation_method(m),
        }
    }

    /// A connection method once open: blocked/unblocked, update-secret.
    fn on_connected_method(&mut self, method: Method) -> Result<(), Error> {
        match (self.role(), method) {
            (Role::Client, Method::ConnectionBlocked(b)) => {
                let reason = b.reason.into_string();
                self.blocked = Some(reason.clone());
                self.events.push_back(Event::Blocked { reason });
            }
            (Role::Client, Method::ConnectionUnblocked(_)) => {
                self.blocked = None;
                self.events.push_back(Event::Unblocked);
            }
            (Role::Client, m @ Method::ConnectionUpdateSecretOk(_))
            | (Role::Server, m @ Method::ConnectionUpdateSecret(_)) => {
                self.events.push_back(Event::Method {
                    channel: 0,
                    method: m,
                });
            }
            (_, m) => {
                return Err(Error::CommandInvalid {
                    channel: 0,
                    class_id: m.class_id(),
                    method_id: m.method_id(),
                    reason: "not allowed on an open connection",
                });
            }
        }
        Ok(())
    }

    /// Queues a method frame; restarts our heartbeat idle timer.
    fn write_method(&mut self, channel: u16, method: &Method) -> Result<(), Error> {
        encode_method(channel, method, self.out.buffer())?;
        self.heartbeat.sent(self.now);
        Ok(())
    }

    /// `Closed` once closing or failed; `InvalidState` before open.
    fn check_open(&self) -> Result<(), Error> {
        match self.phase {
            Phase::Connected if self.error.is_none() => Ok(()),
            Phase::Closing | Phase::Closed | Phase::Connected => Err(Error::Closed),
            _ => Err(Error::InvalidState("the connection is not open yet")),
        }
    }

    /// The highest channel number in use: channel-max, 0 meaning 65535.
    fn channel_max(&self) -> u16 {
        match self.tune.map_or(0, |t| t.channel_max) {
            0 => u16::MAX,
            n => n,
        }
    }
}
