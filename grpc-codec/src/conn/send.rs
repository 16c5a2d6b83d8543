//! Sending messages (RFC 9113 §8.1): requests, responses, DATA within the
//! peer's flow-control windows and frame size (§5.2, §6.9, §4.2), and
//! trailers. Header blocks are HPACK-encoded as they are written out, so
//! the encoder's table follows the wire order.

use std::ops::Bound;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::semantics;
use super::stream::{Gone, RecvPhase, SendPhase, Stream};
use super::{Connection, Event, Role, StreamState};
use crate::codec::header_frames;
use crate::error::{Error, ErrorCode};
use crate::event::{Request, Response};
use crate::frame::{Data, Frame, Headers, RstStream, StreamId};
use crate::hpack::Header;

/// DATA written per `poll_transmit` call, at least one frame.
const TRANSMIT_BATCH: usize = 64 * 1024;

impl Connection {
    /// Client: opens a stream with `request` (§8.1); `end_stream` if no
    /// body follows. Fails without sending if the role, a GOAWAY, the
    /// peer's MAX_CONCURRENT_STREAMS ([`Error::StreamLimit`], retry once a
    /// stream ends) or the stream ids ([`Error::StreamIdsExhausted`]) do
    /// not allow it, or the request breaks §8.3.
    pub fn send_request(&mut self, request: &Request, end_stream: bool) -> Result<StreamId, Error> {
        self.check_live()?;
        if self.role != Role::Client {
            return Err(Error::InvalidState("only a client sends requests"));
        }
        if self.goaway.going_away() {
            return Err(Error::GoingAway);
        }
        if let Some(limit) = self.peer.max_concurrent_streams {
            if self.streams.local_active >= usize::try_from(limit).unwrap_or(usize::MAX) {
                return Err(Error::StreamLimit { limit });
            }
        }
        let fields = semantics::encode_request(request).map_err(Error::InvalidHeaders)?;
        self.check_output_room()?;
        let id = self
            .streams
            .take_local_id()
            .ok_or(Error::StreamIdsExhausted)?;
        self.write_headers(id, &fields, end_stream);
        let mut s = Stream::new(
            self.peer.initial_window_size,
            self.acked.initial_window_size,
            RecvPhase::Head,
        );
        s.head_request = &request.method[..] == b"HEAD";
        s.send_phase = if end_stream {
            s.close_send();
            SendPhase::Ended
        } else {
            SendPhase::Body
        };
        self.streams.insert(id, s);
        Ok(id)
    }

    /// Server: answers `stream` with `response` (§8.1): any number of
    /// interim (1xx) responses, then the final one, `end_stream` if no
    /// body or trailers follow.
    pub fn send_response(
        &mut self,
        stream: StreamId,
        response: &Response,
        end_stream: bool,
    ) -> Result<(), Error> {
        self.check_live()?;
        if self.role != Role::Server {
            return Err(Error::InvalidState("only a server sends responses"));
        }
        let s = self.open_stream(stream)?;
        if s.send_phase != SendPhase::Head {
            return Err(Error::InvalidState("response already sent"));
        }
        let fields = semantics::encode_response(response).map_err(Error::InvalidHeaders)?;
        let interim = response.status < 200;
        if interim && end_stream {
            return Err(Error::InvalidHeaders(
                "an interim response cannot end the stream (§8.1)",
            ));
        }
        self.check_output_room()?;
        self.write_headers(stream, &fields, end_stream);
        if interim {
            return Ok(());
        }
        if let Some(s) = self.streams.map.get_mut(&stream) {
            s.send_phase = if end_stream {
                s.close_send();
                SendPhase::Ended
            } else {
                SendPhase::Body
            };
        }
        self.after_send(stream);
        Ok(())
    }

    /// Queues body bytes on `stream`, `end_stream` on the last. They go out
    /// from `poll_transmit` as the peer's windows allow. Refused with
    /// [`Error::SendBufferFull`] (nothing queued; [`Event::Writable`]
    /// follows when there is room) if
    /// [`Limits::max_send_buffer`](crate::Limits) would be exceeded.
    pub fn send_data(
        &mut self,
        stream: StreamId,
        data: Bytes,
        end_stream: bool,
    ) -> Result<(), Error> {
        self.check_live()?;
        let limit = self.config.limits.max_send_buffer;
        let queued = self.send_buffered;
        let s = self.body_stream(stream)?;
        if queued.saturating_add(data.len()) > limit {
            s.wants_writable = true;
            return Err(Error::SendBufferFull { queued, limit });
        }
        let n = data.len();
        if n > 0 {
            s.queue.push_back(data);
            s.queued += n;
        }
        if end_stream {
            s.end_queued = true;
            s.send_phase = SendPhase::Ended;
        }
        self.send_buffered += n;
        Ok(())
    }

    /// Queues the trailer section that ends `stream` (§8.1), sent after
    /// the queued DATA.
    pub fn send_trailers(&mut self, stream: StreamId, trailers: &[Header]) -> Result<(), Error> {
        self.check_live()?;
        let fields = semantics::encode_trailers(trailers).map_err(Error::InvalidHeaders)?;
        let s = self.body_stream(stream)?;
        s.trailers = Some(fields);
        s.send_phase = SendPhase::Ended;
        Ok(())
    }

