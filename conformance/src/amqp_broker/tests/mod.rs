//! The broker over loopback, driven by a client on the codec: routing,
//! consuming, confirms, transactions, prefetch, errors.

use std::time::Duration;

use amqp_codec::method::{
    BasicAck, BasicConsume, BasicGet, BasicNack, BasicQos, BasicReject, ConfirmSelect,
    ExchangeBind, ExchangeDeclare, Method, QueueBind, QueueDeclare, QueueDeclareOk, QueueDelete,
    TxCommit, TxRollback, TxSelect,
};
use amqp_codec::{BasicProperties, Delivery, Event, FieldTable, FieldValue, LongString};

use client::{Client, broker, s};

mod accounting;
mod client;
mod errors;

fn declare_with(c: &mut Client, ch: u16, name: &str, arguments: FieldTable) -> QueueDeclareOk {
    let d = QueueDeclare {
        queue: s(name),
        arguments,
        ..QueueDeclare::default()
    };
    match c.call(ch, d) {
        Method::QueueDeclareOk(ok) => ok,
        m => panic!("{m:?}"),
    }
}

fn declare(c: &mut Client, ch: u16, name: &str) -> QueueDeclareOk {
    declare_with(c, ch, name, FieldTable::new())
}

fn count(c: &mut Client, ch: u16, name: &str) -> u32 {
    let d = QueueDeclare {
        queue: s(name),
        passive: true,
        ..QueueDeclare::default()
    };
    match c.call(ch, d) {
        Method::QueueDeclareOk(ok) => ok.message_count,
        m => panic!("{m:?}"),
    }
}

fn consume(c: &mut Client, ch: u16, queue: &str, no_ack: bool) -> String {
    let m = BasicConsume {
        queue: s(queue),
        no_ack,
        ..BasicConsume::default()
    };
    match c.call(ch, m) {
        Method::BasicConsumeOk(ok) => ok.consumer_tag.into_string(),
        m => panic!("{m:?}"),
    }
}

fn bind(c: &mut Client, ch: u16, queue: &str, exchange: &str, key: &str, arguments: FieldTable) {
    let b = QueueBind {
        queue: s(queue),
        exchange: s(exchange),
        routing_key: s(key),
        arguments,
        ..QueueBind::default()
    };
    assert!(matches!(c.call(ch, b), Method::QueueBindOk(_)));
}

/// `basic.get` with no-ack: the message, or `None` for get-empty.
fn get(c: &mut Client, ch: u16, queue: &str, no_ack: bool) -> Option<Delivery> {
    let g = BasicGet {
        queue: s(queue),
        no_ack,
        ..BasicGet::default()
    };
    c.send(ch, g);
    match c.wait(|e| {
        matches!(e, Event::Delivery(d) if d.channel == ch)
            || matches!(e, Event::Method { channel, method: Method::BasicGetEmpty(_) } if *channel == ch)
    }) {
        Event::Delivery(d) => Some(*d),
        _ => None,
    }
}

fn deliver_tag(d: &Delivery) -> (u64, bool) {
    match &d.method {
        Method::BasicDeliver(m) => (m.delivery_tag, m.redelivered),
        Method::BasicGetOk(m) => (m.delivery_tag, m.redelivered),
        m => panic!("{m:?}"),
    }
}

fn table(entries: &[(&str, FieldValue)]) -> FieldTable {
    entries.iter().map(|(k, v)| (s(k), v.clone())).collect()
}

fn text(v: &str) -> FieldValue {
    FieldValue::LongString(LongString::from(v))
}

#[test]
fn publish_and_consume_keeps_properties() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    let ok = declare(&mut c, 1, "");
    let q = ok.queue.as_str().to_owned();
    assert!(q.starts_with("amq.gen-"), "{q}");
    let props = BasicProperties {
        content_type: Some(s("text/plain")),
        headers: Some(table(&[
            ("n", FieldValue::I8(-3)),
            ("f", FieldValue::F32(1.5)),
            ("nested", FieldValue::Table(table(&[("x", text("y"))]))),
        ])),
        priority: Some(3),
        timestamp: Some(1_700_000_000),
        ..BasicProperties::default()
    };
    for i in 0..3u8 {
        c.publish_with(1, "", &q, &props, &[i; 10], false);
    }
    let tag = consume(&mut c, 1, &q, false);
    for i in 0..3u8 {
        let d = c.delivery(1);
        let Method::BasicDeliver(m) = &d.method else {
            panic!("{:?}", d.method)
        };
        assert_eq!(m.consumer_tag.as_str(), tag);
        assert_eq!((m.delivery_tag, m.redelivered), (u64::from(i) + 1, false));
        assert_eq!(m.routing_key.as_str(), q);
        assert_eq!(&d.body.to_vec()[..], &[i; 10]);
        assert_eq!(d.properties, props);
    }
    c.send(
        1,
        BasicAck {
            delivery_tag: 3,
            multiple: true,
        },
    );
    assert_eq!(count(&mut c, 1, &q), 0);
}

