//! The broker's data: messages, queues with their limits, connections'
//! channels, consumers and outboxes, and the wake-up path between
//! connection threads.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use amqp_codec::{BasicProperties, FieldTable, FieldValue, LongString, ShortString};
use bytes::Bytes;

use super::MESSAGE_OVERHEAD;

/// A connection's number, unique for the broker's life.
pub(super) type ConnId = u64;

/// A published message, shared by every queue it was routed to.
#[derive(Debug)]
pub(super) struct Message {
    pub(super) exchange: ShortString,
    pub(super) routing_key: ShortString,
    pub(super) properties: BasicProperties,
    pub(super) body: Bytes,
}

impl Message {
    /// A message owning its bytes: received bodies and long strings are
    /// slices of the connection's input buffers, which a stored message
    /// must not keep alive.
    pub(super) fn detached(
        exchange: ShortString,
        routing_key: ShortString,
        properties: &BasicProperties,
        body: &[u8],
    ) -> Self {
        let mut properties = properties.clone();
        properties.headers = properties.headers.as_ref().map(detach_table);
        Self {
            exchange,
            routing_key,
            properties,
            body: Bytes::copy_from_slice(body),
        }
    }

    /// What it counts against [`MAX_BYTES`](super::MAX_BYTES).
    pub(super) fn cost(&self) -> usize {
        self.body.len() + MESSAGE_OVERHEAD
    }
}

fn detach_table(t: &FieldTable) -> FieldTable {
    t.iter()
        .map(|(k, v)| (k.clone(), detach_value(v)))
        .collect()
}

fn detach_value(v: &FieldValue) -> FieldValue {
    match v {
        FieldValue::LongString(s) => FieldValue::LongString(LongString::from(s.to_vec())),
        FieldValue::ByteArray(b) => FieldValue::ByteArray(Bytes::copy_from_slice(b)),
        FieldValue::Table(t) => FieldValue::Table(detach_table(t)),
        FieldValue::Array(a) => FieldValue::Array(a.values().iter().map(detach_value).collect()),
        other => other.clone(),
    }
}

/// A message waiting in a queue.
#[derive(Debug)]
pub(super) struct Ready {
    pub(super) msg: Arc<Message>,
    pub(super) redelivered: bool,
}

/// What a full queue does with a publish (`x-overflow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Overflow {
    /// Drops the oldest messages (RabbitMQ's default).
    DropHead,
    /// Refuses the publish (a nack in confirm mode).
    RejectPublish,
}

/// A queue's length limits (`x-max-length`, `x-max-length-bytes` on
/// bodies, `x-overflow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct QueueLimits {
    pub(super) max_length: Option<u64>,
    pub(super) max_length_bytes: Option<u64>,
    pub(super) overflow: Overflow,
}

/// Arguments RabbitMQ checks for equivalence when a queue is declared
/// again.
pub(super) const EQUIVALENT_ARGS: [&str; 9] = [
    "x-max-length",
    "x-max-length-bytes",
    "x-overflow",
    "x-message-ttl",
    "x-expires",
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-max-priority",
    "x-queue-type",
];

impl QueueLimits {
    /// The limits in a `queue.declare`'s arguments, or the message of the
    /// 406 RabbitMQ answers an invalid one with.
    pub(super) fn from_arguments(args: &FieldTable) -> Result<Self, String> {
        let count = |key: &str| match args.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .and_then(|n| u64::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| format!("invalid arg '{key}': {v:?} is not a non-negative integer")),
        };
        let overflow = match args.get("x-overflow") {
            None => Overflow::DropHead,
            Some(v) => match v.as_str() {
                Some("drop-head") => Overflow::DropHead,
                Some("reject-publish" | "reject-publish-dlx") => Overflow::RejectPublish,
                _ => return Err(format!("invalid arg 'x-overflow': {v:?}")),
            },
        };
        for key in ["x-message-ttl", "x-expires"] {
            count(key)?;
        }
        Ok(Self {
            max_length: count("x-max-length")?,
            max_length_bytes: count("x-max-length-bytes")?,
            overflow,
        })
    }
}

/// A consumer's address: connection, channel, tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConsumerKey {
    pub(super) conn: ConnId,
    pub(super) channel: u16,
    pub(super) tag: ShortString,
}

/// A queue.
#[derive(Debug)]
pub(super) struct Queue {
    pub(super) durable: bool,
    /// The owning connection of an exclusive queue.
    pub(super) exclusive: Option<ConnId>,
    pub(super) auto_delete: bool,
    pub(super) arguments: FieldTable,
    pub(super) limits: QueueLimits,
    pub(super) ready: VecDeque<Ready>,
    /// Body bytes of `ready`.
    pub(super) ready_bytes: u64,
    pub(super) consumers: Vec<ConsumerKey>,
    /// Round-robin position in `consumers`.
    pub(super) next_consumer: usize,
}

impl Queue {
    /// Whether the ready messages exceed the limits.
    pub(super) fn over_limit(&self) -> bool {
        let len = self.ready.len() as u64;
        self.limits.max_length.is_some_and(|m| len > m)
            || self
                .limits
                .max_length_bytes
                .is_some_and(|m| self.ready_bytes > m)
    }

    /// Whether one more message of `body` bytes would exceed the limits.
    pub(super) fn full_for(&self, body: usize) -> bool {
        let len = self.ready.len() as u64 + 1;
        let bytes = self.ready_bytes + body as u64;
        self.limits.max_length.is_some_and(|m| len > m)
            || self.limits.max_length_bytes.is_some_and(|m| bytes > m)
    }

    pub(super) fn push_back(&mut self, msg: Arc<Message>, redelivered: bool) {
        self.ready_bytes += msg.body.len() as u64;
        self.ready.push_back(Ready { msg, redelivered });
    }

