//! A small in-memory AMQP 0-9-1 broker (RabbitMQ dialect) on
//! [`amqp_codec::Connection`] in the server role, for the conformance runs
//! and the demo: `amqp-peer broker --listen ADDR --user NAME:PASSWORD`.
//!
//! One virtual host; every connection gets a thread that drives its
//! [`Connection`](amqp_codec::Connection) and a reader thread that feeds it
//! the socket's bytes through a bounded channel. Exchanges, queues,
//! bindings and consumers live in one [`Mutex`]-guarded state. A publish
//! that routes to a consumer of another connection is put in that
//! connection's outbox and its thread is woken through the same channel, so
//! delivery is prompt and nothing polls.
//!
//! What it does, as RabbitMQ 3.x does it:
//!
//! * login with PLAIN or AMQPLAIN against the configured users (403
//!   ACCESS_REFUSED otherwise), one virtual host (530 NOT_ALLOWED for any
//!   other);
//! * exchanges `""`, `amq.direct`, `amq.fanout`, `amq.topic` (`*` and `#`),
//!   `amq.headers`/`amq.match` (`x-match` `all`/`any`, and the `-with-x`
//!   variants); declare (passive too), delete, exchange-to-exchange
//!   bindings; auto-delete exchanges go with their last binding;
//! * queues: server-named, passive, exclusive (405 from other connections,
//!   deleted with their connection), auto-delete (deleted with their last
//!   consumer), bind/unbind, purge, delete (`if-unused`/`if-empty`;
//!   consumers are cancelled with `basic.cancel` when the client announced
//!   `consumer_cancel_notify`); `x-max-length` and `x-max-length-bytes` with
//!   `x-overflow` `drop-head` (default) or `reject-publish`
//!   (`reject-publish-dlx` acts as `reject-publish`: there is no
//!   dead-lettering). `x-message-ttl`, `x-expires`, `x-dead-letter-*` and
//!   the `expiration` property are accepted, checked for equivalence on
//!   redeclaration, and otherwise ignored: messages do not expire;
//! * `basic.publish` with `mandatory` (`basic.return` 312 NO_ROUTE);
//!   `immediate` is refused with connection.close 540 as RabbitMQ does;
//!   `user_id` must be the login's user (406); publisher confirms (an ack
//!   per publish, a nack when a queue refused it); `tx.select`/`commit`/
//!   `rollback` (publishes, acks, nacks and rejects wait for the commit);
//! * `basic.qos` `prefetch_count` per consumer (`global` false, for the
//!   channel's later consumers) and per channel (`global` true);
//!   `basic.consume` (`no_ack`, `exclusive`, server-generated tags),
//!   `basic.cancel`, `basic.deliver` with per-channel delivery tags,
//!   `basic.ack`/`nack`/`reject` (`multiple`; requeued messages come back
//!   with `redelivered`), `basic.recover`, `basic.get`;
//! * direct reply-to: consuming `amq.rabbitmq.reply-to` (no-ack) and
//!   publishing with that `reply_to`;
//! * soft errors close the channel (404, 405, 406, 403), hard ones the
//!   connection (503, 530, 540); unacknowledged messages go back to their
//!   queues when their channel or connection closes.
//!
//! Properties and bodies are delivered as received: the properties are
//! re-encoded from the decoded [`BasicProperties`](amqp_codec::BasicProperties),
//! whose field tables keep their entries' order, duplicates and types.
//!
//! Memory is bounded: the broker holds at most [`MAX_MESSAGES`] messages
//! and [`MAX_BYTES`] bytes (ready and unacknowledged, one count per queue a
//! message sits in). A publish over either limit is refused: with a nack in
//! confirm mode, otherwise with channel.close 406 PRECONDITION_FAILED (where
//! RabbitMQ would block publishers with a memory alarm). Each connection's
//! outbox holds at most [`OUTBOX_BYTES`] of deliveries; the queues keep the
//! rest until the connection's thread has written the outbox out.

use std::io::Write as _;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

mod basic;
mod entities;
mod error;
mod handlers;
mod model;
mod publish;
mod routing;
mod session;
mod state;
#[cfg(test)]
mod tests;

use state::{Capacity, State};

