//! Shared inputs for the criterion benches in `benches/`: the same bytes go
//! to our codecs and to the peer crates in one run.

use bytes::BytesMut;
use ws_codec::OpCode;
use ws_codec::codec::encode_parts;

/// The masking key of RFC 6455 §5.7, used for every masked bench frame.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// `len` bytes of JSON-ish UTF-8 text, mostly ASCII with some two-, three-
/// and four-byte code points, cut at a code point boundary and padded with
/// spaces to exactly `len` bytes.
#[must_use]
pub fn text(len: usize) -> String {
    const NAMES: [&str; 4] = ["zoë", "Ελένη", "王小明", "🦀 ferris"];
    let mut s = String::with_capacity(len + 128);
    let mut i = 0usize;
    while s.len() < len {
        s.push_str(&format!(
            r#"{{"id":{i},"user":"{}","text":"message number {i} in the stream","ok":true}},"#,
            NAMES[i % NAMES.len()]
        ));
        i += 1;
    }
    let mut end = len;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    while s.len() < len {
        s.push(' ');
    }
    s
}

/// `len` bytes of binary data (a non-repeating byte pattern).
#[must_use]
pub fn binary(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// `count` single-frame messages of `payload`, masked with [`KEY`] if
/// `masked` (client to server) or not (server to client).
#[must_use]
pub fn frames(opcode: OpCode, payload: &[u8], count: usize, masked: bool) -> Vec<u8> {
    let mut buf = BytesMut::new();
    for _ in 0..count {
        encode_parts(
            true,
            false,
            opcode,
            payload,
            masked.then_some(KEY),
            &mut buf,
        );
    }
    buf.to_vec()
}

/// AMQP 0-9-1 inputs: a consumer's stream of deliveries, a publish, and a
/// field table, built with `amqp-codec` and decoded by both sides.
pub mod amqp {
    use amqp_codec::method::{BasicDeliver, BasicPublish, Method};
    use amqp_codec::{
        BasicProperties, Decimal, FieldArray, FieldTable, FieldValue, ShortString, encode_content,
        encode_method,
    };
    use bytes::{Bytes, BytesMut};

    /// RabbitMQ's usual frame-max: bodies over 131064 bytes span frames.
    pub const FRAME_MAX: u32 = 131_072;

    fn s(v: &str) -> ShortString {
        ShortString::try_new(v).unwrap_or_default()
    }

    /// A 20-entry table of mixed types, the kind a broker sees in queue
    /// arguments and message headers: integers of every width, strings,
    /// a byte array, booleans, a timestamp, a decimal, a nested table and
    /// an array.
    #[must_use]
    pub fn table() -> FieldTable {
        let nested = FieldTable::from(vec![
            (s("host"), FieldValue::from("node-1.example")),
            (s("port"), FieldValue::U16(5672)),
        ]);
        FieldTable::from(vec![
            (s("x-message-ttl"), FieldValue::I32(60_000)),
            (s("x-max-length"), FieldValue::I64(1_000_000)),
            (s("x-queue-type"), FieldValue::from("quorum")),
            (s("x-dead-letter-exchange"), FieldValue::from("dlx")),
            (
                s("x-dead-letter-routing-key"),
                FieldValue::from("orders.dead"),
            ),
            (s("x-overflow"), FieldValue::from("reject-publish")),
            (s("x-single-active-consumer"), FieldValue::Bool(true)),
            (s("x-priority"), FieldValue::U8(5)),
            (s("x-retries"), FieldValue::I8(-1)),
            (s("x-shard"), FieldValue::I16(-300)),
            (s("x-epoch"), FieldValue::U32(4_000_000_000)),
            (s("x-weight"), FieldValue::F64(0.75)),
            (s("x-ratio"), FieldValue::F32(1.5)),
            (
                s("x-price"),
                FieldValue::Decimal(Decimal {
                    scale: 2,
                    value: 31_415,
                }),
            ),
            (s("x-created"), FieldValue::Timestamp(1_700_000_000)),
            (
                s("x-trace-id"),
                FieldValue::ByteArray(Bytes::from_static(&[0xab; 16])),
            ),
            (s("x-origin"), FieldValue::Table(nested)),
            (
                s("x-tags"),
                FieldValue::Array(FieldArray::from(vec![
                    FieldValue::from("eu"),
                    FieldValue::from("priority"),
                    FieldValue::I32(7),
                ])),
            ),
            (s("x-none"), FieldValue::Void),
            (s("content-language"), FieldValue::from("en-GB")),
        ])
    }

    /// The table's wire form, length prefix included.
    #[must_use]
    pub fn table_bytes() -> Vec<u8> {
        let mut out = BytesMut::new();
        let _ = table().encode(&mut out);
        out.to_vec()
    }

    /// Typical message properties: content type, persistence, ids, a
    /// timestamp and two headers.
    #[must_use]
    pub fn properties() -> BasicProperties {
        BasicProperties {
            content_type: Some(s("application/json")),
            headers: Some(FieldTable::from(vec![
                (s("x-retry"), FieldValue::I32(0)),
                (
                    s("x-trace"),
                    FieldValue::from("4bf92f3577b34da6a3ce929d0e0e4736"),
                ),
            ])),
            delivery_mode: Some(2),
            message_id: Some(s("msg-000001")),
            timestamp: Some(1_700_000_000),
            app_id: Some(s("bench")),
            ..BasicProperties::default()
        }
    }

    /// A `basic.publish` to exchange `orders`, routing key `orders.eu`.
    #[must_use]
    pub fn publish() -> Method {
        BasicPublish {
            exchange: s("orders"),
            routing_key: s("orders.eu"),
            ..BasicPublish::default()
        }
        .into()
    }

    /// `count` deliveries of `body` on channel 1, each `basic.deliver`,
    /// content header and body frames at [`FRAME_MAX`].
    #[must_use]
    pub fn deliveries(body: &[u8], count: usize) -> Vec<u8> {
        let props = properties();
        let mut out = BytesMut::new();
        for tag in 1..=count as u64 {
            let deliver = BasicDeliver {
                consumer_tag: s("amq.ctag-Ab3xYz0123456789"),
                delivery_tag: tag,
                redelivered: false,
                exchange: s("orders"),
                routing_key: s("orders.eu"),
            };
            let _ = encode_method(1, &deliver.into(), &mut out);
            let _ = encode_content(1, 60, &props, body, FRAME_MAX, &mut out);
        }
        out.to_vec()
    }
}
