//! A minimal blocking test client on [`amqp_codec::Connection`] (client
//! role): enough to drive the broker from the tests.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::super::Broker;
use super::super::state::Capacity;
use amqp_codec::method::{BasicPublish, Method};
use amqp_codec::{BasicProperties, ClientConfig, Connection, Delivery, Event, Sasl, ShortString};

pub(super) const USER: &str = "conformance";
pub(super) const PASSWORD: &str = "conformance-pw";
pub(super) const WAIT: Duration = Duration::from_secs(5);

/// A broker on a free loopback port, for the test process's life.
pub(super) fn broker() -> SocketAddr {
    broker_state().0
}

/// [`broker`], with its state to look at.
pub(super) fn broker_state() -> (SocketAddr, Arc<Broker>) {
    broker_holding(Capacity::default())
}

/// [`broker_state`] with a smaller capacity.
pub(super) fn broker_holding(capacity: Capacity) -> (SocketAddr, Arc<Broker>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let users = vec![(USER.to_owned(), PASSWORD.to_owned())];
    let broker = Arc::new(Broker::new(users, "/", capacity));
    let serving = Arc::clone(&broker);
    std::thread::spawn(move || super::super::serve(&listener, &serving));
    (addr, broker)
}

pub(super) fn s(v: &str) -> ShortString {
    ShortString::try_new(v).unwrap()
}

pub(super) struct Client {
    pub(super) conn: Connection,
    stream: TcpStream,
    /// Events read but not yet asked for.
    pending: VecDeque<Event>,
}

impl Client {
    /// Connects and logs in as the test user to vhost `/`.
    pub(super) fn connect(addr: SocketAddr) -> Self {
        let mut c = Self::start(addr, USER, PASSWORD, "/");
        let ev = c.wait(|e| matches!(e, Event::Connected { .. } | Event::Closed { .. }));
        assert!(matches!(ev, Event::Connected { .. }), "{ev:?}");
        c
    }

    /// Starts the handshake without waiting for its end.
    pub(super) fn start(addr: SocketAddr, user: &str, password: &str, vhost: &str) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let config = ClientConfig::new(Sasl::plain(user, password), vhost);
        let mut c = Self {
            conn: Connection::client(config, Instant::now()),
            stream,
            pending: VecDeque::new(),
        };
        c.flush();
        c
    }

    fn flush(&mut self) {
        while let Some(b) = self.conn.poll_transmit() {
            self.stream.write_all(&b).unwrap();
        }
    }

    /// Reads what arrives within a short while; false at end of stream.
    fn pump(&mut self) -> bool {
        let mut buf = [0; 65536];
        let open = match self.stream.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                let _ = self.conn.handle_input(&buf[..n], Instant::now());
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => true,
            Err(_) => false,
        };
        self.flush();
        while let Some(ev) = self.conn.poll_event() {
            self.pending.push_back(ev);
        }
        open
    }

    /// The first event matching `want` within [`WAIT`]; others stay
    /// pending.
    pub(super) fn wait(&mut self, want: impl Fn(&Event) -> bool) -> Event {
        self.try_wait(want, WAIT)
            .unwrap_or_else(|| panic!("no such event; pending: {:?}", self.pending))
    }

    pub(super) fn try_wait(
        &mut self,
        want: impl Fn(&Event) -> bool,
        timeout: Duration,
    ) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.pending.iter().position(&want) {
                return self.pending.remove(i);
            }
            if Instant::now() >= deadline || !self.pump() {
                return self
                    .pending
                    .iter()
                    .position(&want)
                    .and_then(|i| self.pending.remove(i));
            }
        }
    }

    pub(super) fn open(&mut self, channel: u16) {
        self.conn.open_channel(channel).unwrap();
        self.flush();
        self.wait(|e| matches!(e, Event::ChannelOpened { channel: c } if *c == channel));
    }

    /// Sends a method without waiting.
    pub(super) fn send(&mut self, channel: u16, m: impl Into<Method>) {
        self.conn.send_method(channel, &m.into()).unwrap();
        self.flush();
    }

    /// Sends a request and returns its reply (a method on the channel).
    pub(super) fn call(&mut self, channel: u16, m: impl Into<Method>) -> Method {
        self.send(channel, m);
        match self.wait(|e| {
            matches!(e, Event::Method { channel: c, .. } | Event::ChannelClosed { channel: c, .. } if *c == channel)
                || matches!(e, Event::Closed { .. })
        }) {
            Event::Method { method, .. } => method,
            other => panic!("expected a reply on channel {channel}, got {other:?}"),
        }
    }

    /// Sends a request that should close the channel; returns the code.
    pub(super) fn call_fails(&mut self, channel: u16, m: impl Into<Method>) -> u16 {
        self.send(channel, m);
        self.channel_closed(channel)
    }

    /// Waits for the broker's close of `channel`; returns its code.
    pub(super) fn channel_closed(&mut self, channel: u16) -> u16 {
        match self.wait(|e| {
            matches!(e, Event::ChannelClosed { channel: c, .. } if *c == channel)
                || matches!(e, Event::Closed { .. })
        }) {
            Event::ChannelClosed { reply_code, .. } => reply_code,
            other => panic!("expected channel.close, got {other:?}"),
        }
    }

    /// Waits for the end of the connection; returns its code.
    pub(super) fn closed(&mut self) -> u16 {
        match self.wait(|e| matches!(e, Event::Closed { .. })) {
            Event::Closed { reply_code, .. } => reply_code,
            _ => unreachable!(),
        }
    }

    pub(super) fn publish_with(
        &mut self,
        channel: u16,
        exchange: &str,
        key: &str,
        props: &BasicProperties,
        body: &[u8],
        mandatory: bool,
    ) -> Option<u64> {
        let p = BasicPublish {
            exchange: s(exchange),
            routing_key: s(key),
            mandatory,
            ..BasicPublish::default()
        };
        let tag = self.conn.publish(channel, &p, props, body).unwrap();
        self.flush();
        tag
    }

    pub(super) fn publish(&mut self, channel: u16, exchange: &str, key: &str, body: &[u8]) {
        self.publish_with(
            channel,
            exchange,
            key,
            &BasicProperties::default(),
            body,
            false,
        );
    }

    /// The next delivery (deliver, get-ok or return) on `channel`.
    pub(super) fn delivery(&mut self, channel: u16) -> Delivery {
        self.try_delivery(channel, WAIT)
            .unwrap_or_else(|| panic!("no delivery on channel {channel}"))
    }

    pub(super) fn try_delivery(&mut self, channel: u16, timeout: Duration) -> Option<Delivery> {
        match self.try_wait(
            |e| matches!(e, Event::Delivery(d) if d.channel == channel),
            timeout,
        )? {
            Event::Delivery(d) => Some(*d),
            _ => None,
        }
    }

    /// The next confirm on `channel`: (tag, ack).
    pub(super) fn confirm(&mut self, channel: u16) -> (u64, bool) {
        match self.wait(|e| matches!(e, Event::Confirm { channel: c, .. } if *c == channel)) {
            Event::Confirm {
                delivery_tag, ack, ..
            } => (delivery_tag, ack),
            _ => unreachable!(),
        }
    }
}
