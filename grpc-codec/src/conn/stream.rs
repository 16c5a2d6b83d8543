//! Stream states (RFC 9113 §5.1) and stream ids (§5.1.1): the streams that
//! are open or half-closed, the ones recently closed or reset, and which
//! ids each side may still open.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use super::flow::{RecvWindow, SendWindow};
use crate::frame::StreamId;
use crate::hpack::Header;

/// A stream's state (§5.1). Push is never enabled, so the reserved states
/// do not occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamState {
    /// Not yet used.
    Idle,
    /// Both sides may send.
    Open,
    /// We sent END_STREAM; the peer may still send.
    HalfClosedLocal,
    /// The peer sent END_STREAM; we may still send.
    HalfClosedRemote,
    /// Done, or reset.
    Closed,
}

/// Where the peer is in the message it sends on a stream (§8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecvPhase {
    /// Client: waiting for the (final) response head.
    Head,
    /// Request or final response head received: DATA, then trailers.
    Body,
}

/// Where we are in the message we send on a stream (§8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SendPhase {
    /// Server: no final response head sent yet.
    Head,
    /// Head sent: DATA and trailers may follow.
    Body,
    /// END_STREAM queued (it may still wait behind queued DATA).
    Ended,
}

/// An open or half-closed stream.
#[derive(Debug)]
pub(super) struct Stream {
    pub(super) state: StreamState,
    pub(super) recv_phase: RecvPhase,
    pub(super) send_phase: SendPhase,
    pub(super) send_window: SendWindow,
    pub(super) recv_window: RecvWindow,
    /// The peer's content-length (§8.1.1) and the DATA bytes so far.
    pub(super) content_length: Option<u64>,
    pub(super) received: u64,
    /// Client: we sent a HEAD request, so the response has no content.
    pub(super) head_request: bool,
    /// DATA queued for the peer's windows, in order, and its total.
    pub(super) queue: VecDeque<Bytes>,
    pub(super) queued: usize,
    /// END_STREAM goes out with the last queued DATA (or after it).
    pub(super) end_queued: bool,
    /// Trailers to send once the queue is empty.
    pub(super) trailers: Option<Vec<Header>>,
    /// Manual flow control: DATA reported but not yet released.
    pub(super) unreleased: u64,
    pub(super) deadline: Option<Instant>,
    /// `send_data` was refused for lack of buffer space.
    pub(super) wants_writable: bool,
}

impl Stream {
    pub(super) fn new(send_window: u32, recv_window: u32, recv_phase: RecvPhase) -> Self {
        Self {
            state: StreamState::Open,
            recv_phase,
            send_phase: SendPhase::Head,
            send_window: SendWindow::new(send_window),
            recv_window: RecvWindow::new(recv_window, recv_window),
            content_length: None,
            received: 0,
            head_request: false,
            queue: VecDeque::new(),
            queued: 0,
            end_queued: false,
            trailers: None,
            unreleased: 0,
            deadline: None,
            wants_writable: false,
        }
    }

    /// Whether the peer may still send on the stream.
    pub(super) const fn recv_open(&self) -> bool {
        matches!(self.state, StreamState::Open | StreamState::HalfClosedLocal)
    }

    /// Whether END_STREAM has gone out.
    pub(super) const fn send_closed(&self) -> bool {
        matches!(
            self.state,
            StreamState::HalfClosedLocal | StreamState::Closed
        )
    }

    /// The peer sent END_STREAM.
    pub(super) fn close_recv(&mut self) {
        self.state = match self.state {
            StreamState::Open => StreamState::HalfClosedRemote,
            _ => StreamState::Closed,
        };
    }

    /// We sent END_STREAM.
    pub(super) fn close_send(&mut self) {
        self.state = match self.state {
            StreamState::Open => StreamState::HalfClosedLocal,
            _ => StreamState::Closed,
        };
    }

    /// Whether frames wait for the peer's window (or for nothing, as an
    /// empty END_STREAM or trailers do).
    pub(super) fn has_pending_send(&self) -> bool {
        !self.send_closed() && (self.queued > 0 || self.end_queued || self.trailers.is_some())
    }
}

