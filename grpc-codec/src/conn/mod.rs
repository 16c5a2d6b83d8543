//! The HTTP/2 connection state machine (RFC 9113) for one endpoint, client
//! or server, over the frame codec and HPACK.
//!
//! Feed bytes read from the transport to [`Connection::handle_input`] with
//! the current time, act on [`Connection::poll_event`], write out what
//! [`Connection::poll_transmit`] returns, and call
//! [`Connection::handle_timeout`] when [`Connection::poll_timeout`] says;
//! when the transport reaches EOF, call [`Connection::handle_eof`].
//! The connection sends the preface and SETTINGS (§3.4), acknowledges the
//! peer's, answers PINGs, keeps both sides' flow-control windows (§5.2)
//! and refills ours, tracks every stream's state (§5.1), checks HTTP
//! message rules (§8), and defends against floods (§10.5).
//!
//! A connection error (§5.4.1) queues GOAWAY with the code and a debug
//! text naming the rule, reports [`Event::Closed`] once, and is sticky:
//! later input returns it again and `send_*` return [`Error::Closed`].
//! A stream error (§5.4.2) queues RST_STREAM, reports [`Event::Reset`]
//! for a stream the application knows, and the connection goes on.
//!
//! ```
//! use std::time::Instant;
//!
//! use bytes::Bytes;
//! use grpc_codec::{Config, Connection, Event, Request, Response};
//!
//! let now = Instant::now();
//! let mut client = Connection::client(Config::default(), now);
//! let mut server = Connection::server(Config::default(), now);
//! let pump = |c: &mut Connection, s: &mut Connection| loop {
//!     match (c.poll_transmit(), s.poll_transmit()) {
//!         (None, None) => return Ok::<(), grpc_codec::Error>(()),
//!         (to_server, to_client) => {
//!             to_server.map_or(Ok(()), |b| s.handle_input(&b, now))?;
//!             to_client.map_or(Ok(()), |b| c.handle_input(&b, now))?;
//!         }
//!     }
//! };
//! let id = client.send_request(&Request::new("GET", "https", "example.com", "/"), true)?;
//! pump(&mut client, &mut server)?;
//! while let Some(ev) = server.poll_event() {
//!     if let Event::Request { stream, .. } = ev {
//!         server.send_response(stream, &Response::new(200), false)?;
//!         server.send_data(stream, Bytes::from_static(b"hello"), true)?;
//!     }
//! }
//! pump(&mut client, &mut server)?;
//! let body: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
//! assert!(body.iter().any(|e| matches!(e,
//!     Event::Data { stream, data, end_stream: true } if *stream == id && &data[..] == b"hello")));
//! # Ok::<(), grpc_codec::Error>(())
//! ```

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::codec::{Decoder, PREFACE, decode_preface, encode};
use crate::config::{Config, Settings};
use crate::error::{Error, ErrorCode, Reason};
use crate::event::Event;
use crate::frame::{Frame, GoAway, HEADER_LEN, Ping, StreamId, WindowUpdate};
use crate::hpack;

mod flow;
mod goaway;
mod headers;
mod reset;
mod semantics;
mod send;
mod settings;
mod stream;
#[cfg(test)]
mod tests;

use flow::{DEFAULT_WINDOW, RecvWindow, SendWindow};
use goaway::GoAwayState;
use headers::OpenBlock;
use reset::ResetCounter;
use stream::{Gone, Stream, Streams};

pub use stream::StreamState;

/// Which end of the connection this endpoint is (§3.4, §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends the preface, opens odd-numbered streams with requests.
    Client,
    /// Accepts requests on the client's streams and answers them.
    Server,
}

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Server: waiting for the client preface (§3.4).
    Preface,
    /// Waiting for the peer's first SETTINGS (§3.4).
    Settings,
    /// Running.
    Open,
    /// Over: failed, aborted, or done after GOAWAY.
    Closed,
}

/// One HTTP/2 endpoint, client or server.
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    /// The latest time the caller gave us.
    now: Instant,
    phase: Phase,
    decoder: Decoder,
    hpack_decoder: hpack::Decoder,
    hpack_encoder: hpack::Encoder,
    inbuf: BytesMut,
    out: BytesMut,
    /// Answers queued in `out` since the last `poll_transmit`.
    pending_control: usize,
    events: VecDeque<Event>,
    /// What we advertise (the latest SETTINGS we sent), and the peer's
    /// settings in force.
    local: Settings,
    peer: Settings,
    /// Our settings the peer has acknowledged (the defaults until it
    /// does): what it is sure to follow (§6.5.3).
    acked: Settings,
    /// Our SETTINGS frames awaiting ACK, oldest first: the deadline of
    /// each and the settings its ACK puts in force.
    unacked: VecDeque<(Option<Instant>, Settings)>,
    streams: Streams,
    send_window: SendWindow,
    recv_window: RecvWindow,
    /// The field block being received across CONTINUATIONs.
    block: Option<OpenBlock>,
    /// Our PINGs awaiting ACK.
    pings: VecDeque<[u8; 8]>,
    goaway: GoAwayState,
    resets: ResetCounter,
    empty_frames: u32,
    /// DATA bytes queued over all streams.
    send_buffered: usize,
    /// The stream served last, for round-robin sending.
    cursor: StreamId,
    error: Option<Error>,
}