    /// Reports [`Event::DeadlineExceeded`] for `stream` once `deadline`
    /// passes (see [`Connection::poll_timeout`]); e.g. a gRPC call's
    /// `grpc-timeout`. `None` clears it.
    pub fn set_deadline(
        &mut self,
        stream: StreamId,
        deadline: Option<Instant>,
    ) -> Result<(), Error> {
        self.check_live()?;
        let s = self
            .streams
            .map
            .get_mut(&stream)
            .ok_or(Error::InvalidState("deadline on a stream that is not open"))?;
        s.deadline = deadline;
        Ok(())
    }

    fn open_stream(&mut self, id: StreamId) -> Result<&mut Stream, Error> {
        self.streams
            .map
            .get_mut(&id)
            .filter(|s| !s.send_closed())
            .ok_or(Error::InvalidState("stream is not open for sending"))
    }

    /// A stream whose head is sent and whose end is not yet queued.
    fn body_stream(&mut self, id: StreamId) -> Result<&mut Stream, Error> {
        let s = self.open_stream(id)?;
        match s.send_phase {
            SendPhase::Body => Ok(s),
            SendPhase::Head => Err(Error::InvalidState("no response head sent yet")),
            SendPhase::Ended => Err(Error::InvalidState("END_STREAM already queued")),
        }
    }

    /// Header blocks from the application wait in `out` unbounded by
    /// windows; refuse more once it is full (the peer is not reading).
    fn check_output_room(&self) -> Result<(), Error> {
        let limit = self.config.limits.max_queued_output;
        if self.out.len() >= limit {
            return Err(Error::SendBufferFull {
                queued: self.out.len(),
                limit,
            });
        }
        Ok(())
    }

    /// Encodes a field block and writes it as HEADERS and CONTINUATIONs of
    /// the peer's frame size (§4.3).
    fn write_headers(&mut self, id: StreamId, fields: &[Header], end_stream: bool) {
        let mut block = BytesMut::new();
        self.hpack_encoder.encode(fields, &mut block);
        let headers = Headers::new(id, block.freeze(), end_stream);
        for f in header_frames(headers, self.peer.max_frame_size) {
            self.write(&f);
        }
    }

    /// Moves queued DATA (and trailers after it) into the output, one
    /// frame per stream per round, while the windows and the batch allow.
    pub(super) fn schedule_data(&mut self) {
        let ready: Vec<StreamId> = {
            let after = self
                .streams
                .map
                .range((Bound::Excluded(self.cursor), Bound::Unbounded));
            let before = self.streams.map.range(..=self.cursor);
            after
                .chain(before)
                .filter(|(_, s)| s.has_pending_send())
                .map(|(&id, _)| id)
                .collect()
        };
        let start = self.out.len();
        let mut progress = true;
        while progress && self.out.len() - start < TRANSMIT_BATCH {
            progress = false;
            for &id in &ready {
                if self.out.len() - start >= TRANSMIT_BATCH {
                    break;
                }
                if self.send_one(id) {
                    progress = true;
                    self.cursor = id;
                }
            }
        }
        for id in ready {
            self.after_send(id);
        }
        if self.send_buffered <= self.config.limits.max_send_buffer / 2 {
            for (&stream, s) in &mut self.streams.map {
                if std::mem::take(&mut s.wants_writable) {
                    self.events.push_back(Event::Writable { stream });
                }
            }
        }
    }

    /// Writes `id`'s next frame if the windows allow: DATA, or the
    /// trailers or empty END_STREAM DATA once its queue is empty.
    fn send_one(&mut self, id: StreamId) -> bool {
        let max_frame = usize::try_from(self.peer.max_frame_size).unwrap_or(usize::MAX);
        let conn_window = self.send_window.available();
        let Some(s) = self.streams.map.get_mut(&id) else {
            return false;
        };
        if !s.has_pending_send() {
            return false;
        }
        if let Some(front) = s.queue.front_mut() {
            let n = front
                .len()
                .min(s.send_window.available())
                .min(conn_window)
                .min(max_frame);
            if n == 0 {
                return false;
            }
            let chunk = if n == front.len() {
                s.queue.pop_front().unwrap_or_default()
            } else {
                front.split_to(n)
            };
            s.queued -= n;
            s.send_window.consume(n);
            let end = s.queued == 0 && s.end_queued && s.trailers.is_none();
            if end {
                s.close_send();
            }
            self.send_window.consume(n);
            self.send_buffered = self.send_buffered.saturating_sub(n);
            self.write(&Frame::Data(Data::new(id, chunk, end)));
            return true;
        }
        if let Some(trailers) = s.trailers.take() {
            s.close_send();
            self.write_headers(id, &trailers, true);
            return true;
        }
        s.close_send();
        self.write(&Frame::Data(Data::new(id, Bytes::new(), true)));
        true
    }

    /// After we may have ended our side of `id`: removes it if both sides
    /// have; a server whose response ended before the request did resets
    /// it with NO_ERROR (§8.1), if configured, after the END_STREAM just
    /// written.
    pub(super) fn after_send(&mut self, id: StreamId) {
        match self.streams.state(id) {
            StreamState::Closed => {
                self.remove_stream(id, Gone::Closed);
            }
            StreamState::HalfClosedLocal
                if self.role == Role::Server && self.config.reset_after_response =>
            {
                let until = self.reset_until();
                self.remove_stream(id, Gone::ResetByUs(until));
                self.write(&Frame::RstStream(RstStream {
                    stream_id: id,
                    code: ErrorCode::NO_ERROR,
                }));
                self.events.push_back(Event::Reset {
                    stream: id,
                    code: ErrorCode::NO_ERROR,
                    by_peer: false,
                });
            }
            _ => {}
        }
    }
}
