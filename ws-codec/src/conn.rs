//! The connection state machine (RFC 6455 §4–§7) for one endpoint.
//!
//! Feed bytes read from the transport to [`Connection::handle_input`], act
//! on [`Connection::poll_event`], and write out what
//! [`Connection::poll_transmit`] returns after draining the events. The
//! connection answers pings and close frames itself, and on a peer error
//! owes the right close frame (or queues the HTTP error answer) and reports
//! [`Event::Closed`]. The close frame is written when the application takes
//! that event, so messages that arrived before it can still be answered
//! first. The error is sticky: later input returns it again, and once
//! `Closed` was taken `send_*` return [`Error::Closed`].

use std::collections::VecDeque;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};

use crate::codec::{Decoder, MAX_CONTROL_PAYLOAD, encode_parts};
use crate::config::{Config, MaskSource, Role};
#[cfg(feature = "deflate")]
use crate::deflate::Deflate;
use crate::error::{Error, HandshakeError};
use crate::event::{Event, Message, Utf8Bytes};
use crate::frame::{CloseCode, Frame, OpCode};
use crate::handshake::{self, ClientRequest, Extension, Request};
use crate::utf8::Utf8Validator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Client: request sent, waiting for the answer. Server: waiting for
    /// the request.
    Handshake,
    /// Server: request reported, waiting for `accept` or `reject`.
    AwaitingAccept,
    /// Data flows both ways (our close may already be sent).
    Open,
    /// Closed cleanly or by failure.
    Closed,
}

/// A message being reassembled from fragments (§5.4).
#[derive(Debug)]
struct Assembly {
    text: bool,
    compressed: bool,
    buf: Vec<u8>,
}

/// One WebSocket endpoint, client or server.
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    state: State,
    mask: Option<MaskSource>,
    decoder: Decoder,
    inbuf: BytesMut,
    out: BytesMut,
    events: VecDeque<Event>,
    /// Client: the nonce we sent. Server: the request awaiting a verdict.
    client_key: String,
    request: Option<Request>,
    protocol: Option<String>,
    extensions: Vec<Extension>,
    #[cfg(feature = "deflate")]
    deflate: Option<Box<Deflate>>,
    message: Option<Assembly>,
    utf8: Utf8Validator,
    /// Payload bytes of the incomplete frame at the front of `inbuf` that
    /// `utf8` has already seen (fail-fast validation, §8.1).
    partial_checked: usize,
    /// A pong owed but not yet queued because the output queue is full.
    /// Only the latest ping needs an answer (§5.5.3), so a ping flood from
    /// a peer that does not read costs one pong past the output limit.
    pending_pong: Option<Bytes>,
    /// Our fragmented outgoing message is in progress.
    sending_fragmented: bool,
    close_sent: bool,
    /// The close frame owed to the peer (our reply to its close, or the
    /// code of a failure), written only once the application has taken
    /// the events before [`Event::Closed`], so it can still answer the
    /// messages that arrived ahead of the close (§5.5.1 "as soon as
    /// practical"; Autobahn 3.2, 5.15, 7.1.6).
    owed_close: Option<Bytes>,
    error: Option<Error>,
}

impl Connection {
    fn new(role: Role, config: Config, mask: Option<MaskSource>) -> Self {
        let decoder = Decoder::new(role, config.limits.max_frame_size);
        Self {
            role,
            config,
            state: State::Handshake,
            mask,
            decoder,
            inbuf: BytesMut::new(),
            out: BytesMut::new(),
            events: VecDeque::new(),
            client_key: String::new(),
            request: None,
            protocol: None,
            extensions: Vec::new(),
            #[cfg(feature = "deflate")]
            deflate: None,
            message: None,
            utf8: Utf8Validator::new(),
            partial_checked: 0,
            pending_pong: None,
            sending_fragmented: false,
            close_sent: false,
            owed_close: None,
            error: None,
        }
    }