/// Most messages the broker holds (counted once per queue).
pub const MAX_MESSAGES: usize = 100_000;
/// Most bytes of messages the broker holds (bodies plus a flat allowance of
/// [`MESSAGE_OVERHEAD`] each, counted once per queue).
pub const MAX_BYTES: usize = 256 << 20;
/// What a message costs on top of its body in the [`MAX_BYTES`] count.
pub const MESSAGE_OVERHEAD: usize = 256;
/// Bytes of deliveries a connection's outbox takes before its consumers
/// wait (at least one delivery always fits).
pub const OUTBOX_BYTES: usize = 1 << 20;
/// The virtual host [`spawn`] serves.
pub const DEFAULT_VHOST: &str = "/";

const USAGE: &str =
    "usage: amqp-peer broker --listen ADDR --user NAME:PASSWORD [--user ...] [--vhost NAME]";

/// What the broker shares between connections.
#[derive(Debug)]
struct Broker {
    state: Mutex<State>,
    users: Vec<(String, String)>,
    vhost: String,
    next_id: AtomicU64,
}

impl Broker {
    fn new(users: Vec<(String, String)>, vhost: &str, capacity: Capacity) -> Self {
        Self {
            state: Mutex::new(State::new(vhost, capacity)),
            users,
            vhost: vhost.to_owned(),
            next_id: AtomicU64::new(1),
        }
    }

    /// The state; a thread that panicked holding it leaves it usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check_login(&self, username: &str, password: &str) -> bool {
        self.users
            .iter()
            .any(|(u, p)| u == username && p == password)
    }
}

/// Serves AMQP on `listener` (virtual host `/`) for `users`
/// (name, password) on a new thread, one more thread per connection, until
/// the process ends.
pub fn spawn(listener: TcpListener, users: Vec<(String, String)>) -> JoinHandle<()> {
    spawn_vhost(listener, users, DEFAULT_VHOST)
}

/// [`spawn`] for virtual host `vhost`.
pub fn spawn_vhost(
    listener: TcpListener,
    users: Vec<(String, String)>,
    vhost: &str,
) -> JoinHandle<()> {
    let broker = Arc::new(Broker::new(users, vhost, Capacity::default()));
    std::thread::spawn(move || serve(&listener, &broker))
}

fn serve(listener: &TcpListener, broker: &Arc<Broker>) {
    for stream in listener.incoming() {
        match stream {
            Ok(tcp) => {
                let broker = Arc::clone(broker);
                let id = broker.next_id.fetch_add(1, Ordering::Relaxed);
                let spawned = std::thread::Builder::new()
                    .name(format!("amqp-conn-{id}"))
                    .spawn(move || session::run(tcp, id, &broker));
                if let Err(e) = spawned {
                    eprintln!("amqp broker: cannot start a connection thread: {e}");
                }
            }
            Err(e) => {
                eprintln!("amqp broker: accept: {e}");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

/// The broker's command line (the words after `broker`).
#[derive(Debug, PartialEq, Eq)]
struct Args {
    listen: String,
    users: Vec<(String, String)>,
    vhost: String,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut listen = None;
    let mut users = Vec::new();
    let mut vhost = DEFAULT_VHOST.to_owned();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--listen" => listen = Some(value()?.clone()),
            "--vhost" => vhost = value()?.clone(),
            "--user" => {
                let v = value()?;
                let (name, password) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--user {v}: expected NAME:PASSWORD"))?;
                users.push((name.to_owned(), password.to_owned()));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let listen = listen.ok_or("--listen ADDR is required")?;
    if users.is_empty() {
        return Err("at least one --user NAME:PASSWORD is required".to_owned());
    }
    Ok(Args {
        listen,
        users,
        vhost,
    })
}

/// `amqp-peer broker ARGS`: parses `--listen ADDR --user NAME:PASSWORD
/// [--user ...] [--vhost NAME]` (virtual host `/` by default), prints
/// `listening on ADDR` (the bound address) and serves until killed.
/// Returns 2 for bad arguments, 1 when it cannot listen.
pub fn main(args: Vec<String>) -> i32 {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return 0;
    }
    let args = match parse(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("amqp-peer broker: {e}\n{USAGE}");
            return 2;
        }
    };
    let listener = match TcpListener::bind(&args.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("amqp-peer broker: cannot listen on {}: {e}", args.listen);
            return 1;
        }
    };
    let addr = listener
        .local_addr()
        .map_or_else(|_| args.listen.clone(), |a| a.to_string());
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
    let broker = Arc::new(Broker::new(args.users, &args.vhost, Capacity::default()));
    serve(&listener, &broker);
    0
}
