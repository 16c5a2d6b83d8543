//! The content header (AMQP 0-9-1 §4.2.6.1) and the 14 properties of the
//! basic class.
//!
//! Property flags are 16-bit words: bit 15 of the first word flags the
//! first property, bit 0 of every word says another word follows. Basic has
//! 14 properties, so one word is always enough to send; on receipt further
//! words are read and must flag nothing.

use bytes::{BufMut as _, BytesMut};

use crate::config::Limits;
use crate::error::{Error, PayloadError};
use crate::field_table::FieldTable;
use crate::string::ShortString;
use crate::wire::{Reader, put_short_string};

/// The basic class's content properties. `None` leaves a property out (its
/// flag clear).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasicProperties {
    /// `content-type`: MIME type.
    pub content_type: Option<ShortString>,
    /// `content-encoding`: MIME encoding.
    pub content_encoding: Option<ShortString>,
    /// `headers`: application headers.
    pub headers: Option<FieldTable>,
    /// `delivery-mode`: 1 transient, 2 persistent.
    pub delivery_mode: Option<u8>,
    /// `priority`: 0 to 9.
    pub priority: Option<u8>,
    /// `correlation-id`.
    pub correlation_id: Option<ShortString>,
    /// `reply-to`: queue (or `amq.rabbitmq.reply-to`) for replies.
    pub reply_to: Option<ShortString>,
    /// `expiration`: per-message TTL in milliseconds, as text.
    pub expiration: Option<ShortString>,
    /// `message-id`.
    pub message_id: Option<ShortString>,
    /// `timestamp`: seconds since the Unix epoch.
    pub timestamp: Option<u64>,
    /// `type`: message type name.
    pub kind: Option<ShortString>,
    /// `user-id`: RabbitMQ checks it against the connection's user.
    pub user_id: Option<ShortString>,
    /// `app-id`.
    pub app_id: Option<ShortString>,
    /// `cluster-id` (deprecated in 0-9-1, still carried).
    pub cluster_id: Option<ShortString>,
}

/// Flag bit of each property, first property in bit 15.
mod flag {
    pub(super) const CONTENT_TYPE: u16 = 1 << 15;
    pub(super) const CONTENT_ENCODING: u16 = 1 << 14;
    pub(super) const HEADERS: u16 = 1 << 13;
    pub(super) const DELIVERY_MODE: u16 = 1 << 12;
    pub(super) const PRIORITY: u16 = 1 << 11;
    pub(super) const CORRELATION_ID: u16 = 1 << 10;
    pub(super) const REPLY_TO: u16 = 1 << 9;
    pub(super) const EXPIRATION: u16 = 1 << 8;
    pub(super) const MESSAGE_ID: u16 = 1 << 7;
    pub(super) const TIMESTAMP: u16 = 1 << 6;
    pub(super) const KIND: u16 = 1 << 5;
    pub(super) const USER_ID: u16 = 1 << 4;
    pub(super) const APP_ID: u16 = 1 << 3;
    pub(super) const CLUSTER_ID: u16 = 1 << 2;
    /// Bits naming basic's 14 properties.
    pub(super) const KNOWN: u16 = 0xfffc;
    /// Another flags word follows.
    pub(super) const CONTINUATION: u16 = 1;
}

impl BasicProperties {
    /// The property-flags word for the properties present.
    #[must_use]
    pub fn flags(&self) -> u16 {
        let bit = |present: bool, f: u16| if present { f } else { 0 };
        bit(self.content_type.is_some(), flag::CONTENT_TYPE)
            | bit(self.content_encoding.is_some(), flag::CONTENT_ENCODING)
            | bit(self.headers.is_some(), flag::HEADERS)
            | bit(self.delivery_mode.is_some(), flag::DELIVERY_MODE)
            | bit(self.priority.is_some(), flag::PRIORITY)
            | bit(self.correlation_id.is_some(), flag::CORRELATION_ID)
            | bit(self.reply_to.is_some(), flag::REPLY_TO)
            | bit(self.expiration.is_some(), flag::EXPIRATION)
            | bit(self.message_id.is_some(), flag::MESSAGE_ID)
            | bit(self.timestamp.is_some(), flag::TIMESTAMP)
            | bit(self.kind.is_some(), flag::KIND)
            | bit(self.user_id.is_some(), flag::USER_ID)
            | bit(self.app_id.is_some(), flag::APP_ID)
            | bit(self.cluster_id.is_some(), flag::CLUSTER_ID)
    }