#[test]
fn delivery_crosses_connections_promptly() {
    let addr = broker();
    let (mut a, mut b) = (Client::connect(addr), Client::connect(addr));
    a.open(1);
    b.open(1);
    declare(&mut a, 1, "cross");
    consume(&mut a, 1, "cross", true);
    for i in 0..50u32 {
        let start = std::time::Instant::now();
        b.publish(1, "", "cross", &i.to_be_bytes());
        let d = a.delivery(1);
        assert_eq!(&d.body.to_vec()[..], &i.to_be_bytes());
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}

#[test]
fn publisher_confirms_ack_return_and_nack() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    let args = table(&[
        ("x-max-length", FieldValue::I32(1)),
        ("x-overflow", text("reject-publish")),
    ]);
    declare_with(&mut c, 1, "confirm-q", args);
    assert!(matches!(
        c.call(1, ConfirmSelect { nowait: false }),
        Method::ConfirmSelectOk(_)
    ));
    let props = BasicProperties::default();
    assert_eq!(
        c.publish_with(1, "", "confirm-q", &props, b"a", false),
        Some(1)
    );
    assert_eq!(c.confirm(1), (1, true));
    c.publish_with(1, "amq.direct", "nowhere", &props, b"lost", true);
    let ret = c.delivery(1);
    match &ret.method {
        Method::BasicReturn(r) => {
            assert_eq!((r.reply_code, r.routing_key.as_str()), (312, "nowhere"))
        }
        m => panic!("{m:?}"),
    }
    assert_eq!(&ret.body.to_vec()[..], b"lost");
    assert_eq!(c.confirm(1), (2, true));
    c.publish_with(1, "", "confirm-q", &props, b"over", false);
    assert_eq!(c.confirm(1), (3, false));
    assert_eq!(count(&mut c, 1, "confirm-q"), 1);
}

#[test]
fn drop_head_keeps_the_newest() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    declare_with(
        &mut c,
        1,
        "dh",
        table(&[("x-max-length", FieldValue::I64(2))]),
    );
    for b in [b"1", b"2", b"3"] {
        c.publish(1, "", "dh", b);
    }
    assert_eq!(count(&mut c, 1, "dh"), 2);
    assert_eq!(&get(&mut c, 1, "dh", true).unwrap().body.to_vec()[..], b"2");
}

#[test]
fn transactions_commit_and_roll_back() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    declare(&mut c, 1, "txq");
    assert!(matches!(c.call(1, TxSelect), Method::TxSelectOk(_)));
    c.publish(1, "", "txq", b"one");
    c.publish(1, "", "txq", b"two");
    assert_eq!(count(&mut c, 1, "txq"), 0);
    assert!(matches!(c.call(1, TxCommit), Method::TxCommitOk(_)));
    assert_eq!(count(&mut c, 1, "txq"), 2);
    c.publish(1, "", "txq", b"three");
    assert!(matches!(c.call(1, TxRollback), Method::TxRollbackOk(_)));
    assert!(matches!(c.call(1, TxCommit), Method::TxCommitOk(_)));
    assert_eq!(count(&mut c, 1, "txq"), 2);
    // Acks wait for the commit too.
    let d = get(&mut c, 1, "txq", false).unwrap();
    c.send(
        1,
        BasicAck {
            delivery_tag: deliver_tag(&d).0,
            multiple: false,
        },
    );
    assert!(matches!(c.call(1, TxRollback), Method::TxRollbackOk(_)));
    c.send(
        1,
        BasicAck {
            delivery_tag: deliver_tag(&d).0,
            multiple: false,
        },
    );
    assert!(matches!(c.call(1, TxCommit), Method::TxCommitOk(_)));
    assert_eq!(count(&mut c, 1, "txq"), 1);
}

#[test]
fn prefetch_limits_unacked_deliveries() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    declare(&mut c, 1, "qos");
    for i in 0..5u8 {
        c.publish(1, "", "qos", &[i]);
    }
    let qos = BasicQos {
        prefetch_count: 2,
        ..BasicQos::default()
    };
    assert!(matches!(c.call(1, qos), Method::BasicQosOk(_)));
    consume(&mut c, 1, "qos", false);
    let first: Vec<u64> = (0..2).map(|_| deliver_tag(&c.delivery(1)).0).collect();
    assert_eq!(first, [1, 2]);
    assert!(c.try_delivery(1, Duration::from_millis(200)).is_none());
    c.send(
        1,
        BasicAck {
            delivery_tag: 1,
            multiple: false,
        },
    );
    assert_eq!(deliver_tag(&c.delivery(1)).0, 3);
    assert!(c.try_delivery(1, Duration::from_millis(200)).is_none());
    c.send(
        1,
        BasicAck {
            delivery_tag: 3,
            multiple: true,
        },
    );
    let rest: Vec<u8> = (0..2).map(|_| c.delivery(1).body.to_vec()[0]).collect();
    assert_eq!(rest, [3, 4]);
}