/// How a stream that is no longer tracked ended, for late frames (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gone {
    /// We reset it: frames in flight are dropped until the instant.
    ResetByUs(Instant),
    /// Reset by the peer, or by us longer ago than the grace period: late
    /// frames are a stream error STREAM_CLOSED (§5.1 "closed").
    Reset,
    /// Ended on both sides with END_STREAM: late frames are a connection
    /// error STREAM_CLOSED (§5.1 "closed").
    Closed,
}

/// The streams of one connection.
#[derive(Debug)]
pub(super) struct Streams {
    pub(super) map: BTreeMap<StreamId, Stream>,
    /// The next id we open; above 2^31 - 1 once exhausted.
    pub(super) next_local: u32,
    /// The highest id the peer opened (or tried to).
    pub(super) last_peer: StreamId,
    /// Streams we opened that are still active, and the peer's.
    pub(super) local_active: usize,
    pub(super) peer_active: usize,
    /// Recently ended streams, oldest first, bounded.
    gone: VecDeque<(StreamId, Gone)>,
    /// Ids the peer skipped, implicitly closed without being opened
    /// (§5.1.1), as inclusive ranges, oldest first, bounded like `gone`.
    skipped: VecDeque<(u32, u32)>,
    max_gone: usize,
    /// Whether we are the client (odd ids are ours).
    client: bool,
}

impl Streams {
    pub(super) fn new(client: bool, first_id: Option<u32>, max_gone: usize) -> Self {
        let parity = u32::from(client);
        let first = first_id.unwrap_or(0).max(1);
        // Move a first id of the wrong parity up to the right one.
        let first = if first % 2 == parity {
            first
        } else {
            first.saturating_add(1)
        };
        let first = if client { first } else { first.max(2) };
        Self {
            map: BTreeMap::new(),
            next_local: first,
            last_peer: StreamId::ZERO,
            local_active: 0,
            peer_active: 0,
            gone: VecDeque::new(),
            skipped: VecDeque::new(),
            max_gone: max_gone.max(1),
            client,
        }
    }

    /// Whether `id` is one we open (§5.1.1).
    pub(super) const fn is_local(&self, id: StreamId) -> bool {
        if self.client {
            id.is_client_initiated()
        } else {
            id.is_server_initiated()
        }
    }

    /// Whether `id` is still idle: above every id its opener used.
    pub(super) fn is_idle(&self, id: StreamId) -> bool {
        if self.is_local(id) {
            id.value() >= self.next_local
        } else {
            id > self.last_peer
        }
    }

    /// The state of `id` as far as this connection remembers.
    pub(super) fn state(&self, id: StreamId) -> StreamState {
        match self.map.get(&id) {
            Some(s) => s.state,
            None if id.is_zero() || self.is_idle(id) => StreamState::Idle,
            None => StreamState::Closed,
        }
    }

    /// The peer opens `id`, above its last: the ids it skipped are closed
    /// without having been opened (§5.1.1).
    pub(super) fn open_peer(&mut self, id: StreamId) {
        let first = if self.last_peer.is_zero() {
            if self.client { 2 } else { 1 }
        } else {
            self.last_peer.value().saturating_add(2)
        };
        let last = id.value().saturating_sub(2);
        if first <= last {
            if self.skipped.len() >= self.max_gone {
                self.skipped.pop_front();
            }
            self.skipped.push_back((first, last));
        }
        self.last_peer = id;
    }

    /// Whether the peer skipped `id` (closed, not idle) without opening
    /// it, as far as we remember.
    pub(super) fn was_skipped(&self, id: StreamId) -> bool {
        let v = id.value();
        self.skipped.iter().any(|&(a, b)| a <= v && v <= b)
    }

    /// How `id` (closed, not idle) ended, if it is still remembered.
    pub(super) fn gone(&self, id: StreamId, now: Instant) -> Option<Gone> {
        let g = self
            .gone
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map(|&(_, g)| g)?;
        Some(match g {
            Gone::ResetByUs(until) if now >= until => Gone::Reset,
            g => g,
        })
    }

