//! One connection's plumbing: its machine, the socket it writes to, and
//! the channel its reader thread and other connections feed.

use std::io::Write as _;
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use xmpp_codec::Connection;

use super::{Input, spawn_reader};

/// Longest wait without input or timers; the loop just goes round.
const IDLE_WAIT: Duration = Duration::from_secs(5);
/// A peer that takes nothing for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

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

/// A connection's machine bound to its socket and channel.
pub(crate) struct Link {
    pub(crate) conn: Connection,
    tcp: TcpStream,
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
            rx,
            tx,
            reader: Some(reader),
        })
    }

    /// Writes out what the machine queued; false when the socket failed.
    pub(crate) fn flush(&mut self) -> bool {
        while let Some(bytes) = self.conn.poll_transmit() {
            if self.tcp.write_all(&bytes).is_err() {
                return false;
            }
        }
        true
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
        let step = match self.rx.recv_timeout(wait) {
            Ok(Input::Data(d)) => {
                // A failure is reported by the machine as Event::Closed.
                let _ = self.conn.handle_input(&d);
                Step::Fed
            }
            Ok(Input::Eof) | Err(RecvTimeoutError::Disconnected) => Step::Eof,
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

    /// Writes what is left and closes the socket.
    pub(crate) fn finish(mut self) {
        let _ = self.flush();
        let _ = self.tcp.shutdown(Shutdown::Both);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}
