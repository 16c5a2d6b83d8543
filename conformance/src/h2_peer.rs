//! The `h2-peer` runner's two ends over blocking `std::net`, driving the
//! sans-IO [`grpc_codec::Connection`]: an h2c (prior knowledge) server
//! with a thread per connection, and a client that fetches and echoes over
//! many concurrent streams and checks every byte.
//!
//! Server routes: `GET /` → 200 with [`SMALL_BODY`], `GET /large` → 200
//! with [`large_body`] (1 MiB), `POST /echo` → 200 with the request body,
//! anything else → 404. The same bodies put in an `nghttpd` docroot
//! (`h2-peer body small|large`) let the client check a real server too.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use grpc_codec::{Config, Connection, Error, ErrorCode, Event, Request, Response, StreamId};
use sha2::{Digest, Sha256};

/// `GET /`'s body.
pub const SMALL_BODY: &[u8] = b"hello from h2-peer\n";
/// `GET /large`'s length.
pub const LARGE_LEN: usize = 1 << 20;
/// Bytes handed to `send_data` at a time.
const CHUNK: usize = 64 * 1024;

/// `GET /large`'s body: 1 MiB of 64-byte lines `h2-peer large NNNNNNNNN ...\n`,
/// so a corrupted or reordered chunk shows.
#[must_use]
pub fn large_body() -> Bytes {
    let mut v = Vec::with_capacity(LARGE_LEN);
    let mut line = 0u64;
    while v.len() < LARGE_LEN {
        let s = format!("h2-peer large {line:09} abcdefghijklmnopqrstuvwxyz0123456789\n");
        v.extend_from_slice(&s.as_bytes()[..64.min(s.len())]);
        line += 1;
    }
    v.truncate(LARGE_LEN);
    Bytes::from(v)
}

/// Hex SHA-256 of `data`.
#[must_use]
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Counters over all of a server's connections.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Requests answered (any status).
    pub requests: AtomicU64,
    /// Connections that ended with a protocol error (ours or the peer's).
    pub errors: AtomicU64,
    /// Response body bytes queued.
    pub bytes_out: AtomicU64,
}

impl ServerStats {
    /// The one-line summary.
    #[must_use]
    pub fn summary(&self, elapsed: Duration) -> String {
        format!(
            "h2-peer server: {} connections, {} requests, {} connection errors, {:.1} MiB sent in {:.1} s",
            self.connections.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
            self.bytes_out.load(Ordering::Relaxed) as f64 / f64::from(1 << 20),
            elapsed.as_secs_f64()
        )
    }
}

