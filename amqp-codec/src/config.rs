//! Limits (every peer-controlled size has one here) and the settings of
//! client and server connections.

use std::time::Duration;

use crate::field_table::{FieldTable, FieldValue};
use crate::sasl::{Mechanism, Sasl};
use crate::string::{LongString, ShortString};

/// Peer-controlled sizes. Exceeding one is an [`Error`](crate::Error) with
/// the reply code the connection closes with, never an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Frame-max in force until `connection.tune` settles one (§4.2.3: at
    /// least frame-min-size, 4096). Default 128 KiB, RabbitMQ's usual
    /// frame-max, so large client or server properties get through.
    pub initial_frame_max: u32,
    /// Cap on the frame-max after tuning, also applied when the peers agree
    /// on 0 ("no limit"): a frame is buffered whole before it is decoded.
    /// Default 16 MiB.
    pub max_frame_size: u32,
    /// Deepest nesting of field tables and arrays; the top-level table is
    /// depth 1. Default 32.
    pub max_table_depth: usize,
    /// Largest field table (its encoded size, not counting the length
    /// prefix). Decoded, a table can take tens of times its wire size, so
    /// this bounds the memory one table can cost. Default 1 MiB.
    pub max_table_size: usize,
    /// Largest message body a content header may announce. Default 128 MiB.
    pub max_body_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            initial_frame_max: 128 << 10,
            max_frame_size: 16 << 20,
            max_table_depth: 32,
            max_table_size: 1 << 20,
            max_body_size: 128 << 20,
        }
    }
}

/// Tuning values of `connection.tune`/`tune-ok` (§1.4.2.5): what a peer
/// proposes, or what the two agreed on. 0 means "no limit" (for
/// `heartbeat`: "no heartbeats").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tune {
    /// Highest channel number.
    pub channel_max: u16,
    /// Largest frame, header and frame-end included (at least 4096).
    pub frame_max: u32,
    /// Heartbeat interval in seconds.
    pub heartbeat: u16,
}

impl Default for Tune {
    /// RabbitMQ's defaults: 2047 channels, 128 KiB frames, 60 s heartbeat.
    fn default() -> Self {
        Self {
            channel_max: 2047,
            frame_max: 128 << 10,
            heartbeat: 60,
        }
    }
}

impl Tune {
    /// The values both sides accept: for each field the smaller non-zero
    /// value, or 0 if both are 0 (as the Java and .NET clients negotiate).
    #[must_use]
    pub fn negotiate(self, other: Self) -> Self {
        Self {
            channel_max: smaller_limit(self.channel_max, other.channel_max),
            frame_max: smaller_limit(self.frame_max, other.frame_max),
            heartbeat: smaller_limit(self.heartbeat, other.heartbeat),
        }
    }
}

/// The smaller of two limits where 0 means none.
fn smaller_limit<T: Ord + Default + Copy>(a: T, b: T) -> T {
    let zero = T::default();
    match (a == zero, b == zero) {
        (true, _) => b,
        (_, true) => a,
        _ => a.min(b),
    }
}

/// The RabbitMQ extensions a peer announces in the `capabilities` table of
/// its client or server properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::struct_excessive_bools)]
pub struct Capabilities {
    /// `publisher_confirms`: `confirm.select`, `basic.ack` from the server.
    pub publisher_confirms: bool,
    /// `consumer_cancel_notify`: server-sent `basic.cancel`.
    pub consumer_cancel_notify: bool,
    /// `connection.blocked`: `connection.blocked`/`unblocked`.
    pub connection_blocked: bool,
    /// `basic.nack`.
    pub basic_nack: bool,
    /// `exchange_exchange_bindings`: `exchange.bind`/`unbind`.
    pub exchange_exchange_bindings: bool,
    /// `authentication_failure_close`: a failed login is answered with
    /// `connection.close` 403 rather than a dropped socket.
    pub authentication_failure_close: bool,
    /// `per_consumer_qos`: `basic.qos` with `global` false applies per
    /// consumer.
    pub per_consumer_qos: bool,
    /// `direct_reply_to`: the `amq.rabbitmq.reply-to` pseudo-queue.
    pub direct_reply_to: bool,
    /// `consumer_priorities`: the `x-priority` consume argument.
    pub consumer_priorities: bool,
}

impl Capabilities {
    /// Every capability on.
    pub const ALL: Self = Self {
        publisher_confirms: true,
        consumer_cancel_notify: true,
        connection_blocked: true,
        basic_nack: true,
        exchange_exchange_bindings: true,
        authentication_failure_close: true,
        per_consumer_qos: true,
        direct_reply_to: true,
        consumer_priorities: true,
    };

    /// Every capability off: what a peer without a `capabilities` table
    /// announces.
    pub const NONE: Self = Self {
        publisher_confirms: false,
        consumer_cancel_notify: false,
        connection_blocked: false,
        basic_nack: false,
        exchange_exchange_bindings: false,
        authentication_failure_close: false,
        per_consumer_qos: false,
        direct_reply_to: false,
        consumer_priorities: false,
    };

