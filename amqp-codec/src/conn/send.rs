//! What the application sends: methods, content, channel open and close.
//! Each call checks the connection's and the channel's state first and
//! changes nothing when it refuses.

use bytes::Bytes;

use crate::codec::{encode_content, encode_method};
use crate::error::Error;
use crate::method::{BasicPublish, ChannelOpen, Method};
use crate::output::encode_content_shared;
use crate::properties::BasicProperties;

use super::channel::{Channel, Mode, State};
use super::rules::{expects, sender};
use super::{CloseReport, Connection, Role};

impl Connection {
    /// Client: opens `channel` (§1.5.2.1); [`Event::ChannelOpened`] follows
    /// its open-ok. Methods and content may be sent on the channel at once,
    /// pipelined behind the `channel.open`. Fails with [`Error::ChannelUnavailable`] for 0, a
    /// number over channel-max, or one in use (closing included).
    ///
    /// [`Event::ChannelOpened`]: crate::Event::ChannelOpened
    pub fn open_channel(&mut self, channel: u16) -> Result<(), Error> {
        self.check_open()?;
        if self.role() != Role::Client {
            return Err(Error::InvalidState("only clients open channels"));
        }
        if channel == 0 || channel > self.channel_max() || self.channels.contains_key(&channel) {
            return Err(Error::ChannelUnavailable(channel));
        }
        self.write_method(channel, &Method::ChannelOpen(ChannelOpen::default()))?;
        let body_max = self.decoder.limits().max_body_size;
        self.channels
            .insert(channel, Channel::new(State::Opening, body_max));
        Ok(())
    }

    /// The lowest channel number [`Connection::open_channel`] would accept.
    #[must_use]
    pub fn free_channel(&self) -> Option<u16> {
        self.tune?;
        (1..=self.channel_max()).find(|c| !self.channels.contains_key(c))
    }

    /// Whether `channel` is open (open-ok exchanged, not closing).
    #[must_use]
    pub fn is_channel_open(&self, channel: u16) -> bool {
        self.channels
            .get(&channel)
            .is_some_and(|c| c.state == State::Open)
    }

    /// Client, confirm mode: publishes on `channel` not yet acked or nacked.
    #[must_use]
    pub fn unconfirmed(&self, channel: u16) -> usize {
        self.channels
            .get(&channel)
            .map_or(0, |c| c.unconfirmed.len())
    }

    /// Closes `channel` (§1.5.2.5) with `reply_code` (200 for a normal
    /// close; a server reporting a soft error uses its code, and may name
    /// the failing method by sending a whole `channel.close` through
    /// [`Connection::send_method`]). [`Event::ChannelClosed`] follows the
    /// peer's close-ok; until then the channel's input is discarded.
    ///
    /// [`Event::ChannelClosed`]: crate::Event::ChannelClosed
    pub fn close_channel(
        &mut self,
        channel: u16,
        reply_code: u16,
        reply_text: &str,
    ) -> Result<(), Error> {
        self.close_channel_with(
            channel,
            CloseReport {
                reply_code,
                reply_text: reply_text.to_owned(),
                class_id: 0,
                method_id: 0,
                error: None,
            },
        )
    }

    fn close_channel_with(&mut self, channel: u16, report: CloseReport) -> Result<(), Error> {
        self.check_open()?;
        match self.channels.get(&channel).map(|c| &c.state) {
            Some(State::Open | State::Opening) => self.begin_channel_close(channel, report),
            _ => Err(Error::ChannelNotOpen(channel)),
        }
    }

