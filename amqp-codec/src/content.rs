//! Reassembly of commands (AMQP 0-9-1 §4.2.6): a method, and for content
//! methods (`basic.publish`, `basic.deliver`, `basic.return`,
//! `basic.get-ok`) the content header and body frames that follow it on the
//! same channel, with no other frame of that channel in between.
//!
//! One [`ContentAssembler`] per channel. The body is handed on as the body
//! frames' payloads, split off the read buffer without copying (see
//! [`Body`]); only past [`MAX_CHUNKS`] frames are the pieces gathered into
//! one buffer, growing as frames arrive rather than trusting the announced
//! size.

use bytes::{Bytes, BytesMut};

use crate::body::{Body, MAX_CHUNKS};
use crate::error::{Error, FrameKind};
use crate::method::Method;
use crate::properties::ContentHeader;

/// A method with its content, if it carries any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The method.
    pub method: Method,
    /// Header and body, for content methods.
    pub content: Option<Content>,
}

/// A message's header and whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// Class, body size and properties, in the box the header frame was
    /// decoded into: moving them out would copy 300 bytes per message.
    pub header: Box<ContentHeader>,
    /// The body.
    pub body: Body,
}

/// Largest buffer reserved up front for a multi-frame body; it grows past
/// this as frames actually arrive.
const MAX_PREALLOC: u64 = 1 << 20;

/// Gathers one channel's frames into [`Command`]s.
///
/// The method waiting for its content stays in one field from its frame to
/// the finished [`Command`] (it is 112 bytes; moved between the variants of
/// a state enum, it was copied at shifting offsets, which stalls store
/// forwarding).
#[derive(Debug, Clone, Default)]
pub struct ContentAssembler {
    max_body_size: u64,
    /// The content method whose header or body is due.
    method: Option<Method>,
    /// Its header, once received: body frames are then due.
    header: Option<Box<ContentHeader>>,
    /// Body bytes still due.
    remaining: u64,
    /// The body frames received so far.
    parts: Vec<Bytes>,
    /// All of them copied together, once there were too many.
    gathered: Option<BytesMut>,
}

impl ContentAssembler {
    /// An assembler rejecting bodies over `max_body_size` bytes
    /// (see [`Limits::max_body_size`](crate::Limits)).
    #[must_use]
    pub const fn new(max_body_size: u64) -> Self {
        Self {
            max_body_size,
            method: None,
            header: None,
            remaining: 0,
            parts: Vec::new(),
            gathered: None,
        }
    }

    /// Whether no command is half-received.
    #[must_use]
    pub const fn is_idle(&self) -> bool {
        self.method.is_none()
    }

    /// Drops any half-received command (e.g. when the channel closes).
    pub fn reset(&mut self) {
        self.method = None;
        self.header = None;
        self.remaining = 0;
        self.parts.clear();
        self.gathered = None;
    }

    /// Takes a method frame's method: a whole command unless it carries
    /// content. Fails with 505 while content is due.
    // The three entry points are inlined for the reason `Decoder::decode`
    // is: the 112-byte method and 160-byte command are then not copied
    // through argument and return slots.
    #[inline]
    pub fn method(&mut self, method: Method) -> Result<Option<Command>, Error> {
        if let Some(expected) = self.expected() {
            self.reset();
            return Err(Error::UnexpectedFrame {
                expected,
                got: FrameKind::Method,
            });
        }
        if method.has_content() {
            self.method = Some(method);
            return Ok(None);
        }
        Ok(Some(Command {
            method,
            content: None,
        }))
    }

    /// Takes a content header frame's header.
    #[inline]
    pub fn header(&mut self, header: Box<ContentHeader>) -> Result<Option<Command>, Error> {
        let (Some(method), None) = (&self.method, &self.header) else {
            return Err(self.unexpected(FrameKind::Header));
        };
        let class_id = method.class_id();
        if header.class_id != class_id {
            self.reset();
            return Err(Error::ContentClassMismatch {
                expected: class_id,
                got: header.class_id,
            });
        }
        if header.body_size > self.max_body_size {
            self.reset();
            return Err(Error::BodyTooLarge {
                size: header.body_size,
                limit: self.max_body_size,
            });
        }
        if header.body_size == 0 {
            return Ok(self.complete(header, Body::new()));
        }
        self.remaining = header.body_size;
        self.header = Some(header);
        Ok(None)
    }

    /// Takes a content body frame's payload.
    #[inline]
    pub fn body(&mut self, payload: Bytes) -> Result<Option<Command>, Error> {
        if self.header.is_none() {
            return Err(self.unexpected(FrameKind::Body));
        }
        let got = payload.len() as u64;
        if got > self.remaining {
            let remaining = self.remaining;
            self.reset();
            return Err(Error::BodyOverrun {
                remaining,
                got: payload.len(),
            });
        }
        self.remaining -= got;
        let done = self.remaining == 0;
        match &mut self.gathered {
            // The usual case: the whole body in one frame, passed on as is.
            None if done && self.parts.is_empty() => {
                return Ok(self.finish(Body::from(payload)));
            }
            // Empty frames add nothing and would only lengthen the list.
            _ if payload.is_empty() => {}
            None if self.parts.len() < MAX_CHUNKS => self.parts.push(payload),
            None => {
                let so_far: usize = self.parts.iter().map(Bytes::len).sum();
                let want = (so_far as u64 + got + self.remaining).min(MAX_PREALLOC);
                let mut gathered = BytesMut::with_capacity(usize::try_from(want).unwrap_or(0));
                for chunk in self.parts.drain(..) {
                    gathered.extend_from_slice(&chunk);
                }
                gathered.extend_from_slice(&payload);
                self.gathered = Some(gathered);
            }
            Some(g) => g.extend_from_slice(&payload),
        }
        if !done {
            return Ok(None);
        }
        let body = match self.gathered.take() {
            Some(g) => Body::from(g.freeze()),
            None => Body::from_chunks(std::mem::take(&mut self.parts)),
        };
        Ok(self.finish(body))
    }

    /// Ends the command in progress, whose header has arrived, with `body`.
    fn finish(&mut self, body: Body) -> Option<Command> {
        let header = self.header.take()?;
        self.complete(header, body)
    }

    /// Ends the command in progress with `header` and `body`.
    fn complete(&mut self, header: Box<ContentHeader>, body: Body) -> Option<Command> {
        self.remaining = 0;
        Some(Command {
            method: self.method.take()?,
            content: Some(Content { header, body }),
        })
    }

    /// What frame the channel is waiting for, if not a method.
    const fn expected(&self) -> Option<FrameKind> {
        match (&self.method, &self.header) {
            (None, _) => None,
            (Some(_), None) => Some(FrameKind::Header),
            (Some(_), Some(_)) => Some(FrameKind::Body),
        }
    }

    fn unexpected(&mut self, got: FrameKind) -> Error {
        let expected = self.expected().unwrap_or(FrameKind::Method);
        self.reset();
        Error::UnexpectedFrame { expected, got }
    }
}
