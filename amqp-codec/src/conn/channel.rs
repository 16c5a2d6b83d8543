//! One state machine per channel (AMQP 0-9-1 §1.5.2, §4.2.6): opening,
//! open, closing; a method, then for content methods its header and body
//! frames; the replies our requests wait for; confirm and tx modes.

use std::collections::{BTreeSet, VecDeque};

use crate::content::{Command, Content, ContentAssembler};
use crate::error::Error;
use crate::event::{Delivery, Event, Publish};
use crate::frame::Frame;
use crate::method::{
    BasicCancelOk, ChannelClose, ChannelCloseOk, ChannelFlowOk, ChannelOpen, ChannelOpenOk, Method,
};

use super::rules::{Expect, is_reply, sender};
use super::{CloseReport, Connection, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum State {
    /// Client: `channel.open` sent, waiting for open-ok.
    Opening,
    Open,
    /// Our `channel.close` is out: everything but close and close-ok is
    /// discarded until the close-ok (§1.5.2.5).
    Closing(Box<CloseReport>),
}

/// Publisher confirms and transactions exclude each other (RabbitMQ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Plain,
    Confirm,
    Tx,
}

#[derive(Debug)]
pub(super) struct Channel {
    pub(super) state: State,
    pub(super) assembler: ContentAssembler,
    /// Replies our requests wait for, in the order they must come.
    pub(super) pending: VecDeque<Expect>,
    /// Whether the peer lets us send content (`channel.flow`).
    pub(super) send_flow: bool,
    pub(super) mode: Mode,
    /// Confirm mode: the tag of the channel's next publish.
    pub(super) next_tag: u64,
    /// Client, confirm mode: publishes not yet acked or nacked.
    pub(super) unconfirmed: BTreeSet<u64>,
}

impl Channel {
    pub(super) fn new(state: State, max_body_size: u64) -> Self {
        Self {
            state,
            assembler: ContentAssembler::new(max_body_size),
            pending: VecDeque::new(),
            send_flow: true,
            mode: Mode::Plain,
            next_tag: 1,
            unconfirmed: BTreeSet::new(),
        }
    }

    /// Enters confirm mode, counting publishes from 1, unless already in it.
    pub(super) fn select_confirm(&mut self) {
        if self.mode != Mode::Confirm {
            self.mode = Mode::Confirm;
            self.next_tag = 1;
        }
    }
}

/// The error for a frame that has no business on its channel now: 503 for
/// a method, 504 for content.
pub(super) fn frame_error(frame: &Frame, reason: &'static str) -> Error {
    match frame {
        Frame::Method { channel, method } => Error::CommandInvalid {
            channel: *channel,
            class_id: method.class_id(),
            method_id: method.method_id(),
            reason,
        },
        f => Error::ChannelError {
            channel: f.channel(),
            class_id: 0,
            method_id: 0,
            reason,
        },
    }
}

impl Connection {
    /// A frame for channel 1 or above, once connected.
    pub(super) fn on_channel_frame(&mut self, frame: Frame) -> Result<(), Error> {
        let channel = frame.channel();
        let peer = self.role().peer();
        let Some(ch) = self.channels.get_mut(&channel) else {
            return self.on_unopened(&frame);
        };
        match ch.state {
            State::Closing(_) => return self.on_closing_frame(&frame),
            State::Opening => return self.on_opening_frame(frame),
            State::Open => {}
        }
        let done = match frame {
            Frame::Method { method, .. } => {
                if !sender(&method).allows(peer) {
                    return Err(frame_error(
                        &Frame::Method { channel, method },
                        "the peer's role does not send this method",
                    ));
                }
                ch.assembler.method(method)?
            }
            Frame::Header { header, .. } => ch.assembler.header(header)?,
            Frame::Body { payload, .. } => ch.assembler.body(payload)?,
            Frame::Heartbeat => None,
        };
        match done {
            Some(cmd) => self.on_command(channel, cmd),
            None => Ok(()),
        }
    }

    /// A frame for a channel that is not open: only a client's
    /// `channel.open` is welcome.
    fn on_unopened(&mut self, frame: &Frame) -> Result<(), Error> {
        let channel = frame.channel();
        if !matches!(
            frame,
            Frame::Method {
                method: Method::ChannelOpen(_),
                ..
            }
        ) || self.role() != Role::Server
        {
            return Err(Error::ChannelError {
                channel,
                class_id: class_of(frame).0,
                method_id: class_of(frame).1,
                reason: "channel is not open",
            });
        }
        let max = self.channel_max();
        if channel > max {
            return Err(Error::NotAllowed {
                reason: format!("channel {channel} is over channel-max {max}"),
            });
        }
        self.write_method(channel, &Method::ChannelOpenOk(ChannelOpenOk::default()))?;
        let body_max = self.decoder.limits().max_body_size;
        self.channels
            .insert(channel, Channel::new(State::Open, body_max));
        self.events.push_back(Event::ChannelOpened { channel });
        Ok(())
    }

