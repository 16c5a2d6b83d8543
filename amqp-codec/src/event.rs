//! What a [`Connection`](crate::Connection) reports to the application.

use bytes::Bytes;

use crate::body::Body;
use crate::config::Tune;
use crate::error::Error;
use crate::field_table::FieldTable;
use crate::method::{BasicPublish, Method};
use crate::properties::BasicProperties;
use crate::sasl::Credentials;

/// Something the application should see or decide.
///
/// Events the application must answer say which call answers them. The
/// connection does the protocol's own duties: heartbeats, close-ok for
/// `connection.close` and `channel.close`, open-ok for `channel.open`
/// (server), flow-ok and cancel-ok for the server's `channel.flow` and
/// `basic.cancel` (client). A server application answers every other
/// synchronous request ([`Event::Method`], [`Event::Flow`]) with
/// [`send_method`](crate::Connection::send_method), in the order they
/// came: `confirm.select-ok`, `tx.select-ok`, `channel.flow-ok`, `queue.declare-ok`...
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    // ---- negotiation (§1.4.2) ----
    /// Server: the client's `connection.start-ok` (or `secure-ok`) to
    /// verify. Answer with
    /// [`accept_auth`](crate::Connection::accept_auth),
    /// [`reject_auth`](crate::Connection::reject_auth) or
    /// [`send_challenge`](crate::Connection::send_challenge).
    Authenticate {
        /// The mechanism the client chose (one the server offered).
        mechanism: String,
        /// The raw response.
        response: Bytes,
        /// The response decoded, for PLAIN, AMQPLAIN and EXTERNAL; `None`
        /// if it is malformed (reject it).
        credentials: Option<Credentials>,
    },
    /// Client: the server sent `connection.secure`. Answer with
    /// [`answer_challenge`](crate::Connection::answer_challenge).
    Challenge {
        /// The challenge.
        challenge: Bytes,
    },
    /// Server: the client asked to open a virtual host. Answer with
    /// [`accept_vhost`](crate::Connection::accept_vhost) or
    /// [`reject_vhost`](crate::Connection::reject_vhost).
    OpenVhost {
        /// The virtual host.
        vhost: String,
    },
    /// The connection is open: `connection.open-ok` received (client) or
    /// sent (server).
    Connected {
        /// The peer's server or client properties (capabilities included:
        /// see [`Capabilities::from_properties`](crate::Capabilities)).
        peer_properties: FieldTable,
        /// The agreed channel-max, frame-max and heartbeat.
        tune: Tune,
        /// The virtual host.
        vhost: String,
    },
    /// Client: the server stopped reading from this connection
    /// (`connection.blocked`, RabbitMQ's resource alarms).
    Blocked {
        /// Why.
        reason: String,
    },
    /// Client: `connection.unblocked`.
    Unblocked,
    /// The connection is over. Reported once. After it, write out what
    /// [`poll_transmit`](crate::Connection::poll_transmit) still returns
    /// and close the socket.
    Closed {
        /// The reply code of the `connection.close` that ended it (the
        /// peer's, or ours), or of `error` when no close was exchanged.
        reply_code: u16,
        /// Its reply text.
        reply_text: String,
        /// Class of the method that caused it, 0 if none.
        class_id: u16,
        /// Method that caused it, 0 if none.
        method_id: u16,
        /// Whether the peer sent `connection.close` first.
        by_peer: bool,
        /// Our error that ended it: a peer error we detected (we sent
        /// `connection.close` with its code, or nothing for timeouts), or
        /// [`Error::AccessRefused`]/[`Error::NotAllowed`] when the
        /// application refused the login or the vhost.
        error: Option<Error>,
    },

    // ---- channels (§1.5) ----
    /// A channel is open: `channel.open-ok` received (client) or sent
    /// (server).
    ChannelOpened {
        /// The channel.
        channel: u16,
    },
    /// A channel is closed and its number free again. Reported when the
    /// peer's `channel.close` arrived (answered with close-ok at once), or
    /// when the close-ok for ours arrived.
    ChannelClosed {
        /// The channel.
        channel: u16,
        /// Reply code of the `channel.close`.
        reply_code: u16,
        /// Its reply text.
        reply_text: String,
        /// Class of the method that caused it, 0 if none.
        class_id: u16,
        /// Method that caused it, 0 if none.
        method_id: u16,
        /// Whether the peer closed the channel.
        by_peer: bool,
        /// Server: the soft error the connection raised itself
        /// ([`Error::PreconditionFailed`]), if that closed the channel.
        error: Option<Error>,
    },
    /// The peer paused (`active` false) or resumed our content on a channel
    /// (`channel.flow`). While paused, sending content on the channel is
    /// refused. A client has answered with flow-ok already; a server
    /// answers with `channel.flow-ok` itself.
    Flow {
        /// The channel.
        channel: u16,
        /// Whether we may send content.
        active: bool,
    },
    /// A method for the application: a reply to a request we sent, or a
    /// request to act on (server: every client request but channel.open,
    /// channel.close and channel.flow; client: a server-sent `basic.cancel`,
    /// already answered, and acks/nacks outside confirm mode). Content
    /// methods come as [`Event::Delivery`] or [`Event::Publish`].
    Method {
        /// The channel (0 for `connection.update-secret`/`-ok`).
        channel: u16,
        /// The method.
        method: Method,
    },
    /// Client: a message from the server: `basic.deliver`, `basic.get-ok`
    /// or `basic.return`, with its content.
    Delivery(Box<Delivery>),
    /// Server: a `basic.publish` with its content.
    Publish(Box<Publish>),
    /// Client, confirm mode: the server confirmed (`ack`) or refused one
    /// of our publishes. A `multiple` ack or nack is reported as one event
    /// per publish it covers, in tag order.
    Confirm {
        /// The channel.
        channel: u16,
        /// The tag [`publish`](crate::Connection::publish) returned.
        delivery_tag: u64,
        /// Whether the server's ack or nack had `multiple` set.
        multiple: bool,
        /// `basic.ack` (true) or `basic.nack` (false).
        ack: bool,
    },
}

/// A message the server sent a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The channel.
    pub channel: u16,
    /// `basic.deliver`, `basic.get-ok` or `basic.return`.
    pub method: Method,
    /// The content header's properties.
    pub properties: BasicProperties,
    /// The body, as the body frames' payloads (see [`Body`]).
    pub body: Body,
}

/// A message a client published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// The channel.
    pub channel: u16,
    /// The `basic.publish`.
    pub publish: BasicPublish,
    /// The content header's properties.
    pub properties: BasicProperties,
    /// The body, as the body frames' payloads (see [`Body`]).
    pub body: Body,
    /// In confirm mode, the delivery tag to ack or nack it with (the
    /// channel's publishes since `confirm.select`, counted from 1).
    pub confirm_tag: Option<u64>,
}