    /// A server endpoint waiting for the opening request (§4.2).
    #[must_use]
    pub fn server(config: Config) -> Self {
        Self::new(Role::Server, config, None)
    }

    /// A client endpoint; its opening request is queued for
    /// `poll_transmit` at once (§4.1). `mask` supplies the request nonce and
    /// every frame's masking key.
    #[must_use]
    pub fn client(config: Config, request: &ClientRequest, mut mask: MaskSource) -> Self {
        let key = base64::engine::general_purpose::STANDARD.encode(mask.nonce());
        #[cfg(feature = "deflate")]
        let offers: Vec<Extension> = config.deflate.iter().map(|d| d.offer()).collect();
        #[cfg(not(feature = "deflate"))]
        let offers: Vec<Extension> = Vec::new();
        let head = handshake::build_request(request, &key, &config.protocols, &offers);
        let mut c = Self::new(Role::Client, config, Some(mask));
        c.out.extend_from_slice(&head);
        c.client_key = key;
        c
    }

    /// A connection already past a handshake done elsewhere (e.g. by an
    /// HTTP server framework), with no extensions.
    #[must_use]
    pub fn from_upgraded(role: Role, config: Config, mask: Option<MaskSource>) -> Self {
        let mut c = Self::new(role, config, mask);
        c.state = State::Open;
        c
    }

