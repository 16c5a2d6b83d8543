//! A small blocking driver for [`ws_codec::Connection`] over
//! [`std::net::TcpStream`]: write out what `poll_transmit` holds, read into a
//! buffer, feed `handle_input`, hand out events.
//!
//! Every socket has read and write timeouts and every wait has a deadline,
//! so a silent or stalled peer ends a run with [`DriverError::Timeout`]
//! instead of hanging it. Masking keys are seeded from the clock and a
//! counter: the runners may use time and randomness, the codec may not.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ws_codec::config::DeflateConfig;
use ws_codec::handshake::{ClientRequest, Extension, Request};
use ws_codec::{Config, Connection, Event, Limits, MaskSource};

/// How long one read, one write or one wait for an event may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the peer's TCP close after the close handshake.
const LINGER: Duration = Duration::from_secs(5);
/// Bytes read from the socket per `read` call.
const READ_CHUNK: usize = 256 * 1024;

/// The limits the runners use: messages up to 64 MiB, and frames as large,
/// since peers send a 16 MiB message as one frame whose deflated form is a
/// little larger than 16 MiB (random bytes do not compress).
#[must_use]
pub fn config(deflate: bool) -> Config {
    Config {
        limits: Limits {
            max_frame_size: 64 << 20,
            max_message_size: 64 << 20,
            ..Limits::default()
        },
        deflate: deflate.then(DeflateConfig::default),
        ..Config::default()
    }
}

/// A fresh mask source, seeded from the clock, the process id and a
/// counter, so no two connections share a key stream.
#[must_use]
pub fn mask_source() -> MaskSource {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let seed =
        nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::from(std::process::id()) << 40);
    MaskSource::Seed(seed)
}

/// `name; param=value, ...` for a list of extensions, or `none`.
#[must_use]
pub fn describe_extensions(extensions: &[Extension]) -> String {
    if extensions.is_empty() {
        return "none".to_owned();
    }
    let list: Vec<String> = extensions.iter().map(ToString::to_string).collect();
    list.join(", ")
}

/// A parsed `ws://host[:port][/path]` URL (`wss` is not supported: the
/// runners speak plain TCP on loopback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// Host name or address; IPv6 addresses keep their brackets.
    pub host: String,
    /// TCP port, 80 when the URL has none.
    pub port: u16,
    /// Request target: path and query, at least `/`.
    pub path: String,
}

impl WsUrl {
    /// Parses `url`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| format!("{url}: only ws:// URLs are supported"))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        // The port is after the last colon, unless that colon is inside an
        // IPv6 literal.
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => {
                let port = authority[i + 1..]
                    .parse::<u16>()
                    .map_err(|_| format!("{url}: bad port"))?;
                (&authority[..i], port)
            }
            _ => (authority, 80),
        };
        if host.is_empty() || host.contains('@') {
            return Err(format!("{url}: bad host"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path,
        })
    }

    /// The `Host` header value: `host:port`.
    #[must_use]
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    fn socket_addr(&self) -> Result<SocketAddr, DriverError> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        (host, self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| DriverError::Unexpected(format!("{}: no address", self.host)))
    }
}

/// Why a driven connection stopped.
#[derive(Debug)]
pub enum DriverError {
    /// The socket failed.
    Io(io::Error),
    /// Nothing arrived within [`IO_TIMEOUT`].
    Timeout,
    /// The peer closed TCP before the closing handshake finished.
    Eof,
    /// The connection is already closed: no more events will come.
    Closed,
    /// The codec failed the connection (its close frame was sent).
    Ws(ws_codec::Error),
    /// The peer did something the runner did not expect.
    Unexpected(String),
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Timeout => write!(f, "timed out after {} s", IO_TIMEOUT.as_secs()),
            Self::Eof => f.write_str("peer closed TCP before the close handshake"),
            Self::Closed => f.write_str("connection already closed"),
            Self::Ws(e) => write!(f, "WebSocket error: {e}"),
            Self::Unexpected(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for DriverError {}

impl From<io::Error> for DriverError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Self::Timeout,
            _ => Self::Io(e),
        }
    }
}

