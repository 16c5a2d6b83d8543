//! Receiving field blocks (RFC 9113 §4.3, §6.2, §6.10): HEADERS and its
//! CONTINUATIONs joined (the codec bounds their count and size), HPACK
//! decoding, and what the block means for its stream (§5.1, §8.1):
//! a request opening a stream, a response, or trailers.

use bytes::{Bytes, BytesMut};

use super::semantics;
use super::stream::{Gone, RecvPhase, Stream};
use super::{Connection, Event, Role, StreamState};
use crate::error::{Error, ErrorCode, Reason};
use crate::frame::{Continuation, FrameType, Headers, StreamId};
use crate::hpack::{self, Header};

/// A field block being received across CONTINUATION frames.
#[derive(Debug)]
pub(super) struct OpenBlock {
    stream: StreamId,
    end_stream: bool,
    priority_error: Option<Error>,
    fragments: BytesMut,
}

/// The decoded fields, or the stream-level HPACK error (list too large)
/// that refuses the stream while the table stays in step.
type Decoded = Result<Vec<Header>, hpack::Error>;

impl Connection {
    pub(super) fn on_headers(&mut self, h: &Headers) -> Result<(), Error> {
        let priority_error = h.priority_error();
        if h.end_headers {
            return self.on_field_block(h.stream_id, &h.fragment, h.end_stream, priority_error);
        }
        self.block = Some(OpenBlock {
            stream: h.stream_id,
            end_stream: h.end_stream,
            priority_error,
            fragments: BytesMut::from(&h.fragment[..]),
        });
        Ok(())
    }

