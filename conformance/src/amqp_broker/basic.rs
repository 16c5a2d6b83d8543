//! The consuming side of class `basic`: `qos`, `consume` (direct reply-to
//! included), `cancel`, `get`, `recover`.

use amqp_codec::ShortString;
use amqp_codec::method::{
    BasicCancel, BasicCancelOk, BasicConsume, BasicConsumeOk, BasicGet, BasicGetEmpty, BasicGetOk,
    BasicQos, BasicQosOk, Method,
};

use super::error::{AmqpError, Result};
use super::model::{ConnId, Consumer, ConsumerKey};
use super::session::Session;
use super::state::State;

/// The pseudo-queue of direct reply-to.
pub(super) const REPLY_TO: &str = "amq.rabbitmq.reply-to";

impl State {
    /// Whether a consumer of the queue consumes exclusively.
    fn has_exclusive_consumer(&self, consumers: &[ConsumerKey]) -> bool {
        consumers.iter().any(|k| {
            self.conns
                .get(&k.conn)
                .and_then(|c| c.channels.get(&k.channel))
                .and_then(|ch| ch.consumers.get(&k.tag))
                .is_some_and(|c| c.exclusive)
        })
    }

    /// `basic.consume` on a queue: the consumer's tag (generated for an
    /// empty one). Deliveries start with the next [`State::dispatch`].
    fn add_consumer(
        &mut self,
        conn: ConnId,
        channel: u16,
        queue: &ShortString,
        c: &BasicConsume,
    ) -> Result<ShortString> {
        let q = self.check_queue(conn, queue)?;
        if (c.exclusive && !q.consumers.is_empty()) || self.has_exclusive_consumer(&q.consumers) {
            return Err(AmqpError::access_refused(format!(
                "{} in exclusive use",
                self.describe("queue", queue)
            )));
        }
        let tag = if c.consumer_tag.is_empty() {
            self.unique_name("amq.ctag-")
        } else {
            c.consumer_tag.clone()
        };
        let Some(ch) = self.chan_mut(conn, channel) else {
            return Ok(tag);
        };
        let reused = ch.reply_to.as_ref().is_some_and(|(_, t)| *t == tag);
        if reused || ch.consumers.contains_key(&tag) {
            return Err(AmqpError::not_allowed(format!(
                "attempt to reuse consumer tag '{tag}'"
            )));
        }
        let consumer = Consumer {
            queue: queue.clone(),
            no_ack: c.no_ack,
            exclusive: c.exclusive,
            prefetch: ch.consumer_prefetch,
            unacked: 0,
        };
        ch.consumers.insert(tag.clone(), consumer);
        if let Some(q) = self.queues.get_mut(queue) {
            q.consumers.push(ConsumerKey {
                conn,
                channel,
                tag: tag.clone(),
            });
        }
        Ok(tag)
    }

    /// Direct reply-to: `basic.consume` of `amq.rabbitmq.reply-to`.
    fn add_reply_consumer(
        &mut self,
        conn: ConnId,
        channel: u16,
        c: &BasicConsume,
    ) -> Result<ShortString> {
        if !c.no_ack {
            return Err(AmqpError::precondition("reply consumer cannot acknowledge"));
        }
        let name = self.unique_name("amq.rabbitmq.reply-to.");
        let tag = if c.consumer_tag.is_empty() {
            self.unique_name("amq.ctag-")
        } else {
            c.consumer_tag.clone()
        };
        let Some(ch) = self.chan_mut(conn, channel) else {
            return Ok(tag);
        };
        if ch.reply_to.is_some() {
            return Err(AmqpError::precondition("reply consumer already set"));
        }
        if ch.consumers.contains_key(&tag) {
            return Err(AmqpError::not_allowed(format!(
                "attempt to reuse consumer tag '{tag}'"
            )));
        }
        ch.reply_to = Some((name.clone(), tag.clone()));
        self.reply_to.insert(name, (conn, channel));
        Ok(tag)
    }

