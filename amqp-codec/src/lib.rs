//! Sans-IO AMQP 0-9-1, RabbitMQ dialect: frame codec and connection state
//! machine, client and server roles.
//!
//! The frame codec:
//!
//! * [`codec`]: bytes to [`Frame`]s and back ([`Decoder`], [`encode`],
//!   [`encode_content`]) and the protocol header ([`decode_protocol_header`]).
//! * [`method`]: every method of every class as a typed struct, and the
//!   [`Method`] enum, generated from RabbitMQ's spec JSON.
//! * [`field_table`]: field tables and arrays with every type letter
//!   RabbitMQ sends or accepts.
//! * [`properties`]: the content header and [`BasicProperties`].
//! * [`content`]: a channel's method, header and body frames gathered into
//!   [`Command`]s, from [`Frame`]s or, without the copies a `Frame` costs,
//!   straight from the bytes ([`Decoder::decode_into`]).
//! * [`error`]: one [`Error`] with the reply code each failure closes the
//!   connection with.
//!
//! The connection on top of it:
//!
//! * [`conn`]: one endpoint ([`Connection`]): negotiation with SASL,
//!   heartbeats, the close handshakes, a state machine per channel,
//!   publisher confirms, tx. Feed it bytes with the time, write out what
//!   it queues, act on its [`Event`]s.
//! * [`config`]: [`ClientConfig`], [`ServerConfig`], [`Tune`],
//!   [`Capabilities`] and the size [`Limits`].
//! * [`sasl`]: PLAIN, AMQPLAIN and EXTERNAL.
//!
//! Nothing here does I/O or reads a clock.
//!
//! A frame-level example (the connection's is in [`conn`]):
//!
//! ```
//! use amqp_codec::method::{BasicPublish, Method};
//! use amqp_codec::{
//!     BasicProperties, ContentAssembler, Decoder, Frame, ShortString, encode_content,
//!     encode_method,
//! };
//! use bytes::BytesMut;
//!
//! // Publish "hi" to exchange "logs" on channel 1, frame-max 131072.
//! let mut wire = BytesMut::new();
//! let publish = BasicPublish {
//!     exchange: ShortString::try_new("logs")?,
//!     ..BasicPublish::default()
//! };
//! encode_method(1, &Method::from(publish), &mut wire)?;
//! encode_content(1, 60, &BasicProperties::default(), b"hi", 131_072, &mut wire)?;
//!
//! // The receiving side: frames, then per-channel commands.
//! let mut decoder = Decoder::default();
//! let mut channel_1 = ContentAssembler::new(decoder.limits().max_body_size);
//! let mut commands = Vec::new();
//! while let Some(frame) = decoder.decode(&mut wire)? {
//!     let done = match frame {
//!         Frame::Method { method, .. } => channel_1.method(method)?,
//!         Frame::Header { header, .. } => channel_1.header(header)?,
//!         Frame::Body { payload, .. } => channel_1.body(payload)?,
//!         Frame::Heartbeat => None,
//!     };
//!     commands.extend(done);
//! }
//! assert_eq!(commands[0].method.name(), "basic.publish");
//! assert_eq!(commands[0].content.as_ref().unwrap().body, b"hi");
//!
//! // The same without `Frame`s: each frame decoded into its channel's
//! // assembler, which holds a whole command until the channel's next
//! // frame, to be read there (or taken).
//! # let mut wire = BytesMut::new();
//! # encode_method(1, &Method::from(BasicPublish::default()), &mut wire)?;
//! # encode_content(1, 60, &BasicProperties::default(), b"hi", 131_072, &mut wire)?;
//! use amqp_codec::Assembled;
//! while let Some(done) = decoder.decode_into(&mut wire, &mut channel_1)? {
//!     if let (Assembled::Complete, Some(command)) = (done, channel_1.command()) {
//!         assert_eq!(command.content.as_ref().unwrap().body, b"hi");
//!     }
//! }
//! # Ok::<(), amqp_codec::Error>(())
//! ```
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::cast_possible_truncation
    )
)]

pub mod body;
pub mod codec;
pub mod config;
pub mod conn;
pub mod constants;
pub mod content;
pub mod error;
pub mod event;
pub mod field_table;
pub mod frame;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod method;
pub mod output;
pub mod properties;
pub mod sasl;
#[cfg(test)]
mod strategies;
pub mod string;
mod wire;

pub use body::{Body, MAX_CHUNKS};
pub use codec::{Decoder, decode_protocol_header, encode, encode_content, encode_method};
pub use config::{Capabilities, ClientConfig, Limits, ServerConfig, Tune};
pub use conn::{Connection, Role};
pub use constants::ReplyCode;
pub use content::{Assembled, Command, Content, ContentAssembler};
pub use error::{Error, FrameKind, PayloadError};
pub use event::{Delivery, Event, Publish};
pub use field_table::{Decimal, FieldArray, FieldTable, FieldValue};
pub use frame::{Frame, PROTOCOL_HEADER, ProtocolHeader};
pub use method::Method;
pub use output::{OutputQueue, encode_content_shared};
pub use properties::{BasicProperties, ContentHeader};
pub use sasl::{Credentials, Mechanism, Sasl};
pub use string::{LongString, ShortString};
