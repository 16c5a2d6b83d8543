//! Every method of every class of AMQP 0-9-1 as RabbitMQ extends it
//! (`connection.blocked`/`unblocked`/`update-secret`, `exchange.bind`/
//! `unbind`, `basic.nack`, `confirm.select`...): one struct per method with
//! typed arguments, and the [`Method`] enum over them.
//!
//! The structs, the enum and their codecs are generated from the spec JSON
//! by `codegen/gen_methods.py` into `generated.rs`; this file adds the
//! method frame payload layer: class id, method id, arguments (§4.2.4).
//!
//! Argument types follow the spec's domains: `octet` u8, `short` u16,
//! `long` u32, `longlong` and `timestamp` u64, `bit` bool (consecutive bits
//! share an octet, first bit lowest), `shortstr` [`ShortString`], `longstr`
//! [`LongString`], `table` [`FieldTable`]. An argument named `type` is
//! called `kind`. `Default` gives each struct the spec's default values.
//!
//! The few methods larger than `basic.deliver` (the bind and unbind methods
//! and `connection.start-ok`) are boxed in [`Method`]: they are rare, and a
//! `Method` is copied with every frame and command that holds one.
//!
//! [`ShortString`]: crate::ShortString
//! [`LongString`]: crate::LongString
//! [`FieldTable`]: crate::FieldTable

use bytes::{BufMut as _, Bytes, BytesMut};

use crate::config::Limits;
use crate::error::{Error, PayloadError};
use crate::wire::Reader;

mod generated;

pub use generated::*;

// Every method frame's `Method` is copied out of the decoder into the
// channel's assembler and on into a `Command`: keep it to `basic.deliver`'s
// 112 bytes and a tag (136 before the large methods were boxed). The
// generator boxes any method struct over 112 bytes.
const _: () = assert!(size_of::<Method>() <= 120);

impl Method {
    /// Decodes a method frame's whole payload: class id, method id and the
    /// arguments, which must fill it exactly. Strings and tables share
    /// `payload`'s buffer where they can.
    pub fn decode(payload: &Bytes, limits: &Limits) -> Result<Self, Error> {
        Self::decode_from(Reader::new(payload), limits)
    }

    /// [`Method::decode`] from a reader over the payload.
    #[inline(always)]
    pub(crate) fn decode_from(mut r: Reader<'_>, limits: &Limits) -> Result<Self, Error> {
        let (Ok(class_id), Ok(method_id)) = (r.u16(), r.u16()) else {
            return Err(Error::payload(0, 0, PayloadError::Truncated));
        };
        match Self::decode_args(class_id, method_id, &mut r, limits) {
            None => Err(Error::UnknownMethod {
                class_id,
                method_id,
            }),
            Some(m) => m
                .and_then(|m| r.finish().map(|()| m))
                .map_err(|e| Error::payload(class_id, method_id, e)),
        }
    }

    /// What a method slot holds before a method is decoded into it: a
    /// method that owns nothing, so overwriting it costs no drop.
    pub(crate) const PLACEHOLDER: Self = Self::ChannelCloseOk(ChannelCloseOk);

    /// Sets `self` to `m`, a method with its arguments zero, to decode
    /// arguments into. [`Method::PLACEHOLDER`] (what a slot holds after a
    /// command is taken) owns nothing, so it is overwritten without a call
    /// to `Method`'s drop glue.
    #[inline(always)]
    pub(crate) fn become_method(&mut self, m: Self) {
        if std::mem::discriminant(self) == std::mem::discriminant(&Self::PLACEHOLDER) {
            std::mem::forget(std::mem::replace(self, m));
        } else {
            *self = m;
        }
    }

    /// [`Method::decode`] into `self`, where the method is to stay: returned
    /// by value, the method was copied out right after being written, and
    /// those reads stalled store forwarding. `self` may hold any method: if
    /// it holds the one decoded (a channel's last method, as each delivery
    /// follows the last), its arguments are overwritten in place, which
    /// spares a drop and a write of the empty method. On error `self`
    /// holds some method of no meaning.
    #[inline]
    pub(crate) fn decode_into(&mut self, mut r: Reader<'_>, limits: &Limits) -> Result<(), Error> {
        let (Ok(class_id), Ok(method_id)) = (r.u16(), r.u16()) else {
            return Err(Error::payload(0, 0, PayloadError::Truncated));
        };
        match Self::decode_args_into(self, class_id, method_id, &mut r, limits) {
            None => Err(Error::UnknownMethod {
                class_id,
                method_id,
            }),
            Some(m) => m
                .and_then(|()| r.finish())
                .map_err(|e| Error::payload(class_id, method_id, e)),
        }
    }

    /// Appends the method frame payload: class id, method id, arguments.
    /// Fails only for a longstr or table over 4 GiB.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), Error> {
        dst.put_u16(self.class_id());
        dst.put_u16(self.method_id());
        self.encode_args(dst)
    }
}

#[cfg(test)]
mod tests;