/// Accepts until `stop` is set, a thread per connection.
pub fn serve(
    listener: &TcpListener,
    stats: &Arc<ServerStats>,
    stop: &AtomicBool,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let large = large_body();
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((tcp, _)) => {
                tcp.set_nonblocking(false)?;
                let stats = Arc::clone(stats);
                let large = large.clone();
                stats.connections.fetch_add(1, Ordering::Relaxed);
                thread::spawn(move || {
                    if let Err(e) = serve_conn(tcp, &stats, &large) {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("h2-peer server: connection: {e}");
                    }
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Our server settings: room for many streams and big windows, so a
/// load generator is not throttled by our defaults.
#[must_use]
pub fn server_config() -> Config {
    let mut c = Config {
        max_concurrent_streams: 256,
        initial_window_size: 1 << 20,
        connection_window_size: 16 << 20,
        ..Config::default()
    };
    c.limits.max_send_buffer = 64 << 20;
    c.limits.max_queued_output = 16 << 20;
    c
}

/// The socket and the machine, and DATA waiting for send-buffer room.
struct Io {
    tcp: TcpStream,
    conn: Connection,
    pending: HashMap<StreamId, VecDeque<(Bytes, bool)>>,
    buf: Vec<u8>,
}

impl Io {
    fn new(tcp: TcpStream, conn: Connection) -> io::Result<Self> {
        tcp.set_nodelay(true)?;
        Ok(Self {
            tcp,
            conn,
            pending: HashMap::new(),
            buf: vec![0; 256 * 1024],
        })
    }

    /// Queues a body, cut into chunks; what `send_data` refuses waits.
    fn queue_body(&mut self, stream: StreamId, body: &Bytes) {
        let q = self.pending.entry(stream).or_default();
        if body.is_empty() {
            q.push_back((Bytes::new(), true));
        }
        let mut off = 0;
        while off < body.len() {
            let end = (off + CHUNK).min(body.len());
            q.push_back((body.slice(off..end), end == body.len()));
            off = end;
        }
        self.feed();
    }

    /// Moves waiting DATA into the machine while it has room.
    fn feed(&mut self) {
        let conn = &mut self.conn;
        self.pending.retain(|&stream, q| {
            while let Some((chunk, end)) = q.pop_front() {
                match conn.send_data(stream, chunk.clone(), end) {
                    Ok(()) => {}
                    Err(Error::SendBufferFull { .. }) => {
                        q.push_front((chunk, end));
                        return true;
                    }
                    // Reset or closed: drop the rest.
                    Err(_) => return false,
                }
            }
            false
        });
    }

    /// Writes everything the machine has to send.
    fn flush(&mut self) -> io::Result<()> {
        loop {
            self.feed();
            match self.conn.poll_transmit() {
                Some(b) => self.tcp.write_all(&b)?,
                None => return Ok(()),
            }
        }
    }

    /// Reads once (waiting at most until the machine's next timer) and
    /// feeds the bytes in. `Ok(false)` at EOF.
    fn read(&mut self, idle: Duration) -> io::Result<bool> {
        let now = Instant::now();
        let wait = self
            .conn
            .poll_timeout()
            .map_or(idle, |t| t.saturating_duration_since(now).min(idle))
            .max(Duration::from_millis(1));
        self.tcp.set_read_timeout(Some(wait))?;
        match self.tcp.read(&mut self.buf) {
            Ok(0) => {
                // Open streams end as resets; no GOAWAY first is an error.
                let _ = self.conn.handle_eof();
                Ok(false)
            }
            Ok(n) => {
                let data = self.buf.get(..n).unwrap_or_default();
                // A failure queues GOAWAY and shows as Event::Closed.
                let _ = self.conn.handle_input(data, Instant::now());
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                self.conn.handle_timeout(Instant::now());
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(e),
        }
    }
}

/// A request being received.
struct Incoming {
    method: Bytes,
    path: Bytes,
    body: Vec<u8>,
}

fn serve_conn(tcp: TcpStream, stats: &ServerStats, large: &Bytes) -> io::Result<()> {
    let conn = Connection::server(server_config(), Instant::now());
    let mut io = Io::new(tcp, conn)?;
    let mut incoming: HashMap<StreamId, Incoming> = HashMap::new();
    let mut failed = None;
    loop {
        io.flush()?;
        if io.conn.is_closed() {
            break;
        }
        if !io.read(Duration::from_secs(30))? {
            break;
        }
        while let Some(ev) = io.conn.poll_event() {
            let done = match ev {
                Event::Request {
                    stream,
                    request,
                    end_stream,
                } => {
                    incoming.insert(
                        stream,
                        Incoming {
                            method: request.method,
                            path: request.path.unwrap_or_default(),
                            body: Vec::new(),
                        },
                    );
                    end_stream.then_some(stream)
                }
                Event::Data {
                    stream,
                    data,
                    end_stream,
                } => {
                    if let Some(r) = incoming.get_mut(&stream) {
                        if &r.path[..] == b"/echo" {
                            r.body.extend_from_slice(&data);
                        }
                    }
                    end_stream.then_some(stream)
                }
                Event::Trailers { stream, .. } => Some(stream),
                Event::Reset { stream, .. } => {
                    incoming.remove(&stream);
                    io.pending.remove(&stream);
                    None
                }
                Event::Closed { error, code, .. } => {
                    if error.is_some() || code != ErrorCode::NO_ERROR {
                        failed = Some(format!("closed with {code}: {error:?}"));
                    }
                    None
                }
                _ => None,
            };
            if let Some(stream) = done {
                if let Some(r) = incoming.remove(&stream) {
                    respond(&mut io, stream, r, large, stats);
                }
            }
        }
    }
    io.flush().ok();
    let _ = io.tcp.shutdown(Shutdown::Both);
    match failed {
        Some(e) => Err(io::Error::other(e)),
        None => Ok(()),
    }
}

fn respond(io: &mut Io, stream: StreamId, r: Incoming, large: &Bytes, stats: &ServerStats) {
    let (status, body) = match (&r.method[..], &r.path[..]) {
        (b"GET" | b"HEAD", b"/") => (200, Bytes::from_static(SMALL_BODY)),
        (b"GET" | b"HEAD", b"/large") => (200, large.clone()),
        (b"POST" | b"PUT", b"/echo") => (200, Bytes::from(r.body)),
        _ => (404, Bytes::from_static(b"not found\n")),
    };
    let head = &r.method[..] == b"HEAD";
    let resp = Response::new(status)
        .header("content-type", "application/octet-stream")
        .header("content-length", body.len().to_string());
    stats.requests.fetch_add(1, Ordering::Relaxed);
    if io.conn.send_response(stream, &resp, head).is_ok() && !head {
        stats
            .bytes_out
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        io.queue_body(stream, &body);
    }
}

// ---- client ---------------------------------------------------------------

/// What the client does.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `host:port` to connect to.
    pub addr: String,
    /// `:authority`.
    pub authority: String,
    /// Rounds run concurrently: each is `GET /`, `GET /large`, `POST /echo`.
    pub streams: usize,
    /// Our SETTINGS_INITIAL_WINDOW_SIZE and connection window, if small
    /// windows are wanted.
    pub window: Option<u32>,
    /// Check the echo's bytes (off against a server that does not echo).
    pub check_echo: bool,
    /// Bytes of the first POST body; each next one is 4093 bytes longer.
    pub echo_len: usize,
}

/// One request and what its response must be.
struct Job {
    method: &'static str,
    path: &'static str,
    body: Bytes,
    expect: Expect,
}

enum Expect {
    Small,
    Large,
    Echo,
}

#[derive(Default)]
struct Got {
    status: u16,
    body: Vec<u8>,
}

/// What a client run did.
#[derive(Debug, Default)]
pub struct ClientReport {
    /// Requests whose response checked out.
    pub ok: usize,
    /// Requests made.
    pub total: usize,
    /// Response body bytes received.
    pub bytes_in: usize,
    /// Request body bytes sent.
    pub bytes_out: usize,
    /// The most streams open at once.
    pub max_open: usize,
    /// What went wrong.
    pub failures: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
}

impl ClientReport {
    /// The one-line summary.
    #[must_use]
    pub fn summary(&self, opts: &ClientOptions) -> String {
        format!(
            "h2-peer client: {} {}/{} requests ok over {} concurrent streams (window {}), {:.1} MiB in, {:.1} MiB out, {:.2} s{}",
            if self.failures.is_empty() {
                "PASS"
            } else {
                "FAIL"
            },
            self.ok,
            self.total,
            self.max_open,
            opts.window
                .map_or_else(|| "default".to_owned(), |w| w.to_string()),
            self.bytes_in as f64 / f64::from(1 << 20),
            self.bytes_out as f64 / f64::from(1 << 20),
            self.elapsed.as_secs_f64(),
            self.failures
                .first()
                .map_or_else(String::new, |f| format!(": {f}"))
        )
    }
}

/// The client's config for `opts`.
#[must_use]
pub fn client_config(window: Option<u32>) -> Config {
    let mut c = Config::default();
    if let Some(w) = window {
        c.initial_window_size = w;
        c.connection_window_size = w;
    } else {
        c.initial_window_size = 1 << 20;
        c.connection_window_size = 16 << 20;
    }
    c.limits.max_send_buffer = 64 << 20;
    c.limits.max_queued_output = 16 << 20;
    c
}

/// Runs the client workload once; fails only on I/O setup errors.
pub fn run_client(opts: &ClientOptions) -> io::Result<ClientReport> {
    let start = Instant::now();
    let tcp = TcpStream::connect(&opts.addr)?;
    let conn = Connection::client(client_config(opts.window), Instant::now());
    let mut io = Io::new(tcp, conn)?;
    let mut jobs: VecDeque<Job> = VecDeque::new();
    for i in 0..opts.streams.max(1) {
        jobs.push_back(Job {
            method: "GET",
            path: "/",
            body: Bytes::new(),
            expect: Expect::Small,
        });
        jobs.push_back(Job {
            method: "GET",
            path: "/large",
            body: Bytes::new(),
            expect: Expect::Large,
        });
        let len = opts.echo_len + i * 4093;
        let body: Vec<u8> = (0..len).map(|j| (j * 7 + i) as u8).collect();
        jobs.push_back(Job {
            method: "POST",
            path: "/echo",
            body: Bytes::from(body),
            expect: Expect::Echo,
        });
    }
    let mut report = ClientReport {
        total: jobs.len(),
        ..ClientReport::default()
    };
    let large_sha = sha256_hex(&large_body());
    let mut open: HashMap<StreamId, (Job, Got)> = HashMap::new();
    let deadline = start + Duration::from_secs(120);
    let mut connected = false;
    while !(jobs.is_empty() && open.is_empty()) {
        if Instant::now() > deadline {
            report
                .failures
                .push(format!("timed out with {} streams open", open.len()));
            break;
        }
        // Open as many streams as the server allows (after its SETTINGS,
        // so its MAX_CONCURRENT_STREAMS is known).
        while connected && io.conn.can_open_stream() {
            let Some(job) = jobs.pop_front() else { break };
            let req = Request::new(job.method, "http", opts.authority.clone(), job.path);
            let end = job.body.is_empty();
            match io.conn.send_request(&req, end) {
                Ok(id) => {
                    if !end {
                        report.bytes_out += job.body.len();
                        io.queue_body(id, &job.body);
                    }
                    open.insert(id, (job, Got::default()));
                    report.max_open = report.max_open.max(open.len());
                }
                Err(Error::StreamLimit { .. }) => {
                    jobs.push_front(job);
                    break;
                }
                Err(e) => {
                    report.failures.push(format!("send_request: {e}"));
                    jobs.clear();
                    break;
                }
            }
        }
        io.flush()?;
        if io.conn.is_closed() {
            report.failures.push(format!(
                "connection closed with {} streams open",
                open.len()
            ));
            break;
        }
        if !io.read(Duration::from_secs(10))? {
            report
                .failures
                .push("server closed the connection".to_owned());
            break;
        }
        while let Some(ev) = io.conn.poll_event() {
            match ev {
                Event::Connected { .. } => connected = true,
                Event::Response {
                    stream,
                    response,
                    end_stream,
                } => {
                    if let Some((_, got)) = open.get_mut(&stream) {
                        got.status = response.status;
                    }
                    if end_stream {
                        finish(&mut open, stream, &mut report, opts, &large_sha);
                    }
                }
                Event::Data {
                    stream,
                    data,
                    end_stream,
                } => {
                    if let Some((_, got)) = open.get_mut(&stream) {
                        got.body.extend_from_slice(&data);
                    }
                    report.bytes_in += data.len();
                    if end_stream {
                        finish(&mut open, stream, &mut report, opts, &large_sha);
                    }
                }
                Event::Trailers { stream, .. } => {
                    finish(&mut open, stream, &mut report, opts, &large_sha)
                }
                Event::Reset {
                    stream,
                    code,
                    by_peer,
                } => {
                    if let Some((job, _)) = open.remove(&stream) {
                        report.failures.push(format!(
                            "{} {}: stream reset with {code} (by {})",
                            job.method,
                            job.path,
                            if by_peer { "the server" } else { "us" }
                        ));
                    }
                }
                Event::GoAway {
                    code, debug_data, ..
                } if code != ErrorCode::NO_ERROR => {
                    report.failures.push(format!(
                        "GOAWAY {code} {:?}",
                        String::from_utf8_lossy(&debug_data)
                    ));
                }
                Event::Closed {
                    code,
                    reason,
                    error,
                    ..
                } if error.is_some() || code != ErrorCode::NO_ERROR => {
                    report
                        .failures
                        .push(format!("connection closed: {code} {reason}"));
                }
                _ => {}
            }
        }
    }
    let _ = io.conn.shutdown();
    io.flush().ok();
    let _ = io.tcp.shutdown(Shutdown::Both);
    report.elapsed = start.elapsed();
    Ok(report)
}

fn finish(
    open: &mut HashMap<StreamId, (Job, Got)>,
    stream: StreamId,
    report: &mut ClientReport,
    opts: &ClientOptions,
    large_sha: &str,
) {
    let Some((job, got)) = open.remove(&stream) else {
        return;
    };
    let what = format!("{} {}", job.method, job.path);
    let problem = if got.status != 200 {
        Some(format!("{what}: status {}", got.status))
    } else {
        match job.expect {
            Expect::Small if got.body.is_empty() => Some(format!("{what}: empty body")),
            Expect::Large if got.body.len() != LARGE_LEN || sha256_hex(&got.body) != large_sha => {
                Some(format!(
                    "{what}: {} bytes, sha256 {} (want {LARGE_LEN}, {large_sha})",
                    got.body.len(),
                    sha256_hex(&got.body)
                ))
            }
            Expect::Echo if opts.check_echo && got.body != job.body[..] => Some(format!(
                "{what}: echo of {} bytes came back as {} bytes, different",
                job.body.len(),
                got.body.len()
            )),
            _ => None,
        }
    };
    match problem {
        Some(p) => report.failures.push(p),
        None => report.ok += 1,
    }
}
