//! Sans-IO HTTP/2 (RFC 9113) and HPACK (RFC 7541) for gRPC.
//!
//! * [`frame`]: the ten HTTP/2 frame types as typed structs ([`Frame`]),
//!   stream ids, flags, settings.
//! * [`codec`]: bytes to [`Frame`]s and back ([`Decoder`], [`codec::encode`]),
//!   the connection preface, header-block and DATA splitting.
//! * [`config`]: the six standard [`Settings`], the size [`Limits`] and a
//!   connection's [`Config`].
//! * [`conn`]: the connection state machine for either role
//!   ([`Connection`]): preface and SETTINGS, stream states, flow control,
//!   HTTP message rules, GOAWAY, flood defences; it reports [`Event`]s.
//! * [`hpack`]: header compression (RFC 7541): [`hpack::Decoder`],
//!   [`hpack::Encoder`] and their [`hpack::Header`]s.
//! * [`error`]: [`ErrorCode`] and the one [`Error`], split into connection
//!   and stream errors as RFC 9113 §5.4 requires.
//!
//! Nothing here does I/O or reads a clock.
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
pub mod error;
pub mod event;
pub mod frame;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod hpack;

pub use codec::{Decoder, PREFACE, decode_preface};
pub use config::{Config, FlowControl, Limits, Settings};
pub use conn::{Connection, Role, StreamState};
pub use error::{Error, ErrorCode, Reason};
pub use event::{Event, Request, Response};
pub use frame::{Frame, FrameType, Setting, SettingId, StreamId};