#[test]
fn get_reject_requeue_redelivers() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    declare(&mut c, 1, "getq");
    assert!(get(&mut c, 1, "getq", false).is_none());
    c.publish(1, "", "getq", b"x");
    c.publish(1, "", "getq", b"y");
    let d = get(&mut c, 1, "getq", false).unwrap();
    match &d.method {
        Method::BasicGetOk(g) => assert_eq!((g.message_count, g.redelivered), (1, false)),
        m => panic!("{m:?}"),
    }
    c.send(
        1,
        BasicReject {
            delivery_tag: deliver_tag(&d).0,
            requeue: true,
        },
    );
    let again = get(&mut c, 1, "getq", false).unwrap();
    assert_eq!(
        (&again.body.to_vec()[..], deliver_tag(&again).1),
        (&b"x"[..], true)
    );
    let tag = deliver_tag(&again).0;
    c.send(
        1,
        BasicNack {
            delivery_tag: tag,
            multiple: false,
            requeue: false,
        },
    );
    assert_eq!(count(&mut c, 1, "getq"), 1);
}

#[test]
fn unacked_messages_return_when_the_channel_closes() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    declare(&mut c, 1, "back");
    c.publish(1, "", "back", b"m");
    consume(&mut c, 1, "back", false);
    assert!(!deliver_tag(&c.delivery(1)).1);
    c.conn.close_channel(1, 200, "bye").unwrap();
    c.channel_closed(1);
    c.open(2);
    let d = get(&mut c, 2, "back", true).unwrap();
    assert_eq!((&d.body.to_vec()[..], deliver_tag(&d).1), (&b"m"[..], true));
}

#[test]
fn topic_and_headers_routing() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    for q in ["t-star", "t-hash", "h-all", "h-any"] {
        declare(&mut c, 1, q);
    }
    bind(
        &mut c,
        1,
        "t-star",
        "amq.topic",
        "log.*.error",
        FieldTable::new(),
    );
    bind(&mut c, 1, "t-hash", "amq.topic", "log.#", FieldTable::new());
    let all = table(&[("x-match", text("all")), ("a", text("1")), ("b", text("2"))]);
    let any = table(&[("x-match", text("any")), ("a", text("1")), ("b", text("2"))]);
    bind(&mut c, 1, "h-all", "amq.headers", "", all);
    bind(&mut c, 1, "h-any", "amq.headers", "", any);
    c.publish(1, "amq.topic", "log.db.error", b"1");
    c.publish(1, "amq.topic", "log.db.disk.error", b"2");
    c.publish(1, "amq.topic", "log", b"3");
    c.publish(1, "amq.topic", "app.db.error", b"4");
    let with = |h: &[(&str, FieldValue)]| BasicProperties {
        headers: Some(table(h)),
        ..BasicProperties::default()
    };
    c.publish_with(
        1,
        "amq.headers",
        "",
        &with(&[("a", text("1")), ("b", text("2"))]),
        b"5",
        false,
    );
    c.publish_with(
        1,
        "amq.headers",
        "",
        &with(&[("a", text("1"))]),
        b"6",
        false,
    );
    c.publish_with(
        1,
        "amq.headers",
        "",
        &with(&[("b", text("3"))]),
        b"7",
        false,
    );
    let counts: Vec<u32> = ["t-star", "t-hash", "h-all", "h-any"]
        .iter()
        .map(|q| count(&mut c, 1, q))
        .collect();
    assert_eq!(counts, [1, 3, 1, 2]);
}

#[test]
fn exchange_to_exchange_binding() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    let x = ExchangeDeclare {
        exchange: s("e2e-fanout"),
        kind: s("fanout"),
        ..ExchangeDeclare::default()
    };
    assert!(matches!(c.call(1, x), Method::ExchangeDeclareOk(_)));
    let b = ExchangeBind {
        destination: s("amq.topic"),
        source: s("e2e-fanout"),
        ..ExchangeBind::default()
    };
    assert!(matches!(c.call(1, b), Method::ExchangeBindOk(_)));
    declare(&mut c, 1, "e2e-q");
    bind(&mut c, 1, "e2e-q", "amq.topic", "k.*", FieldTable::new());
    c.publish(1, "e2e-fanout", "k.1", b"in");
    c.publish(1, "e2e-fanout", "other", b"out");
    assert_eq!(count(&mut c, 1, "e2e-q"), 1);
}

