//! The publishing side: `basic.publish` routed to queues (or a direct
//! reply-to consumer), `basic.return` for unroutable mandatory messages,
//! publisher confirms, and transactions.

use std::sync::Arc;

use amqp_codec::method::{BasicAck, BasicNack, BasicPublish, BasicReturn, Method};
use amqp_codec::{Body, Publish, ReplyCode, ShortString};

use super::basic::REPLY_TO;
use super::error::{AmqpError, Result};
use super::model::{Message, Outgoing};
use super::session::Session;
use super::state::{Enqueued, Settle, State};
use super::{MAX_BYTES, MAX_MESSAGES, MESSAGE_OVERHEAD};

/// What a transactional channel keeps for `tx.commit`.
#[derive(Debug)]
pub(super) enum TxOp {
    Publish(Box<Publish>),
    Settle {
        tag: u64,
        multiple: bool,
        how: Settle,
    },
}

/// Where a publish went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Routed {
    /// At least one queue (or reply consumer) matched.
    routed: bool,
    /// A queue refused it: its `reject-publish` limit.
    rejected: bool,
    /// The broker's own limits refused it.
    broker_full: bool,
}

impl State {
    /// Direct reply-to: delivers to the consumer behind pseudo-queue
    /// `name`, bypassing queues and prefetch.
    fn deliver_reply(&mut self, name: &str, msg: Arc<Message>) -> bool {
        let Some(&(conn, channel)) = self.reply_to.get(name) else {
            return false;
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return false;
        };
        let Some(ch) = c.channels.get_mut(&channel) else {
            return false;
        };
        let Some((_, consumer_tag)) = ch.reply_to.clone() else {
            return false;
        };
        let delivery_tag = ch.take_tag();
        c.push(Outgoing::Deliver {
            channel,
            consumer_tag,
            delivery_tag,
            redelivered: false,
            msg,
            no_ack_queue: None,
        });
        c.waker.wake();
        true
    }

    fn publish(&mut self, msg: &Arc<Message>) -> Routed {
        let (exchange, key) = (msg.exchange.as_str(), msg.routing_key.as_str());
        if exchange.is_empty() && key.starts_with(REPLY_TO) {
            let routed = self.deliver_reply(key, Arc::clone(msg));
            return Routed {
                routed,
                rejected: false,
                broker_full: false,
            };
        }
        let queues = self.route(exchange, key, msg.properties.headers.as_ref());
        let mut out = Routed {
            routed: !queues.is_empty(),
            rejected: false,
            broker_full: false,
        };
        for q in &queues {
            match self.enqueue(q, msg) {
                Enqueued::Accepted => {}
                Enqueued::Rejected => out.rejected = true,
                Enqueued::BrokerFull => {
                    out.rejected = true;
                    out.broker_full = true;
                }
            }
        }
        out
    }
}

impl Session {
    /// A `basic.publish` with its content.
    pub(super) fn on_publish(&mut self, p: Publish) {
        let channel = p.channel;
        if !self.channels.contains_key(&channel) {
            return;
        }
        let ids = (BasicPublish::CLASS_ID, BasicPublish::METHOD_ID);
        if let Err(e) = self.check_publish(&p) {
            self.raise(channel, ids, &e);
            return;
        }
        let local = self.local(channel);
        if let Some(ops) = &mut local.tx {
            local.tx_bytes += p.body.len() + MESSAGE_OVERHEAD;
            if local.tx_bytes > MAX_BYTES || ops.len() >= MAX_MESSAGES {
                let e = AmqpError::precondition(format!(
                    "transaction over {MAX_MESSAGES} messages or {MAX_BYTES} bytes"
                ));
                self.raise(channel, ids, &e);
                return;
            }
            // The body is a slice of the input buffers: keep a copy.
            let body = Body::from(p.body.to_vec());
            ops.push(TxOp::Publish(Box::new(Publish { body, ..p })));
            return;
        }
        if let Err(e) = self.publish_now(&p) {
            self.raise(channel, ids, &e);
        }
    }

