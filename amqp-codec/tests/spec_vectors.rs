//! The shared AMQP vectors: RabbitMQ 3.10.8's all-types field table and a
//! real pika <-> RabbitMQ handshake. Both must decode to the recorded values
//! and re-encode to the same bytes.
//!
//! They live in `../shared/vectors/amqp/` beside the workspace; these tests
//! fail, naming the path, when it is absent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use amqp_codec::method::Method;
use amqp_codec::{
    Decimal, Decoder, FieldArray, FieldTable, FieldValue, Frame, Limits, ShortString,
    decode_protocol_header, encode,
};
use bytes::{Bytes, BytesMut};

fn vector(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "shared",
        "vectors",
        "amqp",
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read test vector {}: {e} (the shared vectors live beside the workspace)",
            path.display()
        )
    })
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn key(s: &str) -> ShortString {
    ShortString::try_new(s).unwrap()
}

#[test]
fn golden_field_table() {
    let text = vector("golden_field_table.txt");
    let hex = text
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .expect("a hex line");
    let bytes = Bytes::from(unhex(hex.trim()));
    let table = FieldTable::decode(&bytes, &Limits::default()).unwrap();

    let kv = FieldTable::from(vec![(key("k"), FieldValue::from("v"))]);
    let expected: Vec<(&str, FieldValue)> = vec![
        ("t", FieldValue::Bool(true)),
        ("b", FieldValue::I8(-5)),
        ("B", FieldValue::U8(250)),
        ("s", FieldValue::I16(-300)),
        ("u", FieldValue::U16(65000)),
        ("I", FieldValue::I32(-70000)),
        ("i", FieldValue::U32(4_000_000_000)),
        ("l", FieldValue::I64(-1_099_511_627_776)),
        ("f", FieldValue::F32(1.5)),
        ("d", FieldValue::F64(2.25)),
        (
            "D",
            FieldValue::Decimal(Decimal {
                scale: 2,
                value: 31415,
            }),
        ),
        ("S", FieldValue::from("héllo")),
        (
            "x",
            FieldValue::ByteArray(Bytes::from_static(&[0x00, 0xff])),
        ),
        (
            "A",
            FieldValue::Array(FieldArray::from(vec![
                FieldValue::I32(7),
                FieldValue::from("x"),
                FieldValue::Table(kv.clone()),
            ])),
        ),
        ("T", FieldValue::Timestamp(1_700_000_000)),
        ("F", FieldValue::Table(kv)),
        ("V", FieldValue::Void),
    ];
    assert_eq!(table.len(), 17, "{table:?}");
    for ((k, v), (want_k, want_v)) in table.iter().zip(&expected) {
        assert_eq!(k.as_str(), *want_k);
        assert_eq!(v, want_v, "value of {want_k}");
        // Each key is its value's type letter.
        assert_eq!(v.type_letter(), want_k.as_bytes()[0]);
    }

    let mut out = BytesMut::new();
    table.encode(&mut out).unwrap();
    assert_eq!(&out[..], &bytes[..], "re-encoding differs");
}

#[test]
fn rabbitmq_handshake() {
    let text = vector("handshake_rabbitmq-3.10.8.txt");
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut p = l.split_whitespace();
            let (who, name, hex) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
            assert!(who == "C" || who == "S", "{l}");
            (name.to_owned(), unhex(hex))
        });

    let (name, header) = lines.next().unwrap();
    assert_eq!(name, "protocol-header");
    let mut buf = BytesMut::from(&header[..]);
    assert_eq!(decode_protocol_header(&mut buf), Ok(true));
    assert!(buf.is_empty());

    let mut decoder = Decoder::default();
    let mut seen = Vec::new();
    for (name, bytes) in lines {
        let mut buf = BytesMut::from(&bytes[..]);
        let frame = decoder
            .decode(&mut buf)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .unwrap_or_else(|| panic!("{name}: incomplete"));
        assert!(buf.is_empty(), "{name}: bytes left over");
        let Frame::Method { channel, method } = &frame else {
            panic!("{name}: not a method frame");
        };
        assert_eq!(method.name(), name);
        assert_eq!(*channel, u16::from(name.starts_with("channel.")));
        let mut out = BytesMut::new();
        encode(&frame, &mut out).unwrap();
        assert_eq!(&out[..], &bytes[..], "{name}: re-encoding differs");
        seen.push(method.clone());
    }
    assert_eq!(seen.len(), 8);

    let Method::ConnectionStart(start) = &seen[0] else {
        panic!("first server frame is not connection.start");
    };
    assert_eq!((start.version_major, start.version_minor), (0, 9));
    let props = &start.server_properties;
    assert_eq!(
        props.get("product").and_then(FieldValue::as_str),
        Some("RabbitMQ")
    );
    assert_eq!(
        props.get("version").and_then(FieldValue::as_str),
        Some("3.10.8")
    );
    let caps = props
        .get("capabilities")
        .and_then(FieldValue::as_table)
        .unwrap();
    for cap in [
        "publisher_confirms",
        "exchange_exchange_bindings",
        "basic.nack",
        "consumer_cancel_notify",
        "connection.blocked",
        "authentication_failure_close",
    ] {
        assert_eq!(caps.get(cap), Some(&FieldValue::Bool(true)), "{cap}");
    }
    assert_eq!(start.mechanisms, "PLAIN AMQPLAIN");
    assert_eq!(start.locales, "en_US");

    let Method::ConnectionStartOk(ok) = &seen[1] else {
        panic!("no connection.start-ok");
    };
    assert_eq!(ok.mechanism, "PLAIN");
    assert_eq!(ok.response, "\0codec\0codecpw");
    assert_eq!(ok.locale, "en_US");

    let Method::ConnectionTune(tune) = &seen[2] else {
        panic!("no connection.tune");
    };
    assert_eq!(
        (tune.channel_max, tune.frame_max, tune.heartbeat),
        (2047, 131_072, 60)
    );
    let Method::ConnectionTuneOk(tune_ok) = &seen[3] else {
        panic!("no connection.tune-ok");
    };
    assert_eq!(tune_ok.heartbeat, 10);
    let Method::ConnectionOpen(open) = &seen[5] else {
        panic!("no connection.open");
    };
    assert_eq!(open.virtual_host, "codec");
    assert!(open.insist);
}
