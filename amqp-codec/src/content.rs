//! Reassembly of commands (AMQP 0-9-1 §4.2.6): a method, and for content
//! methods (`basic.publish`, `basic.deliver`, `basic.return`,
//! `basic.get-ok`) the content header and body frames that follow it on the
//! same channel, with no other frame of that channel in between.
//!
//! One [`ContentAssembler`] per channel, fed [`Frame`](crate::Frame)s, or
//! fed by [`Decoder::decode_into`](crate::Decoder::decode_into), which
//! decodes a method straight into it and leaves the whole command there,
//! to be read in place ([`ContentAssembler::command`]) or taken
//! ([`ContentAssembler::take_command`]). The body is handed on as the body
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

/// What an assembler's command holds while none is in progress: a method
/// that owns nothing, so overwriting it costs no drop.
const NO_COMMAND: Command = Command {
    method: Method::PLACEHOLDER,
    content: None,
};

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
    /// The frame completed a command: read it with
    /// [`ContentAssembler::command`] or take it with
    /// [`ContentAssembler::take_command`] before the channel's next frame.
    Complete,
}

/// Where a channel is in its current command (§4.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No command in progress; the last one, if any, was taken or dropped.
    Idle,
    /// A content method arrived; its header frame is due.
    HeaderDue,
    /// The header arrived; body frames are due.
    BodyDue,
    /// The last frame completed the command, which is still in place.
    Complete,
}

/// Largest buffer reserved up front for a multi-frame body; it grows past
/// this as frames actually arrive.
const MAX_PREALLOC: u64 = 1 << 20;

/// Gathers one channel's frames into [`Command`]s.
///
/// The command stays in one field from its method frame (decoded there by
/// [`Decoder::decode_into`](crate::Decoder::decode_into)) until it is read
/// in place ([`ContentAssembler::command`]) or taken: moved between the
/// variants of a state enum, or returned through `Result`s right after
/// being written, it was copied at shifting offsets, which stalls store
/// forwarding. The content header's box, with its headers table's storage,
/// is kept from one message to the next.
#[derive(Debug, Clone)]
pub struct ContentAssembler {
    max_body_size: u64,
    /// The command in progress or complete; [`NO_COMMAND`] when idle.
    command: Command,
    state: State,
    /// Body bytes still due.
    remaining: u64,
    /// The body frames received so far.
    parts: Vec<Bytes>,
    /// All of them copied together, once there were too many.
    gathered: Option<BytesMut>,
    /// The box the next content header is decoded into: the last one's,
    /// once that command is done with.
    spare: Option<Box<ContentHeader>>,
}

impl Default for ContentAssembler {
    fn default() -> Self {
        Self::new(0)
    }
}

impl ContentAssembler {
    /// An assembler rejecting bodies over `max_body_size` bytes
    /// (see [`Limits::max_body_size`](crate::Limits)).
    #[must_use]
    pub const fn new(max_body_size: u64) -> Self {
        Self {
            max_body_size,
            command: NO_COMMAND,
            state: State::Idle,
            remaining: 0,
            parts: Vec::new(),
            gathered: None,
            spare: None,
        }
    }

