//! One client connection: a thread driving an [`amqp_codec::Connection`]
//! (server role) over a blocking [`TcpStream`], fed by a reader thread
//! through a bounded channel that other connections also use to wake it
//! when its outbox has deliveries.

use std::collections::HashMap;
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use amqp_codec::method::{
    BasicCancel, BasicDeliver, ChannelClose, ChannelFlowOk, ConnectionClose, Method,
};
use amqp_codec::{Capabilities, Connection, Credentials, Event, ServerConfig, ShortString};

use super::Broker;
use super::error::AmqpError;
use super::model::{ConnId, ConnState, Input, Message, Outgoing, Waker};
use super::publish::TxOp;
use super::state::Settle;

/// Socket reads handed to the connection thread before the reader waits.
const INPUT_QUEUE: usize = 16;
/// Size of one socket read.
const READ_CHUNK: usize = 64 << 10;
/// Longest wait without input, timers or wake-ups; the loop just goes round.
const IDLE_WAIT: Duration = Duration::from_secs(5);
/// A client that takes nothing for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// A channel's state that only its connection's thread uses.
#[derive(Debug, Default)]
pub(super) struct LocalChannel {
    /// Transactional: the publishes and acks waiting for `tx.commit`.
    pub(super) tx: Option<Vec<TxOp>>,
    /// Body bytes of the publishes in `tx`.
    pub(super) tx_bytes: usize,
    /// The queue `queue.declare` last named, for requests with an empty
    /// queue name.
    pub(super) last_queue: Option<ShortString>,
}

/// The connection thread's state.
pub(super) struct Session {
    pub(super) id: ConnId,
    pub(super) broker: Arc<Broker>,
    pub(super) conn: Connection,
    stream: TcpStream,
    waker: Waker,
    pub(super) user: String,
    pub(super) channels: HashMap<u16, LocalChannel>,
    /// Our `connection.close` is out: requests are ignored.
    closing: bool,
}

/// Serves the client on `tcp` until it leaves.
pub(super) fn run(tcp: TcpStream, id: ConnId, broker: &Arc<Broker>) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    let Ok(read_half) = tcp.try_clone() else {
        return;
    };
    let (tx, rx) = mpsc::sync_channel(INPUT_QUEUE);
    let waker = Waker::new(tx.clone());
    let reader = std::thread::Builder::new()
        .name(format!("amqp-read-{id}"))
        .spawn(move || read_loop(read_half, &tx));
    let Ok(reader) = reader else {
        return;
    };
    let config = ServerConfig {
        capabilities: Capabilities {
            // Neither is implemented: no resource alarms, no priorities.
            connection_blocked: false,
            consumer_priorities: false,
            ..Capabilities::ALL
        },
        ..ServerConfig::default()
    };
    let mut s = Session {
        id,
        broker: Arc::clone(broker),
        conn: Connection::server(config, Instant::now()),
        stream: tcp,
        waker,
        user: String::new(),
        channels: HashMap::new(),
        closing: false,
    };
    s.serve(&rx);
    s.broker.lock().remove_conn(id);
    let _ = s.stream.shutdown(Shutdown::Both);
    drop(rx);
    let _ = reader.join();
}