impl From<ws_codec::Error> for DriverError {
    fn from(e: ws_codec::Error) -> Self {
        Self::Ws(e)
    }
}

/// A [`Connection`] bound to a [`TcpStream`].
#[derive(Debug)]
pub struct WsStream {
    conn: Connection,
    tcp: TcpStream,
    rbuf: Vec<u8>,
    /// The codec reported [`Event::Closed`].
    closed: bool,
}

impl WsStream {
    /// Binds `conn` to `tcp` and sets the socket's timeouts.
    pub fn new(tcp: TcpStream, conn: Connection) -> io::Result<Self> {
        tcp.set_read_timeout(Some(IO_TIMEOUT))?;
        tcp.set_write_timeout(Some(IO_TIMEOUT))?;
        tcp.set_nodelay(true)?;
        Ok(Self {
            conn,
            tcp,
            rbuf: vec![0; READ_CHUNK],
            closed: false,
        })
    }

    /// Client: connects to `url`, completes the opening handshake and
    /// returns the stream and the agreed extensions.
    pub fn connect(url: &WsUrl, config: Config) -> Result<(Self, Vec<Extension>), DriverError> {
        let tcp = TcpStream::connect_timeout(&url.socket_addr()?, IO_TIMEOUT)?;
        let request = ClientRequest::new(url.authority(), url.path.clone());
        let conn = Connection::client(config, &request, mask_source());
        let mut s = Self::new(tcp, conn)?;
        s.flush()?;
        match s.next_event()? {
            Event::Connected { extensions, .. } => Ok((s, extensions)),
            Event::Closed { reason, .. } => Err(DriverError::Unexpected(format!(
                "opening handshake failed: {reason}"
            ))),
            other => Err(DriverError::Unexpected(format!(
                "expected the handshake answer, got {other:?}"
            ))),
        }
    }

    /// Server: reads the opening request on `tcp`, accepts it with the
    /// policy in `config`, and returns the stream, the request and the
    /// agreed extensions.
    pub fn accept(
        tcp: TcpStream,
        config: Config,
    ) -> Result<(Self, Request, Vec<Extension>), DriverError> {
        let mut s = Self::new(tcp, Connection::server(config))?;
        let request = match s.next_event()? {
            Event::Request(r) => *r,
            Event::Closed { reason, .. } => {
                return Err(DriverError::Unexpected(format!(
                    "bad opening request: {reason}"
                )));
            }
            other => {
                return Err(DriverError::Unexpected(format!(
                    "expected an opening request, got {other:?}"
                )));
            }
        };
        // Frames pipelined behind the request may fail the connection here;
        // the Closed event that follows reports it.
        let _ = s.conn.accept();
        s.flush()?;
        match s.next_event()? {
            Event::Connected { extensions, .. } => Ok((s, request, extensions)),
            other => Err(DriverError::Unexpected(format!(
                "expected Connected after accept, got {other:?}"
            ))),
        }
    }

