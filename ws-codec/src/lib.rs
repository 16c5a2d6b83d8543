//! Sans-IO WebSocket: RFC 6455 framing and connection state machine, the
//! opening handshake, and permessage-deflate (RFC 7692).
//!
//! Two layers, as in every crate of this workspace:
//!
//! * [`codec`]: bytes to [`Frame`]s and back, nothing else.
//! * [`conn`]: one endpoint of one connection ([`Connection`]), client or
//!   server role, from the opening handshake to the closing one. Feed it the
//!   bytes you read with [`Connection::handle_input`], write out what
//!   [`Connection::poll_transmit`] gives you, and act on
//!   [`Connection::poll_event`].
//!
//! Nothing here does I/O, reads a clock or draws randomness: masking keys come
//! from a caller-supplied [`MaskSource`].
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
#[cfg(feature = "deflate")]
pub mod deflate;
pub mod error;
pub mod event;
pub mod frame;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod handshake;
pub mod mask;
pub mod utf8;

pub use codec::{Decoder, encode_frame};
pub use config::{Config, Limits, MaskSource, Role};
pub use conn::Connection;
pub use error::{Error, HandshakeError};
pub use event::{Event, Message, Utf8Bytes};
pub use frame::{CloseCode, Frame, FrameHeader, OpCode};
