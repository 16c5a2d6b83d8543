//! The broker's message and byte counts against what it holds, after
//! every way a message comes and goes.

use std::time::{Duration, Instant};

use amqp_codec::method::{BasicAck, BasicNack, BasicReject, ConfirmSelect, Method, QueueDelete};
use amqp_codec::{BasicProperties, FieldTable, FieldValue};

use super::super::Broker;
use super::super::state::Capacity;
use super::client::{Client, WAIT, broker_holding, broker_state, s};
use super::{bind, consume, count, declare, declare_with, get, table};

/// Waits until the broker's message and byte counts match what its queues
/// and channels hold; returns the number of messages held.
fn audit(broker: &Broker) -> usize {
    let deadline = Instant::now() + WAIT;
    loop {
        {
            let st = broker.lock();
            let ready = st
                .queues
                .values()
                .flat_map(|q| q.ready.iter().map(|r| &r.msg));
            let unacked = st
                .conns
                .values()
                .flat_map(|c| c.channels.values())
                .flat_map(|ch| ch.unacked.values().map(|u| &u.msg));
            let held: Vec<_> = ready.chain(unacked).collect();
            let bytes: usize = held.iter().map(|m| m.cost()).sum();
            if (st.stored_messages, st.stored_bytes) == (held.len(), bytes) {
                return held.len();
            }
            assert!(
                Instant::now() < deadline,
                "counted {} messages, {} bytes; held {}, {bytes}",
                st.stored_messages,
                st.stored_bytes,
                held.len()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn accounting_balances() {
    let (addr, state) = broker_state();
    let (mut a, mut b) = (Client::connect(addr), Client::connect(addr));
    a.open(1);
    a.open(2);
    b.open(1);
    declare(&mut a, 1, "acc-1");
    declare_with(
        &mut a,
        1,
        "acc-2",
        table(&[("x-max-length", FieldValue::U8(3))]),
    );
    declare(&mut a, 1, "acc-3");
    bind(&mut a, 1, "acc-1", "amq.fanout", "", FieldTable::new());
    bind(&mut a, 1, "acc-2", "amq.fanout", "", FieldTable::new());
    bind(&mut a, 1, "acc-3", "amq.fanout", "", FieldTable::new());
    for i in 0..20u8 {
        b.publish(1, "amq.fanout", "", &vec![i; usize::from(i) * 100]);
    }
    assert_eq!(count(&mut b, 1, "acc-2"), 3);
    consume(&mut a, 1, "acc-1", false);
    consume(&mut a, 2, "acc-3", true);
    for _ in 0..20 {
        a.delivery(1);
        a.delivery(2);
    }
    a.send(
        1,
        BasicAck {
            delivery_tag: 5,
            multiple: true,
        },
    );
    a.send(
        1,
        BasicNack {
            delivery_tag: 7,
            multiple: false,
            requeue: true,
        },
    );
    a.send(
        1,
        BasicReject {
            delivery_tag: 8,
            requeue: false,
        },
    );
    get(&mut b, 1, "acc-2", false).unwrap();
    get(&mut b, 1, "acc-2", true).unwrap();
    // Settled: 1-5 acked, 7 requeued (and delivered again), 8 dropped.
    assert_eq!(count(&mut a, 1, "acc-3"), 0);
    assert_eq!(audit(&state), 2 + 14);
    let purge = amqp_codec::method::QueuePurge {
        queue: s("acc-2"),
        ..Default::default()
    };
    assert!(matches!(b.call(1, purge), Method::QueuePurgeOk(_)));
    b.conn.close(200, "bye").unwrap();
    b.closed();
    // acc-1's unacked deliveries go back when the connection goes.
    a.conn.close(200, "bye").unwrap();
    a.closed();
    assert_eq!(audit(&state), 1 + 14);
    let mut c = Client::connect(addr);
    c.open(1);
    assert_eq!(count(&mut c, 1, "acc-1"), 14);
    let del = QueueDelete {
        queue: s("acc-1"),
        ..QueueDelete::default()
    };
    assert!(matches!(c.call(1, del), Method::QueueDeleteOk(m) if m.message_count == 14));
    assert_eq!(audit(&state), 1);
}

#[test]
fn a_full_broker_refuses_publishes() {
    let capacity = Capacity {
        messages: 3,
        bytes: 1 << 20,
    };
    let (addr, state) = broker_holding(capacity);
    let mut c = Client::connect(addr);
    c.open(1);
    c.open(2);
    declare(&mut c, 1, "full");
    assert!(matches!(
        c.call(1, ConfirmSelect { nowait: false }),
        Method::ConfirmSelectOk(_)
    ));
    let props = BasicProperties::default();
    for _ in 0..4 {
        c.publish_with(1, "", "full", &props, b"m", false);
    }
    let confirms: Vec<(u64, bool)> = (0..4).map(|_| c.confirm(1)).collect();
    assert_eq!(confirms, [(1, true), (2, true), (3, true), (4, false)]);
    c.publish(2, "", "full", b"m");
    assert_eq!(c.channel_closed(2), 406);
    get(&mut c, 1, "full", true).unwrap();
    c.publish_with(1, "", "full", &props, b"m", false);
    assert_eq!(c.confirm(1), (5, true));
    assert_eq!(audit(&state), 3);
    let big = vec![0; 1 << 20];
    c.publish_with(1, "", "full", &props, &big, false);
    assert_eq!(c.confirm(1), (6, false));
}