impl Connection {
    fn new(role: Role, config: Config, now: Instant) -> Self {
        let local = config.settings();
        let limits = config.limits;
        let list = usize::try_from(limits.max_header_list_size).unwrap_or(usize::MAX);
        let hpack_limits = hpack::Limits {
            max_header_list_size: list,
            max_string_len: list,
        };
        let mut c = Self {
            role,
            now,
            phase: if role == Role::Server {
                Phase::Preface
            } else {
                Phase::Settings
            },
            decoder: Decoder::new(limits),
            hpack_decoder: hpack::Decoder::new(hpack::DEFAULT_TABLE_SIZE, hpack_limits),
            hpack_encoder: hpack::Encoder::new(),
            inbuf: BytesMut::new(),
            out: BytesMut::new(),
            pending_control: 0,
            events: VecDeque::new(),
            local,
            peer: Settings::default(),
            // Refusing a stream is always allowed (§5.1.2), so our first
            // stream limit holds from the start, not "unlimited" until
            // the peer acknowledges it.
            acked: Settings {
                max_concurrent_streams: local.max_concurrent_streams,
                ..Settings::default()
            },
            unacked: VecDeque::new(),
            streams: Streams::new(
                role == Role::Client,
                config.initial_stream_id,
                limits.max_closed_streams,
            ),
            send_window: SendWindow::new(DEFAULT_WINDOW),
            recv_window: RecvWindow::new(DEFAULT_WINDOW, config.connection_window_size),
            block: None,
            pings: VecDeque::new(),
            goaway: GoAwayState::default(),
            resets: ResetCounter::new(now),
            empty_frames: 0,
            send_buffered: 0,
            cursor: StreamId::ZERO,
            error: None,
            config,
        };
        if role == Role::Client {
            c.out.extend_from_slice(PREFACE);
        }
        c.write(&Frame::Settings(c.config.settings_frame()));
        c.unacked
            .push_back((now.checked_add(c.config.settings_timeout), local));
        c.apply_recv_limits();
        if let Some(inc) = c.recv_window.take_update(1) {
            c.write_window_update(StreamId::ZERO, inc);
        }
        c
    }

    /// A client; the preface and our SETTINGS (§3.4) are queued at once,
    /// and requests may follow before the server answers. `now` starts
    /// the SETTINGS timeout.
    #[must_use]
    pub fn client(config: Config, now: Instant) -> Self {
        Self::new(Role::Client, config, now)
    }

    /// A server waiting for the client preface; our SETTINGS is queued at
    /// once (§3.4).
    #[must_use]
    pub fn server(config: Config, now: Instant) -> Self {
        Self::new(Role::Server, config, now)
    }

    /// This endpoint's role.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Whether the connection is over (failed, aborted, or done after
    /// GOAWAY).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The error that failed the connection, if one did.
    #[must_use]
    pub const fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// The settings we advertise: the latest we sent, in force for what
    /// we accept once the peer acknowledges them (§6.5.3).
    #[must_use]
    pub const fn local_settings(&self) -> &Settings {
        &self.local
    }

    /// The peer's settings in force (the defaults until its SETTINGS).
    #[must_use]
    pub const fn peer_settings(&self) -> &Settings {
        &self.peer
    }

    /// The state of `stream` (§5.1), as far as the connection remembers.
    #[must_use]
    pub fn stream_state(&self, stream: StreamId) -> StreamState {
        self.streams.state(stream)
    }

    /// Streams open or half-closed, ours and the peer's.
    #[must_use]
    pub fn active_streams(&self) -> usize {
        self.streams.map.len()
    }

    /// Whether [`Connection::send_request`] may open a stream now: no
    /// GOAWAY, ids left, and the peer's concurrency limit not reached.
    #[must_use]
    pub fn can_open_stream(&self) -> bool {
        self.role == Role::Client
            && self.check_live().is_ok()
            && !self.goaway.going_away()
            && self.streams.next_local <= StreamId::MAX.value()
            && self.peer.max_concurrent_streams.is_none_or(|l| {
                self.streams.local_active < usize::try_from(l).unwrap_or(usize::MAX)
            })
    }

