//! The RFC 7395 listener: the WebSocket opening handshake on
//! [`ws_codec::Connection`] in the server role, then the same c2s session
//! as over TCP with the machine in WebSocket framing.

use std::io::Read as _;
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_codec::handshake::Request;
use ws_codec::{Event as WsEvent, Limits};
use xmpp_codec::{Connection, Framing};

use super::link::{Link, write_ws};
use super::{Hub, c2s};

/// The request target clients open (the name Prosody and ejabberd use).
pub(crate) const PATH: &str = "/xmpp-websocket";
/// The subprotocol RFC 7395 §3.1 requires on both sides.
const SUBPROTOCOL: &str = "xmpp";
/// A client must finish its opening request within this long.
const HANDSHAKE_TIME: Duration = Duration::from_secs(10);

/// Serves one WebSocket client on `tcp`: the opening handshake, then the
/// c2s session.
pub(super) fn run(mut tcp: TcpStream, id: u64, hub: &Arc<Hub>) {
    let cfg = c2s::config(hub, Framing::WebSocket);
    let Some(ws) = handshake(&mut tcp, ws_config(cfg.common.limits.max_stanza_size)) else {
        let _ = tcp.shutdown(Shutdown::Both);
        return;
    };
    let conn = Connection::server(cfg, Instant::now());
    if let Some(link) = Link::websocket(tcp, ws, conn, &format!("xmpp-ws-{id}")) {
        c2s::serve(link, id, hub);
    }
}

/// WebSocket limits that follow the machine's: a message is one stanza, so
/// nothing larger than a stanza (and a little framing) is ever buffered.
fn ws_config(max_stanza: usize) -> ws_codec::Config {
    let max = max_stanza.saturating_add(1024);
    ws_codec::Config {
        limits: Limits {
            max_frame_size: max,
            max_message_size: max,
            ..Limits::default()
        },
        protocols: vec![SUBPROTOCOL.to_owned()],
        ..ws_codec::Config::default()
    }
}

/// Whether to accept an opening request: `Err` carries the HTTP status to
/// refuse it with. A request without the `xmpp` subprotocol does not meet
/// RFC 7395 §3.1's "MUST include", so it is a bad request (RFC 6455
/// §4.2.1: 400); Prosody answers 501 instead, ejabberd accepts it.
pub(crate) fn verdict(req: &Request) -> Result<(), u16> {
    let path = req
        .path
        .split_once('?')
        .map_or(req.path.as_str(), |(p, _)| p);
    if path != PATH {
        return Err(404);
    }
    if !req.protocols.iter().any(|p| p == SUBPROTOCOL) {
        return Err(400);
    }
    Ok(())
}

/// Reads the opening request and answers it: `101` with subprotocol
/// `xmpp`, or an HTTP error (the codec's for a malformed request, ours
/// from [`verdict`]). Returns the open WebSocket.
fn handshake(tcp: &mut TcpStream, config: ws_codec::Config) -> Option<ws_codec::Connection> {
    let deadline = Instant::now() + HANDSHAKE_TIME;
    let _ = tcp.set_read_timeout(Some(HANDSHAKE_TIME));
    let mut ws = ws_codec::Connection::server(config);
    let mut buf = vec![0; 4096];
    let request = loop {
        match ws.poll_event() {
            Some(WsEvent::Request(r)) => break r,
            Some(WsEvent::Closed { .. }) => {
                // The codec queued its HTTP error answer.
                write_ws(&mut ws, tcp);
                return None;
            }
            Some(_) => continue,
            None => {}
        }
        if Instant::now() >= deadline {
            return None;
        }
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => {
                let _ = ws.handle_input(buf.get(..n).unwrap_or_default());
            }
        }
    };
    let answered = match verdict(&request) {
        Ok(()) => ws.accept_with_protocol(Some(SUBPROTOCOL)),
        Err(status) => ws.reject(status),
    };
    if answered.is_err() || !write_ws(&mut ws, tcp) || !ws.is_open() {
        return None;
    }
    let _ = tcp.set_read_timeout(None);
    Some(ws)
}
