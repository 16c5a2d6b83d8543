//! One connection's plumbing: its machine, the socket it writes to (as
//! is, or through a WebSocket for RFC 7395), and the channel its reader
//! thread and other connections feed.

use std::io::Write as _;
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ws_codec::{CloseCode, Event as WsEvent, Message as WsMessage};
use xmpp_codec::Connection;

use super::{Input, spawn_reader};

/// Longest wait without input or timers; the loop just goes round.
const IDLE_WAIT: Duration = Duration::from_secs(5);
/// A peer that takes nothing for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a WebSocket client has to answer our close frame.
const WS_LINGER: Duration = Duration::from_secs(2);

/// What one wait produced.
#[derive(Debug)]
pub(crate) enum Step {
    /// Socket bytes were fed to the machine, a timer ran, or nothing came.
    Fed,
    /// Something other than socket bytes, for the owner.
    Input(Input),
    /// The socket ended (or failed).
    Eof,
}

/// How the machine's output reaches the socket and the socket's input the
/// machine.
enum Wire {
    /// XMPP over TCP: bytes as they are.
    Tcp,
    /// RFC 7395: each message of the machine is one WebSocket text
    /// message, and each message the client sends is fed whole.
    WebSocket(Box<ws_codec::Connection>),
}

/// A connection's machine bound to its socket and channel.
pub(crate) struct Link {
    pub(crate) conn: Connection,
    tcp: TcpStream,
    wire: Wire,
    /// The transport is over: the socket ended, or the WebSocket closed.
    ended: bool,
    rx: Receiver<Input>,
    /// The channel others use to reach this connection.
    pub(crate) tx: Sender<Input>,
    reader: Option<JoinHandle<()>>,
}

impl Link {
    /// Binds `conn` to `tcp` and starts the reader thread.
    pub(crate) fn new(tcp: TcpStream, conn: Connection, name: &str) -> Option<Self> {
        let (tx, rx) = mpsc::channel();
        Self::with_channel(tcp, conn, name, tx, rx)
    }

    /// [`Self::new`] with a channel made earlier (stanzas may already wait
    /// in it).
    pub(crate) fn with_channel(
        tcp: TcpStream,
        conn: Connection,
        name: &str,
        tx: Sender<Input>,
        rx: Receiver<Input>,
    ) -> Option<Self> {
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
        let reader = spawn_reader(&tcp, format!("{name}-read"), tx.clone())?;
        Some(Self {
            conn,
            tcp,
            wire: Wire::Tcp,
            ended: false,
            rx,
            tx,
            reader: Some(reader),
        })
    }

    /// Binds `conn` (in RFC 7395 framing) to the WebSocket `ws` on `tcp`,
    /// whose opening handshake is done. Messages the client sent behind
    /// its request are fed at once.
    pub(crate) fn websocket(
        tcp: TcpStream,
        ws: ws_codec::Connection,
        conn: Connection,
        name: &str,
    ) -> Option<Self> {
        let mut link = Self::new(tcp, conn, name)?;
        link.wire = Wire::WebSocket(Box::new(ws));
        link.pump_ws();
        Some(link)
    }

    /// Writes out what the machine queued; false when the socket failed.
    pub(crate) fn flush(&mut self) -> bool {
        while let Some(bytes) = self.conn.poll_transmit() {
            let sent = match &mut self.wire {
                Wire::Tcp => self.tcp.write_all(&bytes).is_ok(),
                // The machine writes UTF-8 XML, one element per message
                // (RFC 7395 §3.2: text frames).
                Wire::WebSocket(ws) => std::str::from_utf8(&bytes)
                    .is_ok_and(|text| ws.send_text(text).is_ok() && write_ws(ws, &mut self.tcp)),
            };
            if !sent {
                return false;
            }
        }
        match &mut self.wire {
            Wire::Tcp => true,
            // Pongs and close replies the WebSocket owes.
            Wire::WebSocket(ws) => write_ws(ws, &mut self.tcp),
        }
    }

