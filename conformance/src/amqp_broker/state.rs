//! The broker's shared state and what moves messages: enqueueing with the
//! limits, dispatch to consumers within their prefetch, acks and requeues,
//! and the clean-up when channels, connections and queues go.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use amqp_codec::ShortString;

use super::error::{AmqpError, Result};
use super::model::{
    ChanState, ConnId, ConnState, ConsumerKey, Message, Outgoing, Overflow, Queue, Unacked,
};
use super::routing::{Destination, Exchange, ExchangeKind};
use super::session::short;
use super::{MAX_BYTES, MAX_MESSAGES};

/// How much the broker holds at most: messages and their bytes (see
/// [`MAX_MESSAGES`] and [`MAX_BYTES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Capacity {
    pub(super) messages: usize,
    pub(super) bytes: usize,
}

impl Default for Capacity {
    fn default() -> Self {
        Self {
            messages: MAX_MESSAGES,
            bytes: MAX_BYTES,
        }
    }
}

/// Everything connections share.
#[derive(Debug)]
pub(super) struct State {
    pub(super) vhost: String,
    pub(super) exchanges: HashMap<ShortString, Exchange>,
    pub(super) queues: HashMap<ShortString, Queue>,
    pub(super) conns: HashMap<ConnId, ConnState>,
    /// Direct reply-to pseudo-queues: name to (connection, channel).
    pub(super) reply_to: HashMap<ShortString, (ConnId, u16)>,
    pub(super) capacity: Capacity,
    /// Messages held (once per queue), against `capacity`.
    pub(super) stored_messages: usize,
    /// Their cost, against `capacity`.
    pub(super) stored_bytes: usize,
    counter: u64,
}

/// What an ack, nack or reject does with the messages it settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Settle {
    Ack,
    Requeue,
    Discard,
}

/// What a queue did with a message routed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Enqueued {
    Accepted,
    /// Refused by the queue's `reject-publish` limit.
    Rejected,
    /// Refused: the broker holds all it may.
    BrokerFull,
}

impl State {
    pub(super) fn new(vhost: &str, capacity: Capacity) -> Self {
        let builtin = [
            ("", ExchangeKind::Direct),
            ("amq.direct", ExchangeKind::Direct),
            ("amq.fanout", ExchangeKind::Fanout),
            ("amq.topic", ExchangeKind::Topic),
            ("amq.headers", ExchangeKind::Headers),
            ("amq.match", ExchangeKind::Headers),
        ];
        Self {
            vhost: vhost.to_owned(),
            exchanges: builtin
                .into_iter()
                .map(|(n, k)| (short(n), Exchange::new(k, true)))
                .collect(),
            queues: HashMap::new(),
            conns: HashMap::new(),
            reply_to: HashMap::new(),
            capacity,
            stored_messages: 0,
            stored_bytes: 0,
            counter: 0,
        }
    }

    /// A fresh name: `prefix` and 22 characters that differ for every call
    /// (RabbitMQ's server-named queues and consumer tags look alike).
    pub(super) fn unique_name(&mut self, prefix: &str) -> ShortString {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        self.counter += 1;
        // A bijective mix of the counter, so names do not look sequential.
        let mut x = self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D;
        let mut s = String::from(prefix);
        for _ in 0..22 {
            let i = usize::try_from(x & 63).unwrap_or(0);
            s.push(char::from(ALPHABET.get(i).copied().unwrap_or(b'A')));
            x = x.rotate_right(6);
        }
        short(&s)
    }

    /// The text RabbitMQ names a resource with.
    pub(super) fn describe(&self, kind: &str, name: &str) -> String {
        format!("{kind} '{name}' in vhost '{}'", self.vhost)
    }

    pub(super) fn chan_mut(&mut self, conn: ConnId, channel: u16) -> Option<&mut ChanState> {
        self.conns.get_mut(&conn)?.channels.get_mut(&channel)
    }

    fn release(&mut self, msg: &Message) {
        self.stored_messages = self.stored_messages.saturating_sub(1);
        self.stored_bytes = self.stored_bytes.saturating_sub(msg.cost());
    }

    /// Puts `msg` at the end of `queue` within its limits and the broker's,
    /// then hands what it can to consumers.
    pub(super) fn enqueue(&mut self, queue: &str, msg: &Arc<Message>) -> Enqueued {
        let cost = msg.cost();
        if self.stored_messages >= self.capacity.messages
            || self.stored_bytes + cost > self.capacity.bytes
        {
            return Enqueued::BrokerFull;
        }
        let Some(q) = self.queues.get_mut(queue) else {
            return Enqueued::Rejected;
        };
        if q.limits.overflow == Overflow::RejectPublish && q.full_for(msg.body.len()) {
            return Enqueued::Rejected;
        }
        q.push_back(Arc::clone(msg), false);
        self.stored_messages += 1;
        self.stored_bytes += cost;
        self.dispatch(queue);
        let mut dropped = Vec::new();
        if let Some(q) = self.queues.get_mut(queue) {
            while q.over_limit() {
                match q.pop_front() {
                    Some(r) => dropped.push(r.msg),
                    None => break,
                }
            }
        }
        for m in dropped {
            self.release(&m);
        }
        Enqueued::Accepted
    }

