//! Closing (AMQP 0-9-1 §1.4.2.9): the peer's `connection.close`, ours,
//! and failing the connection on a peer error.

use crate::error::Error;
use crate::event::Event;
use crate::frame::Frame;
use crate::method::{ConnectionClose, ConnectionCloseOk, Method};
use crate::string::ShortString;

use super::{CloseReport, Connection, Phase, Role};

impl Connection {
    /// The peer's `connection.close` (§1.4.2.9): answered with close-ok;
    /// the connection is over.
    pub(super) fn on_peer_close(&mut self, c: ConnectionClose) -> Result<(), Error> {
        self.write_method(0, &Method::ConnectionCloseOk(ConnectionCloseOk))?;
        self.end();
        self.events.push_back(Event::Closed {
            reply_code: c.reply_code,
            reply_text: c.reply_text.into_string(),
            class_id: c.class_id,
            method_id: c.method_id,
            by_peer: true,
            error: None,
        });
        Ok(())
    }

    /// After our `connection.close`: discards everything until the peer's
    /// close-ok (or its own close, answered) ends the connection. A frame
    /// that does not decode ends it too.
    pub(super) fn await_close_ok(&mut self) {
        loop {
            match self.decoder.decode(&mut self.inbuf) {
                Ok(Some(Frame::Method {
                    channel: 0,
                    method: Method::ConnectionCloseOk(_),
                })) => break,
                Ok(Some(Frame::Method {
                    channel: 0,
                    method: Method::ConnectionClose(_),
                })) => {
                    let _ = self.write_method(0, &Method::ConnectionCloseOk(ConnectionCloseOk));
                    break;
                }
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(_) => break,
            }
        }
        self.finish_close();
    }

    /// Ends the wait for a close-ok, reporting our close if still due.
    pub(super) fn finish_close(&mut self) {
        self.end();
        if let Some(r) = self.closing.take() {
            self.events.push_back(Event::Closed {
                reply_code: r.reply_code,
                reply_text: r.reply_text,
                class_id: r.class_id,
                method_id: r.method_id,
                by_peer: false,
                error: r.error,
            });
        }
    }

    /// The connection is over: no more input, timers or channels.
    pub(super) fn end(&mut self) {
        self.phase = Phase::Closed;
        self.inbuf.clear();
        self.channels.clear();
        self.heartbeat.stop();
        self.close_deadline = None;
    }

    /// Starts the closing handshake (§1.4.2.9) with `connection.close`;
    /// [`Event::Closed`] follows when the peer's close-ok arrives or the
    /// close timeout passes. Before anything was exchanged (a client that
    /// has received nothing, a server without the header) the connection
    /// just ends, with [`Event::Closed`] at once.
    pub fn close(&mut self, reply_code: u16, reply_text: &str) -> Result<(), Error> {
        self.begin_close(CloseReport {
            reply_code,
            reply_text: reply_text.to_owned(),
            class_id: 0,
            method_id: 0,
            error: None,
        })
    }

    pub(super) fn begin_close(&mut self, report: CloseReport) -> Result<(), Error> {
        match (self.phase, self.role()) {
            (Phase::Closing | Phase::Closed, _) => return Err(Error::Closed),
            (Phase::Header, _) | (Phase::Start, Role::Client) => {
                self.closing = Some(report);
                self.finish_close();
                return Ok(());
            }
            _ => {}
        }
        let close = ConnectionClose {
            reply_code: report.reply_code,
            reply_text: short_string(&report.reply_text),
            class_id: report.class_id,
            method_id: report.method_id,
        };
        self.write_method(0, &Method::ConnectionClose(close))?;
        self.enter_closing();
        self.closing = Some(report);
        Ok(())
    }

    pub(super) fn enter_closing(&mut self) {
        self.phase = Phase::Closing;
        self.channels.clear();
        self.heartbeat.stop();
        self.close_deadline = self.now.checked_add(self.close_timeout);
    }

    /// Fails the connection: queues the `connection.close` (or, for a
    /// server refusing a protocol header, its own header) that `e` calls
    /// for, reports it once, makes it sticky.
    pub(super) fn fail(&mut self, e: Error) -> Result<(), Error> {
        if self.error.is_some() || matches!(self.phase, Phase::Closed | Phase::Closing) {
            return Err(e);
        }
        let (class_id, method_id) = e.failing_method();
        let reply_code = e.reply_code();
        let reply_text = reply_text(&e);
        if let (Some(answer), Phase::Header) = (e.header_answer(), self.phase) {
            self.out.buffer().extend_from_slice(answer);
        }
        let silent = matches!(
            e,
            Error::HeartbeatTimeout
                | Error::HandshakeTimeout
                | Error::NoCommonMechanism { .. }
                | Error::ProtocolRefused(_)
        ) || self.phase == Phase::Header
            || (self.phase == Phase::Start && self.role() == Role::Client);
        self.closing = None;
        self.inbuf.clear();
        if silent {
            self.end();
        } else {
            let close = ConnectionClose {
                reply_code,
                reply_text: short_string(&reply_text),
                class_id,
                method_id,
            };
            if self
                .write_method(0, &Method::ConnectionClose(close))
                .is_ok()
            {
                self.enter_closing();
            } else {
                self.end();
            }
        }
        self.error = Some(e.clone());
        self.events.push_back(Event::Closed {
            reply_code,
            reply_text,
            class_id,
            method_id,
            by_peer: false,
            error: Some(e.clone()),
        });
        Err(e)
    }
}

/// A reply text as RabbitMQ writes them: the code's name, then the error.
pub(super) fn reply_text(e: &Error) -> String {
    format!("{} - {e}", e.reply().name())
}

/// `s` cut to a shortstr's 255 bytes at a character boundary.
pub(super) fn short_string(s: &str) -> ShortString {
    let mut end = s.len().min(ShortString::MAX_LEN);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    ShortString::try_new(s.get(..end).unwrap_or_default()).unwrap_or_default()
}
