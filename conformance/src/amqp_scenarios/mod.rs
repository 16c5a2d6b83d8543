//! Client scenarios of `amqp-peer client`: each one drives the client role
//! of [`amqp_codec::Connection`] against a broker (RabbitMQ, or the
//! in-memory broker for `smoke`) over [`AmqpStream`] and ends in a
//! [`Outcome`]: pass, fail with the reason, or skip (a peer or a flag it
//! needs is missing).
//!
//! Queue and exchange names carry the process id, and every name a run
//! creates is deleted at its end (even after a failure), so runs can be
//! repeated against the same broker.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use amqp_codec::method::{
    BasicAck, BasicConsume, BasicGet, BasicPublish, ExchangeDelete, Method, QueueDeclare,
    QueueDelete,
};
use amqp_codec::{BasicProperties, Body, ClientConfig, Delivery, Event, FieldTable, ShortString};

use crate::amqp_driver::{AmqpStream, AmqpUrl, DriverError};
use crate::scenario;
pub(crate) use crate::scenario::ensure;
pub use crate::scenario::{Outcome, Report};

pub mod json;
mod messaging;
mod props;
mod session;

/// How long one reply or message may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// A scenario: runs against the broker in `ctx`.
pub type Scenario = scenario::Scenario<Ctx>;

/// Every scenario, in the order `all` runs them. `blocked` comes last: it
/// raises a resource alarm on the broker.
pub const SCENARIOS: &[(&str, Scenario)] = &[
    ("smoke", session::smoke),
    ("properties", props::properties),
    ("large", messaging::large),
    ("confirms", messaging::confirms_scenario),
    ("tx", messaging::tx),
    ("get", messaging::get_scenario),
    ("reject", messaging::reject),
    ("qos", messaging::qos),
    ("cancel-notify", messaging::cancel_notify),
    ("e2e-binding", messaging::e2e_binding),
    ("reply-to", session::reply_to),
    ("heartbeat", session::heartbeat),
    ("auth-failure", session::auth_failure),
    ("throughput", session::throughput),
    ("blocked", session::blocked),
];

/// What the scenarios run against, and the names they created.
pub struct Ctx {
    /// The broker.
    pub url: AmqpUrl,
    /// A Python interpreter with pika, for the scenarios that need it.
    pub python: Option<String>,
    /// `pika_peer.py`.
    pub pika_script: PathBuf,
    /// Shell command that raises a resource alarm (`blocked`).
    pub blocked_cmd: Option<String>,
    /// Shell command that clears it.
    pub unblocked_cmd: Option<String>,
    /// Messages `throughput` publishes.
    pub throughput_count: usize,
    run: String,
    queues: RefCell<Vec<String>>,
    exchanges: RefCell<Vec<String>>,
    say: Box<dyn Fn(&str)>,
}

impl Ctx {
    /// A context for `url`: no pika, no blocked commands, 20,000
    /// throughput messages, lines said on stdout.
    #[must_use]
    pub fn new(url: AmqpUrl) -> Self {
        Self {
            url,
            python: None,
            pika_script: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/peers/pika_peer.py")),
            blocked_cmd: None,
            unblocked_cmd: None,
            throughput_count: 20_000,
            run: std::process::id().to_string(),
            queues: RefCell::new(Vec::new()),
            exchanges: RefCell::new(Vec::new()),
            say: Box::new(|l| println!("{l}")),
        }
    }

    /// Sends the scenarios' detail lines to `say` instead of stdout.
    #[must_use]
    pub fn with_output(mut self, say: impl Fn(&str) + 'static) -> Self {
        self.say = Box::new(say);
        self
    }

    /// Prints a detail line.
    pub fn say(&self, line: &str) {
        (self.say)(line);
    }

    /// A queue name unique to this run, deleted at its end.
    pub fn queue(&self, what: &str) -> String {
        let name = format!("amqp-peer.{what}.{}", self.run);
        self.queues.borrow_mut().push(name.clone());
        name
    }

    /// An exchange name unique to this run, deleted at its end.
    pub fn exchange(&self, what: &str) -> String {
        let name = format!("amqp-peer.x.{what}.{}", self.run);
        self.exchanges.borrow_mut().push(name.clone());
        name
    }

    /// Connects with the URL's credentials; `tweak` may change the
    /// settings (tuning, password).
    pub fn connect_with(
        &self,
        tweak: impl FnOnce(&mut ClientConfig),
    ) -> Result<AmqpStream, DriverError> {
        let mut cfg = self.url.client_config();
        cfg.client_properties.push(
            short("connection_name"),
            amqp_codec::FieldValue::from("amqp-peer"),
        );
        tweak(&mut cfg);
        AmqpStream::connect(&self.url, cfg, WAIT)
    }

