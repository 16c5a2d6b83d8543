//! A small blocking driver for [`xmpp_codec::Connection`] over a
//! [`TcpStream`] or an RFC 7395 WebSocket ([`WsStream`], subprotocol
//! `xmpp`): write out what `poll_transmit` holds, read, feed
//! `handle_input` (TCP) or `handle_message` (one WebSocket message), call
//! `handle_timeout` when `poll_timeout` says, hand out events.
//!
//! Every read is bounded by the caller's deadline and the codec's next
//! timer (capped at [`READ_CAP`]), so a silent or hostile peer ends a wait
//! with [`XmppError::Timeout`] instead of hanging it. Events the caller is
//! not waiting for are kept, in order, for a later wait.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use xmpp_codec::conn::{ClientConfig, RandomSource, StreamFeatures, TlsPolicy};
use xmpp_codec::event::CloseReason;
use xmpp_codec::stanza::NS_CLIENT;
use xmpp_codec::stanza::jid::Jid;
use xmpp_codec::{Connection, Decoder, Encoder, Event, Frame, Framing, StreamHeader};

use crate::ws_driver::{self, WsStream, WsUrl};

mod error;

pub use error::XmppError;

/// Longest single blocking read: timers are checked at least this often.
pub const READ_CAP: Duration = Duration::from_millis(200);
/// How long one write may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read from the socket per `read` call.
const READ_CHUNK: usize = 64 * 1024;

/// A randomness seed for one connection: the clock, the process id and a
/// counter (the runners may read clocks, the codec may not).
#[must_use]
pub fn random_source() -> RandomSource {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    RandomSource::Seed(
        nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::from(std::process::id()) << 40),
    )
}

/// A client configuration for the runners: plaintext (loopback), fresh
/// randomness, iq timeout of 15 s.
#[must_use]
pub fn client_config(jid: Jid, password: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new(jid, password);
    cfg.tls = TlsPolicy::Disabled;
    cfg.common.random = random_source();
    cfg.common.iq_timeout = Some(Duration::from_secs(15));
    cfg.common.close_timeout = Duration::from_secs(5);
    cfg
}

/// Resolves `host:port` to its first address.
pub fn resolve(addr: &str) -> Result<SocketAddr, XmppError> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| XmppError::Unexpected(format!("{addr}: no address")))
}

enum Transport {
    Tcp { tcp: TcpStream, rbuf: Vec<u8> },
    Ws(Box<WsStream>),
}

/// A [`Connection`] bound to a transport.
pub struct XmppStream {
    conn: Connection,
    transport: Transport,
    stash: VecDeque<Event>,
    closed: Option<CloseReason>,
    eof: bool,
}