    pub(super) fn on_continuation(&mut self, c: &Continuation) -> Result<(), Error> {
        let Some(block) = self.block.as_mut() else {
            // The decoder lets no stray CONTINUATION through.
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::UnexpectedContinuation,
            ));
        };
        block.fragments.extend_from_slice(&c.fragment);
        if !c.end_headers {
            return Ok(());
        }
        let Some(b) = self.block.take() else {
            return Ok(());
        };
        let fragments = b.fragments.freeze();
        self.on_field_block(b.stream, &fragments, b.end_stream, b.priority_error)
    }

    /// A whole field block on `id`. HPACK decodes it first, whatever the
    /// stream's state, to keep the dynamic table in step (§4.3).
    fn on_field_block(
        &mut self,
        id: StreamId,
        block: &Bytes,
        end_stream: bool,
        priority_error: Option<Error>,
    ) -> Result<(), Error> {
        let decoded = match self.hpack_decoder.decode_to_vec(block) {
            Err(e) if e.is_connection_error() => return Err(Error::from(e)),
            r => r,
        };
        self.empty_frames = 0;
        match self.streams.state(id) {
            StreamState::Idle => self.open_peer_stream(id, decoded, end_stream, priority_error),
            StreamState::Closed => self.headers_on_closed(id),
            StreamState::HalfClosedRemote => self.stream_error(
                id,
                ErrorCode::STREAM_CLOSED,
                Reason::StreamClosed {
                    frame: FrameType::HEADERS,
                    stream: id,
                },
            ),
            StreamState::Open | StreamState::HalfClosedLocal => {
                if let Some(Error::Stream { code, reason, .. }) = priority_error {
                    return self.stream_error(id, code, reason);
                }
                match decoded {
                    Ok(fields) => self.on_stream_fields(id, fields, end_stream),
                    Err(e) => self.stream_error(id, ErrorCode::PROTOCOL_ERROR, Reason::Hpack(e)),
                }
            }
        }
    }

    /// HEADERS on a closed stream (§5.1): dropped if we reset it lately
    /// (it may have been in flight), a stream error STREAM_CLOSED after a
    /// reset, a connection error STREAM_CLOSED if it ended normally,
    /// PROTOCOL_ERROR for a peer id it skipped, which it can no longer
    /// open (§5.1.1). Every id at or below the highest used that is not
    /// open is closed; only how it ended is remembered for a bounded
    /// number of streams, and a stream error STREAM_CLOSED answers one
    /// that is forgotten.
    fn headers_on_closed(&mut self, id: StreamId) -> Result<(), Error> {
        let closed = Error::connection(
            ErrorCode::STREAM_CLOSED,
            Reason::StreamClosed {
                frame: FrameType::HEADERS,
                stream: id,
            },
        );
        match self.streams.gone(id, self.now) {
            Some(Gone::ResetByUs(_)) => Ok(()),
            Some(Gone::Reset) => self.stream_error(
                id,
                ErrorCode::STREAM_CLOSED,
                Reason::StreamClosed {
                    frame: FrameType::HEADERS,
                    stream: id,
                },
            ),
            Some(Gone::Closed) => Err(closed),
            None if !self.streams.is_local(id) && self.streams.was_skipped(id) => Err(
                Error::connection(ErrorCode::PROTOCOL_ERROR, Reason::StreamIdReused(id)),
            ),
            None => self.stream_error(
                id,
                ErrorCode::STREAM_CLOSED,
                Reason::StreamClosed {
                    frame: FrameType::HEADERS,
                    stream: id,
                },
            ),
        }
    }

    /// HEADERS on an idle stream: a server's new request (§8.1), refused
    /// past our stream limit (§5.1.2) or after our GOAWAY (§6.8).
    fn open_peer_stream(
        &mut self,
        id: StreamId,
        decoded: Decoded,
        end_stream: bool,
        priority_error: Option<Error>,
    ) -> Result<(), Error> {
        if self.role == Role::Client || self.streams.is_local(id) {
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::IdleStream {
                    frame: FrameType::HEADERS,
                    stream: id,
                },
            ));
        }
        self.streams.open_peer(id);
        if self.goaway.refuses(id) {
            let until = self.reset_until();
            self.streams.remember(id, Gone::ResetByUs(until));
            return Ok(());
        }
        if let Some(Error::Stream { code, reason, .. }) = priority_error {
            return self.stream_error(id, code, reason);
        }
        let fields = match decoded {
            Ok(f) => f,
            Err(e) => return self.stream_error(id, ErrorCode::PROTOCOL_ERROR, Reason::Hpack(e)),
        };
        let limit = self.recv_stream_limit();
        if self.streams.peer_active >= usize::try_from(limit).unwrap_or(usize::MAX) {
            return self.stream_error(
                id,
                ErrorCode::REFUSED_STREAM,
                Reason::TooManyStreams { limit },
            );
        }
        let (request, content_length) =
            match semantics::request(fields, self.config.grpc_true_binary) {
                Ok(r) => r,
                Err(rule) => return self.malformed(id, rule),
            };
        if end_stream && content_length.is_some_and(|n| n != 0) {
            return self.malformed(id, "content-length without the content (§8.1.1)");
        }
        let mut s = Stream::new(
            self.peer.initial_window_size,
            self.acked.initial_window_size,
            RecvPhase::Body,
        );
        s.content_length = content_length;
        if end_stream {
            s.close_recv();
        }
        self.streams.insert(id, s);
        self.events.push_back(Event::Request {
            stream: id,
            request,
            end_stream,
        });
        Ok(())
    }

    /// A field block on a stream the peer may send on: the response head
    /// (client), or trailers (§8.1).
    fn on_stream_fields(
        &mut self,
        id: StreamId,
        fields: Vec<Header>,
        end_stream: bool,
    ) -> Result<(), Error> {
        let Some(s) = self.streams.map.get(&id) else {
            return Ok(());
        };
        let (phase, head_request, received, content_length) =
            (s.recv_phase, s.head_request, s.received, s.content_length);
        let event = if phase == RecvPhase::Head {
            let (response, cl) = match semantics::response(fields, self.config.grpc_true_binary) {
                Ok(r) => r,
                Err(rule) => return self.malformed(id, rule),
            };
            if response.status < 200 {
                if end_stream {
                    return self.malformed(id, "interim response with END_STREAM (§8.1)");
                }
                self.events.push_back(Event::Informational {
                    stream: id,
                    response,
                });
                return Ok(());
            }
            // A HEAD response, 204 and 304 carry no content whatever
            // content-length says (RFC 9110 §8.6).
            let cl = cl.filter(|_| !head_request && !matches!(response.status, 204 | 304));
            if end_stream && cl.is_some_and(|n| n != 0) {
                return self.malformed(id, "content-length without the content (§8.1.1)");
            }
            if let Some(s) = self.streams.map.get_mut(&id) {
                s.recv_phase = RecvPhase::Body;
                s.content_length = cl;
            }
            Event::Response {
                stream: id,
                response,
                end_stream,
            }
        } else {
            if !end_stream {
                return self.malformed(id, "trailers without END_STREAM (§8.1)");
            }
            let headers = match semantics::trailers(fields, self.config.grpc_true_binary) {
                Ok(t) => t,
                Err(rule) => return self.malformed(id, rule),
            };
            if content_length.is_some_and(|n| n != received) {
                return self.malformed(id, "DATA shorter than content-length (§8.1.1)");
            }
            Event::Trailers {
                stream: id,
                headers,
            }
        };
        if end_stream {
            if let Some(s) = self.streams.map.get_mut(&id) {
                s.close_recv();
            }
        }
        self.events.push_back(event);
        self.remove_if_closed(id);
        Ok(())
    }

    /// A malformed message (§8.1.1): stream error PROTOCOL_ERROR.
    pub(super) fn malformed(&mut self, id: StreamId, rule: &'static str) -> Result<(), Error> {
        self.stream_error(id, ErrorCode::PROTOCOL_ERROR, Reason::Malformed(rule))
    }
}