    /// The connection, to queue messages with its `send_*` methods; call
    /// [`Self::flush`] (or [`Self::next_event`], which flushes) after.
    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.peer_addr()
    }

    /// Sets how long one socket read in [`Self::next_event`] may block (a
    /// shorter read ends that call with [`DriverError::Timeout`]; the
    /// connection's state is kept, so it can be called again).
    pub fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.tcp.set_read_timeout(Some(timeout))
    }

    /// Shuts the socket down without waiting for anything.
    pub fn shutdown(&self) {
        let _ = self.tcp.shutdown(Shutdown::Both);
    }

    /// Writes out everything the connection has queued.
    pub fn flush(&mut self) -> Result<(), DriverError> {
        while let Some(bytes) = self.conn.poll_transmit() {
            self.tcp.write_all(&bytes)?;
        }
        Ok(())
    }

    /// An event the connection already holds, without reading.
    pub fn try_event(&mut self) -> Option<Event> {
        let ev = self.conn.poll_event();
        if matches!(ev, Some(Event::Closed { .. })) {
            self.closed = true;
        }
        ev
    }

    /// The next event: flushes pending output, then reads until the
    /// connection reports something. [`Event::Closed`] comes once; after it,
    /// this returns [`DriverError::Closed`].
    pub fn next_event(&mut self) -> Result<Event, DriverError> {
        let deadline = Instant::now() + IO_TIMEOUT;
        loop {
            if let Some(ev) = self.try_event() {
                if self.closed {
                    // Our close reply (or the close frame that reports a
                    // failure) must reach the peer; a peer that is already
                    // gone makes this fail, which changes nothing.
                    let _ = self.flush();
                }
                return Ok(ev);
            }
            if self.closed {
                return Err(DriverError::Closed);
            }
            self.flush()?;
            if Instant::now() >= deadline {
                return Err(DriverError::Timeout);
            }
            let n = self.tcp.read(&mut self.rbuf)?;
            if n == 0 {
                return Err(DriverError::Eof);
            }
            if let Err(e) = self.conn.handle_input(&self.rbuf[..n]) {
                // A failure reports Closed once; without one (a repeat of a
                // sticky error) there is nothing more to hand out.
                if let Some(ev) = self.try_event() {
                    let _ = self.flush();
                    return Ok(ev);
                }
                return Err(DriverError::Ws(e));
            }
        }
    }

    /// Ends the transport after [`Event::Closed`]: writes what is left,
    /// then a server closes TCP first (§7.1.1) and a client waits for the
    /// server to do so, at most a few seconds. Returns whether the peer
    /// closed TCP cleanly within that time.
    pub fn finish(mut self) -> bool {
        let _ = self.flush();
        if self.conn.role() == ws_codec::Role::Server {
            let _ = self.tcp.shutdown(Shutdown::Write);
        }
        let _ = self.tcp.set_read_timeout(Some(LINGER));
        let deadline = Instant::now() + LINGER;
        // Whatever still arrives is discarded: the close handshake is over.
        let eof = loop {
            if Instant::now() >= deadline {
                break false;
            }
            match self.tcp.read(&mut self.rbuf) {
                Ok(0) => break true,
                Ok(_) => {}
                Err(_) => break false,
            }
        };
        let _ = self.tcp.shutdown(Shutdown::Both);
        eof
    }
}

/// Accepts connections on `listener` and runs `handler` on each in its own
/// thread. With `max_connections` it stops after that many and waits for
/// their handlers; without, it serves until the listener fails.
pub fn serve<F>(
    listener: &TcpListener,
    max_connections: Option<usize>,
    handler: F,
) -> io::Result<()>
where
    F: Fn(TcpStream) + Send + Sync + Clone + 'static,
{
    let mut handles = Vec::new();
    let mut accepted = 0usize;
    while max_connections.is_none_or(|max| accepted < max) {
        let (tcp, _) = listener.accept()?;
        accepted += 1;
        let h = handler.clone();
        let handle = thread::Builder::new()
            .name(format!("ws-conn-{accepted}"))
            .spawn(move || h(tcp))?;
        if max_connections.is_some() {
            handles.push(handle);
        }
    }
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::WsUrl;

    #[test]
    fn parses_urls() {
        let u = WsUrl::parse("ws://127.0.0.1:9001/runCase?case=1&agent=x").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 9001, "/runCase?case=1&agent=x")
        );
        let u = WsUrl::parse("ws://localhost").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("localhost", 80, "/")
        );
        let u = WsUrl::parse("ws://[::1]:8080?x").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("[::1]", 8080, "/?x")
        );
        assert_eq!(u.authority(), "[::1]:8080");
        let u = WsUrl::parse("ws://[::1]/p").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 80));
        assert!(WsUrl::parse("wss://x/").is_err());
        assert!(WsUrl::parse("ws://x:99999/").is_err());
        assert!(WsUrl::parse("ws:///").is_err());
    }
}