impl std::fmt::Debug for XmppStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmppStream")
            .field("jid", &self.conn.jid())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl XmppStream {
    /// Binds `conn` to a connected TCP socket.
    pub fn tcp(tcp: TcpStream, conn: Connection) -> io::Result<Self> {
        tcp.set_write_timeout(Some(WRITE_TIMEOUT))?;
        tcp.set_nodelay(true)?;
        Ok(Self {
            conn,
            transport: Transport::Tcp {
                tcp,
                rbuf: vec![0; READ_CHUNK],
            },
            stash: VecDeque::new(),
            closed: None,
            eof: false,
        })
    }

    /// Client over TCP: connects to `addr` and waits (at most `timeout`)
    /// until the session is online (bound or resumed).
    pub fn connect(addr: &str, config: ClientConfig, timeout: Duration) -> Result<Self, XmppError> {
        let tcp = TcpStream::connect_timeout(&resolve(addr)?, timeout)?;
        let mut s = Self::tcp(tcp, Connection::client(config, Instant::now()))?;
        s.wait_online(timeout)?;
        Ok(s)
    }

    /// Client over an RFC 7395 WebSocket at `url` (subprotocol `xmpp`).
    pub fn connect_ws(
        url: &WsUrl,
        mut config: ClientConfig,
        timeout: Duration,
    ) -> Result<Self, XmppError> {
        let mut ws_cfg = ws_driver::config(false);
        ws_cfg.protocols = vec!["xmpp".to_owned()];
        let (ws, _) = WsStream::connect(url, ws_cfg).map_err(XmppError::Ws)?;
        let mut ws = Box::new(ws);
        if ws.conn().protocol() != Some("xmpp") {
            return Err(XmppError::Unexpected(format!(
                "the server agreed to subprotocol {:?}, not xmpp",
                ws.conn().protocol()
            )));
        }
        ws.set_read_timeout(READ_CAP)?;
        config.common.framing = Framing::WebSocket;
        let mut s = Self {
            conn: Connection::client(config, Instant::now()),
            transport: Transport::Ws(ws),
            stash: VecDeque::new(),
            closed: None,
            eof: false,
        };
        s.wait_online(timeout)?;
        Ok(s)
    }

    /// Waits for [`Event::Online`] or [`Event::Resumed`]; other events are
    /// kept. Returns the one that came.
    pub fn wait_online(&mut self, timeout: Duration) -> Result<Event, XmppError> {
        self.wait(timeout, "the session to start", |e| {
            matches!(e, Event::Online { .. } | Event::Resumed { .. }).then(|| e.clone())
        })
    }

    /// The connection, to queue stanzas with; [`Self::flush`] (or any
    /// wait, which flushes) sends them.
    pub const fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Our bound JID.
    #[must_use]
    pub fn jid(&self) -> Option<&Jid> {
        self.conn.jid()
    }

    /// How the connection ended, once it has.
    #[must_use]
    pub const fn close_reason(&self) -> Option<&CloseReason> {
        self.closed.as_ref()
    }

    /// Writes out everything the connection has queued.
    pub fn flush(&mut self) -> Result<(), XmppError> {
        while let Some(bytes) = self.conn.poll_transmit() {
            match &mut self.transport {
                Transport::Tcp { tcp, .. } => tcp.write_all(&bytes)?,
                Transport::Ws(ws) => {
                    let text = std::str::from_utf8(&bytes)
                        .map_err(|_| XmppError::Unexpected("non-UTF-8 output".to_owned()))?;
                    ws.conn()
                        .send_text(text)
                        .map_err(ws_driver::DriverError::Ws)?;
                    ws.flush()?;
                }
            }
        }
        Ok(())
    }

    /// Sends a stanza and writes it out.
    pub fn send(&mut self, stanza: &xmpp_codec::Element) -> Result<(), XmppError> {
        self.conn.send_stanza(stanza)?;
        self.flush()
    }

    fn run_timers(&mut self) {
        let now = Instant::now();
        if self.conn.poll_timeout().is_some_and(|t| t <= now) {
            self.conn.handle_timeout(now);
        }
    }

    fn take_event(&mut self) -> Option<Event> {
        let ev = self.conn.poll_event()?;
        if let Event::Closed { reason } = &ev {
            self.closed = Some(reason.clone());
        }
        Some(ev)
    }

    /// One round of I/O: flush, one read bounded by `deadline` and the
    /// codec's timers, the input fed to the codec.
    fn pump(&mut self, deadline: Instant) -> Result<(), XmppError> {
        // Our close or stream error must reach the peer even if it is gone.
        if let Err(e) = self.flush() {
            if self.conn.is_closed() {
                return Ok(());
            }
            return Err(e);
        }
        let now = Instant::now();
        let until = self
            .conn
            .poll_timeout()
            .map_or(deadline, |t| t.min(deadline));
        let wait = until
            .saturating_duration_since(now)
            .clamp(Duration::from_millis(1), READ_CAP);
        match &mut self.transport {
            Transport::Tcp { tcp, rbuf } => {
                tcp.set_read_timeout(Some(wait))?;
                match tcp.read(rbuf) {
                    Ok(0) => self.eof = true,
                    Ok(n) => {
                        let data = rbuf.get(..n).unwrap_or_default();
                        // A failure is reported as Event::Closed.
                        let _ = self.conn.handle_input(data);
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock
                                | io::ErrorKind::TimedOut
                                | io::ErrorKind::Interrupted
                        ) => {}
                    Err(e) if e.kind() == io::ErrorKind::ConnectionReset => self.eof = true,
                    Err(e) => return Err(e.into()),
                }
            }
            Transport::Ws(ws) => match ws.next_event() {
                Ok(ws_codec::Event::Message(m)) => {
                    let _ = self.conn.handle_message(m.as_bytes());
                }
                Ok(ws_codec::Event::Closed { .. }) => self.eof = true,
                Ok(_) | Err(ws_driver::DriverError::Timeout) => {}
                Err(ws_driver::DriverError::Eof | ws_driver::DriverError::Closed) => {
                    self.eof = true;
                }
                Err(e) => return Err(XmppError::Ws(e)),
            },
        }
        self.run_timers();
        Ok(())
    }

    /// The next event within `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Event, XmppError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(ev) = self.stash.pop_front() {
                return Ok(ev);
            }
            if let Some(ev) = self.take_event() {
                if matches!(ev, Event::Closed { .. }) {
                    let _ = self.flush();
                }
                return Ok(ev);
            }
            if let Some(reason) = &self.closed {
                return Err(XmppError::Closed(reason.clone()));
            }
            if self.eof {
                return Err(XmppError::Eof);
            }
            if Instant::now() >= deadline {
                return Err(XmppError::Timeout("an event".to_owned()));
            }
            self.pump(deadline)?;
        }
    }

    /// Waits until `pick` returns something for an event; events it does
    /// not pick are kept for later, in order. [`Event::Closed`] and
    /// [`Event::AuthFailed`] end the wait with an error unless picked.
    pub fn wait<T>(
        &mut self,
        timeout: Duration,
        what: &str,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, XmppError> {
        let deadline = Instant::now() + timeout;
        let mut kept = VecDeque::new();
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = match self.next_event(left) {
                Ok(ev) => ev,
                Err(XmppError::Timeout(_)) => break Err(XmppError::Timeout(what.to_owned())),
                Err(e) => break Err(e),
            };
            if let Some(t) = pick(&ev) {
                break Ok(t);
            }
            match ev {
                Event::Closed { reason } => break Err(XmppError::Closed(reason)),
                Event::AuthFailed { condition } => {
                    break Err(XmppError::AuthFailed(condition.as_str().to_owned()));
                }
                other => kept.push_back(other),
            }
        };
        kept.append(&mut self.stash);
        self.stash = kept;
        result
    }

    /// Sends an iq request and waits for its response (result or error).
    pub fn iq(
        &mut self,
        request: &xmpp_codec::Element,
        timeout: Duration,
    ) -> Result<xmpp_codec::Element, XmppError> {
        let id = request
            .attr("id")
            .ok_or_else(|| XmppError::Unexpected("iq without id".to_owned()))?
            .to_owned();
        self.send(request)?;
        self.wait(timeout, &format!("the response to iq {id}"), |e| match e {
            Event::IqResponse { id: got, element } if got.as_str() == id => Some(element.clone()),
            Event::IqTimeout { id: got } if got.as_str() == id => None,
            _ => None,
        })
    }

    /// Closes the stream and waits (at most `timeout`) for the peer's
    /// close; then shuts the transport down.
    pub fn close(mut self, timeout: Duration) -> Result<(), XmppError> {
        if self.closed.is_none() {
            self.conn.close()?;
            let r = self.wait(timeout, "the peer's </stream:stream>", |e| {
                matches!(e, Event::Closed { .. }).then_some(())
            });
            match r {
                Ok(()) | Err(XmppError::Eof) => {}
                Err(e) => {
                    self.shutdown();
                    return Err(e);
                }
            }
        }
        self.shutdown();
        Ok(())
    }

    /// Drops the transport without a closing handshake (for resumption
    /// tests): the peer sees the TCP connection end.
    pub fn drop_transport(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.flush();
        match &mut self.transport {
            Transport::Tcp { tcp, .. } => {
                let _ = tcp.shutdown(Shutdown::Both);
            }
            Transport::Ws(ws) => {
                let _ = ws.conn().close(ws_codec::CloseCode::NORMAL, "");
                let _ = ws.flush();
                ws.shutdown();
            }
        }
    }
}