    /// Hands `queue`'s ready messages to its consumers, round robin, as far
    /// as their prefetch, their channel's flow and their connection's
    /// outbox allow.
    pub(super) fn dispatch(&mut self, queue: &str) {
        let Self {
            queues,
            conns,
            stored_messages,
            stored_bytes,
            ..
        } = self;
        let Some(q) = queues.get_mut(queue) else {
            return;
        };
        let mut woken = HashSet::new();
        let mut idle = 0;
        while !q.ready.is_empty() && idle < q.consumers.len() {
            let i = q.next_consumer % q.consumers.len();
            q.next_consumer = i + 1;
            let Some(key) = q.consumers.get(i).cloned() else {
                break;
            };
            let Some(conn) = conns.get_mut(&key.conn) else {
                idle += 1;
                continue;
            };
            if !conn.outbox_has_room() {
                conn.starved = true;
                idle += 1;
                continue;
            }
            let Some(ch) = conn.channels.get_mut(&key.channel) else {
                idle += 1;
                continue;
            };
            let (global_full, active) = (
                ch.prefetch != 0 && ch.counted >= usize::from(ch.prefetch),
                ch.active,
            );
            let Some(c) = ch.consumers.get_mut(&key.tag) else {
                idle += 1;
                continue;
            };
            let own_full = c.prefetch != 0 && c.unacked >= usize::from(c.prefetch);
            if !active || (!c.no_ack && (global_full || own_full)) {
                idle += 1;
                continue;
            }
            idle = 0;
            let Some(r) = q.pop_front() else {
                break;
            };
            let no_ack = c.no_ack;
            if no_ack {
                *stored_messages = stored_messages.saturating_sub(1);
                *stored_bytes = stored_bytes.saturating_sub(r.msg.cost());
            } else {
                c.unacked += 1;
            }
            let tag = ch.take_tag();
            if !no_ack {
                ch.counted += 1;
                ch.unacked.insert(
                    tag,
                    Unacked {
                        queue: short(queue),
                        msg: Arc::clone(&r.msg),
                        consumer: Some(key.tag.clone()),
                    },
                );
            }
            conn.push(Outgoing::Deliver {
                channel: key.channel,
                consumer_tag: key.tag,
                delivery_tag: tag,
                redelivered: r.redelivered,
                msg: r.msg,
                no_ack_queue: no_ack.then(|| short(queue)),
            });
            woken.insert(key.conn);
        }
        for id in woken {
            if let Some(c) = conns.get(&id) {
                c.waker.wake();
            }
        }
    }

    /// Dispatches every queue a channel consumes from.
    pub(super) fn dispatch_channel(&mut self, conn: ConnId, channel: u16) {
        let queues: Vec<ShortString> = self
            .chan_mut(conn, channel)
            .map(|ch| ch.consumers.values().map(|c| c.queue.clone()).collect())
            .unwrap_or_default();
        for q in dedup(queues) {
            self.dispatch(&q);
        }
    }

    /// Puts messages back at the head of their queues, in the order given,
    /// marked redelivered; messages of deleted queues are dropped.
    pub(super) fn requeue(&mut self, msgs: Vec<(ShortString, Arc<Message>)>) {
        let mut touched = Vec::new();
        for (queue, msg) in msgs.into_iter().rev() {
            match self.queues.get_mut(&queue) {
                Some(q) => {
                    q.push_front(msg);
                    touched.push(queue);
                }
                None => self.release(&msg),
            }
        }
        for q in dedup(touched) {
            self.dispatch(&q);
        }
    }

    /// `basic.ack`/`nack`/`reject` of `tag` (with `multiple`: every tag up
    /// to it, or all for 0). An unknown tag is 406.
    pub(super) fn settle(
        &mut self,
        conn: ConnId,
        channel: u16,
        tag: u64,
        multiple: bool,
        how: Settle,
    ) -> Result<()> {
        let Some(ch) = self.chan_mut(conn, channel) else {
            return Ok(());
        };
        let taken: Vec<(u64, Unacked)> = if multiple && tag == 0 {
            std::mem::take(&mut ch.unacked).into_iter().collect()
        } else if !ch.unacked.contains_key(&tag) {
            return Err(AmqpError::precondition(format!(
                "unknown delivery tag {tag}"
            )));
        } else if multiple {
            let rest = ch.unacked.split_off(&(tag + 1));
            std::mem::replace(&mut ch.unacked, rest)
                .into_iter()
                .collect()
        } else {
            ch.unacked
                .remove(&tag)
                .map(|u| (tag, u))
                .into_iter()
                .collect()
        };
        self.finish_settle(conn, channel, taken, how);
        Ok(())
    }

