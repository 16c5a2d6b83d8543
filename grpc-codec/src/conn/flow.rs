//! Flow control (RFC 9113 §5.2, §6.9): the windows we send against and
//! the ones we grant, DATA on receipt (§6.1) and WINDOW_UPDATE both ways.

use super::stream::{Gone, RecvPhase};
use super::{Connection, Event, StreamState};
use crate::config::FlowControl;
use crate::error::{Error, ErrorCode, Reason};
use crate::frame::{Data, FrameType, MAX_WINDOW_SIZE, StreamId, WindowUpdate};

/// The default initial window of a connection and of every stream
/// (§6.9.2).
pub(super) const DEFAULT_WINDOW: u32 = 65_535;

/// A window we send against: the peer's grant, which SETTINGS changes can
/// make negative (§6.9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SendWindow(i64);

impl SendWindow {
    pub(super) fn new(size: u32) -> Self {
        Self(i64::from(size))
    }

    /// Bytes that may go now.
    pub(super) fn available(self) -> usize {
        usize::try_from(self.0.max(0)).unwrap_or(usize::MAX)
    }

    pub(super) const fn value(self) -> i64 {
        self.0
    }

    /// The window after `delta` (a WINDOW_UPDATE increment, or the change
    /// of SETTINGS_INITIAL_WINDOW_SIZE), `None` above 2^31 - 1 (§6.9.1).
    pub(super) fn checked_add(self, delta: i64) -> Option<Self> {
        let v = self.0.checked_add(delta)?;
        (v <= i64::from(MAX_WINDOW_SIZE)).then_some(Self(v))
    }

    pub(super) fn consume(&mut self, n: usize) {
        self.0 = self.0.saturating_sub(i64::try_from(n).unwrap_or(i64::MAX));
    }
}

/// A window the peer sends against: what we advertised, what is left,
/// and what was given back but not yet announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RecvWindow {
    /// The window we keep the peer at.
    target: u32,
    /// What the peer may still send.
    available: i64,
    /// Released bytes not yet sent in a WINDOW_UPDATE.
    unannounced: u32,
}

impl RecvWindow {
    /// A window the peer believes to be `initial`, which we mean to keep at
    /// `target` (the connection window starts at 65535 whatever we want).
    pub(super) fn new(initial: u32, target: u32) -> Self {
        let target = target.min(MAX_WINDOW_SIZE);
        Self {
            target,
            available: i64::from(initial),
            unannounced: target.saturating_sub(initial),
        }
    }

    pub(super) fn available(self) -> i64 {
        self.available
    }

    /// Takes a frame of `len` flow-controlled bytes, `false` (changing
    /// nothing) if the window does not allow it.
    pub(super) fn consume(&mut self, len: u32) -> bool {
        self.consume_with_slack(len, 0)
    }

    /// As [`RecvWindow::consume`], allowing `slack` bytes the peer may add
    /// to the window before we know it has (a larger initial window we
    /// sent, not yet acknowledged); the window may go negative until
    /// [`RecvWindow::resize`] adds them.
    pub(super) fn consume_with_slack(&mut self, len: u32, slack: i64) -> bool {
        if i64::from(len) > self.available.saturating_add(slack.max(0)) {
            return false;
        }
        self.available -= i64::from(len);
        true
    }

    /// A new initial window `target` in force (§6.9.2): the peer's window
    /// moved by `delta`, maybe below zero, and refills now aim at
    /// `target`.
    pub(super) fn resize(&mut self, target: u32, delta: i64) {
        self.target = target.min(MAX_WINDOW_SIZE);
        self.available = self.available.saturating_add(delta);
    }

    /// Gives back `n` consumed bytes; returns the WINDOW_UPDATE increment
    /// to send once `percent` of the target is waiting to be announced.
    pub(super) fn release(&mut self, n: u32, percent: u8) -> Option<u32> {
        self.unannounced = self.unannounced.saturating_add(n);
        self.take_update(percent)
    }

    /// The increment due now, if at least `percent` of the target waits.
    pub(super) fn take_update(&mut self, percent: u8) -> Option<u32> {
        let threshold = u64::from(self.target) * u64::from(percent.clamp(1, 100)) / 100;
        if self.unannounced == 0 || u64::from(self.unannounced) < threshold.max(1) {
            return None;
        }
        // Never announce past 2^31 - 1 in total (§6.9.1).
        let room = i64::from(MAX_WINDOW_SIZE) - self.available;
        let inc = u32::try_from(i64::from(self.unannounced).min(room).max(0)).unwrap_or(0);
        if inc == 0 {
            return None;
        }
        self.unannounced -= inc;
        self.available += i64::from(inc);
        Some(inc)
    }
}