    /// Sends a method without content: a request, a reply to the peer's
    /// request, `basic.ack`/`reject`/`nack`... `connection.close`,
    /// `channel.open` and `channel.close` go to [`Connection::close`],
    /// [`Connection::open_channel`] and [`Connection::close_channel`]. The
    /// connection refuses ([`Error::InvalidState`]) methods the other role
    /// sends, content methods (see [`Connection::send_content`]), replies
    /// it sends itself (open-ok, close-ok; on a client flow-ok and
    /// cancel-ok), `confirm.select` on a
    /// transactional channel and the reverse, tx.commit/rollback outside
    /// tx mode, and on a server `basic.ack`/`nack` outside confirm mode.
    /// A synchronous request without `nowait` makes the channel expect
    /// its reply: a reply that answers nothing fails the connection (503).
    pub fn send_method(&mut self, channel: u16, method: &Method) -> Result<(), Error> {
        match method {
            Method::ConnectionClose(c) if channel == 0 => {
                return self.begin_close(CloseReport {
                    reply_code: c.reply_code,
                    reply_text: c.reply_text.as_str().to_owned(),
                    class_id: c.class_id,
                    method_id: c.method_id,
                    error: None,
                });
            }
            Method::ChannelOpen(_) => return self.open_channel(channel),
            Method::ChannelClose(c) => {
                return self.close_channel_with(
                    channel,
                    CloseReport {
                        reply_code: c.reply_code,
                        reply_text: c.reply_text.as_str().to_owned(),
                        class_id: c.class_id,
                        method_id: c.method_id,
                        error: None,
                    },
                );
            }
            _ => {}
        }
        self.check_open()?;
        let role = self.role();
        if method.has_content() {
            return Err(Error::InvalidState(
                "content methods go through send_content",
            ));
        }
        if !sender(method).allows(role) {
            return Err(Error::InvalidState("the other role sends this method"));
        }
        if matches!(
            (role, method),
            (
                _,
                Method::ChannelOpenOk(_) | Method::ChannelCloseOk(_) | Method::ConnectionCloseOk(_)
            ) | (
                Role::Client,
                Method::ChannelFlowOk(_) | Method::BasicCancelOk(_)
            )
        ) {
            return Err(Error::InvalidState(
                "the connection sends this reply itself",
            ));
        }
        if channel == 0 || method.class_id() == crate::constants::class::CONNECTION {
            let after_open = matches!(
                method,
                Method::ConnectionBlocked(_)
                    | Method::ConnectionUnblocked(_)
                    | Method::ConnectionUpdateSecret(_)
                    | Method::ConnectionUpdateSecretOk(_)
            );
            return if channel == 0 && after_open {
                self.write_method(0, method)
            } else {
                Err(Error::InvalidState(
                    "on channel 0 only blocked, unblocked and update-secret; no other connection method",
                ))
            };
        }
        let Some(ch) = self
            .channels
            .get_mut(&channel)
            .filter(|c| matches!(c.state, State::Open | State::Opening))
        else {
            return Err(Error::ChannelNotOpen(channel));
        };
        match (role, method, ch.mode) {
            (Role::Client, Method::ConfirmSelect(_), Mode::Tx) => {
                return Err(Error::InvalidState(
                    "a transactional channel cannot use confirms",
                ));
            }
            (Role::Client, Method::TxSelect(_), Mode::Confirm) => {
                return Err(Error::InvalidState(
                    "a channel in confirm mode cannot be transactional",
                ));
            }
            (Role::Client, Method::TxCommit(_) | Method::TxRollback(_), m) if m != Mode::Tx => {
                return Err(Error::InvalidState("the channel is not transactional"));
            }
            (Role::Server, Method::BasicAck(_) | Method::BasicNack(_), m) if m != Mode::Confirm => {
                return Err(Error::InvalidState(
                    "a server acks publishes only in confirm mode",
                ));
            }
            _ => {}
        }
        encode_method(channel, method, self.out.buffer())?;
        self.heartbeat.sent(self.now);
        ch.pending.extend(expects(method));
        match (role, method) {
            (Role::Client, Method::ConfirmSelect(_)) => ch.select_confirm(),
            (Role::Client, Method::TxSelect(_)) => ch.mode = Mode::Tx,
            _ => {}
        }
        Ok(())
    }

