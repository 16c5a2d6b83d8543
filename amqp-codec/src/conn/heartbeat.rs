//! Heartbeat timers (AMQP 0-9-1 §4.2.7): we send a heartbeat frame when we
//! have sent nothing for half the agreed interval, and give the peer up
//! when nothing at all has arrived for two intervals.

use std::time::{Duration, Instant};

/// The two deadlines of one connection, off until tuning agrees on a
/// non-zero interval.
#[derive(Debug, Clone)]
pub(super) struct Heartbeat {
    interval: Option<Duration>,
    last_sent: Instant,
    last_received: Instant,
}

impl Heartbeat {
    pub(super) const fn new(now: Instant) -> Self {
        Self {
            interval: None,
            last_sent: now,
            last_received: now,
        }
    }

    /// Starts the timers with the agreed interval in seconds (0: none).
    pub(super) fn start(&mut self, seconds: u16, now: Instant) {
        self.interval = (seconds > 0).then(|| Duration::from_secs(u64::from(seconds)));
        self.last_sent = now;
        self.last_received = now;
    }

    /// Stops the timers (the connection is closing).
    pub(super) const fn stop(&mut self) {
        self.interval = None;
    }

    /// We queued a frame at `now`.
    pub(super) fn sent(&mut self, now: Instant) {
        self.last_sent = self.last_sent.max(now);
    }

    /// Bytes arrived at `now`: any bytes count, not only whole frames.
    pub(super) fn received(&mut self, now: Instant) {
        self.last_received = self.last_received.max(now);
    }

    /// When to send a heartbeat if nothing else is sent.
    pub(super) fn send_at(&self) -> Option<Instant> {
        self.interval
            .and_then(|i| self.last_sent.checked_add(i / 2))
    }

    /// When the peer is presumed dead if nothing arrives.
    pub(super) fn dead_at(&self) -> Option<Instant> {
        self.interval
            .and_then(|i| self.last_received.checked_add(i * 2))
    }

    /// The earlier deadline.
    pub(super) fn next(&self) -> Option<Instant> {
        match (self.send_at(), self.dead_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
