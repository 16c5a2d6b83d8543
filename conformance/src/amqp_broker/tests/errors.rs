//! Refusals: logins, virtual hosts, soft (channel) and hard (connection)
//! errors with RabbitMQ's codes.

use amqp_codec::method::{
    BasicAck, BasicPublish, BasicQos, ExchangeDeclare, ExchangeDelete, QueueBind, QueueDeclare,
};
use amqp_codec::{BasicProperties, Event};

use super::client::{Client, PASSWORD, USER, broker, s};
use super::declare;

#[test]
fn bad_login_and_vhost_are_refused() {
    let addr = broker();
    let mut c = Client::start(addr, USER, "wrong", "/");
    assert_eq!(c.closed(), 403);
    let mut c = Client::start(addr, USER, PASSWORD, "elsewhere");
    assert_eq!(c.closed(), 530);
}

#[test]
fn soft_errors_close_the_channel() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    let passive = QueueDeclare {
        queue: s("missing"),
        passive: true,
        ..QueueDeclare::default()
    };
    assert_eq!(c.call_fails(1, passive), 404);
    c.open(1);
    let x = |kind: &str| ExchangeDeclare {
        exchange: s("typed"),
        kind: s(kind),
        ..ExchangeDeclare::default()
    };
    assert!(matches!(
        c.call(1, x("direct")),
        amqp_codec::Method::ExchangeDeclareOk(_)
    ));
    assert_eq!(c.call_fails(1, x("fanout")), 406);
    c.open(1);
    let reserved = QueueDeclare {
        queue: s("amq.mine"),
        ..QueueDeclare::default()
    };
    assert_eq!(c.call_fails(1, reserved), 403);
    c.open(1);
    let system = ExchangeDelete {
        exchange: s("amq.direct"),
        ..ExchangeDelete::default()
    };
    assert_eq!(c.call_fails(1, system), 403);
    c.open(1);
    let bind = QueueBind {
        queue: s("nope"),
        exchange: s("amq.direct"),
        ..QueueBind::default()
    };
    assert_eq!(c.call_fails(1, bind), 404);
    c.open(1);
    c.send(
        1,
        BasicAck {
            delivery_tag: 9,
            multiple: false,
        },
    );
    assert_eq!(c.channel_closed(1), 406);
    c.open(1);
    c.publish(1, "no-such-exchange", "k", b"x");
    assert_eq!(c.channel_closed(1), 404);
    c.open(1);
    let forged = BasicProperties {
        user_id: Some(s("someone-else")),
        ..BasicProperties::default()
    };
    c.publish_with(1, "", "k", &forged, b"x", false);
    assert_eq!(c.channel_closed(1), 406);
    // The connection is still fine.
    c.open(1);
    declare(&mut c, 1, "still-fine");
}

#[test]
fn hard_errors_close_the_connection() {
    let addr = broker();
    let mut c = Client::connect(addr);
    c.open(1);
    let p = BasicPublish {
        routing_key: s("q"),
        immediate: true,
        ..BasicPublish::default()
    };
    c.conn
        .publish(1, &p, &BasicProperties::default(), b"x")
        .unwrap();
    c.send(
        1,
        BasicQos {
            prefetch_count: 1,
            ..BasicQos::default()
        },
    );
    assert_eq!(c.closed(), 540);
    let mut c = Client::connect(addr);
    c.open(1);
    let bad = ExchangeDeclare {
        exchange: s("weird"),
        kind: s("no-such-type"),
        ..ExchangeDeclare::default()
    };
    c.send(1, bad);
    assert_eq!(c.closed(), 503);
    let mut c = Client::connect(addr);
    c.open(1);
    c.send(
        1,
        BasicQos {
            prefetch_size: 10,
            ..BasicQos::default()
        },
    );
    let ev = c.wait(|e| matches!(e, Event::Closed { .. }));
    assert!(
        matches!(
            ev,
            Event::Closed {
                reply_code: 540,
                ..
            }
        ),
        "{ev:?}"
    );
}