    /// What RabbitMQ checks when a publish arrives: `immediate` (540),
    /// `user_id` (406), the exchange (404, 403 for an internal one).
    fn check_publish(&self, p: &Publish) -> Result<()> {
        if p.publish.immediate {
            return Err(AmqpError::not_implemented("immediate=true"));
        }
        if let Some(u) = &p.properties.user_id {
            if u.as_str() != self.user {
                return Err(AmqpError::precondition(format!(
                    "user_id property set to '{u}' but authenticated user was '{}'",
                    self.user
                )));
            }
        }
        let st = self.broker.lock();
        let name = p.publish.exchange.as_str();
        match st.exchanges.get(name) {
            None => Err(AmqpError::not_found(format!(
                "no {}",
                st.describe("exchange", name)
            ))),
            Some(x) if x.internal => Err(AmqpError::access_refused(format!(
                "cannot publish to internal {}",
                st.describe("exchange", name)
            ))),
            Some(_) => Ok(()),
        }
    }

    /// Routes a publish; returns it if mandatory and unroutable, confirms
    /// it in confirm mode.
    fn publish_now(&mut self, p: &Publish) -> Result<()> {
        let mut properties = p.properties.clone();
        if properties
            .reply_to
            .as_ref()
            .is_some_and(|r| r.as_str() == REPLY_TO)
        {
            let name = self
                .broker
                .lock()
                .chan_mut(self.id, p.channel)
                .and_then(|ch| ch.reply_to.as_ref().map(|(n, _)| n.clone()))
                .ok_or_else(|| AmqpError::precondition("fast reply consumer does not exist"))?;
            properties.reply_to = Some(name);
        }
        let msg = Arc::new(Message::detached(
            p.publish.exchange.clone(),
            p.publish.routing_key.clone(),
            &properties,
            &p.body.to_vec(),
        ));
        let routed = self.broker.lock().publish(&msg);
        if !routed.routed && p.publish.mandatory {
            self.drain_outbox();
            let ret = Method::from(BasicReturn {
                reply_code: ReplyCode::NoRoute.code(),
                reply_text: ShortString::try_new("NO_ROUTE").unwrap_or_default(),
                exchange: msg.exchange.clone(),
                routing_key: msg.routing_key.clone(),
            });
            let _ = self
                .conn
                .send_content(p.channel, &ret, &msg.properties, &msg.body);
        }
        match p.confirm_tag {
            Some(delivery_tag) if routed.rejected => {
                let nack = BasicNack {
                    delivery_tag,
                    multiple: false,
                    requeue: false,
                };
                let _ = self.conn.send_method(p.channel, &Method::from(nack));
            }
            Some(delivery_tag) => {
                let ack = BasicAck {
                    delivery_tag,
                    multiple: false,
                };
                let _ = self.conn.send_method(p.channel, &Method::from(ack));
            }
            None if routed.broker_full => {
                let c = self.broker.lock().capacity;
                return Err(AmqpError::precondition(format!(
                    "broker full ({} messages, {} bytes at most)",
                    c.messages, c.bytes
                )));
            }
            None => {}
        }
        Ok(())
    }

    /// `tx.commit`: the channel's publishes, acks, nacks and rejects since
    /// the last commit or rollback, in order.
    pub(super) fn commit(&mut self, channel: u16) -> Result<()> {
        let ops = {
            let local = self.local(channel);
            local.tx_bytes = 0;
            local.tx.replace(Vec::new()).unwrap_or_default()
        };
        for op in ops {
            match op {
                TxOp::Publish(p) => {
                    self.check_publish(&p)?;
                    self.publish_now(&p)?;
                }
                TxOp::Settle { tag, multiple, how } => self
                    .broker
                    .lock()
                    .settle(self.id, channel, tag, multiple, how)?,
            }
        }
        Ok(())
    }
}