impl Connection {
    /// DATA (§6.1): counted against the connection window whatever the
    /// stream's state, then against the stream's, checked against
    /// content-length (§8.1.1) and reported.
    pub(super) fn on_data(&mut self, d: Data) -> Result<(), Error> {
        let id = d.stream_id;
        let len = u32::try_from(d.flow_controlled_len()).unwrap_or(u32::MAX);
        let state = self.streams.state(id);
        if state == StreamState::Idle {
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::IdleStream {
                    frame: FrameType::DATA,
                    stream: id,
                },
            ));
        }
        let window = self.recv_window.available();
        if !self.recv_window.consume(len) {
            return Err(Error::connection(
                ErrorCode::FLOW_CONTROL_ERROR,
                Reason::WindowExceeded { len, window },
            ));
        }
        if len == 0 && !d.end_stream {
            let limit = self.config.limits.max_empty_frames;
            self.empty_frames = self.empty_frames.saturating_add(1);
            if self.empty_frames > limit {
                return Err(Error::connection(
                    ErrorCode::ENHANCE_YOUR_CALM,
                    Reason::EmptyFrameFlood { limit },
                ));
            }
        } else {
            self.empty_frames = 0;
        }
        let closed = Reason::StreamClosed {
            frame: FrameType::DATA,
            stream: id,
        };
        let slack = self.recv_window_slack();
        let Some(s) = self.streams.map.get_mut(&id).filter(|s| s.recv_open()) else {
            // Discarded DATA still gives its connection window back.
            self.release_connection(len);
            return match self.streams.gone(id, self.now) {
                // In flight when we reset it.
                Some(Gone::ResetByUs(_)) => Ok(()),
                Some(Gone::Reset) => self.stream_error(id, ErrorCode::STREAM_CLOSED, closed),
                // After the stream ended on both sides (§5.1 "closed": a
                // connection error, as for HEADERS).
                Some(Gone::Closed) => Err(Error::connection(ErrorCode::STREAM_CLOSED, closed)),
                // Half-closed (remote), or closed too long ago to tell.
                None => self.stream_error(id, ErrorCode::STREAM_CLOSED, closed),
            };
        };
        let window = s.recv_window.available().saturating_add(slack);
        let data_len = d.data.len() as u64;
        let received = s.received.saturating_add(data_len);
        let problem = if s.recv_phase == RecvPhase::Head {
            Some((
                ErrorCode::PROTOCOL_ERROR,
                Reason::Malformed("DATA before the response head (§8.1)"),
            ))
        } else if !s.recv_window.consume_with_slack(len, slack) {
            Some((
                ErrorCode::FLOW_CONTROL_ERROR,
                Reason::WindowExceeded { len, window },
            ))
        } else if s
            .content_length
            .is_some_and(|n| received > n || (d.end_stream && received != n))
        {
            Some((
                ErrorCode::PROTOCOL_ERROR,
                Reason::Malformed("DATA length differs from content-length (§8.1.1)"),
            ))
        } else {
            None
        };
        if let Some((code, reason)) = problem {
            self.release_connection(len);
            return self.stream_error(id, code, reason);
        }
        s.received = received;
        let padding = len.saturating_sub(u32::try_from(data_len).unwrap_or(u32::MAX));
        let release = match self.config.flow_control {
            FlowControl::Auto => len,
            FlowControl::Manual => {
                s.unreleased = s.unreleased.saturating_add(data_len);
                padding
            }
        };
        if d.end_stream {
            s.close_recv();
        }
        if release > 0 {
            self.release_stream(id, release);
            self.release_connection(release);
        }
        if len > 0 || d.end_stream {
            self.events.push_back(Event::Data {
                stream: id,
                data: d.data,
                end_stream: d.end_stream,
            });
        }
        self.remove_if_closed(id);
        Ok(())
    }

    /// Gives `n` bytes back to the connection window, announcing them once
    /// enough are due.
    pub(super) fn release_connection(&mut self, n: u32) {
        if let Some(inc) = self
            .recv_window
            .release(n, self.config.window_update_percent)
        {
            self.write_window_update(StreamId::ZERO, inc);
        }
    }

    /// Gives `n` bytes back to `id`'s window, announced only while the
    /// peer may still send on it.
    fn release_stream(&mut self, id: StreamId, n: u32) {
        let pct = self.config.window_update_percent;
        let Some(s) = self.streams.map.get_mut(&id) else {
            return;
        };
        if !s.recv_open() {
            return;
        }
        if let Some(inc) = s.recv_window.release(n, pct) {
            self.write_window_update(id, inc);
        }
    }

    /// Manual flow control: the application has consumed `n` bytes of
    /// `stream`'s DATA; they return to the stream's and the connection's
    /// windows (WINDOW_UPDATE once enough are due). Bytes beyond what was
    /// reported, and streams already gone (whose bytes came back when they
    /// closed), are ignored. In [`FlowControl::Auto`] mode this does
    /// nothing.
    pub fn release_capacity(&mut self, stream: StreamId, n: usize) -> Result<(), Error> {
        self.check_live()?;
        let Some(s) = self.streams.map.get_mut(&stream) else {
            return Ok(());
        };
        let n = u64::try_from(n).unwrap_or(u64::MAX).min(s.unreleased);
        s.unreleased -= n;
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if n > 0 {
            self.release_stream(stream, n);
            self.release_connection(n);
        }
        Ok(())
    }

    /// WINDOW_UPDATE (§6.9): more room to send, on the connection or a
    /// stream; past 2^31 - 1 is FLOW_CONTROL_ERROR (§6.9.1). (The decoder
    /// rejects a zero increment.)
    pub(super) fn on_window_update(&mut self, w: WindowUpdate) -> Result<(), Error> {
        let inc = i64::from(w.increment);
        let id = w.stream_id;
        if id.is_zero() {
            self.send_window = self.send_window.checked_add(inc).ok_or(Error::connection(
                ErrorCode::FLOW_CONTROL_ERROR,
                Reason::WindowOverflow,
            ))?;
            return Ok(());
        }
        match self.streams.state(id) {
            StreamState::Idle => Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::IdleStream {
                    frame: FrameType::WINDOW_UPDATE,
                    stream: id,
                },
            )),
            // It may have crossed our END_STREAM or RST_STREAM (§5.1).
            StreamState::Closed => Ok(()),
            _ => {
                let Some(s) = self.streams.map.get_mut(&id) else {
                    return Ok(());
                };
                match s.send_window.checked_add(inc) {
                    Some(next) => {
                        s.send_window = next;
                        Ok(())
                    }
                    None => {
                        self.stream_error(id, ErrorCode::FLOW_CONTROL_ERROR, Reason::WindowOverflow)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_window_limits() {
        let w = SendWindow::new(DEFAULT_WINDOW);
        assert_eq!(w.checked_add(i64::from(MAX_WINDOW_SIZE)), None);
        let w = w
            .checked_add(i64::from(MAX_WINDOW_SIZE - DEFAULT_WINDOW))
            .unwrap();
        assert_eq!(w.value(), i64::from(MAX_WINDOW_SIZE));
        let mut n = SendWindow::new(10).checked_add(-30).unwrap();
        assert_eq!(n.available(), 0);
        n.consume(5);
        assert_eq!(n.value(), -25);
    }

    #[test]
    fn recv_window_refills_at_threshold() {
        let mut w = RecvWindow::new(100, 100);
        assert!(w.consume(60));
        assert!(!w.consume(41));
        assert_eq!(w.available(), 40);
        assert_eq!(w.release(40, 50), None);
        assert_eq!(w.release(20, 50), Some(60));
        assert_eq!(w.available(), 100);
    }

    #[test]
    fn connection_window_announces_its_target() {
        let mut w = RecvWindow::new(DEFAULT_WINDOW, 1 << 20);
        assert_eq!(w.take_update(50), Some((1 << 20) - DEFAULT_WINDOW));
        assert_eq!(w.available(), 1 << 20);
        let mut max = RecvWindow::new(DEFAULT_WINDOW, u32::MAX);
        assert_eq!(max.take_update(1), Some(MAX_WINDOW_SIZE - DEFAULT_WINDOW));
        assert_eq!(max.release(5, 1), None);
    }
}
