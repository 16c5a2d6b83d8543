//! A small blocking driver for [`amqp_codec::Connection`] over
//! [`std::net::TcpStream`]: write out what `poll_transmit` holds, read into
//! a buffer, feed `handle_input` with `Instant::now()`, call
//! `handle_timeout` when `poll_timeout` says, hand out events.
//!
//! Reads wait at most until the codec's next deadline (heartbeat to send,
//! peer presumed dead, close-ok overdue), capped at [`READ_CAP`], so
//! heartbeats go out on time while the application waits for something
//! else. Every wait has a deadline: a silent or stalled peer ends a run
//! with [`DriverError::Timeout`] (or the codec's heartbeat timeout) instead
//! of hanging it.
//!
//! Events the application is not waiting for yet are kept, in order, and
//! handed out by a later [`AmqpStream::wait`].

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use amqp_codec::method::Method;
use amqp_codec::{ClientConfig, Connection, Credentials, Event, ServerConfig, Tune};

mod error;
mod url;

pub use error::{CloseInfo, DriverError};
pub use url::AmqpUrl;

/// How long one wait for an event or one write may take by default.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest single blocking read: the codec's timers are checked at least
/// this often.
pub const READ_CAP: Duration = Duration::from_millis(250);
/// How long to wait for the peer's TCP close after the closing handshake.
const LINGER: Duration = Duration::from_secs(2);
/// Bytes read from the socket per `read` call.
const READ_CHUNK: usize = 256 * 1024;

/// A [`Connection`] bound to a [`TcpStream`].
#[derive(Debug)]
pub struct AmqpStream {
    conn: Connection,
    tcp: TcpStream,
    rbuf: Vec<u8>,
    /// Events read but not yet asked for, in order.
    stash: VecDeque<Event>,
    /// Set once [`Event::Closed`] came.
    closed: Option<CloseInfo>,
    /// Bytes read from the socket so far.
    bytes_read: u64,
}

impl AmqpStream {
    /// Binds `conn` to `tcp`.
    pub fn new(tcp: TcpStream, conn: Connection) -> io::Result<Self> {
        tcp.set_write_timeout(Some(IO_TIMEOUT))?;
        tcp.set_nodelay(true)?;
        Ok(Self {
            conn,
            tcp,
            rbuf: vec![0; READ_CHUNK],
            stash: VecDeque::new(),
            closed: None,
            bytes_read: 0,
        })
    }

    /// Client: connects to `url` and negotiates with `config` (its
    /// credentials and vhost included), waiting at most `timeout`.
    pub fn connect(
        url: &AmqpUrl,
        config: ClientConfig,
        timeout: Duration,
    ) -> Result<Self, DriverError> {
        let tcp = TcpStream::connect_timeout(&url.socket_addr()?, timeout)?;
        let mut s = Self::new(tcp, Connection::client(config, Instant::now()))?;
        s.wait(timeout, "connection.open-ok", |e| {
            matches!(e, Event::Connected { .. }).then_some(())
        })?;
        Ok(s)
    }