    /// This endpoint's role.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The agreed subprotocol, once connected.
    #[must_use]
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The agreed extensions, once connected.
    #[must_use]
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// Whether the handshake is done and the connection not closed.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Whether the connection is closed (cleanly or not).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        let ev = self.events.pop_front();
        if matches!(ev, Some(Event::Closed { .. })) {
            if let Some(payload) = self.owed_close.take() {
                self.flush_pong();
                self.write_frame(true, false, OpCode::Close, &payload);
            }
        }
        ev
    }

    /// Bytes to write to the transport, if any. Everything queued so far
    /// comes out in one buffer.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.out.is_empty() {
            self.flush_pong();
        }
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.split().freeze())
        }
    }

    /// Bytes queued for the transport.
    #[must_use]
    pub fn queued_output(&self) -> usize {
        self.out.len()
    }

    /// Processes bytes read from the transport. Returns the error that
    /// failed the connection, if it failed now or before; the matching
    /// close frame or HTTP answer is queued and an [`Event::Closed`] was
    /// reported when it first happened.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.state == State::Closed {
            // A peer that sends after its close frame breaks §5.5.1.
            if data.is_empty() {
                return Ok(());
            }
            self.error = Some(Error::FrameAfterClose);
            return Err(Error::FrameAfterClose);
        }
        self.inbuf.extend_from_slice(data);
        self.process()
    }

    fn process(&mut self) -> Result<(), Error> {
        let r = match self.state {
            State::Handshake => match self.role {
                Role::Server => self.read_request(),
                Role::Client => self.read_response().and_then(|()| self.read_frames()),
            },
            State::AwaitingAccept => self.bound_early_frames(),
            State::Open => self.read_frames(),
            State::Closed => Ok(()),
        };
        r.or_else(|e| self.fail(e))
    }

    // ---- opening handshake ----

    fn read_request(&mut self) -> Result<(), Error> {
        let max = self.config.limits.max_handshake_size;
        let Some((req, n)) = handshake::parse_request(&self.inbuf, max)? else {
            return Ok(());
        };
        let _ = self.inbuf.split_to(n);
        self.state = State::AwaitingAccept;
        self.request = Some(req.clone());
        self.events.push_back(Event::Request(Box::new(req)));
        self.bound_early_frames()
    }

    /// Frames a client pipelines behind its request wait for `accept`; at
    /// most one full frame's worth is kept.
    fn bound_early_frames(&self) -> Result<(), Error> {
        let limit = self.config.limits.max_frame_size.saturating_add(14);
        if self.inbuf.len() > limit {
            return Err(HandshakeError::TooLarge { limit }.into());
        }
        Ok(())
    }

    /// Server: accepts the pending request with the configured policy:
    /// the first of the client's subprotocols that
    /// [`Config::protocols`] lists, and permessage-deflate if configured
    /// and offered. Queues the `101` answer and processes any frames the
    /// client sent behind its request.
    pub fn accept(&mut self) -> Result<(), Error> {
        let proto = self.request.as_ref().and_then(|r| {
            r.protocols
                .iter()
                .find(|p| self.config.protocols.contains(p))
                .cloned()
        });
        self.accept_with_protocol(proto.as_deref())
    }

    /// Server: like [`Self::accept`] with the application's choice of
    /// subprotocol, which must be one the client offered.
    pub fn accept_with_protocol(&mut self, protocol: Option<&str>) -> Result<(), Error> {
        if self.state != State::AwaitingAccept {
            return Err(Error::InvalidState("accept without a pending request"));
        }
        let Some(req) = self.request.take() else {
            return Err(Error::InvalidState("accept without a pending request"));
        };
        if let Some(p) = protocol {
            if !req.protocols.iter().any(|o| o == p) {
                self.request = Some(req);
                return Err(Error::InvalidState("subprotocol was not offered"));
            }
        }
        #[cfg(feature = "deflate")]
        if let Some(cfg) = self.config.deflate {
            if let Some((params, answer)) = cfg.accept(&req.extensions) {
                self.deflate = Some(Box::new(Deflate::new(
                    &params,
                    Role::Server,
                    cfg.level,
                    cfg.min_compress_size,
                )));
                self.decoder.set_rsv1_allowed(true);
                self.extensions.push(answer);
            }
        }
        let head = handshake::accept_response(&req.key, protocol, &self.extensions);
        self.out.extend_from_slice(&head);
        self.protocol = protocol.map(str::to_owned);
        self.state = State::Open;
        self.events.push_back(Event::Connected {
            protocol: self.protocol.clone(),
            extensions: self.extensions.clone(),
        });
        self.read_frames().or_else(|e| self.fail(e))
    }

    /// Server: refuses the pending request with HTTP `status` (e.g. 403 for
    /// a foreign Origin); the answer is queued and the connection closed.
    pub fn reject(&mut self, status: u16) -> Result<(), Error> {
        if self.state != State::AwaitingAccept {
            return Err(Error::InvalidState("reject without a pending request"));
        }
        self.request = None;
        let e = HandshakeError::Rejected(status);
        self.out.extend_from_slice(&handshake::error_response(&e));
        self.state = State::Closed;
        self.events.push_back(Event::Closed {
            code: CloseCode::ABNORMAL,
            reason: e.to_string(),
            by_peer: false,
            error: None,
        });
        Ok(())
    }

    fn read_response(&mut self) -> Result<(), Error> {
        let max = self.config.limits.max_handshake_size;
        let Some((resp, n)) =
            handshake::parse_response(&self.inbuf, &self.client_key, &self.config.protocols, max)?
        else {
            return Ok(());
        };
        let _ = self.inbuf.split_to(n);
        for ext in &resp.extensions {
            self.accept_extension(ext)?;
        }
        self.protocol = resp.protocol;
        self.extensions = resp.extensions;
        self.state = State::Open;
        self.events.push_back(Event::Connected {
            protocol: self.protocol.clone(),
            extensions: self.extensions.clone(),
        });
        Ok(())
    }

    /// Client: checks one extension in the server's answer against what we
    /// offered (§9.1: an unoffered extension fails the connection).
    fn accept_extension(&mut self, ext: &Extension) -> Result<(), Error> {
        #[cfg(feature = "deflate")]
        if let (Some(cfg), None) = (self.config.deflate, &self.deflate) {
            let params = cfg.check_answer(ext)?;
            self.deflate = Some(Box::new(Deflate::new(
                &params,
                Role::Client,
                cfg.level,
                cfg.min_compress_size,
            )));
            self.decoder.set_rsv1_allowed(true);
            return Ok(());
        }
        Err(HandshakeError::BadExtension(format!("{ext}: not offered")).into())
    }

    // ---- data transfer ----

    fn read_frames(&mut self) -> Result<(), Error> {
        while self.state == State::Open {
            match self.decoder.decode(&mut self.inbuf)? {
                Some(frame) => {
                    let checked = std::mem::take(&mut self.partial_checked);
                    self.on_frame(frame, checked)?;
                }
                None => return self.check_partial(),
            }
        }
        Ok(())
    }

    /// Validates the UTF-8 of an incomplete text frame's arrived bytes, so
    /// bad text fails before the rest of a large frame arrives.
    fn check_partial(&mut self) -> Result<(), Error> {
        let Some((h, prefix)) = self.decoder.partial_payload(&self.inbuf) else {
            return Ok(());
        };
        let is_text = match (h.opcode, &self.message) {
            (OpCode::Text, None) => !h.rsv1,
            (OpCode::Continuation, Some(m)) => m.text && !m.compressed,
            _ => false,
        };
        if is_text {
            let fresh = prefix.get(self.partial_checked..).unwrap_or_default();
            self.utf8.feed(fresh).map_err(|_| Error::InvalidUtf8)?;
            self.partial_checked = prefix.len();
        }
        Ok(())
    }

    fn on_frame(&mut self, frame: Frame, checked: usize) -> Result<(), Error> {
        match frame.opcode {
            OpCode::Ping => {
                if self.config.auto_pong && !self.close_sent {
                    self.queue_pong(frame.payload.clone());
                }
                self.events.push_back(Event::Ping(frame.payload));
                Ok(())
            }
            OpCode::Pong => {
                self.events.push_back(Event::Pong(frame.payload));
                Ok(())
            }
            OpCode::Close => self.on_close(&frame.payload),
            OpCode::Text | OpCode::Binary => {
                if self.message.is_some() {
                    return Err(Error::ExpectedContinuation);
                }
                let text = frame.opcode == OpCode::Text;
                if frame.fin && !frame.rsv1 {
                    // Whole, uncompressed: hand out the input buffer as is.
                    if frame.payload.len() > self.config.limits.max_message_size {
                        return Err(Error::MessageTooLarge {
                            limit: self.config.limits.max_message_size,
                        });
                    }
                    let msg = if text {
                        if checked == 0 {
                            // simdutf8's one-shot API beats its streaming one.
                            Utf8Validator::validate(&frame.payload)
                                .map_err(|_| Error::InvalidUtf8)?;
                        } else {
                            self.check_text(&frame.payload, checked)?;
                            self.utf8.finish().map_err(|_| Error::InvalidUtf8)?;
                        }
                        Message::Text(Utf8Bytes::validated(frame.payload))
                    } else {
                        Message::Binary(frame.payload)
                    };
                    self.events.push_back(Event::Message(msg));
                    return Ok(());
                }
                self.message = Some(Assembly {
                    text,
                    compressed: frame.rsv1,
                    buf: Vec::new(),
                });
                self.on_data(&frame, checked)
            }
            OpCode::Continuation => {
                if self.message.is_none() {
                    return Err(Error::UnexpectedContinuation);
                }
                self.on_data(&frame, checked)
            }
        }
    }

    /// Validates a text payload of which the first `checked` bytes were
    /// already fed to the validator while the frame was incomplete.
    fn check_text(&mut self, payload: &[u8], checked: usize) -> Result<(), Error> {
        let rest = payload.get(checked..).unwrap_or_default();
        self.utf8.feed(rest).map_err(|_| Error::InvalidUtf8)
    }

    fn on_data(&mut self, frame: &Frame, checked: usize) -> Result<(), Error> {
        let limit = self.config.limits.max_message_size;
        let Some(m) = self.message.as_mut() else {
            return Err(Error::UnexpectedContinuation);
        };
        let (text, start) = (m.text, m.buf.len());
        if m.compressed {
            #[cfg(feature = "deflate")]
            if let Some(d) = self.deflate.as_mut() {
                d.decompress(&frame.payload, frame.fin, &mut m.buf, limit)?;
            }
        } else {
            if start.saturating_add(frame.payload.len()) > limit {
                return Err(Error::MessageTooLarge { limit });
            }
            m.buf.extend_from_slice(&frame.payload);
        }
        if text {
            let fresh = m.buf.get(start..).unwrap_or_default();
            let skip = if m.compressed { 0 } else { checked };
            let fresh = fresh.get(skip..).unwrap_or_default();
            self.utf8.feed(fresh).map_err(|_| Error::InvalidUtf8)?;
        }
        if frame.fin {
            let m = self.message.take();
            if let Some(m) = m {
                let bytes = Bytes::from(m.buf);
                let msg = if m.text {
                    self.utf8.finish().map_err(|_| Error::InvalidUtf8)?;
                    Message::Text(Utf8Bytes::validated(bytes))
                } else {
                    Message::Binary(bytes)
                };
                self.events.push_back(Event::Message(msg));
            }
        }
        Ok(())
    }

    /// A close frame from the peer (§5.5.1, §7.1.5, §7.4).
    fn on_close(&mut self, payload: &[u8]) -> Result<(), Error> {
        let (code, reason) = match payload {
            [] => (CloseCode::NO_STATUS, String::new()),
            [_] => return Err(Error::InvalidClosePayload),
            [hi, lo, rest @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_sendable() {
                    return Err(Error::InvalidCloseCode(code.0));
                }
                let reason = std::str::from_utf8(rest).map_err(|_| Error::InvalidUtf8)?;
                (code, reason.to_owned())
            }
        };
        let by_peer = !self.close_sent;
        if by_peer {
            // Echo the peer's code (§5.5.1); an empty close gets an empty one.
            let echo: &[u8] = payload.get(..2).unwrap_or_default();
            self.owed_close = Some(Bytes::copy_from_slice(echo));
            self.close_sent = true;
        }
        self.message = None;
        self.state = State::Closed;
        self.events.push_back(Event::Closed {
            code,
            reason,
            by_peer,
            error: None,
        });
        // Anything after the close frame in this read breaks §5.5.1.
        if self.inbuf.is_empty() {
            Ok(())
        } else {
            self.inbuf.clear();
            self.error = Some(Error::FrameAfterClose);
            Err(Error::FrameAfterClose)
        }
    }

    /// Fails the connection (§7.1.7): queues the close frame or HTTP error
    /// answer that `e` calls for, reports it once, makes it sticky.
    fn fail(&mut self, e: Error) -> Result<(), Error> {
        if self.state == State::Closed {
            return Err(e);
        }
        let code = e.close_code().unwrap_or(CloseCode::ABNORMAL);
        match (&e, self.state) {
            (Error::Handshake(h), State::Handshake | State::AwaitingAccept)
                if self.role == Role::Server =>
            {
                self.out.extend_from_slice(&handshake::error_response(h));
            }
            (_, State::Open) if !self.close_sent && e.close_code().is_some() => {
                let mut reason = e.to_string();
                truncate_utf8(&mut reason, 123);
                self.owed_close = Some(Frame::close(code, &reason).payload);
                self.close_sent = true;
            }
            _ => {}
        }
        self.state = State::Closed;
        self.pending_pong = None;
        self.message = None;
        self.inbuf.clear();
        self.error = Some(e.clone());
        self.events.push_back(Event::Closed {
            code,
            reason: e.to_string(),
            by_peer: false,
            error: Some(e.clone()),
        });
        Err(e)
    }

    // ---- sending ----

    /// Answers every ping in order while the output queue has room, and
    /// only the latest one once it is full.
    fn queue_pong(&mut self, payload: Bytes) {
        let room = self.out.len() + payload.len() + 14 <= self.config.limits.max_queued_output;
        if room && self.pending_pong.is_none() {
            self.write_frame(true, false, OpCode::Pong, &payload);
        } else {
            self.pending_pong = Some(payload);
        }
    }

    /// Writes a coalesced pong before a close frame, so a ping that came
    /// before the close is answered before it.
    fn flush_pong(&mut self) {
        if let Some(p) = self.pending_pong.take() {
            self.write_frame(true, false, OpCode::Pong, &p);
        }
    }

    fn write_frame(&mut self, fin: bool, rsv1: bool, opcode: OpCode, payload: &[u8]) {
        let mask = self.mask.as_mut().map(MaskSource::next_key);
        encode_parts(fin, rsv1, opcode, payload, mask, &mut self.out);
    }

    fn check_send(&self, len: usize) -> Result<(), Error> {
        match self.state {
            State::Open if !self.close_sent => {}
            // Answers to messages that came before the peer's close or
            // failure may still go out ahead of the close frame we owe.
            State::Closed if self.owed_close.is_some() => {}
            State::Handshake | State::AwaitingAccept => {
                return Err(Error::InvalidState("handshake not complete"));
            }
            _ => return Err(Error::Closed),
        }
        if self.out.len().saturating_add(len) > self.config.limits.max_queued_output {
            return Err(Error::OutputFull);
        }
        Ok(())
    }

    /// Queues a text message, compressed if permessage-deflate is on.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_message(OpCode::Text, text.as_bytes())
    }

    /// Queues a binary message, compressed if permessage-deflate is on.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_message(OpCode::Binary, data)
    }

    fn send_message(&mut self, opcode: OpCode, data: &[u8]) -> Result<(), Error> {
        self.check_send(data.len())?;
        if self.sending_fragmented {
            return Err(Error::InvalidState("a fragmented message is in progress"));
        }
        #[cfg(feature = "deflate")]
        if let Some(d) = self.deflate.as_mut() {
            if d.should_compress(data.len()) {
                let mut z = Vec::new();
                d.compress(data, &mut z)?;
                self.write_frame(true, true, opcode, &z);
                return Ok(());
            }
        }
        self.write_frame(true, false, opcode, data);
        Ok(())
    }

    /// Queues one fragment of a message (§5.4): `Text` or `Binary` starts
    /// one, `Continuation` continues it, `fin` ends it. Fragmented messages
    /// are sent uncompressed, which RFC 7692 §6 allows per message.
    pub fn send_fragment(&mut self, opcode: OpCode, data: &[u8], fin: bool) -> Result<(), Error> {
        self.check_send(data.len())?;
        match (opcode, self.sending_fragmented) {
            (OpCode::Text | OpCode::Binary, false) | (OpCode::Continuation, true) => {}
            _ => return Err(Error::InvalidState("fragment out of sequence")),
        }
        self.write_frame(fin, false, opcode, data);
        self.sending_fragmented = !fin;
        Ok(())
    }

    /// Queues a ping (§5.5.2).
    pub fn send_ping(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Ping, data)
    }

    /// Queues a pong (§5.5.3), e.g. an unsolicited heartbeat, or the answer
    /// to a ping when `auto_pong` is off.
    pub fn send_pong(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Pong, data)
    }

    fn send_control(&mut self, opcode: OpCode, data: &[u8]) -> Result<(), Error> {
        if data.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::ControlPayloadTooLong);
        }
        self.check_send(data.len())?;
        self.write_frame(true, false, opcode, data);
        Ok(())
    }

    /// Starts the closing handshake (§7.1.2) with `code` and `reason`.
    /// Messages may still arrive until the peer's close frame, which ends
    /// the connection with [`Event::Closed`].
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if !code.is_sendable() || reason.len() > MAX_CONTROL_PAYLOAD - 2 {
            return Err(Error::InvalidCloseArgument);
        }
        if self.state != State::Open || self.close_sent {
            return Err(Error::Closed);
        }
        self.flush_pong();
        let f = Frame::close(code, reason);
        self.write_frame(true, false, OpCode::Close, &f.payload);
        self.close_sent = true;
        Ok(())
    }
}

fn truncate_utf8(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

#[cfg(test)]
mod tests;