    /// Decodes the flags word(s) and the properties they flag into `p`, in
    /// place, as `p` is large and lives in a box, which may hold the last
    /// message's properties: every property is overwritten, and a headers
    /// table is overwritten entry by entry. (`get_or_insert_with` rather than
    /// `insert`, which would drop a value only to make another.)
    fn decode_into(p: &mut Self, r: &mut Reader<'_>, limits: &Limits) -> Result<(), PayloadError> {
        let flags = r.u16()?;
        let mut more = flags & flag::CONTINUATION != 0;
        let unknown = flags & !flag::KNOWN & !flag::CONTINUATION;
        if unknown != 0 {
            return Err(PayloadError::UnknownProperties(unknown));
        }
        while more {
            let w = r.u16()?;
            if w & !flag::CONTINUATION != 0 {
                return Err(PayloadError::UnknownProperties(w & !flag::CONTINUATION));
            }
            more = w & flag::CONTINUATION != 0;
        }
        let has = |f: u16| flags & f != 0;
        short_string_into(r, has(flag::CONTENT_TYPE), &mut p.content_type)?;
        short_string_into(r, has(flag::CONTENT_ENCODING), &mut p.content_encoding)?;
        if has(flag::HEADERS) {
            r.table_into(limits, p.headers.get_or_insert_with(FieldTable::new))?;
        } else {
            p.headers = None;
        }
        p.delivery_mode = if has(flag::DELIVERY_MODE) {
            Some(r.u8()?)
        } else {
            None
        };
        p.priority = if has(flag::PRIORITY) {
            Some(r.u8()?)
        } else {
            None
        };
        short_string_into(r, has(flag::CORRELATION_ID), &mut p.correlation_id)?;
        short_string_into(r, has(flag::REPLY_TO), &mut p.reply_to)?;
        short_string_into(r, has(flag::EXPIRATION), &mut p.expiration)?;
        short_string_into(r, has(flag::MESSAGE_ID), &mut p.message_id)?;
        p.timestamp = if has(flag::TIMESTAMP) {
            Some(r.u64()?)
        } else {
            None
        };
        short_string_into(r, has(flag::KIND), &mut p.kind)?;
        short_string_into(r, has(flag::USER_ID), &mut p.user_id)?;
        short_string_into(r, has(flag::APP_ID), &mut p.app_id)?;
        short_string_into(r, has(flag::CLUSTER_ID), &mut p.cluster_id)?;
        Ok(())
    }

    /// Appends the flags word and the properties present.
    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), Error> {
        dst.put_u16(self.flags());
        let s = |dst: &mut BytesMut, v: &Option<ShortString>| {
            if let Some(v) = v {
                put_short_string(dst, v);
            }
        };
        s(dst, &self.content_type);
        s(dst, &self.content_encoding);
        if let Some(h) = &self.headers {
            h.encode(dst)?;
        }
        if let Some(v) = self.delivery_mode {
            dst.put_u8(v);
        }
        if let Some(v) = self.priority {
            dst.put_u8(v);
        }
        s(dst, &self.correlation_id);
        s(dst, &self.reply_to);
        s(dst, &self.expiration);
        s(dst, &self.message_id);
        if let Some(v) = self.timestamp {
            dst.put_u64(v);
        }
        s(dst, &self.kind);
        s(dst, &self.user_id);
        s(dst, &self.app_id);
        s(dst, &self.cluster_id);
        Ok(())
    }
}

/// Decodes a shortstr property into `dst` if `present`, else clears it.
// Inlined, as `Reader::short_string_into` is: called out of line once per
// property, it cost a fifth of message decoding (measured).
#[inline(always)]
fn short_string_into(
    r: &mut Reader<'_>,
    present: bool,
    dst: &mut Option<ShortString>,
) -> Result<(), PayloadError> {
    if present {
        r.short_string_into(dst.get_or_insert_with(ShortString::new))
    } else {
        // Tested first: the assignment alone calls out to drop what it
        // replaces, and an absent property is nearly always absent from
        // the last message too.
        if dst.is_some() {
            *dst = None;
        }
        Ok(())
    }
}

/// A content header frame's payload (§4.2.6.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentHeader {
    /// Class of the content's method; 60 (basic) is the only class with
    /// content in 0-9-1. Other class ids decode with basic's property
    /// layout; the content assembler rejects a mismatch with its method.
    pub class_id: u16,
    /// Unused by 0-9-1 ("must be zero"); kept so a header re-encodes as
    /// received.
    pub weight: u16,
    /// Total size of the body frames that follow.
    pub body_size: u64,
    /// The properties.
    pub properties: BasicProperties,
}

impl ContentHeader {
    /// A basic-class header for a `body_size`-byte body.
    #[must_use]
    pub const fn basic(body_size: u64, properties: BasicProperties) -> Self {
        Self {
            class_id: crate::constants::class::BASIC,
            weight: 0,
            body_size,
            properties,
        }
    }

    /// Decodes a content header frame's whole payload, straight into the
    /// box the frame carries it in.
    // Inlined into the decoder's payload function, as `Method::decode_from`
    // is (see `Decoder::decode_payload`).
    #[inline(always)]
    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Box<Self>, Error> {
        // Filled in the box: `Box::new` of a whole header built beside it
        // copied its 400 bytes from the stack.
        let mut header = Box::<Self>::default();
        header.decode_into(r, limits)?;
        Ok(header)
    }

    /// Decodes a content header frame's whole payload into `self`,
    /// overwriting all of it (a header from an earlier frame, whose storage
    /// is reused). On error `self` holds a header of no meaning.
    #[inline(always)]
    pub(crate) fn decode_into(&mut self, r: &mut Reader<'_>, limits: &Limits) -> Result<(), Error> {
        let class_id = r.u16().map_err(|e| Error::payload(0, 0, e))?;
        let at = |e| Error::payload(class_id, 0, e);
        self.class_id = class_id;
        self.weight = r.u16().map_err(at)?;
        self.body_size = r.u64().map_err(at)?;
        BasicProperties::decode_into(&mut self.properties, r, limits).map_err(at)?;
        r.finish().map_err(at)
    }

    /// Appends the payload.
    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), Error> {
        dst.put_u16(self.class_id);
        dst.put_u16(self.weight);
        dst.put_u64(self.body_size);
        self.properties.encode(dst)
    }
}