    /// Client, waiting for `channel.open-ok`.
    fn on_opening_frame(&mut self, frame: Frame) -> Result<(), Error> {
        match frame {
            Frame::Method {
                channel,
                method: Method::ChannelOpenOk(_),
            } => {
                if let Some(ch) = self.channels.get_mut(&channel) {
                    ch.state = State::Open;
                }
                self.events.push_back(Event::ChannelOpened { channel });
                Ok(())
            }
            Frame::Method {
                channel,
                method: Method::ChannelClose(c),
            } => self.on_peer_channel_close(channel, c),
            f => Err(frame_error(&f, "frame before channel.open-ok")),
        }
    }

    /// Waiting for the close-ok of our `channel.close`.
    fn on_closing_frame(&mut self, frame: &Frame) -> Result<(), Error> {
        let channel = frame.channel();
        match frame {
            // Closes crossed: answer theirs, still wait for the answer to ours.
            Frame::Method {
                method: Method::ChannelClose(_),
                ..
            } => self.write_method(channel, &Method::ChannelCloseOk(ChannelCloseOk)),
            Frame::Method {
                method: Method::ChannelCloseOk(_),
                ..
            } => {
                if let Some(Channel {
                    state: State::Closing(r),
                    ..
                }) = self.channels.remove(&channel)
                {
                    self.events.push_back(Event::ChannelClosed {
                        channel,
                        reply_code: r.reply_code,
                        reply_text: r.reply_text,
                        class_id: r.class_id,
                        method_id: r.method_id,
                        by_peer: false,
                        error: r.error,
                    });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The peer's `channel.close`: answered with close-ok, channel freed.
    fn on_peer_channel_close(&mut self, channel: u16, c: ChannelClose) -> Result<(), Error> {
        self.write_method(channel, &Method::ChannelCloseOk(ChannelCloseOk))?;
        self.channels.remove(&channel);
        self.events.push_back(Event::ChannelClosed {
            channel,
            reply_code: c.reply_code,
            reply_text: c.reply_text.into_string(),
            class_id: c.class_id,
            method_id: c.method_id,
            by_peer: true,
            error: None,
        });
        Ok(())
    }

    /// A whole command on an open channel.
    fn on_command(&mut self, channel: u16, cmd: Command) -> Result<(), Error> {
        let Command { method, content } = cmd;
        if let Some(content) = content {
            return self.on_content(channel, method, content);
        }
        let fail = |m: &Method, reason| {
            Err(frame_error(
                &Frame::Method {
                    channel,
                    method: m.clone(),
                },
                reason,
            ))
        };
        match method {
            Method::ChannelOpen(_) => Err(Error::ChannelError {
                channel,
                class_id: ChannelOpen::CLASS_ID,
                method_id: ChannelOpen::METHOD_ID,
                reason: "second channel.open",
            }),
            Method::ChannelClose(c) => self.on_peer_channel_close(channel, c),
            m @ (Method::ChannelOpenOk(_) | Method::ChannelCloseOk(_)) => {
                fail(&m, "no channel.open or channel.close to answer")
            }
            Method::ChannelFlow(f) => {
                // A client answers at once: the server's requests are all
                // answered by the connection, so answers keep their order.
                // A server leaves flow-ok to the application, behind the
                // replies it owes for earlier requests.
                if self.role() == Role::Client {
                    let ok = ChannelFlowOk { active: f.active };
                    self.write_method(channel, &Method::ChannelFlowOk(ok))?;
                }
                if let Some(ch) = self.channels.get_mut(&channel) {
                    ch.send_flow = f.active;
                }
                self.events.push_back(Event::Flow {
                    channel,
                    active: f.active,
                });
                Ok(())
            }
            m if is_reply(&m) => {
                self.take_reply(channel, &m)?;
                self.events.push_back(Event::Method { channel, method: m });
                Ok(())
            }
            m => self.on_request(channel, m),
        }
    }

    /// Checks that `m` answers the oldest request waiting on the channel.
    fn take_reply(&mut self, channel: u16, m: &Method) -> Result<(), Error> {
        let ch = self.channels.get_mut(&channel);
        match ch {
            Some(ch) if ch.pending.front().is_some_and(|e| e.matches(m)) => {
                ch.pending.pop_front();
                Ok(())
            }
            _ => Err(Error::CommandInvalid {
                channel,
                class_id: m.class_id(),
                method_id: m.method_id(),
                reason: "reply to no request of ours",
            }),
        }
    }

    /// A request (or notification) from the peer.
    fn on_request(&mut self, channel: u16, m: Method) -> Result<(), Error> {
        let mode = self.channels.get(&channel).map(|c| c.mode);
        let precondition = |m: &Method, reason| Error::PreconditionFailed {
            channel,
            class_id: m.class_id(),
            method_id: m.method_id(),
            reason,
        };
        match (self.role(), &m) {
            (Role::Client, Method::BasicAck(a)) if mode == Some(Mode::Confirm) => {
                self.on_confirm(channel, a.delivery_tag, a.multiple, true);
                return Ok(());
            }
            (Role::Client, Method::BasicNack(n)) if mode == Some(Mode::Confirm) => {
                self.on_confirm(channel, n.delivery_tag, n.multiple, false);
                return Ok(());
            }
            (Role::Client, Method::BasicCancel(c)) if !c.nowait => {
                let ok = BasicCancelOk {
                    consumer_tag: c.consumer_tag.clone(),
                };
                self.write_method(channel, &Method::BasicCancelOk(ok))?;
            }
            (Role::Server, Method::ConfirmSelect(_)) => {
                if mode == Some(Mode::Tx) {
                    let e = precondition(&m, "cannot switch from tx to confirm mode");
                    return self.soft_error(channel, e);
                }
                if let Some(ch) = self.channels.get_mut(&channel) {
                    ch.select_confirm();
                }
            }
            (Role::Server, Method::TxSelect(_)) => {
                if mode == Some(Mode::Confirm) {
                    let e = precondition(&m, "cannot switch from confirm to tx mode");
                    return self.soft_error(channel, e);
                }
                if let Some(ch) = self.channels.get_mut(&channel) {
                    ch.mode = Mode::Tx;
                }
            }
            (Role::Server, Method::TxCommit(_) | Method::TxRollback(_))
                if mode != Some(Mode::Tx) =>
            {
                let e = precondition(&m, "channel is not transactional");
                return self.soft_error(channel, e);
            }
            _ => {}
        }
        self.events.push_back(Event::Method { channel, method: m });
        Ok(())
    }

    /// A content command: a publish on a server, a delivery, get-ok or
    /// return on a client.
    fn on_content(&mut self, channel: u16, method: Method, content: Content) -> Result<(), Error> {
        let Content { header, body } = content;
        let properties = header.properties;
        match method {
            Method::BasicPublish(publish) => {
                let confirm_tag = self.channels.get_mut(&channel).and_then(|ch| {
                    (ch.mode == Mode::Confirm).then(|| {
                        let tag = ch.next_tag;
                        ch.next_tag = ch.next_tag.saturating_add(1);
                        tag
                    })
                });
                self.events.push_back(Event::Publish(Box::new(Publish {
                    channel,
                    publish,
                    properties,
                    body,
                    confirm_tag,
                })));
            }
            method => {
                if matches!(method, Method::BasicGetOk(_)) {
                    self.take_reply(channel, &method)?;
                }
                self.events.push_back(Event::Delivery(Box::new(Delivery {
                    channel,
                    method,
                    properties,
                    body,
                })));
            }
        }
        Ok(())
    }

    /// Client: the server's ack or nack of publishes, one event per
    /// publish it covers. Tags we are not waiting for are ignored.
    fn on_confirm(&mut self, channel: u16, tag: u64, multiple: bool, ack: bool) {
        let Some(ch) = self.channels.get_mut(&channel) else {
            return;
        };
        let tags: Vec<u64> = if multiple {
            // Tag 0 with multiple covers every outstanding publish.
            let rest = match tag.checked_add(1) {
                Some(after) if tag != 0 => ch.unconfirmed.split_off(&after),
                _ => BTreeSet::new(),
            };
            std::mem::replace(&mut ch.unconfirmed, rest)
                .into_iter()
                .collect()
        } else if ch.unconfirmed.remove(&tag) {
            vec![tag]
        } else {
            Vec::new()
        };
        self.events
            .extend(tags.into_iter().map(|delivery_tag| Event::Confirm {
                channel,
                delivery_tag,
                multiple,
                ack,
            }));
    }

    /// Server: closes a channel for a soft error the connection found.
    fn soft_error(&mut self, channel: u16, e: Error) -> Result<(), Error> {
        let (class_id, method_id) = e.failing_method();
        self.begin_channel_close(
            channel,
            CloseReport {
                reply_code: e.reply_code(),
                reply_text: super::close::reply_text(&e),
                class_id,
                method_id,
                error: Some(e),
            },
        )
    }

    /// Sends `channel.close` and waits for its close-ok; the channel's
    /// unfinished business (content, replies, confirms) is dropped.
    pub(super) fn begin_channel_close(
        &mut self,
        channel: u16,
        report: CloseReport,
    ) -> Result<(), Error> {
        let close = ChannelClose {
            reply_code: report.reply_code,
            reply_text: super::close::short_string(&report.reply_text),
            class_id: report.class_id,
            method_id: report.method_id,
        };
        self.write_method(channel, &Method::ChannelClose(close))?;
        if let Some(ch) = self.channels.get_mut(&channel) {
            ch.state = State::Closing(Box::new(report));
            ch.assembler.reset();
            ch.pending.clear();
            ch.unconfirmed.clear();
        }
        Ok(())
    }
}

/// Class and method of a method frame, `(0, 0)` for other frames.
fn class_of(frame: &Frame) -> (u16, u16) {
    match frame {
        Frame::Method { method, .. } => (method.class_id(), method.method_id()),
        _ => (0, 0),
    }
}
