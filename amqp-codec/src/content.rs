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

/// The body frames received so far.
#[derive(Debug, Clone)]
enum Parts {
    /// Each frame's payload, as split off the read buffer.
    Chunks(Vec<Bytes>),
    /// All of them copied together, once there were too many.
    Gathered(BytesMut),
}

#[derive(Debug, Clone, Default)]
enum State {
    #[default]
    Idle,
    Header(Method),
    Body {
        method: Method,
        header: Box<ContentHeader>,
        remaining: u64,
        parts: Parts,
    },
}

/// Largest buffer reserved up front for a multi-frame body; it grows past
/// this as frames actually arrive.
const MAX_PREALLOC: u64 = 1 << 20;

/// Gathers one channel's frames into [`Command`]s.
#[derive(Debug, Clone, Default)]
pub struct ContentAssembler {
    max_body_size: u64,
    state: State,
}

impl ContentAssembler {
    /// An assembler rejecting bodies over `max_body_size` bytes
    /// (see [`Limits::max_body_size`](crate::Limits)).
    #[must_use]
    pub const fn new(max_body_size: u64) -> Self {
        Self {
            max_body_size,
            state: State::Idle,
        }
    }

    /// Whether no command is half-received.
    #[must_use]
    pub const fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle)
    }

    /// Drops any half-received command (e.g. when the channel closes).
    pub fn reset(&mut self) {
        self.state = State::Idle;
    }

    /// Takes a method frame's method: a whole command unless it carries
    /// content. Fails with 505 while content is due.
    pub fn method(&mut self, method: Method) -> Result<Option<Command>, Error> {
        if let Some(expected) = self.expected() {
            self.reset();
            return Err(Error::UnexpectedFrame {
                expected,
                got: FrameKind::Method,
            });
        }
        if method.has_content() {
            self.state = State::Header(method);
            return Ok(None);
        }
        Ok(Some(Command {
            method,
            content: None,
        }))
    }

    /// Takes a content header frame's header.
    pub fn header(&mut self, header: Box<ContentHeader>) -> Result<Option<Command>, Error> {
        let State::Header(method) = &self.state else {
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
        let State::Header(method) = std::mem::take(&mut self.state) else {
            return Ok(None);
        };
        if header.body_size == 0 {
            return Ok(Some(Command {
                method,
                content: Some(Content {
                    header,
                    body: Body::new(),
                }),
            }));
        }
        self.state = State::Body {
            method,
            remaining: header.body_size,
            header,
            parts: Parts::Chunks(Vec::new()),
        };
        Ok(None)
    }

    /// Takes a content body frame's payload.
    pub fn body(&mut self, payload: Bytes) -> Result<Option<Command>, Error> {
        let State::Body {
            remaining, parts, ..
        } = &mut self.state
        else {
            return Err(self.unexpected(FrameKind::Body));
        };
        let got = payload.len() as u64;
        if got > *remaining {
            let remaining = *remaining;
            self.reset();
            return Err(Error::BodyOverrun {
                remaining,
                got: payload.len(),
            });
        }
        *remaining -= got;
        let done = *remaining == 0;
        match parts {
            // The usual case: the whole body in one frame, passed on as is.
            Parts::Chunks(c) if c.is_empty() && done => {
                return Ok(self.complete(Body::from(payload)));
            }
            // Empty frames add nothing and would only lengthen the list.
            _ if payload.is_empty() => {}
            Parts::Chunks(c) if c.len() < MAX_CHUNKS => c.push(payload),
            Parts::Chunks(c) => {
                let so_far: usize = c.iter().map(Bytes::len).sum();
                let want = (so_far as u64 + got + *remaining).min(MAX_PREALLOC);
                let mut gathered = BytesMut::with_capacity(usize::try_from(want).unwrap_or(0));
                for chunk in c.drain(..) {
                    gathered.extend_from_slice(&chunk);
                }
                gathered.extend_from_slice(&payload);
                *parts = Parts::Gathered(gathered);
            }
            Parts::Gathered(g) => g.extend_from_slice(&payload),
        }
        if !done {
            return Ok(None);
        }
        let body = match parts {
            Parts::Chunks(c) => Body::from_chunks(std::mem::take(c)),
            Parts::Gathered(g) => Body::from(std::mem::take(g).freeze()),
        };
        Ok(self.complete(body))
    }

    /// Ends the command in progress with `body`.
    fn complete(&mut self, body: Body) -> Option<Command> {
        match std::mem::take(&mut self.state) {
            State::Body { method, header, .. } => Some(Command {
                method,
                content: Some(Content { header, body }),
            }),
            _ => None,
        }
    }

    /// What frame the channel is waiting for, if not a method.
    const fn expected(&self) -> Option<FrameKind> {
        match self.state {
            State::Idle => None,
            State::Header(_) => Some(FrameKind::Header),
            State::Body { .. } => Some(FrameKind::Body),
        }
    }

    fn unexpected(&mut self, got: FrameKind) -> Error {
        let expected = self.expected().unwrap_or(FrameKind::Method);
        self.reset();
        Error::UnexpectedFrame { expected, got }
    }
}
