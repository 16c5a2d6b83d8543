//! proptest strategies for the hand-written types; the generated method
//! strategies build on these.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::field_table::{Decimal, FieldArray, FieldTable, FieldValue};
use crate::properties::{BasicProperties, ContentHeader};
use crate::string::{LongString, ShortString};

/// Any shortstr, biased to short ASCII, up to the 255-byte limit.
pub(crate) fn short_string() -> impl Strategy<Value = ShortString> {
    prop_oneof![
        4 => "[a-z0-9._-]{0,16}",
        1 => "\\PC{0,63}",
        1 => "[a-z]{255}",
    ]
    .prop_map(|s: String| {
        let mut s = s;
        while s.len() > ShortString::MAX_LEN {
            s.pop();
        }
        ShortString::try_new(s).unwrap()
    })
}

/// Any longstr: arbitrary bytes.
pub(crate) fn long_string() -> impl Strategy<Value = LongString> {
    vec(any::<u8>(), 0..64).prop_map(LongString::from)
}

fn scalar() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<bool>().prop_map(FieldValue::Bool),
        any::<i8>().prop_map(FieldValue::I8),
        any::<u8>().prop_map(FieldValue::U8),
        any::<i16>().prop_map(FieldValue::I16),
        any::<u16>().prop_map(FieldValue::U16),
        any::<i32>().prop_map(FieldValue::I32),
        any::<u32>().prop_map(FieldValue::U32),
        any::<i64>().prop_map(FieldValue::I64),
        any::<u32>().prop_map(|b| FieldValue::F32(f32::from_bits(b))),
        any::<u64>().prop_map(|b| FieldValue::F64(f64::from_bits(b))),
        (any::<u8>(), any::<u32>())
            .prop_map(|(scale, value)| FieldValue::Decimal(Decimal { scale, value })),
        long_string().prop_map(FieldValue::LongString),
        any::<u64>().prop_map(FieldValue::Timestamp),
        Just(FieldValue::Void),
        vec(any::<u8>(), 0..16).prop_map(|b| FieldValue::ByteArray(Bytes::from(b))),
    ]
}

/// Any field value, nesting tables and arrays a few levels deep.
pub(crate) fn field_value() -> impl Strategy<Value = FieldValue> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(|v| FieldValue::Array(FieldArray::from(v))),
            vec((short_string(), inner), 0..6).prop_map(|v| FieldValue::Table(FieldTable::from(v))),
        ]
    })
}

/// Any field table, with nested tables and arrays.
pub(crate) fn field_table() -> impl Strategy<Value = FieldTable> {
    vec((short_string(), field_value()), 0..6).prop_map(FieldTable::from)
}

/// Any basic properties, each present or not.
pub(crate) fn basic_properties() -> impl Strategy<Value = BasicProperties> {
    let s = || proptest::option::of(short_string());
    (
        (s(), s(), proptest::option::of(field_table())),
        (any::<Option<u8>>(), any::<Option<u8>>(), s(), s(), s(), s()),
        (any::<Option<u64>>(), s(), s(), s(), s()),
    )
        .prop_map(
            |(
                (content_type, content_encoding, headers),
                (delivery_mode, priority, correlation_id, reply_to, expiration, message_id),
                (timestamp, kind, user_id, app_id, cluster_id),
            )| BasicProperties {
                content_type,
                content_encoding,
                headers,
                delivery_mode,
                priority,
                correlation_id,
                reply_to,
                expiration,
                message_id,
                timestamp,
                kind,
                user_id,
                app_id,
                cluster_id,
            },
        )
}

/// Any content header.
pub(crate) fn content_header() -> impl Strategy<Value = ContentHeader> {
    (any::<u16>(), any::<u16>(), any::<u64>(), basic_properties()).prop_map(
        |(class_id, weight, body_size, properties)| ContentHeader {
            class_id,
            weight,
            body_size,
            properties,
        },
    )
}
