//! Reassembly of commands (AMQP 0-9-1 §4.2.6): a method, and for content
//! methods (`basic.publish`, `basic.deliver`, `basic.return`,
//! `basic.get-ok`) the content header and body frames that follow it on the
//! same channel, with no other frame of that channel in between.
//!
//! One [`ContentAssembler`] per channel. A body that arrives in one frame is
//! handed on as that frame's [`Bytes`] (no copy); a body in several frames
//! is gathered into one buffer, growing as frames arrive rather than
//! trusting the announced size.

use bytes::{Bytes, BytesMut};

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
    pub body: Bytes,
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
        /// The first body frame, kept as is in case it is the only one.
        first: Option<Bytes>,
        /// Gathered body once a second frame arrives.
        gathered: BytesMut,
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
                    body: Bytes::new(),
                }),
            }));
        }
        self.state = State::Body {
            method,
            remaining: header.body_size,
            header,
            first: None,
            gathered: BytesMut::new(),
        };
        Ok(None)
    }

    /// Takes a content body frame's payload.
    pub fn body(&mut self, payload: Bytes) -> Result<Option<Command>, Error> {
        let State::Body {
            remaining,
            first,
            gathered,
            ..
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
        match first.take() {
            // The usual case: the whole body in one frame, passed on as is.
            None if gathered.is_empty() && done => return Ok(self.complete(payload)),
            None if gathered.is_empty() => *first = Some(payload),
            None => gathered.extend_from_slice(&payload),
            Some(f) => {
                let want = (f.len() as u64 + got + *remaining).min(MAX_PREALLOC);
                gathered.reserve(usize::try_from(want).unwrap_or(0));
                gathered.extend_from_slice(&f);
                gathered.extend_from_slice(&payload);
            }
        }
        if !done {
            return Ok(None);
        }
        let body = std::mem::take(gathered).freeze();
        Ok(self.complete(body))
    }

    /// Ends the command in progress with `body`.
    fn complete(&mut self, body: Bytes) -> Option<Command> {
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