    /// Takes the next local id, if any is left.
    pub(super) fn take_local_id(&mut self) -> Option<StreamId> {
        let id = self.next_local;
        if id > StreamId::MAX.value() {
            return None;
        }
        self.next_local = id.saturating_add(2);
        Some(StreamId::new(id))
    }

    pub(super) fn insert(&mut self, id: StreamId, stream: Stream) {
        if self.is_local(id) {
            self.local_active += 1;
        } else {
            self.peer_active += 1;
        }
        self.map.insert(id, stream);
    }

    /// Stops tracking `id`, remembering how it ended.
    pub(super) fn remove(&mut self, id: StreamId, how: Gone) -> Option<Stream> {
        let s = self.map.remove(&id)?;
        if self.is_local(id) {
            self.local_active = self.local_active.saturating_sub(1);
        } else {
            self.peer_active = self.peer_active.saturating_sub(1);
        }
        self.remember(id, how);
        Some(s)
    }

    /// Remembers a stream that ended without being tracked (refused, or
    /// reset at once).
    pub(super) fn remember(&mut self, id: StreamId, how: Gone) {
        if self.gone.len() >= self.max_gone {
            self.gone.pop_front();
        }
        self.gone.push_back((id, how));
    }

    pub(super) fn clear(&mut self) {
        self.map.clear();
        self.local_active = 0;
        self.peer_active = 0;
        self.gone.clear();
        self.skipped.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_idleness() {
        let mut c = Streams::new(true, None, 4);
        assert_eq!(c.take_local_id(), Some(StreamId::new(1)));
        assert!(c.is_idle(StreamId::new(3)));
        assert!(!c.is_idle(StreamId::new(1)));
        assert!(c.is_idle(StreamId::new(2)));
        let mut s = Streams::new(false, Some(7), 4);
        assert_eq!(s.take_local_id(), Some(StreamId::new(8)));
        let mut e = Streams::new(true, Some(StreamId::MAX.value()), 4);
        assert_eq!(e.take_local_id(), Some(StreamId::MAX));
        assert_eq!(e.take_local_id(), None);
    }

    #[test]
    fn states_follow_end_stream() {
        let mut s = Stream::new(10, 10, RecvPhase::Body);
        s.close_send();
        assert_eq!(s.state, StreamState::HalfClosedLocal);
        assert!(s.recv_open() && s.send_closed());
        s.close_recv();
        assert_eq!(s.state, StreamState::Closed);
    }

    #[test]
    fn gone_streams_are_bounded() {
        let t = Instant::now();
        let mut s = Streams::new(false, None, 2);
        s.last_peer = StreamId::new(7);
        s.remember(StreamId::new(1), Gone::Closed);
        s.remember(StreamId::new(3), Gone::ResetByUs(t));
        s.remember(StreamId::new(5), Gone::Closed);
        assert_eq!(s.gone(StreamId::new(1), t), None);
        assert_eq!(s.gone(StreamId::new(3), t), Some(Gone::Reset));
        assert_eq!(s.state(StreamId::new(5)), StreamState::Closed);
        assert_eq!(s.state(StreamId::new(9)), StreamState::Idle);
    }

    #[test]
    fn skipped_ids_are_remembered_bounded() {
        let mut s = Streams::new(false, None, 2);
        s.open_peer(StreamId::new(1));
        s.open_peer(StreamId::new(7));
        assert!(s.was_skipped(StreamId::new(3)) && s.was_skipped(StreamId::new(5)));
        assert!(!s.was_skipped(StreamId::new(1)) && !s.was_skipped(StreamId::new(7)));
        s.open_peer(StreamId::new(11));
        s.open_peer(StreamId::new(13));
        s.open_peer(StreamId::new(17));
        assert!(!s.was_skipped(StreamId::new(3)), "forgotten");
        assert!(s.was_skipped(StreamId::new(9)) && s.was_skipped(StreamId::new(15)));
        let mut first = Streams::new(false, None, 2);
        first.open_peer(StreamId::new(5));
        assert!(first.was_skipped(StreamId::new(1)));
    }
}
