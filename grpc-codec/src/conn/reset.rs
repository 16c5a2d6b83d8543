//! RST_STREAM (RFC 9113 §6.4) both ways, stream errors (§5.4.2), and the
//! rapid-reset defence (CVE-2023-44487): resets the peer causes are
//! counted over a window of caller-supplied time.

use std::time::Instant;

use super::stream::Gone;
use super::{Connection, Event, StreamState};
use crate::error::{Error, ErrorCode, Reason};
use crate::frame::{Frame, FrameType, RstStream, StreamId};

/// Resets counted since `start`.
#[derive(Debug, Clone, Copy)]
pub(super) struct ResetCounter {
    start: Instant,
    count: u32,
}

impl ResetCounter {
    pub(super) const fn new(now: Instant) -> Self {
        Self {
            start: now,
            count: 0,
        }
    }
}

impl Connection {
    /// The peer's RST_STREAM: the stream is closed (§5.1); one it opened
    /// counts towards the rapid-reset limit.
    pub(super) fn on_rst_stream(&mut self, id: StreamId, code: ErrorCode) -> Result<(), Error> {
        match self.streams.state(id) {
            StreamState::Idle => Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::IdleStream {
                    frame: FrameType::RST_STREAM,
                    stream: id,
                },
            )),
            // Late, or crossing ours: nothing to do (§5.1 "closed").
            StreamState::Closed => Ok(()),
            _ => {
                self.remove_stream(id, Gone::Reset);
                self.events.push_back(Event::Reset {
                    stream: id,
                    code,
                    by_peer: true,
                });
                if self.streams.is_local(id) {
                    Ok(())
                } else {
                    self.count_reset()
                }
            }
        }
    }

    /// A stream error (§5.4.2): RST_STREAM with `code`, an [`Event::Reset`]
    /// if the application knew the stream, and the connection goes on.
    /// On an idle stream, where RST_STREAM may not go (§6.4), it is a
    /// connection error instead.
    pub(super) fn stream_error(
        &mut self,
        id: StreamId,
        code: ErrorCode,
        reason: Reason,
    ) -> Result<(), Error> {
        if self.streams.state(id) == StreamState::Idle {
            return Err(Error::connection(code, reason));
        }
        let rst = Frame::RstStream(RstStream {
            stream_id: id,
            code,
        });
        self.check_control_room(rst.payload_len())?;
        let until = self.reset_until();
        if self.remove_stream(id, Gone::ResetByUs(until)).is_some() {
            self.events.push_back(Event::Reset {
                stream: id,
                code,
                by_peer: false,
            });
        } else {
            self.streams.remember(id, Gone::ResetByUs(until));
        }
        self.write_control(&rst)?;
        if code == ErrorCode::REFUSED_STREAM {
            Ok(())
        } else {
            self.count_reset()
        }
    }

    /// Counts one reset the peer caused; too many in the window is
    /// ENHANCE_YOUR_CALM (§10.5).
    fn count_reset(&mut self) -> Result<(), Error> {
        let l = self.config.limits;
        if self.now.saturating_duration_since(self.resets.start) >= l.reset_window {
            self.resets = ResetCounter::new(self.now);
        }
        self.resets.count = self.resets.count.saturating_add(1);
        if self.resets.count > l.max_resets {
            return Err(Error::connection(
                ErrorCode::ENHANCE_YOUR_CALM,
                Reason::ExcessiveResets {
                    limit: l.max_resets,
                },
            ));
        }
        Ok(())
    }

    /// Until when frames on a stream we reset now are dropped silently.
    pub(super) fn reset_until(&self) -> Instant {
        self.now
            .checked_add(self.config.reset_stream_duration)
            .unwrap_or(self.now)
    }

    /// Cancels `stream` (§6.4): RST_STREAM with `code` (CANCEL to abandon
    /// a call, NO_ERROR once a response is complete), queued DATA dropped.
    /// Frames the peer sent before seeing it are dropped quietly for
    /// [`Config::reset_stream_duration`](crate::Config).
    pub fn reset_stream(&mut self, stream: StreamId, code: ErrorCode) -> Result<(), Error> {
        self.check_live()?;
        if !self.streams.map.contains_key(&stream) {
            return Err(Error::InvalidState("reset of a stream that is not open"));
        }
        let until = self.reset_until();
        self.remove_stream(stream, Gone::ResetByUs(until));
        self.write(&Frame::RstStream(RstStream {
            stream_id: stream,
            code,
        }));
        self.maybe_finish();
        Ok(())
    }
}