/// Opens a c2s stream to `domain` at `addr` and returns the features the
/// server offers before authentication (the SASL mechanisms), then
/// disconnects.
pub fn probe_features(
    addr: &str,
    domain: &str,
    timeout: Duration,
) -> Result<StreamFeatures, XmppError> {
    let mut tcp = TcpStream::connect_timeout(&resolve(addr)?, timeout)?;
    tcp.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut out = bytes::BytesMut::new();
    let mut header = StreamHeader::new(xmpp_codec::Str::from_static(NS_CLIENT));
    header.to = Some(xmpp_codec::Str::from(domain.to_owned()));
    Encoder::new(Framing::Tcp).open(&header, &mut out)?;
    tcp.write_all(&out)?;
    let deadline = Instant::now() + timeout;
    let mut decoder = Decoder::default();
    let mut inbuf = bytes::BytesMut::new();
    let mut rbuf = vec![0; READ_CHUNK];
    let result = loop {
        match decoder.decode(&mut inbuf) {
            Ok(Some(Frame::Element(el))) if el.name() == "features" => {
                break Ok(StreamFeatures::from_element(&el));
            }
            Ok(Some(Frame::Element(el))) if el.name() == "error" => {
                break Err(XmppError::Unexpected(format!("stream error: {el}")));
            }
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(e) => break Err(e.into()),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Err(XmppError::Timeout("stream features".to_owned()));
        }
        tcp.set_read_timeout(Some(left))?;
        match tcp.read(&mut rbuf) {
            Ok(0) => break Err(XmppError::Eof),
            Ok(n) => inbuf.extend_from_slice(rbuf.get(..n).unwrap_or_default()),
            Err(e) => break Err(e.into()),
        }
    };
    let _ = tcp.write_all(b"</stream:stream>");
    let _ = tcp.shutdown(Shutdown::Both);
    result
}

#[cfg(test)]
mod tests;