    /// Whether no command is half-received.
    #[must_use]
    pub const fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle | State::Complete)
    }

    /// Drops any half-received or complete command (e.g. when the channel
    /// closes).
    pub fn reset(&mut self) {
        self.state = State::Idle;
        self.release();
        self.command.method = Method::PLACEHOLDER;
        // The kept header's table values may share the read buffer.
        if let Some(headers) = self
            .spare
            .as_mut()
            .and_then(|h| h.properties.headers.as_mut())
        {
            headers.clear();
        }
        self.remaining = 0;
        self.parts.clear();
        self.gathered = None;
    }

    /// Drops the command's body (which shares the read buffer) but keeps
    /// its header's box for the next, and its method, which the next
    /// method frame is decoded over right away (in place, if it is the
    /// same method). The headers table stays whole, to be overwritten in
    /// place by the next content header (whose frame is usually in the
    /// same read): its long strings keep the read buffer alive until then.
    fn release(&mut self) {
        if let Some(content) = self.command.content.take() {
            self.spare = Some(content.header);
        }
    }

    /// The command completed by the last frame, where it was assembled:
    /// valid until the channel's next frame reaches the assembler. Reading
    /// it here copies nothing; [`ContentAssembler::take_command`] moves it
    /// out instead, and the next message's header then needs a new box.
    #[inline]
    #[must_use]
    pub fn command(&self) -> Option<&Command> {
        (self.state == State::Complete).then_some(&self.command)
    }

    /// Takes the command completed by the last frame, if it is not taken
    /// yet.
    #[inline]
    pub fn take_command(&mut self) -> Option<Command> {
        if self.state != State::Complete {
            return None;
        }
        self.state = State::Idle;
        Some(std::mem::replace(&mut self.command, NO_COMMAND))
    }

    /// Takes a method frame's method: a whole command unless it carries
    /// content. Fails with 505 while content is due.
    // The three entry points are inlined for the reason `Decoder::decode`
    // is: the 112-byte method and 160-byte command are then not copied
    // through argument and return slots.
    #[inline]
    pub fn method(&mut self, method: Method) -> Result<Option<Command>, Error> {
        self.begin_method()?;
        if method.has_content() {
            self.command.method = method;
            self.state = State::HeaderDue;
            return Ok(None);
        }
        // Nothing of the last command stays behind an idle assembler.
        self.command.method = Method::PLACEHOLDER;
        Ok(Some(Command {
            method,
            content: None,
        }))
    }

    /// The slot a method frame's method is decoded into, holding
    /// [`Method::PLACEHOLDER`] or the last command's method; fails with 505
    /// while content is due. A complete command's body is dropped. Follow
    /// with
    /// [`ContentAssembler::method_decoded`], or [`ContentAssembler::reset`]
    /// if decoding fails.
    #[inline]
    pub(crate) fn method_slot(&mut self) -> Result<&mut Method, Error> {
        self.begin_method()?;
        Ok(&mut self.command.method)
    }

    /// Ends a method frame decoded into [`ContentAssembler::method_slot`]:
    /// a method without content is a whole command.
    #[inline]
    pub(crate) fn method_decoded(&mut self) -> Assembled {
        if self.command.method.has_content() {
            self.state = State::HeaderDue;
            return Assembled::Partial;
        }
        self.state = State::Complete;
        Assembled::Complete
    }

    /// Readies the assembler for a method frame: drops a complete command,
    /// fails with 505 while content is due.
    #[inline(always)]
    fn begin_method(&mut self) -> Result<(), Error> {
        match self.state {
            State::Idle => Ok(()),
            State::Complete => {
                self.state = State::Idle;
                self.release();
                Ok(())
            }
            State::HeaderDue | State::BodyDue => Err(self.unexpected(FrameKind::Method)),
        }
    }

    /// Takes a content header frame's header.
    #[inline]
    pub fn header(&mut self, header: Box<ContentHeader>) -> Result<Option<Command>, Error> {
        if self.state != State::HeaderDue {
            return Err(self.unexpected(FrameKind::Header));
        }
        self.command.content = Some(Content {
            header,
            body: Body::new(),
        });
        self.header_received()?;
        Ok(self.take_command())
    }

    /// The header the next content header frame is decoded into, whatever
    /// it holds: the last message's, so that its box and headers table are
    /// reused. Follow with [`ContentAssembler::header_decoded`] once it
    /// decodes.
    #[inline]
    pub(crate) fn header_slot(&mut self) -> &mut ContentHeader {
        self.spare.get_or_insert_with(Box::default)
    }

    /// [`ContentAssembler::header`] for the header decoded into
    /// [`ContentAssembler::header_slot`], leaving a whole command in place.
    #[inline(always)]
    pub(crate) fn header_decoded(&mut self) -> Result<Assembled, Error> {
        if self.state != State::HeaderDue {
            return Err(self.unexpected(FrameKind::Header));
        }
        let Some(header) = self.spare.take() else {
            return Err(self.unexpected(FrameKind::Header));
        };
        self.command.content = Some(Content {
            header,
            body: Body::new(),
        });
        self.header_received()
    }

    /// Checks the header just placed in the command against its method and
    /// the body size limit; body frames are due unless the body is empty.
    #[inline(always)]
    fn header_received(&mut self) -> Result<Assembled, Error> {
        let Some(content) = &self.command.content else {
            return Err(self.unexpected(FrameKind::Header));
        };
        let (class_id, body_size) = (content.header.class_id, content.header.body_size);
        let expected = self.command.method.class_id();
        if class_id != expected {
            self.reset();
            return Err(Error::ContentClassMismatch {
                expected,
                got: class_id,
            });
        }
        if body_size > self.max_body_size {
            self.reset();
            return Err(Error::BodyTooLarge {
                size: body_size,
                limit: self.max_body_size,
            });
        }
        self.remaining = body_size;
        if body_size == 0 {
            self.state = State::Complete;
            return Ok(Assembled::Complete);
        }
        self.state = State::BodyDue;
        Ok(Assembled::Partial)
    }

    /// Takes a content body frame's payload.
    #[inline]
    pub fn body(&mut self, payload: Bytes) -> Result<Option<Command>, Error> {
        if self.body_into(payload)? == Assembled::Partial {
            return Ok(None);
        }
        Ok(self.take_command())
    }

    /// Takes a content body frame's payload, for
    /// [`Decoder::decode_into`](crate::Decoder::decode_into): a whole
    /// command stays in place.
    #[inline]
    pub(crate) fn body_into(&mut self, payload: Bytes) -> Result<Assembled, Error> {
        let Some(body) = self.body_in(payload)? else {
            return Ok(Assembled::Partial);
        };
        if let Some(content) = &mut self.command.content {
            content.body = body;
        }
        self.state = State::Complete;
        Ok(Assembled::Complete)
    }

    /// Takes a content body frame's payload: the whole body once it is
    /// complete.
    #[inline(always)]
    fn body_in(&mut self, payload: Bytes) -> Result<Option<Body>, Error> {
        if self.state != State::BodyDue {
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
        match self.state {
            State::Idle | State::Complete => None,
            State::HeaderDue => Some(FrameKind::Header),
            State::BodyDue => Some(FrameKind::Body),
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