    pub(super) fn push_front(&mut self, msg: Arc<Message>) {
        self.ready_bytes += msg.body.len() as u64;
        self.ready.push_front(Ready {
            msg,
            redelivered: true,
        });
    }

    pub(super) fn pop_front(&mut self) -> Option<Ready> {
        let r = self.ready.pop_front()?;
        self.ready_bytes = self.ready_bytes.saturating_sub(r.msg.body.len() as u64);
        Some(r)
    }

    pub(super) fn message_count(&self) -> u32 {
        u32::try_from(self.ready.len()).unwrap_or(u32::MAX)
    }

    pub(super) fn consumer_count(&self) -> u32 {
        u32::try_from(self.consumers.len()).unwrap_or(u32::MAX)
    }
}

/// A consumer, kept by its channel.
#[derive(Debug)]
pub(super) struct Consumer {
    pub(super) queue: ShortString,
    pub(super) no_ack: bool,
    pub(super) exclusive: bool,
    /// Unacked deliveries allowed (0: no limit).
    pub(super) prefetch: u16,
    pub(super) unacked: usize,
}

/// A delivery waiting for its ack.
#[derive(Debug)]
pub(super) struct Unacked {
    pub(super) queue: ShortString,
    pub(super) msg: Arc<Message>,
    /// The consumer it went to; `None` for `basic.get`.
    pub(super) consumer: Option<ShortString>,
}

/// A channel's share of the broker state.
#[derive(Debug)]
pub(super) struct ChanState {
    pub(super) next_tag: u64,
    /// `channel.flow`: whether the client takes deliveries.
    pub(super) active: bool,
    /// `basic.qos` with `global`: unacked consumer deliveries allowed on
    /// the channel (0: no limit).
    pub(super) prefetch: u16,
    /// `basic.qos` without `global`: the limit of later consumers.
    pub(super) consumer_prefetch: u16,
    pub(super) unacked: BTreeMap<u64, Unacked>,
    /// Unacked consumer deliveries (what `prefetch` limits).
    pub(super) counted: usize,
    pub(super) consumers: HashMap<ShortString, Consumer>,
    /// Direct reply-to: the pseudo-queue's name and the consumer's tag.
    pub(super) reply_to: Option<(ShortString, ShortString)>,
}

impl Default for ChanState {
    fn default() -> Self {
        Self {
            next_tag: 1,
            active: true,
            prefetch: 0,
            consumer_prefetch: 0,
            unacked: BTreeMap::new(),
            counted: 0,
            consumers: HashMap::new(),
            reply_to: None,
        }
    }
}

impl ChanState {
    pub(super) fn take_tag(&mut self) -> u64 {
        let t = self.next_tag;
        self.next_tag += 1;
        t
    }
}

/// What another thread hands a connection's thread to send.
#[derive(Debug)]
pub(super) enum Outgoing {
    Deliver {
        channel: u16,
        consumer_tag: ShortString,
        delivery_tag: u64,
        redelivered: bool,
        msg: Arc<Message>,
        /// For a no-ack delivery from a queue: where it goes back if the
        /// channel closes before it is sent.
        no_ack_queue: Option<ShortString>,
    },
    /// A server-sent `basic.cancel` (consumer_cancel_notify).
    Cancel {
        channel: u16,
        consumer_tag: ShortString,
    },
}

impl Outgoing {
    pub(super) const fn channel(&self) -> u16 {
        match self {
            Self::Deliver { channel, .. } | Self::Cancel { channel, .. } => *channel,
        }
    }
}

/// What a connection's thread waits for.
#[derive(Debug)]
pub(super) enum Input {
    /// Bytes from the socket.
    Data(Vec<u8>),
    /// The socket is closed or failed.
    Eof,
    /// The outbox has something.
    Wake,
}

/// Wakes a connection's thread; repeated wakes before it runs cost one
/// message.
#[derive(Debug, Clone)]
pub(super) struct Waker {
    tx: SyncSender<Input>,
    pending: Arc<AtomicBool>,
}

impl Waker {
    pub(super) fn new(tx: SyncSender<Input>) -> Self {
        Self {
            tx,
            pending: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(super) fn wake(&self) {
        // A full channel means the thread has input to handle anyway, and
        // it looks at its outbox after every input.
        if !self.pending.swap(true, Ordering::AcqRel) && self.tx.try_send(Input::Wake).is_err() {
            self.pending.store(false, Ordering::Release);
        }
    }

    /// The thread got the wake-up.
    pub(super) fn woken(&self) {
        self.pending.store(false, Ordering::Release);
    }
}

/// A connection's share of the broker state.
#[derive(Debug)]
pub(super) struct ConnState {
    pub(super) cancel_notify: bool,
    pub(super) waker: Waker,
    pub(super) outbox: Vec<Outgoing>,
    pub(super) outbox_bytes: usize,
    /// A delivery waited for room in the outbox.
    pub(super) starved: bool,
    pub(super) channels: HashMap<u16, ChanState>,
}

impl ConnState {
    pub(super) fn new(cancel_notify: bool, waker: Waker) -> Self {
        Self {
            cancel_notify,
            waker,
            outbox: Vec::new(),
            outbox_bytes: 0,
            starved: false,
            channels: HashMap::new(),
        }
    }

    pub(super) fn outbox_has_room(&self) -> bool {
        self.outbox.is_empty() || self.outbox_bytes < super::OUTBOX_BYTES
    }

    pub(super) fn push(&mut self, item: Outgoing) {
        if let Outgoing::Deliver { msg, .. } = &item {
            self.outbox_bytes += msg.cost();
        }
        self.outbox.push(item);
    }
}