    /// Connects with default settings and opens channel 1.
    pub fn connect(&self) -> Result<AmqpStream, DriverError> {
        let mut s = self.connect_with(|_| {})?;
        s.open_channel(1, WAIT)?;
        Ok(s)
    }

    /// Deletes every queue and exchange this run named. Names that no
    /// longer exist are fine (RabbitMQ answers delete-ok for them).
    pub fn cleanup(&self) -> Result<(), String> {
        let queues = self.queues.take();
        let exchanges = self.exchanges.take();
        if queues.is_empty() && exchanges.is_empty() {
            return Ok(());
        }
        let mut s = self.connect()?;
        let mut failed = Vec::new();
        let deletes =
            queues
                .iter()
                .map(|q| Method::from(queue_delete(q)))
                .chain(exchanges.iter().map(|x| {
                    Method::from(ExchangeDelete {
                        exchange: short(x),
                        ..ExchangeDelete::default()
                    })
                }));
        for m in deletes {
            if let Err(e) = s.rpc(1, &m, WAIT) {
                failed.push(e.to_string());
                if !matches!(e, DriverError::ChannelClosed { .. }) {
                    break;
                }
                s.open_channel(1, WAIT)?;
            }
        }
        s.close(WAIT)?;
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("; "))
        }
    }
}

/// A short string from text the scenarios make (always under 256 bytes).
pub(crate) fn short(s: &str) -> ShortString {
    ShortString::try_new(s).unwrap_or_default()
}

/// Byte `j` of message `index` is `(index + j) % 251`, as in
/// `pika_peer.py`'s `make_body`.
#[must_use]
pub fn make_body(index: usize, size: usize) -> Vec<u8> {
    (0..size).map(|j| ((index + j) % 251) as u8).collect()
}

/// Fails for a name that is neither a scenario nor `all`.
pub fn check_names(names: &[String]) -> Result<(), String> {
    scenario::check_names(SCENARIOS, names)
}

/// Runs the scenarios named (`all` for every one) in `SCENARIOS` order,
/// printing `PASS name`, `FAIL name: why` or `SKIP name: why` for each
/// through `ctx`, then deletes what they created (a failure to do so is a
/// failed `cleanup`).
pub fn run(ctx: &Ctx, names: &[String]) -> Result<Report, String> {
    let mut report = scenario::run(ctx, SCENARIOS, names, |l| ctx.say(l))?;
    if let Err(e) = ctx.cleanup() {
        report.failed += 1;
        ctx.say(&format!("FAIL cleanup: {e}"));
    }
    Ok(report)
}

// ---- helpers shared by the scenarios ------------------------------------

/// `queue.declare` (not durable, not exclusive, no auto-delete) of
/// `name` with `arguments`; returns the declare-ok's queue name.
pub(crate) fn declare_queue(
    s: &mut AmqpStream,
    ch: u16,
    name: &str,
    arguments: FieldTable,
) -> Result<String, DriverError> {
    let m = Method::from(QueueDeclare {
        queue: short(name),
        arguments,
        ..QueueDeclare::default()
    });
    match s.rpc(ch, &m, WAIT)? {
        Method::QueueDeclareOk(ok) => Ok(ok.queue.into_string()),
        other => Err(DriverError::Unexpected(format!(
            "queue.declare answered with {}",
            other.name()
        ))),
    }
}

pub(crate) fn queue_delete(name: &str) -> QueueDelete {
    QueueDelete {
        queue: short(name),
        ..QueueDelete::default()
    }
}

/// `queue.delete` of `name`.
pub(crate) fn delete_queue(s: &mut AmqpStream, ch: u16, name: &str) -> Result<(), DriverError> {
    s.rpc(ch, &Method::from(queue_delete(name)), WAIT).map(drop)
}

/// Publishes `body` and writes it out; returns the confirm tag in
/// confirm mode.
pub(crate) fn publish(
    s: &mut AmqpStream,
    ch: u16,
    exchange: &str,
    routing_key: &str,
    props: &BasicProperties,
    body: &[u8],
) -> Result<Option<u64>, DriverError> {
    publish_with(
        s,
        ch,
        &BasicPublish {
            exchange: short(exchange),
            routing_key: short(routing_key),
            ..BasicPublish::default()
        },
        props,
        body,
    )
}