    /// The peer's flow-control window for `stream` (§6.9), which may be
    /// negative; `None` if the stream is not open.
    #[must_use]
    pub fn send_window(&self, stream: StreamId) -> Option<i64> {
        self.streams.map.get(&stream).map(|s| s.send_window.value())
    }

    /// The peer's connection flow-control window (§6.9).
    #[must_use]
    pub const fn connection_send_window(&self) -> i64 {
        self.send_window.value()
    }

    /// DATA bytes queued for the peer's windows, over all streams.
    #[must_use]
    pub const fn send_buffered(&self) -> usize {
        self.send_buffered
    }

    /// Bytes of frames queued for `poll_transmit` (DATA waiting for
    /// windows not included).
    #[must_use]
    pub fn queued_output(&self) -> usize {
        self.out.len()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write to the transport, if any: the frames queued so far,
    /// then as much queued DATA as the peer's windows allow (about 64 KiB
    /// per call, fairly over the streams). Call until `None`.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.check_live().is_ok() {
            self.schedule_data();
            self.maybe_finish();
        }
        self.pending_control = 0;
        (!self.out.is_empty()).then(|| self.out.split().freeze())
    }

    /// When to call [`Connection::handle_timeout`] next: the SETTINGS ACK
    /// deadline, a stream deadline, or the end of a graceful shutdown's
    /// first phase. `None` once closed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.check_live().is_err() {
            return None;
        }
        let settings = self.unacked.front().and_then(|&(d, _)| d);
        let streams = self.streams.map.values().filter_map(|s| s.deadline);
        let shutdown = self.goaway.ping_deadline();
        settings.into_iter().chain(streams).chain(shutdown).min()
    }

    /// Acts on the time: fails with SETTINGS_TIMEOUT if the peer has not
    /// acknowledged our SETTINGS (§6.5.3), reports stream deadlines
    /// ([`Event::DeadlineExceeded`]), and ends a graceful shutdown's first
    /// phase if the peer did not answer its PING.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.check_live().is_err() {
            return;
        }
        self.now = now;
        if self
            .unacked
            .front()
            .and_then(|&(d, _)| d)
            .is_some_and(|d| now >= d)
        {
            let _ = self.fail(Error::connection(
                ErrorCode::SETTINGS_TIMEOUT,
                Reason::SettingsTimeout,
            ));
            return;
        }
        let due: Vec<StreamId> = self
            .streams
            .map
            .iter()
            .filter(|(_, s)| s.deadline.is_some_and(|d| now >= d))
            .map(|(&id, _)| id)
            .collect();
        for stream in due {
            if let Some(s) = self.streams.map.get_mut(&stream) {
                s.deadline = None;
            }
            self.events.push_back(Event::DeadlineExceeded { stream });
        }
        if self.goaway.ping_deadline().is_some_and(|d| now >= d) {
            self.send_final_goaway(ErrorCode::NO_ERROR, "");
        }
        self.maybe_finish();
    }

    /// Processes bytes read from the transport, at `now`. Returns the
    /// error that failed the connection, now or before; its GOAWAY is
    /// queued and [`Event::Closed`] was reported when it happened. Input
    /// after a graceful close is ignored.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.phase == Phase::Closed {
            return Ok(());
        }
        self.now = now;
        self.inbuf.extend_from_slice(data);
        match self.process() {
            Ok(()) => {
                self.maybe_finish();
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn process(&mut self) -> Result<(), Error> {
        if self.phase == Phase::Preface {
            if !decode_preface(&mut self.inbuf)? {
                return Ok(());
            }
            self.phase = Phase::Settings;
        }
        while self.phase != Phase::Closed {
            match self.decoder.decode(&mut self.inbuf) {
                Ok(Some(frame)) => {
                    self.on_frame(frame)?;
                    // Done after GOAWAY: what follows is not read, however
                    // the input was cut.
                    self.maybe_finish();
                }
                Ok(None) => break,
                Err(Error::Stream { id, code, reason }) => self.stream_error(id, code, reason)?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn on_frame(&mut self, frame: Frame) -> Result<(), Error> {
        if self.phase == Phase::Settings && !matches!(&frame, Frame::Settings(s) if !s.ack) {
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::ExpectedSettings(frame.frame_type()),
            ));
        }
        match frame {
            Frame::Data(d) => self.on_data(d),
            Frame::Headers(h) => self.on_headers(&h),
            Frame::Continuation(c) => self.on_continuation(&c),
            Frame::RstStream(r) => self.on_rst_stream(r.stream_id, r.code),
            Frame::Settings(s) => self.on_settings(&s),
            Frame::PushPromise(_) => Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::PushDisabled,
            )),
            Frame::Ping(p) => self.on_ping(p),
            Frame::GoAway(g) => {
                self.on_goaway(&g);
                Ok(())
            }
            Frame::WindowUpdate(w) => self.on_window_update(w),
            // PRIORITY is deprecated (§5.3.2) and extension frames are
            // ignored (§5.5); the decoder has checked both.
            Frame::Priority(_) | Frame::Unknown(_) => Ok(()),
        }
    }

    /// PING (§6.7): answered at once; an ACK matching one of ours is
    /// reported, one that does not is ignored.
    fn on_ping(&mut self, p: Ping) -> Result<(), Error> {
        if p.ack {
            if self.goaway.is_shutdown_ping(p.data) {
                self.send_final_goaway(ErrorCode::NO_ERROR, "");
            } else if let Some(i) = self.pings.iter().position(|d| *d == p.data) {
                self.pings.remove(i);
                self.events.push_back(Event::PingAck { data: p.data });
            }
            return Ok(());
        }
        self.write_control(&Frame::Ping(p.pong()))
    }

    /// Queues a PING (§6.7); its ACK is reported as [`Event::PingAck`].
    /// At most [`Limits::max_pings_in_flight`](crate::Limits) may be
    /// unanswered.
    pub fn send_ping(&mut self, data: [u8; 8]) -> Result<(), Error> {
        self.check_live()?;
        if self.pings.len() >= self.config.limits.max_pings_in_flight {
            return Err(Error::TooManyPings);
        }
        self.pings.push_back(data);
        self.write(&Frame::Ping(Ping { ack: false, data }));
        Ok(())
    }

    /// `Err(Error::Closed)` once the connection is over.
    fn check_live(&self) -> Result<(), Error> {
        if self.error.is_some() || self.phase == Phase::Closed {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// Appends a frame to the output. Our frames are within the 24-bit
    /// length (payloads are cut to the peer's frame size), so encoding
    /// cannot fail.
    fn write(&mut self, f: &Frame) {
        let _ = encode(f, &mut self.out);
    }

    fn write_window_update(&mut self, stream_id: StreamId, increment: u32) {
        self.write(&Frame::WindowUpdate(WindowUpdate {
            stream_id,
            increment,
        }));
    }

    /// Fails with ENHANCE_YOUR_CALM if one more answer to the peer would
    /// exceed what we hold for a peer that does not read (§10.5).
    fn check_control_room(&self, len: usize) -> Result<(), Error> {
        let l = &self.config.limits;
        let bytes = self.out.len().saturating_add(HEADER_LEN + len);
        if self.pending_control >= l.max_pending_control || bytes > l.max_queued_output {
            return Err(Error::connection(
                ErrorCode::ENHANCE_YOUR_CALM,
                Reason::ControlFlood {
                    frames: self.pending_control,
                    bytes: self.out.len(),
                },
            ));
        }
        Ok(())
    }

    /// Queues an answer the peer's frame requires, within the limits.
    fn write_control(&mut self, f: &Frame) -> Result<(), Error> {
        self.check_control_room(f.payload_len())?;
        self.write(f);
        self.pending_control += 1;
        Ok(())
    }

    /// Stops tracking a stream: drops its queued DATA and gives back the
    /// connection window its unreleased DATA holds.
    fn remove_stream(&mut self, id: StreamId, how: Gone) -> Option<Stream> {
        let s = self.streams.remove(id, how)?;
        self.send_buffered = self.send_buffered.saturating_sub(s.queued);
        if s.unreleased > 0 {
            self.release_connection(u32::try_from(s.unreleased).unwrap_or(u32::MAX));
        }
        Some(s)
    }

    /// Removes `id` if both sides have ended it.
    fn remove_if_closed(&mut self, id: StreamId) {
        if self.streams.state(id) == StreamState::Closed {
            self.remove_stream(id, Gone::Closed);
        }
    }

    /// Fails the connection (§5.4.1): queues GOAWAY with the error's code
    /// and a debug text naming the rule, reports it once, makes it sticky.
    fn fail(&mut self, e: Error) -> Error {
        if self.check_live().is_err() {
            return e;
        }
        let mut debug = e.to_string();
        truncate_utf8(&mut debug, 256);
        self.write(&Frame::GoAway(GoAway {
            last_stream_id: self.streams.last_peer,
            code: e.code(),
            debug_data: Bytes::from(debug),
        }));
        self.end();
        self.error = Some(e.clone());
        self.events.push_back(Event::Closed {
            code: e.code(),
            reason: e.to_string(),
            by_peer: false,
            error: Some(e.clone()),
        });
        e
    }

    /// The connection is over: no more input, streams or timers.
    fn end(&mut self) {
        self.phase = Phase::Closed;
        self.streams.clear();
        self.inbuf.clear();
        self.block = None;
        self.send_buffered = 0;
        self.pings.clear();
        self.unacked.clear();
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
fn truncate_utf8(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}