    /// Gives the consumers their credit back and acks or requeues.
    fn finish_settle(
        &mut self,
        conn: ConnId,
        channel: u16,
        taken: Vec<(u64, Unacked)>,
        how: Settle,
    ) {
        if let Some(ch) = self.chan_mut(conn, channel) {
            for (_, u) in &taken {
                if let Some(tag) = &u.consumer {
                    ch.counted = ch.counted.saturating_sub(1);
                    if let Some(c) = ch.consumers.get_mut(tag) {
                        c.unacked = c.unacked.saturating_sub(1);
                    }
                }
            }
        }
        let msgs: Vec<(ShortString, Arc<Message>)> =
            taken.into_iter().map(|(_, u)| (u.queue, u.msg)).collect();
        match how {
            Settle::Requeue => self.requeue(msgs),
            Settle::Ack | Settle::Discard => {
                for (_, m) in msgs {
                    self.release(&m);
                }
            }
        }
        self.dispatch_channel(conn, channel);
    }

    /// `basic.recover`: every unacked delivery of the channel goes back.
    pub(super) fn recover(&mut self, conn: ConnId, channel: u16) {
        let taken = self
            .chan_mut(conn, channel)
            .map(|ch| std::mem::take(&mut ch.unacked).into_iter().collect())
            .unwrap_or_default();
        self.finish_settle(conn, channel, taken, Settle::Requeue);
    }

    /// Registers a connection once it is open.
    pub(super) fn add_conn(&mut self, id: ConnId, conn: ConnState) {
        self.conns.insert(id, conn);
    }

