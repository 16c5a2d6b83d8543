//! Reassembly of commands (AMQP 0-9-1 §4.2.6): a method, and for content
//! methods (`basic.publish`, `basic.deliver`, `basic.return`,
//! `basic.get-ok`) the content header and body frames that follow it on the
//! same channel, with no other frame of that channel in between.
//!
//! One [`ContentAssembler`] per channel, fed [`Frame`](crate::Frame)s, or
//! fed by [`Decoder::decode_into`](crate::Decoder::decode_into), which
//! decodes a method straight into it and leaves the whole command there
//! for [`ContentAssembler::take_command`]. The body is handed on as the body
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

/// What a frame did to its channel's command, from
/// [`Decoder::decode_into`](crate::Decoder::decode_into).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assembled {
    /// A heartbeat frame (channel 0), which is no part of any command.
    Heartbeat,
    /// The frame began or continued a command: more frames are due.
    Partial,
    /// The frame completed a command: take it with
    /// [`ContentAssembler::take_command`] before the channel's next frame.
    Complete,
}

/// Largest buffer reserved up front for a multi-frame body; it grows past
/// this as frames actually arrive.
const MAX_PREALLOC: u64 = 1 << 20;

/// Gathers one channel's frames into [`Command`]s.
///
/// The method stays in one field from its frame (decoded there by
/// [`Decoder::decode_into`](crate::Decoder::decode_into)) until the
/// command is taken: moved between the variants of a state enum, or
/// returned through `Result`s right after being written, it was copied at
/// shifting offsets, which stalls store forwarding.
#[derive(Debug, Clone, Default)]
pub struct ContentAssembler {
    max_body_size: u64,
    /// The command's method, once its frame arrived.
    method: Option<Method>,
    /// Its header, once received: body frames are then due.
    header: Option<Box<ContentHeader>>,
    /// Whether the command is whole, waiting for `take_command`.
    complete: bool,
    /// The whole body, once complete.
    body: Body,
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
            complete: false,
            body: Body::new(),
            remaining: 0,
            parts: Vec::new(),
            gathered: None,
        }
    }

    /// Whether no command is half-received.
    #[must_use]
    pub const fn is_idle(&self) -> bool {
        self.method.is_none() || self.complete
    }

    /// Drops any half-received or untaken command (e.g. when the channel
    /// closes).
    pub fn reset(&mut self) {
        self.method = None;
        self.header = None;
        self.complete = false;
        self.body = Body::new();
        self.remaining = 0;
        self.parts.clear();
        self.gathered = None;
    }

    /// The command completed by the last frame, if it is not taken yet.
    #[inline]
    pub fn take_command(&mut self) -> Option<Command> {
        if !self.complete {
            return None;
        }
        self.complete = false;
        let content = match self.header.take() {
            Some(header) => Some(Content {
                header,
                body: std::mem::take(&mut self.body),
            }),
            None => None,
        };
        Some(Command {
            method: self.method.take()?,
            content,
        })
    }

    /// Takes a method frame's method: a whole command unless it carries
    /// content. Fails with 505 while content is due.
    // The three entry points are inlined for the reason `Decoder::decode`
    // is: the 112-byte method and 160-byte command are then not copied
    // through argument and return slots.
    #[inline]
    pub fn method(&mut self, method: Method) -> Result<Option<Command>, Error> {
        if self.complete {
            self.reset();
        }
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

    /// The slot a method frame's method is decoded into, holding
    /// [`Method::PLACEHOLDER`]; fails with 505 while content is due. An
    /// untaken command is dropped. Follow with
    /// [`ContentAssembler::method_decoded`], or [`ContentAssembler::reset`]
    /// if decoding fails.
    #[inline]
    pub(crate) fn method_slot(&mut self) -> Result<&mut Method, Error> {
        if self.complete {
            self.reset();
        }
        if let Some(expected) = self.expected() {
            self.reset();
            return Err(Error::UnexpectedFrame {
                expected,
                got: FrameKind::Method,
            });
        }
        Ok(self.method.get_or_insert(Method::PLACEHOLDER))
    }

    /// Ends a method frame decoded into [`ContentAssembler::method_slot`]:
    /// a method without content is a whole command.
    #[inline]
    pub(crate) fn method_decoded(&mut self) -> Assembled {
        if self.method.as_ref().is_some_and(Method::has_content) {
            return Assembled::Partial;
        }
        self.complete = true;
        Assembled::Complete
    }

    /// Takes a content header frame's header.
    #[inline]
    pub fn header(&mut self, header: Box<ContentHeader>) -> Result<Option<Command>, Error> {
        self.header_in(header)?;
        Ok(self.take_command())
    }

    /// [`ContentAssembler::header`], leaving a whole command in place.
    #[inline(always)]
    pub(crate) fn header_in(&mut self, header: Box<ContentHeader>) -> Result<Assembled, Error> {
        let (Some(method), None, false) = (&self.method, &self.header, self.complete) else {
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
        self.remaining = header.body_size;
        self.header = Some(header);
        if self.remaining == 0 {
            self.complete = true;
            return Ok(Assembled::Complete);
        }
        Ok(Assembled::Partial)
    }

    /// Takes a content body frame's payload.
    #[inline]
    pub fn body(&mut self, payload: Bytes) -> Result<Option<Command>, Error> {
        let Some(body) = self.body_in(payload)? else {
            return Ok(None);
        };
        Ok(self.finish(body))
    }

    /// Ends the command in progress, whose header has arrived, with `body`.
    fn finish(&mut self, body: Body) -> Option<Command> {
        let header = self.header.take()?;
        self.remaining = 0;
        Some(Command {
            method: self.method.take()?,
            content: Some(Content { header, body }),
        })
    }

    /// Takes a content body frame's payload, for
    /// [`Decoder::decode_into`](crate::Decoder::decode_into): a whole
    /// command stays in place.
    #[inline]
    pub(crate) fn body_into(&mut self, payload: Bytes) -> Result<Assembled, Error> {
        let Some(body) = self.body_in(payload)? else {
            return Ok(Assembled::Partial);
        };
        self.body = body;
        self.complete = true;
        Ok(Assembled::Complete)
    }

    /// Takes a content body frame's payload: the whole body once it is
    /// complete.
    #[inline(always)]
    fn body_in(&mut self, payload: Bytes) -> Result<Option<Body>, Error> {
        if self.header.is_none() || self.complete {
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
            None if done && self.parts.is_empty() => return Ok(Some(Body::from(payload))),
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
        Ok(Some(match self.gathered.take() {
            Some(g) => Body::from(g.freeze()),
            None => Body::from_chunks(std::mem::take(&mut self.parts)),
        }))
    }

    /// What frame the channel is waiting for, if not a method.
    const fn expected(&self) -> Option<FrameKind> {
        match (&self.method, &self.header, self.complete) {
            (None, _, _) | (_, _, true) => None,
            (Some(_), None, false) => Some(FrameKind::Header),
            (Some(_), Some(_), false) => Some(FrameKind::Body),
        }
    }

    fn unexpected(&mut self, got: FrameKind) -> Error {
        let expected = self.expected().unwrap_or(FrameKind::Method);
        self.reset();
        Error::UnexpectedFrame { expected, got }
    }
}

#[cfg(test)]
mod tests;
