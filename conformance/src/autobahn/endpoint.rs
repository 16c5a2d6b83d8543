//! The endpoint under test: a ws-codec [`Connection`] with a small echo
//! application on top, over a socket (server thread, client) or in memory.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use ws_codec::config::DeflateConfig;
use ws_codec::handshake::ClientRequest;
use ws_codec::{Config, Connection, Event, MaskSource, Message};

use super::case::DeflateSpec;
use super::wire::{Ev, parse_extensions};

/// The seed of our client's masking keys and nonce.
pub(crate) const CLIENT_SEED: u64 = 0x5eed_0001;

/// What the endpoint under test reported, normalized for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Got {
    /// A message (`Ev::Text` or `Ev::Binary`), echoed back.
    Msg(Ev),
    /// A ping arrived.
    Ping(Vec<u8>),
    /// A pong arrived.
    Pong(Vec<u8>),
    /// The connection closed with this code.
    Closed(u16),
}

/// Our server: permessage-deflate accepted when offered.
pub(crate) fn server_config() -> Config {
    Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    }
}

/// Our client: for a deflate case it offers what the case's fuzzing client
/// offers (first element), otherwise no extension.
pub(crate) fn client_config(spec: Option<&DeflateSpec>) -> Config {
    let deflate = spec.map(|s| {
        let offers = parse_extensions(&s.offer);
        let first = offers.first();
        let has = |k: &str| first.is_some_and(|e| e.has(k));
        let bits = |k: &str| {
            first
                .and_then(|e| e.value(k))
                .and_then(|v| v.parse().ok())
                .unwrap_or(15)
        };
        DeflateConfig {
            server_no_context_takeover: has("server_no_context_takeover"),
            client_no_context_takeover: has("client_no_context_takeover"),
            server_max_window_bits: bits("server_max_window_bits"),
            client_max_window_bits: bits("client_max_window_bits"),
            ..DeflateConfig::default()
        }
    });
    Config {
        deflate,
        ..Config::default()
    }
}

/// Our client's opening request (the Host value is not checked).
pub(crate) fn client_request() -> ClientRequest {
    ClientRequest::new("127.0.0.1", "/")
}

/// A fresh client endpoint (same seed every time, so the same request).
pub(crate) fn new_client(spec: Option<&DeflateSpec>) -> Connection {
    Connection::client(
        client_config(spec),
        &client_request(),
        MaskSource::Seed(CLIENT_SEED),
    )
}

/// The echo application: accepts the opening request, sends every message
/// back with its type, and records what it saw into `log`. Returns whether
/// the connection is closed.
pub(crate) fn pump(conn: &mut Connection, mut log: Option<&mut Vec<Got>>) -> bool {
    let mut closed = false;
    while let Some(ev) = conn.poll_event() {
        let got = match ev {
            Event::Request(_) => {
                // A failed accept fails the connection and reports it.
                let _ = conn.accept();
                None
            }
            Event::Message(Message::Text(t)) => {
                let _ = conn.send_text(t.as_str());
                Some(Got::Msg(Ev::Text(t.as_bytes().to_vec())))
            }
            Event::Message(Message::Binary(b)) => {
                let _ = conn.send_binary(&b);
                Some(Got::Msg(Ev::Binary(b.to_vec())))
            }
            Event::Ping(p) => Some(Got::Ping(p.to_vec())),
            Event::Pong(p) => Some(Got::Pong(p.to_vec())),
            Event::Closed { code, .. } => {
                closed = true;
                Some(Got::Closed(code.0))
            }
            _ => None,
        };
        if let (Some(g), Some(l)) = (got, log.as_deref_mut()) {
            l.push(g);
        }
    }
    closed || conn.is_closed()
}

fn flush(tcp: &mut TcpStream, conn: &mut Connection) -> std::io::Result<()> {
    while let Some(b) = conn.poll_transmit() {
        tcp.write_all(&b)?;
    }
    Ok(())
}

/// Closes the transport without a reset: a server half-closes first
/// (RFC 6455 §7.1.1), then both drain until the peer closes, so unread
/// input never turns the close into an RST that could eat our close frame.
fn linger(tcp: &mut TcpStream, half_close: bool) {
    if half_close {
        let _ = tcp.shutdown(Shutdown::Write);
    }
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 16 << 10];
    while matches!(tcp.read(&mut buf), Ok(n) if n > 0) {}
}

/// Runs `conn` over `tcp` until it closes or the peer goes away.
fn drive(mut tcp: TcpStream, mut conn: Connection, server: bool) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    if flush(&mut tcp, &mut conn).is_err() {
        return;
    }
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match tcp.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let _ = conn.handle_input(buf.get(..n).unwrap_or_default());
        let closed = pump(&mut conn, None);
        if flush(&mut tcp, &mut conn).is_err() {
            return;
        }
        if closed {
            linger(&mut tcp, server);
            return;
        }
    }
}

/// Starts our echo server on a loopback port, one thread per connection,
/// for the life of the process.
pub(crate) fn start_server() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            std::thread::spawn(move || drive(tcp, Connection::server(server_config()), true));
        }
    });
    Ok(addr)
}

/// Runs our echo client against the fuzzing server at `addr`.
pub(crate) fn run_client(addr: SocketAddr, spec: Option<&DeflateSpec>) {
    if let Ok(tcp) = TcpStream::connect(addr) {
        drive(tcp, new_client(spec), false);
    }
}