/// [`publish`] with a whole `basic.publish` (mandatory...).
/// Bodies from this size on are published with `publish_bytes`.
const VECTORED_FROM: usize = 64 << 10;

pub(crate) fn publish_with(
    s: &mut AmqpStream,
    ch: u16,
    method: &BasicPublish,
    props: &BasicProperties,
    body: &[u8],
) -> Result<Option<u64>, DriverError> {
    // Big bodies take the vectored path, so real brokers check it too.
    let tag = if body.len() >= VECTORED_FROM {
        let shared = bytes::Bytes::copy_from_slice(body);
        s.conn().publish_bytes(ch, method, props, &shared)?
    } else {
        s.conn().publish(ch, method, props, body)?
    };
    s.flush()?;
    Ok(tag)
}

/// `basic.consume` on `queue`; returns the consumer tag.
pub(crate) fn consume(
    s: &mut AmqpStream,
    ch: u16,
    queue: &str,
    no_ack: bool,
) -> Result<String, DriverError> {
    let m = Method::from(BasicConsume {
        queue: short(queue),
        no_ack,
        ..BasicConsume::default()
    });
    match s.rpc(ch, &m, WAIT)? {
        Method::BasicConsumeOk(ok) => Ok(ok.consumer_tag.into_string()),
        other => Err(DriverError::Unexpected(format!(
            "basic.consume answered with {}",
            other.name()
        ))),
    }
}

/// The next `basic.deliver` on `ch` within `timeout`.
pub(crate) fn delivery(
    s: &mut AmqpStream,
    ch: u16,
    timeout: Duration,
) -> Result<Box<Delivery>, DriverError> {
    s.wait_on(ch, timeout, "basic.deliver", |e| match e {
        Event::Delivery(d) if d.channel == ch && matches!(d.method, Method::BasicDeliver(_)) => {
            Some(d.clone())
        }
        _ => None,
    })
}

/// The delivery tag and redelivered flag of a `basic.deliver` or
/// `basic.get-ok`.
pub(crate) fn tag_of(d: &Delivery) -> (u64, bool) {
    match &d.method {
        Method::BasicDeliver(m) => (m.delivery_tag, m.redelivered),
        Method::BasicGetOk(m) => (m.delivery_tag, m.redelivered),
        _ => (0, false),
    }
}

/// `basic.get`: the message, or `None` for get-empty.
pub(crate) fn get(
    s: &mut AmqpStream,
    ch: u16,
    queue: &str,
    no_ack: bool,
) -> Result<Option<Box<Delivery>>, DriverError> {
    let m = Method::from(BasicGet {
        queue: short(queue),
        no_ack,
        ..BasicGet::default()
    });
    s.conn().send_method(ch, &m)?;
    s.wait_on(ch, WAIT, "basic.get-ok or get-empty", |e| match e {
        Event::Delivery(d) if d.channel == ch && matches!(d.method, Method::BasicGetOk(_)) => {
            Some(Some(d.clone()))
        }
        Event::Method {
            channel,
            method: Method::BasicGetEmpty(_),
        } if *channel == ch => Some(None),
        _ => None,
    })
}

/// `basic.ack`.
pub(crate) fn ack(
    s: &mut AmqpStream,
    ch: u16,
    delivery_tag: u64,
    multiple: bool,
) -> Result<(), DriverError> {
    s.conn().send_method(
        ch,
        &Method::from(BasicAck {
            delivery_tag,
            multiple,
        }),
    )?;
    s.flush()
}

/// A publisher confirm: `(tag, ack, multiple)`.
pub(crate) type Confirm = (u64, bool, bool);

/// The next `n` publisher confirms on `ch`, in the order they came.
pub(crate) fn confirms(
    s: &mut AmqpStream,
    ch: u16,
    n: usize,
    timeout: Duration,
) -> Result<Vec<Confirm>, DriverError> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        out.push(s.wait_on(ch, timeout, "a publisher confirm", |e| match e {
            Event::Confirm {
                channel,
                delivery_tag,
                multiple,
                ack,
            } if *channel == ch => Some((*delivery_tag, *ack, *multiple)),
            _ => None,
        })?);
    }
    Ok(out)
}

/// Whether a body matches what was sent, with where it first differs.
pub(crate) fn same_body(what: &str, expected: &[u8], got: &Body) -> Result<(), String> {
    if *got == expected {
        return Ok(());
    }
    let got = got.to_vec();
    let at = expected
        .iter()
        .zip(&got)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    Err(format!(
        "{what}: body differs ({} bytes sent, {} received, first difference at byte {at})",
        expected.len(),
        got.len()
    ))
}
