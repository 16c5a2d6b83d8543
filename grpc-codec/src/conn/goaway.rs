//! GOAWAY (RFC 9113 §6.8): the peer's, which refuses our streams above
//! its last stream id, and ours: graceful shutdown (a server's in two
//! phases, §6.8's advice), draining, and abort; and the end of the
//! transport, clean after GOAWAY or not.

use std::time::Instant;

use bytes::Bytes;

use super::stream::Gone;
use super::{Connection, Event, Phase, Role};
use crate::error::{ErrorCode, Reason};
use crate::frame::{Frame, GoAway, Ping, StreamId};

/// The PING a server's graceful shutdown sends after its first GOAWAY: its
/// ACK proves the client has seen that GOAWAY.
const SHUTDOWN_PING: [u8; 8] = *b"h2-drain";

/// What GOAWAY frames went each way.
#[derive(Debug, Default)]
pub(super) struct GoAwayState {
    /// The last stream id of the final GOAWAY we sent, and its code.
    sent: Option<(StreamId, ErrorCode)>,
    /// A two-phase shutdown's first GOAWAY is out: until when we wait for
    /// the PING that follows it to be answered.
    draining_ping: Option<Option<Instant>>,
    /// The lowest last stream id the peer sent, and its latest code.
    received: Option<(StreamId, ErrorCode)>,
}

impl GoAwayState {
    /// Whether GOAWAY went either way: no new streams of ours.
    pub(super) const fn going_away(&self) -> bool {
        self.sent.is_some() || self.draining_ping.is_some() || self.received.is_some()
    }

    /// Whether a new peer stream `id` is above our final GOAWAY's last
    /// stream id, to be ignored (§6.8).
    pub(super) fn refuses(&self, id: StreamId) -> bool {
        self.sent.is_some_and(|(last, _)| id > last)
    }

    pub(super) fn ping_deadline(&self) -> Option<Instant> {
        self.draining_ping.flatten()
    }

    pub(super) fn is_shutdown_ping(&self, data: [u8; 8]) -> bool {
        self.draining_ping.is_some() && data == SHUTDOWN_PING
    }
}

impl Connection {
    /// The peer's GOAWAY: reported; our streams above its last stream id
    /// were not processed and are reported refused (retryable, §8.7). With
    /// an error code the connection is over at once.
    pub(super) fn on_goaway(&mut self, g: &GoAway) {
        let last = match self.goaway.received {
            // The peer must not raise it (§6.8); keep the lowest.
            Some((prev, _)) => prev.min(g.last_stream_id),
            None => g.last_stream_id,
        };
        self.goaway.received = Some((last, g.code));
        self.events.push_back(Event::GoAway {
            last_stream_id: g.last_stream_id,
            code: g.code,
            debug_data: g.debug_data.clone(),
        });
        let refused: Vec<StreamId> = self
            .streams
            .map
            .keys()
            .copied()
            .filter(|&id| self.streams.is_local(id) && id > last)
            .collect();
        for stream in refused {
            self.remove_stream(stream, Gone::Reset);
            self.events.push_back(Event::Reset {
                stream,
                code: ErrorCode::REFUSED_STREAM,
                by_peer: true,
            });
        }
        if g.code != ErrorCode::NO_ERROR {
            let debug = String::from_utf8_lossy(&g.debug_data).into_owned();
            self.end();
            self.events.push_back(Event::Closed {
                code: g.code,
                reason: format!("peer sent GOAWAY {}: {debug}", g.code),
                by_peer: true,
                error: None,
            });
        }
    }

    /// Starts a graceful shutdown (§6.8): no new streams; those already
    /// open finish, then [`Event::Closed`] follows. A server first sends
    /// GOAWAY with 2^31 - 1 and a PING, and the final GOAWAY with the last
    /// stream it took once the PING is answered (or the SETTINGS timeout
    /// passes), so requests in flight are not lost. A client sends one
    /// GOAWAY. Calling it again does nothing.
    pub fn shutdown(&mut self) -> Result<(), crate::Error> {
        self.check_live()?;
        if self.goaway.sent.is_some() || self.goaway.draining_ping.is_some() {
            return Ok(());
        }
        match self.role {
            Role::Server => {
                self.write(&Frame::GoAway(GoAway::new(
                    StreamId::MAX,
                    ErrorCode::NO_ERROR,
                )));
                self.write(&Frame::Ping(Ping {
                    ack: false,
                    data: SHUTDOWN_PING,
                }));
                self.goaway.draining_ping =
                    Some(self.now.checked_add(self.config.settings_timeout));
            }
            Role::Client => self.send_final_goaway(ErrorCode::NO_ERROR, ""),
        }
        self.maybe_finish();
        Ok(())
    }

