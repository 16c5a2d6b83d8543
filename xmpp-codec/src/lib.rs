//! Sans-IO XMPP: stream framing (RFC 6120 §4, RFC 7395), the restricted
//! XML profile (RFC 6120 §11), an element model, typed stanzas, and SASL.
//!
//! This is the codec layer:
//!
//! * [`codec`] turns bytes into [`Frame`]s ([`Decoder`]) and back
//!   ([`Encoder`]), over a TCP stream or RFC 7395 WebSocket messages, any
//!   chunking.
//! * [`element`] has [`Element`], whose strings are [`Str`] slices of the
//!   received bytes.
//! * [`stanza`] has typed views (`Message`, `Presence`, `Iq`), stanza and
//!   stream errors, and `Jid`.
//! * [`sasl`] has PLAIN and SCRAM-SHA-1/-256, client and server.
//! * [`config`] has the [`Limits`] on everything the peer controls, and
//!   [`Framing`].
//! * [`error`] has the one [`Error`], carrying the stream, stanza or SASL
//!   condition to answer with.
//!
//! Nothing here does I/O, reads a clock or draws randomness (SCRAM nonces
//! are the caller's).
//!
//! ```
//! use bytes::BytesMut;
//! use xmpp_codec::{Decoder, Frame};
//!
//! let mut d = Decoder::default();
//! let mut buf = BytesMut::from(
//!     "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
//!      xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>\
//!      <message to='juliet@example.com'><body>hi &amp; bye</body></message>",
//! );
//! let Some(Frame::StreamOpen(h)) = d.decode(&mut buf)? else { panic!() };
//! assert_eq!(h.to.as_deref(), Some("example.com"));
//! let Some(Frame::Element(m)) = d.decode(&mut buf)? else { panic!() };
//! assert!(m.is("message", "jabber:client"));
//! assert_eq!(m.child("body", "jabber:client").unwrap().text(), "hi & bye");
//! assert_eq!(d.decode(&mut buf)?, None);
//! # Ok::<(), xmpp_codec::Error>(())
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

pub mod codec;
pub mod config;
pub mod conn;
pub mod element;
pub mod error;
pub mod event;
pub mod frame;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "fuzzing"))]
mod fuzzing_conn;
pub mod sasl;
pub mod stanza;
pub mod str;
pub mod xml;

pub use codec::{Decoder, Encoder};
pub use config::{Framing, Limits};
pub use conn::Connection;
pub use element::{Attribute, Element, Node};
pub use error::{Error, Limit, Restricted};
pub use event::Event;
pub use frame::{Frame, RawFrame, StreamHeader};
pub use str::Str;
pub use xml::ns::Namespaces;