    /// Feeds socket bytes to the machine (through the WebSocket, if any).
    fn feed(&mut self, data: &[u8]) {
        match &mut self.wire {
            Wire::Tcp => {
                // A failure is reported by the machine as Event::Closed.
                let _ = self.conn.handle_input(data);
            }
            Wire::WebSocket(ws) => {
                // A failure is reported as WsEvent::Closed, its close frame
                // queued.
                let _ = ws.handle_input(data);
                self.pump_ws();
            }
        }
    }

    /// Hands the WebSocket's messages to the machine; marks the transport
    /// ended when the WebSocket closed.
    fn pump_ws(&mut self) {
        let Wire::WebSocket(ws) = &mut self.wire else {
            return;
        };
        while let Some(ev) = ws.poll_event() {
            match ev {
                // One element per message (RFC 7395 §3.3.3): the machine
                // checks it and fails the stream otherwise.
                WsEvent::Message(WsMessage::Text(text)) => {
                    let _ = self.conn.handle_message(text.as_bytes());
                }
                // RFC 7395 §3.2 allows text frames only; Prosody closes
                // with 1003 too.
                WsEvent::Message(WsMessage::Binary(_)) => {
                    let _ = ws.close(CloseCode::UNSUPPORTED_DATA, "XMPP is sent as text");
                }
                WsEvent::Closed { .. } => self.ended = true,
                _ => {}
            }
        }
    }

    /// Waits for input (at most until the machine's next timer), feeds
    /// socket bytes to the machine, runs due timers.
    pub(crate) fn next(&mut self) -> Step {
        let now = Instant::now();
        let wait = self
            .conn
            .poll_timeout()
            .map_or(IDLE_WAIT, |t| t.saturating_duration_since(now))
            .min(IDLE_WAIT);
        if self.ended {
            return Step::Eof;
        }
        let step = match self.rx.recv_timeout(wait) {
            Ok(Input::Data(d)) => {
                self.feed(&d);
                if self.ended { Step::Eof } else { Step::Fed }
            }
            Ok(Input::Eof) | Err(RecvTimeoutError::Disconnected) => {
                self.ended = true;
                Step::Eof
            }
            Ok(other) => Step::Input(other),
            Err(RecvTimeoutError::Timeout) => Step::Fed,
        };
        let now = Instant::now();
        if self.conn.poll_timeout().is_some_and(|t| t <= now) {
            self.conn.handle_timeout(now);
        }
        step
    }

    /// The inputs still queued (socket bytes and the end of the socket
    /// left out).
    pub(crate) fn drain(&self) -> Vec<Input> {
        std::iter::from_fn(|| self.rx.try_recv().ok())
            .filter(|i| !matches!(i, Input::Data(_) | Input::Eof))
            .collect()
    }

    /// Writes what is left and closes the socket; a WebSocket is closed
    /// with its closing handshake first (after the machine's `<close/>`,
    /// RFC 7395 §3.6).
    pub(crate) fn finish(mut self) {
        let _ = self.flush();
        self.close_websocket();
        let _ = self.tcp.shutdown(Shutdown::Both);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }

    /// Sends our close frame and waits a little for the client's, so the
    /// server closes TCP first on a completed handshake (RFC 6455 §7.1.1).
    fn close_websocket(&mut self) {
        let Wire::WebSocket(ws) = &mut self.wire else {
            return;
        };
        if ws.is_closed() {
            return;
        }
        let _ = ws.close(CloseCode::NORMAL, "");
        if !write_ws(ws, &mut self.tcp) {
            return;
        }
        let deadline = Instant::now() + WS_LINGER;
        while !self.ended && !ws.is_closed() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Input::Data(d)) => {
                    if ws.handle_input(&d).is_err() {
                        break;
                    }
                    // The session is over: what still arrives is dropped.
                    while ws.poll_event().is_some() {}
                    let _ = write_ws(ws, &mut self.tcp);
                }
                Ok(Input::Eof) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

/// Writes out what the WebSocket queued; false when the socket failed.
pub(crate) fn write_ws(ws: &mut ws_codec::Connection, tcp: &mut TcpStream) -> bool {
    while let Some(bytes) = ws.poll_transmit() {
        if tcp.write_all(&bytes).is_err() {
            return false;
        }
    }
    true
}
