//! Declaring, binding, purging and deleting exchanges and queues (AMQP
//! 0-9-1 classes `exchange` and `queue`) with RabbitMQ's checks: reserved
//! names, equivalence of a redeclaration, exclusive access.

use amqp_codec::method::{ExchangeDeclare, QueueDeclare, QueueDeclareOk};
use amqp_codec::{FieldTable, FieldValue, ShortString};

use super::error::{AmqpError, Result};
use super::model::{ConnId, EQUIVALENT_ARGS, Queue, QueueLimits};
use super::routing::{Binding, Destination, Exchange, ExchangeKind};
use super::state::State;

const DEFAULT_EXCHANGE: &str = "operation not permitted on the default exchange";

fn inequivalent(
    what: &str,
    arg: &str,
    received: impl std::fmt::Debug,
    current: impl std::fmt::Debug,
) -> AmqpError {
    AmqpError::precondition(format!(
        "inequivalent arg '{arg}' for {what}: received {received:?} but current is {current:?}"
    ))
}

/// Argument values compare as RabbitMQ compares them: integers by value.
fn same_arg(a: Option<&FieldValue>, b: Option<&FieldValue>) -> bool {
    match (
        a.and_then(FieldValue::as_i64),
        b.and_then(FieldValue::as_i64),
    ) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

impl State {
    fn no_exchange(&self, name: &str) -> AmqpError {
        AmqpError::not_found(format!("no {}", self.describe("exchange", name)))
    }

    fn no_queue(&self, name: &str) -> AmqpError {
        AmqpError::not_found(format!("no {}", self.describe("queue", name)))
    }

    /// `exchange.declare`.
    pub(super) fn declare_exchange(&mut self, d: &ExchangeDeclare) -> Result<()> {
        let name = d.exchange.as_str();
        if name.is_empty() {
            return Err(AmqpError::access_refused(DEFAULT_EXCHANGE));
        }
        if d.passive {
            return match self.exchanges.contains_key(name) {
                true => Ok(()),
                false => Err(self.no_exchange(name)),
            };
        }
        let kind = ExchangeKind::parse(d.kind.as_str()).ok_or_else(|| {
            AmqpError::command_invalid(format!("unknown exchange type '{}'", d.kind))
        })?;
        if let Some(x) = self.exchanges.get(name) {
            let what = self.describe("exchange", name);
            if x.kind != kind {
                return Err(inequivalent(&what, "type", kind.name(), x.kind.name()));
            }
            if x.durable != d.durable {
                return Err(inequivalent(&what, "durable", d.durable, x.durable));
            }
            if x.auto_delete != d.auto_delete {
                return Err(inequivalent(
                    &what,
                    "auto_delete",
                    d.auto_delete,
                    x.auto_delete,
                ));
            }
            if x.internal != d.internal {
                return Err(inequivalent(&what, "internal", d.internal, x.internal));
            }
            return Ok(());
        }
        if name.starts_with("amq.") {
            return Err(AmqpError::access_refused(format!(
                "exchange name '{name}' contains reserved prefix 'amq.*'"
            )));
        }
        let mut x = Exchange::new(kind, d.durable);
        x.auto_delete = d.auto_delete;
        x.internal = d.internal;
        self.exchanges.insert(d.exchange.clone(), x);
        Ok(())
    }

    /// `exchange.delete`; a missing exchange is no error (RabbitMQ 3.x).
    pub(super) fn delete_exchange(&mut self, name: &str, if_unused: bool) -> Result<()> {
        if name.is_empty() {
            return Err(AmqpError::access_refused(DEFAULT_EXCHANGE));
        }
        if name.starts_with("amq.") {
            return Err(AmqpError::access_refused(format!(
                "deletion of system {} not allowed",
                self.describe("exchange", name)
            )));
        }
        let Some(x) = self.exchanges.get(name) else {
            return Ok(());
        };
        if if_unused && !x.bindings.is_empty() {
            return Err(AmqpError::precondition(format!(
                "{} in use",
                self.describe("exchange", name)
            )));
        }
        self.delete_exchange_now(name);
        Ok(())
    }

    /// Checks that `queue` exists and `conn` may use it.
    pub(super) fn check_queue(&self, conn: ConnId, name: &str) -> Result<&Queue> {
        let q = self.queues.get(name).ok_or_else(|| self.no_queue(name))?;
        match q.exclusive {
            Some(owner) if owner != conn => Err(self.locked(name)),
            _ => Ok(q),
        }
    }

    fn locked(&self, name: &str) -> AmqpError {
        AmqpError::resource_locked(format!(
            "cannot obtain exclusive access to locked {}. It could be originally declared on \
             another connection or the exclusive property value does not match that of the \
             original declaration.",
            self.describe("queue", name)
        ))
    }

    /// `queue.declare`, with `name` already resolved (server-named or the
    /// channel's last queue).
    pub(super) fn declare_queue(
        &mut self,
        conn: ConnId,
        d: &QueueDeclare,
        name: ShortString,
    ) -> Result<QueueDeclareOk> {
        if let Some(q) = self.queues.get(&name) {
            let what = self.describe("queue", &name);
            match q.exclusive {
                Some(owner) if owner != conn => return Err(self.locked(&name)),
                None if d.exclusive && !d.passive => return Err(self.locked(&name)),
                _ => {}
            }
            if !d.passive {
                if q.durable != d.durable {
                    return Err(inequivalent(&what, "durable", d.durable, q.durable));
                }
                if q.auto_delete != d.auto_delete {
                    return Err(inequivalent(
                        &what,
                        "auto_delete",
                        d.auto_delete,
                        q.auto_delete,
                    ));
                }
                for arg in EQUIVALENT_ARGS {
                    let (new, old) = (d.arguments.get(arg), q.arguments.get(arg));
                    if !same_arg(new, old) {
                        return Err(inequivalent(&what, arg, new, old));
                    }
                }
            }
            return Ok(QueueDeclareOk {
                message_count: q.message_count(),
                consumer_count: q.consumer_count(),
                queue: name,
            });
        }
        if d.passive {
            return Err(self.no_queue(&name));
        }
        if !d.queue.is_empty() && name.starts_with("amq.") {
            return Err(AmqpError::access_refused(format!(
                "queue name '{name}' contains reserved prefix 'amq.*'"
            )));
        }
        let limits = QueueLimits::from_arguments(&d.arguments).map_err(|e| {
            AmqpError::precondition(format!("{e} for {}", self.describe("queue", &name)))
        })?;
        let queue = Queue {
            durable: d.durable,
            exclusive: d.exclusive.then_some(conn),
            auto_delete: d.auto_delete,
            arguments: d.arguments.clone(),
            limits,
            ready: Default::default(),
            ready_bytes: 0,
            consumers: Vec::new(),
            next_consumer: 0,
        };
        self.queues.insert(name.clone(), queue);
        Ok(QueueDeclareOk {
            queue: name,
            message_count: 0,
            consumer_count: 0,
        })
    }

    /// `queue.delete`; a missing queue is no error (RabbitMQ 3.x).
    pub(super) fn delete_queue_checked(
        &mut self,
        conn: ConnId,
        name: &str,
        if_unused: bool,
        if_empty: bool,
    ) -> Result<u32> {
        if !self.queues.contains_key(name) {
            return Ok(0);
        }
        let q = self.check_queue(conn, name)?;
        if if_unused && !q.consumers.is_empty() {
            return Err(AmqpError::precondition(format!(
                "{} in use",
                self.describe("queue", name)
            )));
        }
        if if_empty && !q.ready.is_empty() {
            return Err(AmqpError::precondition(format!(
                "{} is not empty",
                self.describe("queue", name)
            )));
        }
        Ok(self.delete_queue(name))
    }

    /// `queue.purge`: drops the ready messages, returns how many.
    pub(super) fn purge_queue(&mut self, conn: ConnId, name: &str) -> Result<u32> {
        self.check_queue(conn, name)?;
        let Some(q) = self.queues.get_mut(name) else {
            return Ok(0);
        };
        let count = q.message_count();
        let dropped: Vec<_> = q.ready.drain(..).collect();
        q.ready_bytes = 0;
        self.stored_messages = self.stored_messages.saturating_sub(dropped.len());
        let bytes: usize = dropped.iter().map(|r| r.msg.cost()).sum();
        self.stored_bytes = self.stored_bytes.saturating_sub(bytes);
        Ok(count)
    }

    /// Checks both ends of a binding: the source exchange exists and is not
    /// the default one, the destination exists (and, a queue, is ours).
    fn check_binding(&self, conn: ConnId, source: &str, dest: &Destination) -> Result<()> {
        let dest_name = match dest {
            Destination::Queue(q) | Destination::Exchange(q) => q.as_str(),
        };
        if source.is_empty() || (matches!(dest, Destination::Exchange(_)) && dest_name.is_empty()) {
            return Err(AmqpError::access_refused(DEFAULT_EXCHANGE));
        }
        match dest {
            Destination::Queue(q) => {
                self.check_queue(conn, q)?;
            }
            Destination::Exchange(e) if !self.exchanges.contains_key(e) => {
                return Err(self.no_exchange(e));
            }
            Destination::Exchange(_) => {}
        }
        if !self.exchanges.contains_key(source) {
            return Err(self.no_exchange(source));
        }
        Ok(())
    }

    /// `queue.bind` and `exchange.bind`; binding twice is binding once.
    pub(super) fn bind(
        &mut self,
        conn: ConnId,
        source: &str,
        destination: Destination,
        key: &ShortString,
        arguments: &FieldTable,
    ) -> Result<()> {
        self.check_binding(conn, source, &destination)?;
        let binding = Binding {
            destination,
            key: key.clone(),
            arguments: arguments.clone(),
        };
        if let Some(x) = self.exchanges.get_mut(source) {
            if !x.bindings.contains(&binding) {
                x.bindings.push(binding);
            }
        }
        Ok(())
    }

    /// `queue.unbind` and `exchange.unbind`; a missing binding is no error.
    /// An auto-delete source goes with its last binding.
    pub(super) fn unbind(
        &mut self,
        conn: ConnId,
        source: &str,
        destination: Destination,
        key: &ShortString,
        arguments: &FieldTable,
    ) -> Result<()> {
        self.check_binding(conn, source, &destination)?;
        let binding = Binding {
            destination,
            key: key.clone(),
            arguments: arguments.clone(),
        };
        let emptied = self.exchanges.get_mut(source).is_some_and(|x| {
            let before = x.bindings.len();
            x.bindings.retain(|b| b != &binding);
            x.auto_delete && before > x.bindings.len() && x.bindings.is_empty()
        });
        if emptied {
            self.delete_exchange_now(source);
        }
        Ok(())
    }
}