    /// Server: negotiates with the client on `tcp`. `verify` decides on
    /// each login (the decoded credentials, `None` if malformed) and
    /// `vhost_ok` on the virtual host. Returns the stream and the user
    /// name; a refused login or vhost is answered (403/530) and reported
    /// as [`DriverError::Closed`].
    pub fn accept(
        tcp: TcpStream,
        config: ServerConfig,
        mut verify: impl FnMut(Option<&Credentials>) -> bool,
        mut vhost_ok: impl FnMut(&str) -> bool,
        timeout: Duration,
    ) -> Result<(Self, String), DriverError> {
        let mut s = Self::new(tcp, Connection::server(config, Instant::now()))?;
        let deadline = Instant::now() + timeout;
        let mut user = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = s.next_event(left)?;
            match ev {
                Event::Authenticate { credentials, .. } => {
                    if verify(credentials.as_ref()) {
                        if let Some(Credentials::Password { username, .. }) = credentials {
                            user = username;
                        }
                        s.conn.accept_auth()?;
                    } else {
                        s.conn.reject_auth("Wrong user name or password")?;
                    }
                }
                Event::OpenVhost { vhost } => {
                    if vhost_ok(&vhost) {
                        s.conn.accept_vhost()?;
                    } else {
                        s.conn
                            .reject_vhost(&format!("access to vhost '{vhost}' refused"))?;
                    }
                }
                Event::Connected { .. } => {
                    s.flush()?;
                    return Ok((s, user));
                }
                Event::Closed { .. } => {
                    return Err(DriverError::Closed(s.closed.clone().unwrap_or(CloseInfo {
                        reply_code: 0,
                        reply_text: String::new(),
                        by_peer: false,
                        error: None,
                    })));
                }
                other => s.stash.push_back(other),
            }
        }
    }

    /// [`AmqpStream::accept`] against a list of `(user, password)` pairs,
    /// any vhost.
    pub fn accept_users(
        tcp: TcpStream,
        config: ServerConfig,
        users: &[(String, String)],
        timeout: Duration,
    ) -> Result<(Self, String), DriverError> {
        let verify = |c: Option<&Credentials>| match c {
            Some(Credentials::Password {
                username, password, ..
            }) => users.iter().any(|(u, p)| u == username && p == password),
            _ => false,
        };
        Self::accept(tcp, config, verify, |_| true, timeout)
    }

    /// The connection, to queue commands with; [`Self::flush`] (or any
    /// wait, which flushes) sends them.
    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The agreed tuning.
    #[must_use]
    pub fn tune(&self) -> Option<Tune> {
        self.conn.tune()
    }

    /// How the connection ended, once it has.
    #[must_use]
    pub const fn close_info(&self) -> Option<&CloseInfo> {
        self.closed.as_ref()
    }

    /// Bytes read from the socket so far (heartbeats included).
    #[must_use]
    pub const fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.peer_addr()
    }

    /// Writes out everything the connection has queued.
    pub fn flush(&mut self) -> Result<(), DriverError> {
        // Vectored, so bodies sent with `publish_bytes` go out of the
        // caller's buffer without a copy.
        loop {
            let slices: Vec<std::io::IoSlice<'_>> = self
                .conn
                .transmit_chunks()
                .take(64)
                .map(std::io::IoSlice::new)
                .collect();
            if slices.is_empty() {
                return Ok(());
            }
            let n = self.tcp.write_vectored(&slices)?;
            if n == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into());
            }
            self.conn.advance_transmit(n);
        }
    }

    /// Acts on the codec's timers if one is due.
    fn run_timers(&mut self) {
        let now = Instant::now();
        if self.conn.poll_timeout().is_some_and(|t| t <= now) {
            self.conn.handle_timeout(now);
        }
    }

    /// One round of I/O: flush, one read bounded by `deadline`, the codec's
    /// next timer and [`READ_CAP`], then the timers.
    fn pump(&mut self, deadline: Instant) -> Result<(), DriverError> {
        self.run_timers();
        self.flush()?;
        let now = Instant::now();
        let wake = self
            .conn
            .poll_timeout()
            .map_or(deadline, |t| t.min(deadline));
        let wait = wake
            .saturating_duration_since(now)
            .clamp(Duration::from_millis(1), READ_CAP);
        self.tcp.set_read_timeout(Some(wait))?;
        match self.tcp.read(&mut self.rbuf) {
            Ok(0) => {
                // A connection the codec already ended may see TCP go away.
                return if self.conn.is_closed() {
                    Err(DriverError::Closed(self.closed.clone().unwrap_or(
                        CloseInfo {
                            reply_code: 0,
                            reply_text: "TCP closed".to_owned(),
                            by_peer: true,
                            error: None,
                        },
                    )))
                } else {
                    Err(DriverError::Eof)
                };
            }
            Ok(n) => {
                self.bytes_read += n as u64;
                let data = self.rbuf.get(..n).unwrap_or_default();
                // A failure queues Event::Closed (reported by the waits);
                // a repeat of a sticky error after it changes nothing.
                let _ = self.conn.handle_input(data, Instant::now());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(DriverError::Io(e)),
        }
        self.run_timers();
        self.flush()
    }

    /// Takes the codec's next event, noting [`Event::Closed`].
    fn poll_codec(&mut self) -> Option<Event> {
        let ev = self.conn.poll_event()?;
        if let Event::Closed {
            reply_code,
            reply_text,
            by_peer,
            error,
            ..
        } = &ev
        {
            self.closed = Some(CloseInfo {
                reply_code: *reply_code,
                reply_text: reply_text.clone(),
                by_peer: *by_peer,
                error: error.clone(),
            });
            // Our close-ok (or the close reporting a failure) must reach
            // the peer; one that is gone makes this fail, which changes
            // nothing.
            let _ = self.flush();
        }
        Some(ev)
    }

    /// The next event, kept or new, within `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Event, DriverError> {
        self.flush()?;
        if let Some(ev) = self.stash.pop_front() {
            return Ok(ev);
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(ev) = self.poll_codec() {
                return Ok(ev);
            }
            if let Some(c) = &self.closed {
                return Err(DriverError::Closed(c.clone()));
            }
            if Instant::now() >= deadline {
                return Err(DriverError::Timeout("an event".to_owned()));
            }
            self.pump(deadline)?;
        }
    }

    /// Waits at most `timeout` for the first event (kept ones first) for
    /// which `f` returns `Some`, and returns that. Other events are kept.
    /// [`Event::Closed`] is offered to `f` too; if `f` does not take it,
    /// the wait fails with [`DriverError::Closed`].
    pub fn wait<T>(
        &mut self,
        timeout: Duration,
        what: &str,
        mut f: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, DriverError> {
        self.flush()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(t) = self.try_take(&mut f) {
                return Ok(t);
            }
            if let Some(c) = &self.closed {
                return Err(DriverError::Closed(c.clone()));
            }
            if Instant::now() >= deadline {
                return Err(DriverError::Timeout(what.to_owned()));
            }
            self.pump(deadline)?;
        }
    }

    /// [`Self::wait`] for an event of `channel`: the peer closing that
    /// channel fails the wait with [`DriverError::ChannelClosed`].
    pub fn wait_on<T>(
        &mut self,
        channel: u16,
        timeout: Duration,
        what: &str,
        mut f: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, DriverError> {
        let r = self.wait(timeout, what, |e| match e {
            Event::ChannelClosed {
                channel: c,
                reply_code,
                reply_text,
                by_peer: true,
                ..
            } if *c == channel => Some(Err(DriverError::ChannelClosed {
                channel,
                reply_code: *reply_code,
                reply_text: reply_text.clone(),
            })),
            e => f(e).map(Ok),
        });
        r.and_then(|inner| inner)
    }

    /// The first event, kept or already decoded, for which `f` returns
    /// `Some`, without reading from the socket.
    pub fn try_take<T>(&mut self, mut f: impl FnMut(&Event) -> Option<T>) -> Option<T> {
        let mut i = 0;
        while let Some(ev) = self.stash.get(i) {
            if let Some(t) = f(ev) {
                self.stash.remove(i);
                return Some(t);
            }
            i += 1;
        }
        while let Some(ev) = self.poll_codec() {
            if let Some(t) = f(&ev) {
                return Some(t);
            }
            self.stash.push_back(ev);
        }
        None
    }

    /// Takes every kept event for which `f` returns `Some`, in order.
    pub fn take_kept<T>(&mut self, mut f: impl FnMut(&Event) -> Option<T>) -> Vec<T> {
        let mut out = Vec::new();
        self.stash.retain(|e| match f(e) {
            Some(t) => {
                out.push(t);
                false
            }
            None => true,
        });
        out
    }

    /// Keeps the connection going for `d` (heartbeats, events kept);
    /// fails if it ends meanwhile.
    pub fn idle(&mut self, d: Duration) -> Result<(), DriverError> {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline {
            while let Some(ev) = self.poll_codec() {
                self.stash.push_back(ev);
            }
            if let Some(c) = &self.closed {
                return Err(DriverError::Closed(c.clone()));
            }
            self.pump(deadline)?;
        }
        while let Some(ev) = self.poll_codec() {
            self.stash.push_back(ev);
        }
        match &self.closed {
            Some(c) => Err(DriverError::Closed(c.clone())),
            None => Ok(()),
        }
    }

    /// Sends a synchronous request on `channel` and waits for its reply.
    pub fn rpc(
        &mut self,
        channel: u16,
        method: &Method,
        timeout: Duration,
    ) -> Result<Method, DriverError> {
        let replies = reply_ids(method);
        let (class, name) = (method.class_id(), method.name());
        self.conn.send_method(channel, method)?;
        self.wait_on(
            channel,
            timeout,
            &format!("the reply to {name}"),
            |e| match e {
                Event::Method { channel: c, method }
                    if *c == channel
                        && method.class_id() == class
                        && replies.contains(&method.method_id()) =>
                {
                    Some(method.clone())
                }
                _ => None,
            },
        )
    }

    /// Opens `channel` and waits for its open-ok.
    pub fn open_channel(&mut self, channel: u16, timeout: Duration) -> Result<(), DriverError> {
        self.conn.open_channel(channel)?;
        self.wait_on(channel, timeout, "channel.open-ok", |e| {
            matches!(e, Event::ChannelOpened { channel: c } if *c == channel).then_some(())
        })
    }

    /// Closes `channel` (200) and waits for its close-ok (or the peer's
    /// own close).
    pub fn close_channel(&mut self, channel: u16, timeout: Duration) -> Result<(), DriverError> {
        self.conn.close_channel(channel, 200, "bye")?;
        self.wait(timeout, "channel.close-ok", |e| {
            matches!(e, Event::ChannelClosed { channel: c, .. } if *c == channel).then_some(())
        })
    }

    /// Closes the connection with 200 and waits for the close-ok, then
    /// ends TCP. Returns how it ended (an earlier close, if there was one).
    pub fn close(mut self, timeout: Duration) -> Result<CloseInfo, DriverError> {
        if self.closed.is_none() {
            if let Err(e) = self.conn.close(200, "bye") {
                if self.closed.is_none() && !self.conn.is_closed() {
                    return Err(e.into());
                }
            }
        }
        let r = self.wait(timeout, "connection.close-ok", |e| match e {
            Event::Closed { .. } => Some(()),
            _ => None,
        });
        let info = match (r, &self.closed) {
            (_, Some(c)) => c.clone(),
            (Err(e), None) => return Err(e),
            (Ok(()), None) => {
                return Err(DriverError::Unexpected("no close report".to_owned()));
            }
        };
        self.finish();
        Ok(info)
    }

    /// Ends the transport: writes what is left, waits briefly for the
    /// peer's TCP close, and shuts the socket.
    pub fn finish(mut self) {
        let _ = self.flush();
        let _ = self.tcp.shutdown(Shutdown::Write);
        let _ = self.tcp.set_read_timeout(Some(LINGER));
        let deadline = Instant::now() + LINGER;
        while Instant::now() < deadline {
            match self.tcp.read(&mut self.rbuf) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        let _ = self.tcp.shutdown(Shutdown::Both);
    }
}

/// The method ids of the replies to a synchronous request (its class's).
fn reply_ids(m: &Method) -> &'static [u16] {
    match m {
        Method::ChannelFlow(_) => &[21],
        Method::BasicQos(_)
        | Method::TxSelect(_)
        | Method::ExchangeDeclare(_)
        | Method::QueueDeclare(_)
        | Method::ConfirmSelect(_)
        | Method::AccessRequest(_) => &[11],
        Method::ExchangeDelete(_) | Method::QueueBind(_) | Method::TxCommit(_) => &[21],
        Method::ExchangeBind(_) | Method::QueuePurge(_) | Method::BasicCancel(_) => &[31],
        Method::TxRollback(_) => &[31],
        Method::QueueDelete(_) => &[41],
        Method::ExchangeUnbind(_) | Method::QueueUnbind(_) => &[51],
        Method::BasicConsume(_) => &[21],
        Method::BasicGet(_) => &[71, 72],
        Method::BasicRecover(_) => &[111],
        _ => &[],
    }
}

#[cfg(test)]
mod tests;
