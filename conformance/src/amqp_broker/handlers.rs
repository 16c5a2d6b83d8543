//! The client's requests, one handler per method: each acts on the broker
//! state and sends its own reply (the server connection answers only
//! `channel.open`/`close` itself), so replies keep the requests' order.

use amqp_codec::ShortString;
use amqp_codec::method::{
    AccessRequestOk, ConfirmSelectOk, ConnectionUpdateSecretOk, ExchangeBindOk, ExchangeDeclareOk,
    ExchangeDeleteOk, ExchangeUnbindOk, Method, QueueBindOk, QueueDeclare, QueueDeleteOk,
    QueuePurgeOk, QueueUnbindOk, TxCommitOk, TxRollbackOk, TxSelectOk,
};

use super::error::{AmqpError, Result};
use super::routing::Destination;
use super::session::Session;
use super::state::Settle;

impl Session {
    /// Acts on one request and replies; an error is the channel's or the
    /// connection's to close with.
    pub(super) fn handle_method(&mut self, channel: u16, method: Method) -> Result<()> {
        let id = self.id;
        match method {
            Method::ConnectionUpdateSecret(_) => {
                self.reply(0, ConnectionUpdateSecretOk);
            }
            Method::AccessRequest(_) => self.reply(channel, AccessRequestOk { ticket: 1 }),
            Method::ExchangeDeclare(d) => {
                self.broker.lock().declare_exchange(&d)?;
                if !d.nowait {
                    self.reply(channel, ExchangeDeclareOk);
                }
            }
            Method::ExchangeDelete(d) => {
                self.broker
                    .lock()
                    .delete_exchange(&d.exchange, d.if_unused)?;
                if !d.nowait {
                    self.reply(channel, ExchangeDeleteOk);
                }
            }
            Method::ExchangeBind(b) => {
                let dest = Destination::Exchange(b.destination);
                self.broker
                    .lock()
                    .bind(id, &b.source, dest, &b.routing_key, &b.arguments)?;
                if !b.nowait {
                    self.reply(channel, ExchangeBindOk);
                }
            }
            Method::ExchangeUnbind(b) => {
                let dest = Destination::Exchange(b.destination);
                self.broker
                    .lock()
                    .unbind(id, &b.source, dest, &b.routing_key, &b.arguments)?;
                if !b.nowait {
                    self.reply(channel, ExchangeUnbindOk);
                }
            }
            Method::QueueDeclare(d) => self.declare_queue(channel, &d)?,
            Method::QueueBind(b) => {
                let queue = self.resolve_queue(channel, &b.queue)?;
                let key = default_key(&b.queue, &b.routing_key, &queue);
                let dest = Destination::Queue(queue);
                self.broker
                    .lock()
                    .bind(id, &b.exchange, dest, &key, &b.arguments)?;
                if !b.nowait {
                    self.reply(channel, QueueBindOk);
                }
            }
            Method::QueueUnbind(u) => {
                let queue = self.resolve_queue(channel, &u.queue)?;
                let key = default_key(&u.queue, &u.routing_key, &queue);
                let dest = Destination::Queue(queue);
                self.broker
                    .lock()
                    .unbind(id, &u.exchange, dest, &key, &u.arguments)?;
                self.reply(channel, QueueUnbindOk);
            }
            Method::QueuePurge(p) => {
                let queue = self.resolve_queue(channel, &p.queue)?;
                let message_count = self.broker.lock().purge_queue(id, &queue)?;
                if !p.nowait {
                    self.reply(channel, QueuePurgeOk { message_count });
                }
            }
            Method::QueueDelete(d) => {
                let queue = self.resolve_queue(channel, &d.queue)?;
                let message_count =
                    self.broker
                        .lock()
                        .delete_queue_checked(id, &queue, d.if_unused, d.if_empty)?;
                if !d.nowait {
                    self.reply(channel, QueueDeleteOk { message_count });
                }
            }
            Method::BasicQos(q) => self.qos(channel, &q)?,
            Method::BasicConsume(c) => self.consume(channel, &c)?,
            Method::BasicCancel(c) => self.cancel(channel, &c)?,
            Method::BasicGet(g) => self.get(channel, &g)?,
            Method::BasicAck(a) => self.settle(channel, a.delivery_tag, a.multiple, Settle::Ack)?,
            Method::BasicNack(n) => {
                let how = if n.requeue {
                    Settle::Requeue
                } else {
                    Settle::Discard
                };
                self.settle(channel, n.delivery_tag, n.multiple, how)?;
            }
            Method::BasicReject(r) => {
                let how = if r.requeue {
                    Settle::Requeue
                } else {
                    Settle::Discard
                };
                self.settle(channel, r.delivery_tag, false, how)?;
            }
            Method::BasicRecover(r) => {
                self.recover(channel, r.requeue)?;
                self.reply(channel, amqp_codec::method::BasicRecoverOk);
            }
            Method::BasicRecoverAsync(r) => self.recover(channel, r.requeue)?,
            Method::ConfirmSelect(c) => {
                // The connection counts the publishes' tags from here.
                if !c.nowait {
                    self.reply(channel, ConfirmSelectOk);
                }
            }
            Method::TxSelect(_) => {
                let local = self.local(channel);
                if local.tx.is_none() {
                    local.tx = Some(Vec::new());
                }
                self.reply(channel, TxSelectOk);
            }
            Method::TxCommit(_) => {
                self.commit(channel)?;
                self.reply(channel, TxCommitOk);
            }
            Method::TxRollback(_) => {
                let local = self.local(channel);
                local.tx = Some(Vec::new());
                local.tx_bytes = 0;
                self.reply(channel, TxRollbackOk);
            }
            m => {
                return Err(AmqpError::not_implemented(format!(
                    "{} is not supported",
                    m.name()
                )));
            }
        }
        Ok(())
    }

    fn declare_queue(&mut self, channel: u16, d: &QueueDeclare) -> Result<()> {
        let name = match (d.queue.is_empty(), d.passive) {
            (true, true) => self.resolve_queue(channel, &d.queue)?,
            (true, false) => self.broker.lock().unique_name("amq.gen-"),
            _ => d.queue.clone(),
        };
        let ok = self.broker.lock().declare_queue(self.id, d, name)?;
        self.local(channel).last_queue = Some(ok.queue.clone());
        if !d.nowait {
            self.reply(channel, ok);
        }
        Ok(())
    }

    /// A request's queue name; empty means the channel's last declared
    /// queue (§1.7.2.1).
    pub(super) fn resolve_queue(
        &mut self,
        channel: u16,
        name: &ShortString,
    ) -> Result<ShortString> {
        if !name.is_empty() {
            return Ok(name.clone());
        }
        self.local(channel)
            .last_queue
            .clone()
            .ok_or_else(|| AmqpError::not_found("no previously declared queue"))
    }

    /// `basic.ack`/`nack`/`reject`, kept for the commit on a transactional
    /// channel.
    fn settle(&mut self, channel: u16, tag: u64, multiple: bool, how: Settle) -> Result<()> {
        if let Some(ops) = &mut self.local(channel).tx {
            ops.push(super::publish::TxOp::Settle { tag, multiple, how });
            return Ok(());
        }
        self.broker
            .lock()
            .settle(self.id, channel, tag, multiple, how)
    }
}

/// `queue.bind` with an empty queue name and routing key binds with the
/// last declared queue's name as the key (§1.7.2.3).
fn default_key(requested: &ShortString, key: &ShortString, queue: &ShortString) -> ShortString {
    if requested.is_empty() && key.is_empty() {
        queue.clone()
    } else {
        key.clone()
    }
}