    const fn entries(self) -> [(&'static str, bool); 9] {
        [
            ("publisher_confirms", self.publisher_confirms),
            (
                "exchange_exchange_bindings",
                self.exchange_exchange_bindings,
            ),
            ("basic.nack", self.basic_nack),
            ("consumer_cancel_notify", self.consumer_cancel_notify),
            ("connection.blocked", self.connection_blocked),
            ("consumer_priorities", self.consumer_priorities),
            (
                "authentication_failure_close",
                self.authentication_failure_close,
            ),
            ("per_consumer_qos", self.per_consumer_qos),
            ("direct_reply_to", self.direct_reply_to),
        ]
    }

    /// The capabilities announced in `properties` (its `capabilities`
    /// table; a capability absent or not `true` is off).
    #[must_use]
    pub fn from_properties(properties: &FieldTable) -> Self {
        let Some(t) = properties
            .get("capabilities")
            .and_then(FieldValue::as_table)
        else {
            return Self::NONE;
        };
        let on = |k: &str| t.get(k).and_then(FieldValue::as_bool) == Some(true);
        Self {
            publisher_confirms: on("publisher_confirms"),
            consumer_cancel_notify: on("consumer_cancel_notify"),
            connection_blocked: on("connection.blocked"),
            basic_nack: on("basic.nack"),
            exchange_exchange_bindings: on("exchange_exchange_bindings"),
            authentication_failure_close: on("authentication_failure_close"),
            per_consumer_qos: on("per_consumer_qos"),
            direct_reply_to: on("direct_reply_to"),
            consumer_priorities: on("consumer_priorities"),
        }
    }

    /// The `capabilities` table: the capabilities that are on, as `true`.
    #[must_use]
    pub fn to_table(self) -> FieldTable {
        self.entries()
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| (ShortString::from_static(k), FieldValue::Bool(true)))
            .collect()
    }

    /// `properties` with this `capabilities` table added, unless it has one.
    #[must_use]
    pub fn add_to(self, properties: &FieldTable) -> FieldTable {
        let mut p = properties.clone();
        if p.get("capabilities").is_none() {
            p.push(
                ShortString::from_static("capabilities"),
                FieldValue::Table(self.to_table()),
            );
        }
        p
    }
}

/// Product, version and platform entries for client or server properties.
fn default_properties() -> FieldTable {
    let text = |k: &'static str, v: &'static str| {
        (
            ShortString::from_static(k),
            FieldValue::LongString(LongString::from_static(v.as_bytes())),
        )
    };
    [
        text("product", "amqp-codec"),
        text("version", env!("CARGO_PKG_VERSION")),
        text("platform", "Rust"),
    ]
    .into_iter()
    .collect()
}

/// Settings of a client connection ([`Connection::client`]).
///
/// [`Connection::client`]: crate::Connection::client
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Mechanism and credentials for `connection.start-ok`.
    pub credentials: Sasl,
    /// Virtual host for `connection.open`. Default `/`.
    pub vhost: String,
    /// Client properties for `connection.start-ok`; a `capabilities` table
    /// built from [`ClientConfig::capabilities`] is added unless present.
    /// Default: product, version and platform of this crate.
    pub client_properties: FieldTable,
    /// Capabilities to announce. Default: all.
    pub capabilities: Capabilities,
    /// What we accept: negotiated with the server's `connection.tune` by
    /// [`Tune::negotiate`]. Default [`Tune::default`].
    pub tune: Tune,
    /// Locale for `connection.start-ok`. Default `en_US`.
    pub locale: String,
    /// Size limits on what the server sends.
    pub limits: Limits,
    /// Time allowed from [`Connection::client`] to `connection.open-ok`.
    /// Default 10 s.
    ///
    /// [`Connection::client`]: crate::Connection::client
    pub handshake_timeout: Duration,
    /// Time allowed for the peer's `connection.close-ok` after our
    /// `connection.close`. Default 10 s.
    pub close_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::new(Sasl::default(), "/")
    }
}

impl ClientConfig {
    /// Defaults with `credentials` for virtual host `vhost`.
    #[must_use]
    pub fn new(credentials: Sasl, vhost: &str) -> Self {
        Self {
            credentials,
            vhost: vhost.to_owned(),
            client_properties: default_properties(),
            capabilities: Capabilities::ALL,
            tune: Tune::default(),
            locale: "en_US".to_owned(),
            limits: Limits::default(),
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(10),
        }
    }
}

/// Settings of a server connection ([`Connection::server`]).
///
/// [`Connection::server`]: crate::Connection::server
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Mechanisms offered in `connection.start`, in order of preference.
    /// Default PLAIN and AMQPLAIN.
    pub mechanisms: Vec<Mechanism>,
    /// Server properties for `connection.start`; a `capabilities` table
    /// built from [`ServerConfig::capabilities`] is added unless present.
    pub server_properties: FieldTable,
    /// Capabilities to announce. Default: all.
    pub capabilities: Capabilities,
    /// What `connection.tune` proposes; the client's `tune-ok` may lower a
    /// limit but not raise it. Default [`Tune::default`].
    pub tune: Tune,
    /// Size limits on what the client sends.
    pub limits: Limits,
    /// Time allowed from [`Connection::server`] to `connection.open`.
    /// Default 10 s, as RabbitMQ.
    ///
    /// [`Connection::server`]: crate::Connection::server
    pub handshake_timeout: Duration,
    /// Time allowed for the peer's `connection.close-ok` after our
    /// `connection.close`. Default 10 s.
    pub close_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            mechanisms: vec![Mechanism::Plain, Mechanism::AmqPlain],
            server_properties: default_properties(),
            capabilities: Capabilities::ALL,
            tune: Tune::default(),
            limits: Limits::default(),
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(10),
        }
    }
}
