//! Confirm and tx modes, and flow control.

use super::*;
use crate::event::Publish;

#[test]
fn confirms_with_multiple() {
    let mut p = Pair::with_channel();
    p.c.send_method(1, &ConfirmSelect::default().into())
        .unwrap();
    let publish = BasicPublish {
        routing_key: short("q"),
        ..BasicPublish::default()
    };
    let props = BasicProperties::default();
    let tags: Vec<_> = (0..5)
        .map(|i| p.c.publish(1, &publish, &props, &[i]).unwrap())
        .collect();
    assert_eq!(tags, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
    assert_eq!(p.c.unconfirmed(1), 5);
    p.pump();
    let ev = events(&mut p.s);
    assert!(matches!(
        &ev[0],
        Event::Method {
            method: Method::ConfirmSelect(_),
            ..
        }
    ));
    let confirm_tags: Vec<_> = ev[1..]
        .iter()
        .map(|e| match e {
            Event::Publish(pb) => pb.confirm_tag,
            e => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(confirm_tags, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
    p.s.send_method(1, &ConfirmSelectOk.into()).unwrap();
    p.pump();
    assert_eq!(
        events(&mut p.c),
        [Event::Method {
            channel: 1,
            method: ConfirmSelectOk.into()
        }]
    );
    let ack = |delivery_tag, multiple| {
        Method::from(BasicAck {
            delivery_tag,
            multiple,
        })
    };
    p.s.send_method(1, &ack(3, true)).unwrap();
    p.s.send_method(
        1,
        &BasicNack {
            delivery_tag: 5,
            multiple: false,
            requeue: false,
        }
        .into(),
    )
    .unwrap();
    p.s.send_method(1, &ack(3, false)).unwrap();
    p.pump();
    let got: Vec<_> = events(&mut p.c)
        .into_iter()
        .map(|e| match e {
            Event::Confirm {
                channel: 1,
                delivery_tag,
                multiple,
                ack,
            } => (delivery_tag, multiple, ack),
            e => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, true, true),
            (2, true, true),
            (3, true, true),
            (5, false, false)
        ],
        "the repeated ack of 3 is ignored"
    );
    assert_eq!(p.c.unconfirmed(1), 1);
    p.s.send_method(1, &ack(0, true)).unwrap();
    p.pump();
    assert_eq!(
        events(&mut p.c),
        [Event::Confirm {
            channel: 1,
            delivery_tag: 4,
            multiple: true,
            ack: true
        }]
    );
    assert_eq!(p.c.unconfirmed(1), 0);
}

#[test]
fn mandatory_return_then_ack() {
    let mut p = Pair::with_channel();
    p.c.send_method(1, &ConfirmSelect::default().into())
        .unwrap();
    let publish = BasicPublish {
        routing_key: short("nowhere"),
        mandatory: true,
        ..BasicPublish::default()
    };
    let props = BasicProperties::default();
    assert_eq!(p.c.publish(1, &publish, &props, b"m"), Ok(Some(1)));
    p.pump();
    let ev = events(&mut p.s);
    let Some(Event::Publish(pb)) = ev.last() else {
        panic!("{ev:?}")
    };
    assert_eq!(
        **pb,
        Publish {
            channel: 1,
            publish: publish.clone(),
            properties: props.clone(),
            body: bytes::Bytes::from_static(b"m").into(),
            confirm_tag: Some(1),
        }
    );
    let ret = Method::from(BasicReturn {
        reply_code: 312,
        reply_text: short("NO_ROUTE"),
        exchange: short(""),
        routing_key: short("nowhere"),
    });
    p.s.send_method(1, &ConfirmSelectOk.into()).unwrap();
    p.s.send_content(1, &ret, &props, b"m").unwrap();
    p.s.send_method(
        1,
        &BasicAck {
            delivery_tag: 1,
            multiple: false,
        }
        .into(),
    )
    .unwrap();
    p.pump();
    let ev = events(&mut p.c);
    assert!(
        matches!(&ev[..], [Event::Method { .. }, Event::Delivery(d), Event::Confirm { delivery_tag: 1, ack: true, .. }]
        if d.method == ret && d.body == b"m"),
        "{ev:?}"
    );
}

#[test]
fn tx_select_commit_rollback() {
    let mut p = Pair::with_channel();
    assert!(matches!(
        p.c.send_method(1, &TxCommit.into()),
        Err(Error::InvalidState(_))
    ));
    p.roundtrip(1, TxSelect, TxSelectOk);
    assert!(matches!(
        p.c.send_method(1, &ConfirmSelect::default().into()),
        Err(Error::InvalidState(_))
    ));
    p.c.publish(
        1,
        &BasicPublish::default(),
        &BasicProperties::default(),
        b"t",
    )
    .unwrap();
    p.pump();
    assert!(
        matches!(events(&mut p.s).as_slice(), [Event::Publish(pb)] if pb.confirm_tag.is_none())
    );
    p.roundtrip(1, TxCommit, TxCommitOk);
    p.roundtrip(1, TxRollback, TxRollbackOk);
}

#[test]
fn server_raises_precondition_failed_for_mixed_modes() {
    let mut p = Pair::with_channel();
    // A client of another make: tx.commit without tx.select.
    p.s.handle_input(&method_frame(1, TxCommit), t0()).unwrap();
    let ev = events(&mut p.s);
    assert!(ev.is_empty(), "{ev:?}");
    let out = p.s.poll_transmit().unwrap();
    let [(1, Method::ChannelClose(close))] = &methods(&out)[..] else {
        panic!("no channel.close")
    };
    assert_eq!(
        (close.reply_code, close.class_id, close.method_id),
        (406, 90, 20)
    );
    assert!(close.reply_text.starts_with("PRECONDITION_FAILED - "));
    // Input on the closing channel is discarded until close-ok.
    p.s.handle_input(&method_frame(1, BasicQos::default()), t0())
        .unwrap();
    p.s.handle_input(&content_frames(1, b"junk"), t0()).unwrap();
    p.s.handle_input(&method_frame(1, ChannelCloseOk), t0())
        .unwrap();
    let ev = events(&mut p.s);
    assert!(
        matches!(
            &ev[..],
            [Event::ChannelClosed {
                channel: 1,
                reply_code: 406,
                by_peer: false,
                error: Some(Error::PreconditionFailed { .. }),
                ..
            }]
        ),
        "{ev:?}"
    );
    assert!(p.s.is_connected());

    // confirm.select on a transactional channel.
    let mut p = Pair::with_channel();
    p.c.send_method(1, &TxSelect.into()).unwrap();
    p.pump();
    events(&mut p.s);
    p.s.handle_input(&method_frame(1, ConfirmSelect::default()), t0())
        .unwrap();
    let out = p.s.poll_transmit().unwrap();
    assert!(matches!(&methods(&out)[..], [(1, Method::ChannelClose(c))] if c.reply_code == 406));
}

#[test]
fn flow_pauses_content() {
    let mut p = Pair::with_channel();
    p.s.send_method(1, &ChannelFlow { active: false }.into())
        .unwrap();
    p.pump();
    assert_eq!(
        events(&mut p.c),
        [Event::Flow {
            channel: 1,
            active: false
        }]
    );
    assert_eq!(
        events(&mut p.s),
        [Event::Method {
            channel: 1,
            method: ChannelFlowOk { active: false }.into()
        }]
    );
    let pb = BasicPublish::default();
    let props = BasicProperties::default();
    assert!(matches!(
        p.c.publish(1, &pb, &props, b""),
        Err(Error::InvalidState(_))
    ));
    p.c.send_method(1, &BasicQos::default().into()).unwrap();
    p.s.send_method(1, &ChannelFlow { active: true }.into())
        .unwrap();
    p.pump();
    p.c.publish(1, &pb, &props, b"").unwrap();
    p.pump();
    assert_eq!(events(&mut p.s).len(), 3, "qos, flow-ok, publish");
    // The client may pause the server's deliveries too.
    p.c.send_method(1, &ChannelFlow { active: false }.into())
        .unwrap();
    p.pump();
    assert_eq!(
        events(&mut p.s),
        [Event::Flow {
            channel: 1,
            active: false
        }]
    );
    p.s.send_method(1, &ChannelFlowOk { active: false }.into())
        .unwrap();
    p.pump();
    let deliver = Method::from(BasicDeliver::default());
    assert!(p.s.send_content(1, &deliver, &props, b"").is_err());
}
