//! Bytes waiting for the transport, in order, as a queue of buffers.
//!
//! Frames are written into one growing buffer. A large message body handed
//! over as [`Bytes`] is not copied into it: each body frame's payload is
//! queued as a slice of the caller's body between the few bytes of framing
//! around it, so a vectored write (`writev`) sends the body from where the
//! application keeps it. See [`encode_content_shared`].

use std::collections::VecDeque;

use bytes::{BufMut as _, Bytes, BytesMut};

use crate::codec::encode_content_header;
use crate::constants::{FRAME_BODY, FRAME_END};
use crate::error::Error;
use crate::frame::FRAME_OVERHEAD;
use crate::properties::BasicProperties;

/// Body frames shorter than this are copied: below it a separate buffer
/// costs a vectored write more than the copy saves.
pub const SHARE_MIN: usize = 2048;

/// Output in order: finished buffers, then the buffer being written.
#[derive(Debug, Default, Clone)]
pub struct OutputQueue {
    ready: VecDeque<Bytes>,
    ready_len: usize,
    tail: BytesMut,
}

impl OutputQueue {
    /// An empty queue.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The buffer frames are appended to; it goes out after everything
    /// queued before.
    pub fn buffer(&mut self) -> &mut BytesMut {
        &mut self.tail
    }

    /// Queues `b` as its own buffer, after what is written so far.
    pub fn push(&mut self, b: Bytes) {
        if b.is_empty() {
            return;
        }
        if !self.tail.is_empty() {
            let t = self.tail.split().freeze();
            self.ready_len += t.len();
            self.ready.push_back(t);
        }
        self.ready_len += b.len();
        self.ready.push_back(b);
    }

    /// The next buffer for the transport.
    pub fn pop(&mut self) -> Option<Bytes> {
        match self.ready.pop_front() {
            Some(b) => {
                self.ready_len -= b.len();
                Some(b)
            }
            None => (!self.tail.is_empty()).then(|| self.tail.split().freeze()),
        }
    }

    /// Bytes queued in all.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ready_len + self.tail.len()
    }

    /// Whether nothing is queued.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The queued bytes as slices in order, for a vectored write; after
    /// writing `n` bytes, drop them with [`OutputQueue::advance`].
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.ready
            .iter()
            .map(|b| &b[..])
            .chain(std::iter::once(&self.tail[..]).filter(|t| !t.is_empty()))
    }

    /// Drops the first `n` queued bytes (what a write took).
    pub fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.ready.front_mut() else {
                let k = n.min(self.tail.len());
                let _ = self.tail.split_to(k);
                return;
            };
            let k = n.min(front.len());
            let _ = front.split_to(k);
            self.ready_len -= k;
            n -= k;
            if front.is_empty() {
                self.ready.pop_front();
            }
        }
    }
}

/// Queues a content header frame and body frames at most `frame_max`
/// octets long (0: no limit) for `body`, like
/// [`encode_content`](crate::encode_content), but without copying body
/// frames of [`SHARE_MIN`] octets or more: they are queued as slices of
/// `body`.
///
/// Fails, leaving `out` as it was, when the header frame does not fit in
/// `frame_max` or `frame_max` is too small for any body.
pub fn encode_content_shared(
    channel: u16,
    class_id: u16,
    properties: &BasicProperties,
    body: &Bytes,
    frame_max: u32,
    out: &mut OutputQueue,
) -> Result<(), Error> {
    let chunk = encode_content_header(
        channel,
        class_id,
        properties,
        body.len(),
        frame_max,
        out.buffer(),
    )?;
    let mut at = 0;
    while at < body.len() {
        let end = body.len().min(at.saturating_add(chunk));
        // `chunk` fits in 32 bits (encode_content_header caps it).
        let size = u32::try_from(end - at).unwrap_or(u32::MAX);
        let dst = out.buffer();
        dst.reserve(FRAME_OVERHEAD);
        dst.put_u8(FRAME_BODY);
        dst.put_u16(channel);
        dst.put_u32(size);
        // Small frames are copied from the body, not sliced off it: a
        // shared slice would cost two reference-count updates for nothing.
        if end - at < SHARE_MIN {
            dst.put_slice(body.get(at..end).unwrap_or_default());
        } else {
            out.push(body.slice(at..end));
        }
        out.buffer().put_u8(FRAME_END);
        at = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode_content;

    fn gathered(q: &OutputQueue) -> Vec<u8> {
        q.chunks().flatten().copied().collect()
    }

    #[test]
    fn shared_encoding_is_byte_identical_and_shares_big_frames() {
        let props = BasicProperties {
            delivery_mode: Some(2),
            ..BasicProperties::default()
        };
        for (size, frame_max) in [
            (0, 4096),
            (10, 4096),
            (10_000, 4096),
            (1 << 20, 131_072),
            (300_000, 0),
        ] {
            let body = Bytes::from((0..size).map(|i| i as u8).collect::<Vec<_>>());
            let mut flat = BytesMut::new();
            encode_content(3, 60, &props, &body, frame_max, &mut flat).unwrap();
            let mut q = OutputQueue::new();
            encode_content_shared(3, 60, &props, &body, frame_max, &mut q).unwrap();
            assert_eq!(gathered(&q), flat, "size {size} frame-max {frame_max}");
            assert_eq!(q.len(), flat.len());
            let shared = q
                .chunks()
                .filter(|c| body.as_ptr_range().contains(&c.as_ptr()))
                .count();
            let chunk = match frame_max {
                0 => usize::MAX,
                n => n as usize - FRAME_OVERHEAD,
            };
            let big_frames = body.chunks(chunk).filter(|c| c.len() >= SHARE_MIN).count();
            assert_eq!(shared, big_frames, "size {size} frame-max {frame_max}");
            let mut popped = Vec::new();
            while let Some(b) = q.pop() {
                popped.extend_from_slice(&b);
            }
            assert_eq!(popped, flat);
            assert!(q.is_empty());
        }
    }

    #[test]
    fn advance_drops_written_bytes_across_buffers() {
        let mut q = OutputQueue::new();
        q.buffer().put_slice(b"ab");
        q.push(Bytes::from_static(b"cdef"));
        q.push(Bytes::new());
        q.buffer().put_slice(b"gh");
        assert_eq!(gathered(&q), b"abcdefgh");
        q.advance(3);
        assert_eq!(gathered(&q), b"defgh");
        assert_eq!(q.len(), 5);
        q.advance(4);
        assert_eq!(gathered(&q), b"h");
        q.advance(10);
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn errors_leave_the_queue_alone() {
        let mut q = OutputQueue::new();
        q.buffer().put_slice(b"x");
        let body = Bytes::from_static(b"body");
        assert!(
            encode_content_shared(1, 60, &BasicProperties::default(), &body, 9, &mut q).is_err()
        );
        assert_eq!(gathered(&q), b"x");
    }
}