#[test]
fn deleting_a_queue_cancels_its_consumers() {
    let addr = broker();
    let (mut a, mut b) = (Client::connect(addr), Client::connect(addr));
    a.open(1);
    b.open(1);
    declare(&mut a, 1, "doomed");
    let tag = consume(&mut a, 1, "doomed", false);
    let del = QueueDelete {
        queue: s("doomed"),
        ..QueueDelete::default()
    };
    assert!(matches!(b.call(1, del), Method::QueueDeleteOk(_)));
    let ev = a.wait(|e| {
        matches!(
            e,
            Event::Method {
                method: Method::BasicCancel(_),
                ..
            }
        )
    });
    let Event::Method {
        method: Method::BasicCancel(c),
        ..
    } = ev
    else {
        unreachable!()
    };
    assert_eq!(c.consumer_tag.as_str(), tag);
}

#[test]
fn auto_delete_and_exclusive_queues() {
    let addr = broker();
    let (mut a, mut b) = (Client::connect(addr), Client::connect(addr));
    a.open(1);
    b.open(1);
    let d = QueueDeclare {
        queue: s("mine"),
        exclusive: true,
        ..QueueDeclare::default()
    };
    assert!(matches!(a.call(1, d.clone()), Method::QueueDeclareOk(_)));
    assert_eq!(b.call_fails(1, d), 405);
    let ad = QueueDeclare {
        queue: s("auto"),
        auto_delete: true,
        ..QueueDeclare::default()
    };
    assert!(matches!(a.call(1, ad), Method::QueueDeclareOk(_)));
    let tag = consume(&mut a, 1, "auto", false);
    let cancel = amqp_codec::method::BasicCancel {
        consumer_tag: s(&tag),
        nowait: false,
    };
    assert!(matches!(a.call(1, cancel), Method::BasicCancelOk(_)));
    b.open(2);
    let passive = QueueDeclare {
        queue: s("auto"),
        passive: true,
        ..QueueDeclare::default()
    };
    assert_eq!(b.call_fails(2, passive), 404);
    a.conn.close(200, "bye").unwrap();
    a.closed();
    b.open(3);
    declare(&mut b, 3, "mine");
}

#[test]
fn direct_reply_to_round_trip() {
    let addr = broker();
    let (mut client, mut server) = (Client::connect(addr), Client::connect(addr));
    client.open(1);
    server.open(1);
    declare(&mut server, 1, "rpc");
    consume(&mut server, 1, "rpc", true);
    consume(&mut client, 1, "amq.rabbitmq.reply-to", true);
    let props = BasicProperties {
        reply_to: Some(s("amq.rabbitmq.reply-to")),
        correlation_id: Some(s("c1")),
        ..BasicProperties::default()
    };
    client.publish_with(1, "", "rpc", &props, b"ping", false);
    let req = server.delivery(1);
    let reply_to = req.properties.reply_to.clone().unwrap();
    assert!(
        reply_to.starts_with("amq.rabbitmq.reply-to."),
        "{reply_to:?}"
    );
    let answer = BasicProperties {
        correlation_id: req.properties.correlation_id.clone(),
        ..BasicProperties::default()
    };
    server.publish_with(1, "", &reply_to, &answer, b"pong", false);
    let rep = client.delivery(1);
    assert_eq!(
        (&rep.body.to_vec()[..], rep.properties.correlation_id),
        (&b"pong"[..], Some(s("c1")))
    );
}

#[test]
fn flow_pauses_deliveries_and_recover_requeues() {
    let addr = broker();
    let (mut c, mut p) = (Client::connect(addr), Client::connect(addr));
    c.open(1);
    p.open(1);
    declare(&mut c, 1, "flow");
    consume(&mut c, 1, "flow", false);
    let flow = |active| amqp_codec::method::ChannelFlow { active };
    assert!(matches!(c.call(1, flow(false)), Method::ChannelFlowOk(m) if !m.active));
    p.publish(1, "", "flow", b"held");
    assert!(c.try_delivery(1, Duration::from_millis(200)).is_none());
    assert!(matches!(c.call(1, flow(true)), Method::ChannelFlowOk(m) if m.active));
    assert_eq!(deliver_tag(&c.delivery(1)), (1, false));
    let recover = amqp_codec::method::BasicRecover { requeue: true };
    assert!(matches!(c.call(1, recover), Method::BasicRecoverOk(_)));
    let again = c.delivery(1);
    assert_eq!(
        (&again.body.to_vec()[..], deliver_tag(&again)),
        (&b"held"[..], (2, true))
    );
}