fn read_loop(mut stream: TcpStream, tx: &SyncSender<Input>) {
    let mut buf = vec![0; READ_CHUNK];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let data = buf.get(..n).unwrap_or_default().to_vec();
                if tx.send(Input::Data(data)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(Input::Eof);
}

/// `s` cut to a shortstr.
pub(super) fn short(s: &str) -> ShortString {
    let mut end = s.len().min(ShortString::MAX_LEN);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    ShortString::try_new(s.get(..end).unwrap_or_default()).unwrap_or_default()
}

impl Session {
    fn serve(&mut self, rx: &Receiver<Input>) {
        loop {
            self.process_events();
            self.drain_outbox();
            if !self.flush() || self.conn.is_closed() {
                return;
            }
            let now = Instant::now();
            let wait = self
                .conn
                .poll_timeout()
                .map_or(IDLE_WAIT, |t| t.saturating_duration_since(now))
                .min(IDLE_WAIT);
            match rx.recv_timeout(wait) {
                Ok(Input::Data(d)) => {
                    // A failure is reported as Event::Closed.
                    let _ = self.conn.handle_input(&d, Instant::now());
                }
                Ok(Input::Wake) => self.waker.woken(),
                Ok(Input::Eof) | Err(RecvTimeoutError::Disconnected) => {
                    self.process_events();
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if self.conn.poll_timeout().is_some_and(|t| t <= now) {
                self.conn.handle_timeout(now);
            }
        }
    }

    /// Writes out what the connection queued; false when the socket failed.
    fn flush(&mut self) -> bool {
        while let Some(b) = self.conn.poll_transmit() {
            if self.stream.write_all(&b).is_err() {
                return false;
            }
        }
        true
    }

    fn process_events(&mut self) {
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                Event::Authenticate { credentials, .. } => self.on_login(credentials.as_ref()),
                Event::OpenVhost { vhost } => {
                    let _ = if vhost == self.broker.vhost {
                        self.conn.accept_vhost()
                    } else {
                        self.conn
                            .reject_vhost(&format!("vhost '{vhost}' not found"))
                    };
                }
                Event::Connected {
                    peer_properties, ..
                } => {
                    let caps = Capabilities::from_properties(&peer_properties);
                    let state = ConnState::new(caps.consumer_cancel_notify, self.waker.clone());
                    self.broker.lock().add_conn(self.id, state);
                }
                Event::ChannelOpened { channel } => {
                    self.broker.lock().open_channel(self.id, channel);
                    self.channels.insert(channel, LocalChannel::default());
                }
                Event::ChannelClosed { channel, .. } => {
                    self.broker.lock().close_channel(self.id, channel);
                    self.channels.remove(&channel);
                }
                Event::Flow { channel, active } => self.on_flow(channel, active),
                Event::Method { channel, method } if !self.closing => {
                    self.on_method(channel, method);
                }
                Event::Publish(p) if !self.closing => self.on_publish(*p),
                Event::Closed { .. } => {
                    self.closing = true;
                    self.broker.lock().remove_conn(self.id);
                }
                _ => {}
            }
        }
    }

    fn on_login(&mut self, credentials: Option<&Credentials>) {
        let ok = match credentials {
            Some(Credentials::Password {
                username, password, ..
            }) if self.broker.check_login(username, password) => {
                self.user.clone_from(username);
                true
            }
            _ => false,
        };
        let _ = if ok {
            self.conn.accept_auth()
        } else {
            self.conn.reject_auth("For details see the broker logfile.")
        };
    }

    fn on_flow(&mut self, channel: u16, active: bool) {
        if !self.channels.contains_key(&channel) {
            return;
        }
        {
            let mut st = self.broker.lock();
            if let Some(ch) = st.chan_mut(self.id, channel) {
                ch.active = active;
            }
            if active {
                st.dispatch_channel(self.id, channel);
            }
        }
        self.reply(channel, ChannelFlowOk { active });
    }

    fn on_method(&mut self, channel: u16, method: Method) {
        if channel != 0 && !self.channels.contains_key(&channel) {
            // A channel we are closing: its requests are void.
            return;
        }
        let ids = (method.class_id(), method.method_id());
        if let Err(e) = self.handle_method(channel, method) {
            self.raise(channel, ids, &e);
        }
    }

    /// Answers a failed request: `channel.close` for a soft error,
    /// `connection.close` for a hard one. Either way the broker forgets the
    /// channel (or connection) at once: its deliveries go back to their
    /// queues.
    pub(super) fn raise(&mut self, channel: u16, (class_id, method_id): (u16, u16), e: &AmqpError) {
        let reply_text = short(&e.text);
        let reply_code = e.code.code();
        if e.is_hard() || channel == 0 {
            self.closing = true;
            self.broker.lock().remove_conn(self.id);
            let close = ConnectionClose {
                reply_code,
                reply_text,
                class_id,
                method_id,
            };
            let _ = self.conn.send_method(0, &Method::from(close));
        } else {
            self.broker.lock().close_channel(self.id, channel);
            self.channels.remove(&channel);
            let close = ChannelClose {
                reply_code,
                reply_text,
                class_id,
                method_id,
            };
            let _ = self.conn.send_method(channel, &Method::from(close));
        }
    }

    /// Sends a reply to the client's request, after the deliveries already
    /// due (a `basic.cancel-ok` follows the consumer's last delivery).
    pub(super) fn reply(&mut self, channel: u16, m: impl Into<Method>) {
        self.drain_outbox();
        let _ = self.conn.send_method(channel, &m.into());
    }

    /// Sends what other threads (or this one) put in the outbox.
    pub(super) fn drain_outbox(&mut self) {
        let items = self.broker.lock().take_outbox(self.id);
        if items.is_empty() {
            return;
        }
        let mut unsent = Vec::new();
        for item in items {
            match item {
                Outgoing::Deliver {
                    channel,
                    consumer_tag,
                    delivery_tag,
                    redelivered,
                    msg,
                    no_ack_queue,
                } => {
                    let deliver = Method::from(BasicDeliver {
                        consumer_tag,
                        delivery_tag,
                        redelivered,
                        exchange: msg.exchange.clone(),
                        routing_key: msg.routing_key.clone(),
                    });
                    let sent =
                        self.conn
                            .send_content(channel, &deliver, &msg.properties, &msg.body);
                    if sent.is_err() {
                        unsent.push((channel, delivery_tag, no_ack_queue, msg));
                    }
                }
                Outgoing::Cancel {
                    channel,
                    consumer_tag,
                } => {
                    let cancel = BasicCancel {
                        consumer_tag,
                        nowait: true,
                    };
                    let _ = self.conn.send_method(channel, &Method::from(cancel));
                }
            }
        }
        if !unsent.is_empty() {
            self.return_unsent(unsent);
        }
    }

    /// Deliveries the connection refused (the channel is closing, or the
    /// client paused it with `channel.flow`) go back to their queues; a
    /// closing channel gets no more.
    fn return_unsent(&mut self, unsent: Vec<(u16, u64, Option<ShortString>, Arc<Message>)>) {
        let mut st = self.broker.lock();
        let mut no_ack = Vec::new();
        for (channel, tag, queue, msg) in unsent {
            if !self.conn.is_channel_open(channel) {
                if let Some(ch) = st.chan_mut(self.id, channel) {
                    ch.active = false;
                }
            }
            match queue {
                Some(q) => no_ack.push((q, msg)),
                None => {
                    // Unacked on the channel: settle it back. A reply-to
                    // delivery is not there and is dropped.
                    let _ = st.settle(self.id, channel, tag, false, Settle::Requeue);
                }
            }
        }
        st.return_unsent(no_ack);
    }

    /// The channel's local state; requests only come for open channels.
    pub(super) fn local(&mut self, channel: u16) -> &mut LocalChannel {
        self.channels.entry(channel).or_default()
    }
}