    /// Sends a content method with its content (§4.2.6): `basic.publish`
    /// from a client; `basic.deliver`, `basic.get-ok` or `basic.return`
    /// from a server. The body is split into frames of the agreed
    /// frame-max. Returns the publish's delivery tag on a client channel
    /// in confirm mode (counted from 1 after `confirm.select`; its
    /// [`Event::Confirm`] comes later). Refused while the peer has paused
    /// the channel with `channel.flow`.
    ///
    /// [`Event::Confirm`]: crate::Event::Confirm
    pub fn send_content(
        &mut self,
        channel: u16,
        method: &Method,
        properties: &BasicProperties,
        body: &[u8],
    ) -> Result<Option<u64>, Error> {
        self.send_content_from(channel, method, properties, BodySource::Slice(body))
    }

    /// [`Connection::send_content`] without copying `body`: body frames of
    /// [`SHARE_MIN`] octets or more go out of [`Connection::poll_transmit`]
    /// as slices of `body` (see [`OutputQueue`]), for a vectored write.
    ///
    /// [`SHARE_MIN`]: crate::output::SHARE_MIN
    /// [`OutputQueue`]: crate::OutputQueue
    pub fn send_content_bytes(
        &mut self,
        channel: u16,
        method: &Method,
        properties: &BasicProperties,
        body: &Bytes,
    ) -> Result<Option<u64>, Error> {
        self.send_content_from(channel, method, properties, BodySource::Shared(body))
    }

    fn send_content_from(
        &mut self,
        channel: u16,
        method: &Method,
        properties: &BasicProperties,
        body: BodySource<'_>,
    ) -> Result<Option<u64>, Error> {
        self.check_open()?;
        let role = self.role();
        if !method.has_content() {
            return Err(Error::InvalidState("not a content method"));
        }
        if !sender(method).allows(role) {
            return Err(Error::InvalidState("the other role sends this method"));
        }
        let frame_max = match self.tune.map_or(0, |t| t.frame_max) {
            0 => self.decoder.limits().max_frame_size,
            n => n,
        };
        let Some(ch) = self
            .channels
            .get_mut(&channel)
            .filter(|c| matches!(c.state, State::Open | State::Opening))
        else {
            return Err(Error::ChannelNotOpen(channel));
        };
        if !ch.send_flow {
            return Err(Error::InvalidState(
                "the peer paused the channel (channel.flow)",
            ));
        }
        // Both encoders leave the queue as it was when they fail, and fail
        // only before any body frame is queued, so taking the method back
        // off the buffer undoes everything.
        let start = self.out.buffer().len();
        encode_method(channel, method, self.out.buffer())?;
        let class_id = method.class_id();
        let r = match body {
            BodySource::Slice(b) => encode_content(
                channel,
                class_id,
                properties,
                b,
                frame_max,
                self.out.buffer(),
            ),
            BodySource::Shared(b) => {
                encode_content_shared(channel, class_id, properties, b, frame_max, &mut self.out)
            }
        };
        if let Err(e) = r {
            self.out.buffer().truncate(start);
            return Err(e);
        }
        self.heartbeat.sent(self.now);
        if role == Role::Client && ch.mode == Mode::Confirm {
            let tag = ch.next_tag;
            ch.next_tag = ch.next_tag.saturating_add(1);
            ch.unconfirmed.insert(tag);
            return Ok(Some(tag));
        }
        Ok(None)
    }

    /// Client: publishes a message without copying its body
    /// ([`Connection::send_content_bytes`] with `basic.publish`).
    pub fn publish_bytes(
        &mut self,
        channel: u16,
        publish: &BasicPublish,
        properties: &BasicProperties,
        body: &Bytes,
    ) -> Result<Option<u64>, Error> {
        self.send_content_bytes(
            channel,
            &Method::BasicPublish(publish.clone()),
            properties,
            body,
        )
    }

    /// Client: publishes a message ([`Connection::send_content`] with
    /// `basic.publish`).
    pub fn publish(
        &mut self,
        channel: u16,
        publish: &BasicPublish,
        properties: &BasicProperties,
        body: &[u8],
    ) -> Result<Option<u64>, Error> {
        self.send_content(
            channel,
            &Method::BasicPublish(publish.clone()),
            properties,
            body,
        )
    }
}

/// A body to send: borrowed and copied, or shared and queued as is.
#[derive(Clone, Copy)]
enum BodySource<'a> {
    Slice(&'a [u8]),
    Shared(&'a Bytes),
}