    /// `basic.cancel`: the consumer goes (an unknown tag is no error). Its
    /// unacked deliveries stay unacked on the channel.
    fn cancel_consumer(&mut self, conn: ConnId, channel: u16, tag: &ShortString) {
        let Some(ch) = self.chan_mut(conn, channel) else {
            return;
        };
        if let Some(c) = ch.consumers.remove(tag) {
            let key = ConsumerKey {
                conn,
                channel,
                tag: tag.clone(),
            };
            self.remove_consumer(&c.queue, &key);
        } else if ch.reply_to.as_ref().is_some_and(|(_, t)| t == tag) {
            if let Some((name, _)) = ch.reply_to.take() {
                self.reply_to.remove(&name);
            }
        }
    }
}

impl Session {
    /// `basic.qos`: `prefetch_count` for the channel (`global`) or for its
    /// later consumers, as RabbitMQ reads the flag.
    pub(super) fn qos(&mut self, channel: u16, q: &BasicQos) -> Result<()> {
        if q.prefetch_size != 0 {
            return Err(AmqpError::not_implemented(format!(
                "prefetch_size!=0 ({})",
                q.prefetch_size
            )));
        }
        {
            let mut st = self.broker.lock();
            if let Some(ch) = st.chan_mut(self.id, channel) {
                if q.global {
                    ch.prefetch = q.prefetch_count;
                } else {
                    ch.consumer_prefetch = q.prefetch_count;
                }
            }
            st.dispatch_channel(self.id, channel);
        }
        self.reply(channel, BasicQosOk);
        Ok(())
    }

    /// `basic.consume`: consume-ok first, then the deliveries.
    pub(super) fn consume(&mut self, channel: u16, c: &BasicConsume) -> Result<()> {
        if c.queue.as_str() == REPLY_TO {
            let tag = self.broker.lock().add_reply_consumer(self.id, channel, c)?;
            if !c.nowait {
                self.reply(channel, BasicConsumeOk { consumer_tag: tag });
            }
            return Ok(());
        }
        let queue = self.resolve_queue(channel, &c.queue)?;
        let tag = self
            .broker
            .lock()
            .add_consumer(self.id, channel, &queue, c)?;
        if !c.nowait {
            self.reply(channel, BasicConsumeOk { consumer_tag: tag });
        }
        self.broker.lock().dispatch(&queue);
        Ok(())
    }

    /// `basic.cancel`: cancel-ok after the deliveries already due.
    pub(super) fn cancel(&mut self, channel: u16, c: &BasicCancel) -> Result<()> {
        self.broker
            .lock()
            .cancel_consumer(self.id, channel, &c.consumer_tag);
        if !c.nowait {
            let ok = BasicCancelOk {
                consumer_tag: c.consumer_tag.clone(),
            };
            self.reply(channel, ok);
        }
        Ok(())
    }

    /// `basic.get`: get-ok with the queue's next message, or get-empty.
    pub(super) fn get(&mut self, channel: u16, g: &BasicGet) -> Result<()> {
        let queue = self.resolve_queue(channel, &g.queue)?;
        let got = {
            let mut st = self.broker.lock();
            st.check_queue(self.id, &queue)?;
            st.get(self.id, channel, &queue, g.no_ack)
        };
        let Some((delivery_tag, redelivered, msg, message_count)) = got else {
            self.reply(channel, BasicGetEmpty::default());
            return Ok(());
        };
        self.drain_outbox();
        let ok = Method::from(BasicGetOk {
            delivery_tag,
            redelivered,
            exchange: msg.exchange.clone(),
            routing_key: msg.routing_key.clone(),
            message_count,
        });
        let _ = self
            .conn
            .send_content(channel, &ok, &msg.properties, &msg.body);
        Ok(())
    }

    /// `basic.recover`/`recover-async`: the channel's unacked deliveries go
    /// back to their queues. Redelivery to the same consumer
    /// (`requeue` false) is refused with 540, as RabbitMQ does.
    pub(super) fn recover(&mut self, channel: u16, requeue: bool) -> Result<()> {
        if !requeue {
            return Err(AmqpError::not_implemented("requeue=false"));
        }
        self.broker.lock().recover(self.id, channel);
        Ok(())
    }
}
