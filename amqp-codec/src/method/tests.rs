use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::strategies::{defaults, each, method};
use super::*;
use crate::constants::class;
use crate::field_table::{FieldTable, FieldValue};
use crate::string::ShortString;

fn round_trip(m: &Method) -> Method {
    let mut buf = BytesMut::new();
    m.encode(&mut buf).unwrap();
    Method::decode(&buf.freeze(), &Limits::default()).unwrap()
}

#[test]
fn every_method_with_defaults_round_trips() {
    let all = defaults();
    assert_eq!(all.len(), 66);
    for m in &all {
        assert_eq!(&round_trip(m), m, "{}", m.name());
        assert_eq!(method_name(m.class_id(), m.method_id()), Some(m.name()));
    }
}

#[test]
fn every_method_round_trips_arbitrary_arguments() {
    for (name, strategy) in each() {
        let mut runner = TestRunner::new(Config {
            cases: 48,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |m| {
                prop_assert_eq!(&round_trip(&m), &m);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

proptest! {
    #[test]
    fn any_method_round_trips(m in method()) {
        prop_assert_eq!(round_trip(&m), m);
    }
}

#[test]
fn rabbitmq_extensions_are_present() {
    for (c, m, name) in [
        (10, 60, "connection.blocked"),
        (10, 61, "connection.unblocked"),
        (10, 70, "connection.update-secret"),
        (10, 71, "connection.update-secret-ok"),
        (40, 30, "exchange.bind"),
        (40, 40, "exchange.unbind"),
        (40, 51, "exchange.unbind-ok"),
        (60, 120, "basic.nack"),
        (85, 10, "confirm.select"),
        (85, 11, "confirm.select-ok"),
    ] {
        assert_eq!(method_name(c, m), Some(name));
    }
    assert_eq!(
        method_name(60, 200),
        None,
        "basic.credit is RabbitMQ-internal"
    );
}

#[test]
fn spec_defaults() {
    assert!(BasicNack::default().requeue);
    assert!(BasicReject::default().requeue);
    assert_eq!(ExchangeDeclare::default().kind, "direct");
    assert_eq!(ConnectionOpen::default().virtual_host, "/");
    assert_eq!(ConnectionStart::default().version_minor, 9);
    assert_eq!(ConnectionStart::default().mechanisms, "PLAIN");
    assert!(!QueueDeclare::default().durable);
}

#[test]
fn consecutive_bits_share_an_octet() {
    let m = Method::from(QueueDeclare {
        ticket: 0,
        queue: ShortString::try_new("q").unwrap(),
        passive: true,
        durable: false,
        exclusive: true,
        auto_delete: false,
        nowait: true,
        arguments: FieldTable::new(),
    });
    let mut buf = BytesMut::new();
    m.encode(&mut buf).unwrap();
    // class, method, ticket, "q", bits, empty table.
    assert_eq!(
        &buf[..],
        &[0, 50, 0, 10, 0, 0, 1, b'q', 0b1_0101, 0, 0, 0, 0][..]
    );
    // basic.nack: delivery-tag, then multiple and requeue in one octet.
    let mut buf = BytesMut::new();
    Method::from(BasicNack {
        delivery_tag: 7,
        multiple: false,
        requeue: true,
    })
    .encode(&mut buf)
    .unwrap();
    assert_eq!(&buf[..], &[0, 60, 0, 120, 0, 0, 0, 0, 0, 0, 0, 7, 0b10][..]);
}

#[test]
fn reserved_bits_are_ignored() {
    let payload = Bytes::from_static(&[0, 60, 0, 80, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]);
    let m = Method::decode(&payload, &Limits::default()).unwrap();
    assert_eq!(
        m,
        Method::BasicAck(BasicAck {
            delivery_tag: 1,
            multiple: true
        })
    );
}

#[test]
fn metadata() {
    let m = Method::from(BasicPublish::default());
    assert_eq!((m.class_id(), m.method_id()), (class::BASIC, 40));
    assert_eq!(m.name(), "basic.publish");
    assert!(m.has_content());
    assert!(!m.is_synchronous());
    assert!(Method::from(QueueDeclare::default()).is_synchronous());
    assert_eq!(BasicDeliver::NAME, "basic.deliver");
    assert_eq!((TxSelect::CLASS_ID, TxSelect::METHOD_ID), (90, 10));
    let content: Vec<_> = defaults()
        .into_iter()
        .filter(Method::has_content)
        .map(|m| m.name())
        .collect();
    assert_eq!(
        content,
        [
            "basic.publish",
            "basic.return",
            "basic.deliver",
            "basic.get-ok"
        ]
    );
}

#[test]
fn errors() {
    let limits = Limits::default();
    let decode = |b: &'static [u8]| Method::decode(&Bytes::from_static(b), &limits);
    let e = decode(&[0, 60, 0, 200, 0]).unwrap_err();
    assert_eq!(
        e,
        Error::UnknownMethod {
            class_id: 60,
            method_id: 200
        }
    );
    assert_eq!(e.reply_code(), 540);
    assert_eq!(e.failing_method(), (60, 200));
    let e = decode(&[0, 99, 0, 1]).unwrap_err();
    assert_eq!(e.reply_code(), 540);

    // Arguments cut short: basic.ack without its bits octet.
    let e = decode(&[0, 60, 0, 80, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap_err();
    assert_eq!(e, Error::payload(60, 80, PayloadError::Truncated));
    assert_eq!((e.reply_code(), e.failing_method()), (501, (60, 80)));
    // Stray bytes after the arguments.
    let e = decode(&[0, 90, 0, 10, 0]).unwrap_err();
    assert_eq!(e, Error::payload(90, 10, PayloadError::TrailingBytes(1)));
    assert_eq!(e.reply_code(), 501);
    // Too short for the ids.
    assert_eq!(decode(&[0, 60, 0]).unwrap_err().reply_code(), 501);
    // A queue name that is not UTF-8: 501, as RabbitMQ.
    let e = decode(&[0, 50, 0, 10, 0, 0, 2, 0xc3, 0x28, 0, 0, 0, 0, 0]).unwrap_err();
    assert_eq!(e, Error::payload(50, 10, PayloadError::InvalidUtf8));
    assert_eq!(e.reply_code(), 501);
    assert!(e.is_hard());
    // A table length beyond the payload: the method is short (501)...
    let e = decode(&[0, 50, 0, 10, 0, 0, 0, 0, 0, 0, 0, 9, 1]).unwrap_err();
    assert_eq!(e, Error::payload(50, 10, PayloadError::Truncated));
    // ...an entry beyond the table's own length is a bad table (502).
    let e = decode(&[0, 50, 0, 10, 0, 0, 0, 0, 0, 0, 0, 3, 1, b'k', b'I']).unwrap_err();
    assert_eq!(e, Error::payload(50, 10, PayloadError::FieldTruncated));
    assert_eq!(e.reply_code(), 502);
    assert!(e.to_string().contains("queue.declare"), "{e}");
}

#[test]
fn tables_in_arguments_decode() {
    let mut args = FieldTable::new();
    args.insert(
        ShortString::try_new("x-queue-type").unwrap(),
        FieldValue::from("quorum"),
    );
    let m = Method::from(QueueDeclare {
        queue: ShortString::try_new("orders").unwrap(),
        durable: true,
        arguments: args,
        ..QueueDeclare::default()
    });
    let Method::QueueDeclare(q) = round_trip(&m) else {
        panic!("not a queue.declare");
    };
    assert_eq!(
        q.arguments.get("x-queue-type").and_then(FieldValue::as_str),
        Some("quorum")
    );
}