    /// The GOAWAY that fixes the last stream we take (§6.8).
    pub(super) fn send_final_goaway(&mut self, code: ErrorCode, debug: &str) {
        if self.goaway.sent.is_some() {
            return;
        }
        let last = self.streams.last_peer;
        self.write(&Frame::GoAway(GoAway {
            last_stream_id: last,
            code,
            debug_data: Bytes::copy_from_slice(debug.as_bytes()),
        }));
        self.goaway.draining_ping = None;
        self.goaway.sent = Some((last, code));
    }

    /// Ends the connection now (§6.8): GOAWAY with `code` (e.g.
    /// INTERNAL_ERROR, or NO_ERROR to give up on open streams) and
    /// `debug`; every stream is dropped and [`Event::Closed`] follows.
    pub fn abort(&mut self, code: ErrorCode, debug: &str) -> Result<(), crate::Error> {
        self.check_live()?;
        self.goaway.sent = None;
        self.send_final_goaway(code, debug);
        self.end();
        self.events.push_back(Event::Closed {
            code,
            reason: debug.to_owned(),
            by_peer: false,
            error: None,
        });
        Ok(())
    }

    /// The transport is closed: the peer's end of it returned EOF (or
    /// failed). Call it once reading is over. Streams still open are
    /// reported [`Event::Reset`] with CANCEL (`by_peer`) and the
    /// connection is over, [`Event::Closed`] reported once. After a GOAWAY
    /// either way with no stream left this is how a connection ends and
    /// returns `Ok`; otherwise the peer vanished (no GOAWAY, streams cut
    /// off, or a frame cut short): a connection error CANCEL,
    /// [`Reason::UnexpectedEof`](crate::Reason), sticky like any other.
    /// Nothing is queued for the peer; frames queued before stay
    /// available from `poll_transmit` for a half-closed transport. Once
    /// closed, it does nothing (or returns the earlier error).
    pub fn handle_eof(&mut self) -> Result<(), crate::Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.phase == Phase::Closed {
            return Ok(());
        }
        let open: Vec<StreamId> = self.streams.map.keys().copied().collect();
        let partial = !self.inbuf.is_empty() || self.block.is_some();
        let goaway = self.goaway.going_away();
        for &stream in &open {
            self.events.push_back(Event::Reset {
                stream,
                code: ErrorCode::CANCEL,
                by_peer: true,
            });
        }
        self.end();
        if goaway && open.is_empty() && !partial {
            let code = self
                .goaway
                .received
                .or(self.goaway.sent)
                .map_or(ErrorCode::NO_ERROR, |(_, c)| c);
            self.events.push_back(Event::Closed {
                code,
                reason: "transport closed after GOAWAY".to_owned(),
                by_peer: true,
                error: None,
            });
            return Ok(());
        }
        let e = crate::Error::connection(
            ErrorCode::CANCEL,
            Reason::UnexpectedEof {
                goaway,
                open_streams: open.len(),
                partial_frame: partial,
            },
        );
        self.error = Some(e.clone());
        self.events.push_back(Event::Closed {
            code: e.code(),
            reason: e.to_string(),
            by_peer: true,
            error: Some(e.clone()),
        });
        Err(e)
    }

    /// Once GOAWAY went either way and no stream is left, the connection
    /// is done: [`Event::Closed`].
    pub(super) fn maybe_finish(&mut self) {
        if self.phase == Phase::Closed || !self.streams.map.is_empty() {
            return;
        }
        let (code, by_peer) = match (self.goaway.sent, self.goaway.received) {
            (Some((_, code)), _) => (code, false),
            (None, Some((_, code))) => (code, true),
            (None, None) => return,
        };
        self.end();
        self.events.push_back(Event::Closed {
            code,
            reason: "GOAWAY and no streams left".to_owned(),
            by_peer,
            error: None,
        });
    }
}