    /// A channel opened: a fresh state (a stale one is cleaned up first).
    pub(super) fn open_channel(&mut self, conn: ConnId, channel: u16) {
        self.close_channel(conn, channel);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.channels.insert(channel, ChanState::default());
        }
    }

    /// A channel closed: its consumers go (auto-delete queues with their
    /// last one), its unacked deliveries and unsent no-ack deliveries go
    /// back to their queues.
    pub(super) fn close_channel(&mut self, conn: ConnId, channel: u16) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let Some(ch) = c.channels.remove(&channel) else {
            return;
        };
        let mut back: Vec<(ShortString, Arc<Message>)> = Vec::new();
        let mut kept = Vec::new();
        for item in std::mem::take(&mut c.outbox) {
            match item {
                Outgoing::Deliver {
                    channel: n,
                    msg,
                    no_ack_queue: Some(q),
                    ..
                } if n == channel => back.push((q, msg)),
                item if item.channel() == channel => {}
                item => kept.push(item),
            }
        }
        c.outbox_bytes = kept
            .iter()
            .map(|i| match i {
                Outgoing::Deliver { msg, .. } => msg.cost(),
                Outgoing::Cancel { .. } => 0,
            })
            .sum();
        c.outbox = kept;
        // Released when they were handed out; requeue takes them again.
        for (_, m) in &back {
            self.stored_messages += 1;
            self.stored_bytes += m.cost();
        }
        if let Some((name, _)) = &ch.reply_to {
            self.reply_to.remove(name);
        }
        // Unacked first, then the unsent no-ack deliveries behind them
        // (requeue puts the list at the head, in order).
        let mut msgs: Vec<(ShortString, Arc<Message>)> =
            ch.unacked.into_values().map(|u| (u.queue, u.msg)).collect();
        msgs.extend(back);
        let key = |tag: ShortString| ConsumerKey { conn, channel, tag };
        let consumers: Vec<(ShortString, ShortString)> = ch
            .consumers
            .into_iter()
            .map(|(tag, c)| (tag, c.queue))
            .collect();
        self.requeue(msgs);
        for (tag, queue) in consumers {
            self.remove_consumer(&queue, &key(tag));
        }
    }

    /// Takes a consumer off its queue; an auto-delete queue goes with its
    /// last consumer. Returns whether the queue was deleted.
    pub(super) fn remove_consumer(&mut self, queue: &str, key: &ConsumerKey) -> bool {
        let Some(q) = self.queues.get_mut(queue) else {
            return false;
        };
        let before = q.consumers.len();
        q.consumers.retain(|k| k != key);
        if q.auto_delete && before > 0 && q.consumers.is_empty() {
            self.delete_queue(queue);
            return true;
        }
        false
    }

    /// Deletes a queue: its ready messages go, its consumers are cancelled
    /// (with a `basic.cancel` where the client asked for one), bindings to
    /// it are removed. Returns the number of ready messages.
    pub(super) fn delete_queue(&mut self, name: &str) -> u32 {
        let Some(q) = self.queues.remove(name) else {
            return 0;
        };
        let count = q.message_count();
        for r in &q.ready {
            self.release(&r.msg);
        }
        for key in q.consumers {
            let Some(conn) = self.conns.get_mut(&key.conn) else {
                continue;
            };
            let removed = conn
                .channels
                .get_mut(&key.channel)
                .and_then(|ch| ch.consumers.remove(&key.tag));
            if removed.is_some() && conn.cancel_notify {
                conn.push(Outgoing::Cancel {
                    channel: key.channel,
                    consumer_tag: key.tag,
                });
                conn.waker.wake();
            }
        }
        let dest = Destination::Queue(short(name));
        self.remove_bindings_to(&dest);
        count
    }

    /// Removes every binding to `dest`; auto-delete exchanges left without
    /// bindings go too.
    pub(super) fn remove_bindings_to(&mut self, dest: &Destination) {
        let mut emptied = Vec::new();
        for (name, x) in &mut self.exchanges {
            let before = x.bindings.len();
            x.bindings.retain(|b| &b.destination != dest);
            if x.auto_delete && before > 0 && x.bindings.is_empty() {
                emptied.push(name.clone());
            }
        }
        for name in emptied {
            self.delete_exchange_now(&name);
        }
    }

    /// Deletes an exchange and the bindings to it.
    pub(super) fn delete_exchange_now(&mut self, name: &str) {
        if self.exchanges.remove(name).is_some() {
            self.remove_bindings_to(&Destination::Exchange(short(name)));
        }
    }

    /// A connection is over: its channels close, its exclusive queues go.
    pub(super) fn remove_conn(&mut self, conn: ConnId) {
        let channels: Vec<u16> = self
            .conns
            .get(&conn)
            .map(|c| c.channels.keys().copied().collect())
            .unwrap_or_default();
        for ch in channels {
            self.close_channel(conn, ch);
        }
        let exclusive: Vec<ShortString> = self
            .queues
            .iter()
            .filter(|(_, q)| q.exclusive == Some(conn))
            .map(|(n, _)| n.clone())
            .collect();
        for q in exclusive {
            self.delete_queue(&q);
        }
        self.conns.remove(&conn);
    }

    /// What the connection's thread is to send now; consumers that waited
    /// for room in the outbox get their turn.
    pub(super) fn take_outbox(&mut self, conn: ConnId) -> Vec<Outgoing> {
        let Some(c) = self.conns.get_mut(&conn) else {
            return Vec::new();
        };
        let items = std::mem::take(&mut c.outbox);
        c.outbox_bytes = 0;
        if std::mem::take(&mut c.starved) {
            let channels: Vec<u16> = c.channels.keys().copied().collect();
            for ch in channels {
                self.dispatch_channel(conn, ch);
            }
        }
        items
    }

    /// Requeues no-ack deliveries that could not be sent.
    pub(super) fn return_unsent(&mut self, msgs: Vec<(ShortString, Arc<Message>)>) {
        for (_, m) in &msgs {
            self.stored_messages += 1;
            self.stored_bytes += m.cost();
        }
        self.requeue(msgs);
    }

    /// `basic.get`: the next ready message of `queue` as (delivery tag,
    /// redelivered, message, messages left), unacked on the channel unless
    /// `no_ack`.
    pub(super) fn get(
        &mut self,
        conn: ConnId,
        channel: u16,
        queue: &str,
        no_ack: bool,
    ) -> Option<(u64, bool, Arc<Message>, u32)> {
        self.chan_mut(conn, channel)?;
        let q = self.queues.get_mut(queue)?;
        let r = q.pop_front()?;
        let left = q.message_count();
        if no_ack {
            self.release(&r.msg);
        }
        let ch = self.chan_mut(conn, channel)?;
        let tag = ch.take_tag();
        if !no_ack {
            ch.unacked.insert(
                tag,
                Unacked {
                    queue: short(queue),
                    msg: Arc::clone(&r.msg),
                    consumer: None,
                },
            );
        }
        Some((tag, r.redelivered, r.msg, left))
    }
}

/// `v` without repeats, first occurrences kept in order.
pub(super) fn dedup(v: Vec<ShortString>) -> Vec<ShortString> {
    let mut seen = HashSet::new();
    v.into_iter().filter(|x| seen.insert(x.clone())).collect()
}
