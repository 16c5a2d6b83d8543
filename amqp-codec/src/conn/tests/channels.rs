use super::*;
use crate::event::Delivery;

fn closed(evs: &[Event]) -> Vec<(u16, u16, bool)> {
    evs.iter()
        .filter_map(|e| match e {
            Event::ChannelClosed {
                channel,
                reply_code,
                by_peer,
                ..
            } => Some((*channel, *reply_code, *by_peer)),
            _ => None,
        })
        .collect()
}

#[test]
fn client_closes_a_channel() {
    let mut p = Pair::with_channel();
    assert!(p.c.is_channel_open(1) && p.s.is_channel_open(1));
    p.c.close_channel(1, 200, "done").unwrap();
    assert!(!p.c.is_channel_open(1));
    assert_eq!(
        p.c.send_method(1, &Method::from(BasicQos::default())),
        Err(Error::ChannelNotOpen(1)),
        "closing"
    );
    assert_eq!(
        p.c.open_channel(1),
        Err(Error::ChannelUnavailable(1)),
        "not free until close-ok"
    );
    p.pump();
    assert_eq!(closed(&events(&mut p.s)), [(1, 200, true)]);
    assert_eq!(closed(&events(&mut p.c)), [(1, 200, false)]);
    assert_eq!(p.c.free_channel(), Some(1));
    p.c.open_channel(1).unwrap();
    p.pump();
    assert_eq!(events(&mut p.c), [Event::ChannelOpened { channel: 1 }]);
}

#[test]
fn server_soft_error_closes_only_the_channel() {
    let mut p = Pair::with_channel();
    p.c.open_channel(2).unwrap();
    p.pump();
    events(&mut p.c);
    events(&mut p.s);
    let declare = QueueDeclare {
        queue: short("missing"),
        passive: true,
        ..QueueDeclare::default()
    };
    p.c.send_method(1, &declare.into()).unwrap();
    p.pump();
    events(&mut p.s);
    let close = ChannelClose {
        reply_code: 404,
        reply_text: short("NOT_FOUND - no queue 'missing'"),
        class_id: 50,
        method_id: 10,
    };
    p.s.send_method(1, &close.into()).unwrap();
    p.pump();
    let ev = events(&mut p.c);
    assert!(
        matches!(&ev[..], [Event::ChannelClosed { channel: 1, reply_code: 404, reply_text, class_id: 50, method_id: 10, by_peer: true, error: None }]
            if reply_text.starts_with("NOT_FOUND")),
        "{ev:?}"
    );
    assert_eq!(closed(&events(&mut p.s)), [(1, 404, false)]);
    // The connection and the other channel go on.
    assert!(p.c.is_connected());
    p.roundtrip(2, BasicQos::default(), BasicQosOk);
}

#[test]
fn crossing_channel_closes() {
    let mut p = Pair::with_channel();
    p.c.close_channel(1, 200, "client").unwrap();
    p.s.close_channel(1, 406, "server").unwrap();
    p.pump();
    assert_eq!(closed(&events(&mut p.c)), [(1, 200, false)]);
    assert_eq!(closed(&events(&mut p.s)), [(1, 406, false)]);
    assert!(p.c.is_connected() && p.s.is_connected());
}

#[test]
fn channel_numbers() {
    let mut p = Pair::new();
    assert_eq!(p.c.open_channel(0), Err(Error::ChannelUnavailable(0)));
    assert_eq!(p.c.open_channel(2048), Err(Error::ChannelUnavailable(2048)));
    p.c.open_channel(2047).unwrap();
    assert_eq!(p.c.open_channel(2047), Err(Error::ChannelUnavailable(2047)));
    assert_eq!(
        p.s.open_channel(1),
        Err(Error::InvalidState("only clients open channels"))
    );
    assert_eq!(
        p.c.send_method(5, &BasicQos::default().into()),
        Err(Error::ChannelNotOpen(5))
    );
    assert_eq!(p.c.close_channel(5, 200, ""), Err(Error::ChannelNotOpen(5)));
    // Opening, not open yet: requests may be pipelined behind the open.
    assert!(!p.c.is_channel_open(2047));
    p.c.send_method(2047, &BasicQos::default().into()).unwrap();
    p.pump();
    assert!(p.c.is_channel_open(2047));
    p.s.send_method(2047, &BasicQosOk.into()).unwrap();
    p.pump();
    assert!(matches!(
        events(&mut p.c).as_slice(),
        [Event::ChannelOpened { channel: 2047 }, Event::Method { .. }]
    ));
}

#[test]
fn server_refuses_channel_over_channel_max() {
    let mut p = Pair::new();
    let e =
        p.s.handle_input(&method_frame(2048, ChannelOpen::default()), t0())
            .unwrap_err();
    assert!(matches!(e, Error::NotAllowed { .. }));
    assert_eq!(sent_close(&mut p.s).unwrap().reply_code, 530);
}

#[test]
fn second_channel_open_is_504() {
    let mut p = Pair::with_channel();
    let e =
        p.s.handle_input(&method_frame(1, ChannelOpen::default()), t0())
            .unwrap_err();
    assert_eq!(e.reply_code(), 504);
    assert_eq!(e.failing_method(), (20, 10));
}

#[test]
fn frames_on_unopened_channels_are_504() {
    let mut p = Pair::new();
    let e =
        p.c.handle_input(&method_frame(3, BasicQosOk), t0())
            .unwrap_err();
    assert_eq!(e.reply_code(), 504);
    let mut p = Pair::new();
    let e =
        p.s.handle_input(&content_frames(3, b"x"), t0())
            .unwrap_err();
    assert_eq!(e.reply_code(), 504);
}

#[test]
fn synchronous_replies_are_matched() {
    let mut p = Pair::with_channel();
    let declare = QueueDeclare {
        queue: short("q"),
        ..QueueDeclare::default()
    };
    let ok = QueueDeclareOk {
        queue: short("q"),
        message_count: 0,
        consumer_count: 0,
    };
    p.roundtrip(1, declare, ok);
    p.roundtrip(1, ExchangeDeclare::default(), ExchangeDeclareOk);
    p.roundtrip(1, ExchangeBind::default(), ExchangeBindOk);
    p.roundtrip(1, ExchangeUnbind::default(), ExchangeUnbindOk);
    p.roundtrip(1, QueueBind::default(), QueueBindOk);
    p.roundtrip(1, QueueUnbind::default(), QueueUnbindOk);
    p.roundtrip(1, QueuePurge::default(), QueuePurgeOk::default());
    p.roundtrip(1, QueueDelete::default(), QueueDeleteOk::default());
    p.roundtrip(1, ExchangeDelete::default(), ExchangeDeleteOk);
    p.roundtrip(1, BasicQos::default(), BasicQosOk);
    p.roundtrip(1, BasicRecover::default(), BasicRecoverOk);
    p.roundtrip(1, BasicGet::default(), BasicGetEmpty::default());
    // nowait: no reply expected, so one would be refused.
    let nowait = QueueDeclare {
        nowait: true,
        ..QueueDeclare::default()
    };
    p.c.send_method(1, &nowait.into()).unwrap();
    p.pump();
    events(&mut p.s);
    p.s.send_method(1, &QueueDeclareOk::default().into())
        .unwrap();
    p.pump();
    let ev = events(&mut p.c);
    assert!(matches!(
        closed_error(&ev),
        Some(Error::CommandInvalid {
            channel: 1,
            class_id: 50,
            method_id: 11,
            ..
        })
    ));
}

#[test]
fn replies_come_in_request_order() {
    let mut p = Pair::with_channel();
    p.c.send_method(1, &BasicQos::default().into()).unwrap();
    p.c.send_method(1, &TxSelect.into()).unwrap();
    p.pump();
    assert_eq!(events(&mut p.s).len(), 2);
    // The broker answers in order...
    p.s.send_method(1, &BasicQosOk.into()).unwrap();
    p.s.send_method(1, &TxSelectOk.into()).unwrap();
    p.pump();
    assert_eq!(events(&mut p.c).len(), 2);
    // ...or the client fails the connection.
    p.c.send_method(1, &BasicQos::default().into()).unwrap();
    p.c.send_method(1, &TxCommit.into()).unwrap();
    p.pump();
    events(&mut p.s);
    p.s.send_method(1, &TxCommitOk.into()).unwrap();
    p.pump();
    let ev = events(&mut p.c);
    assert!(matches!(
        closed_error(&ev),
        Some(Error::CommandInvalid {
            class_id: 90,
            method_id: 21,
            ..
        })
    ));
}

#[test]
fn consume_deliver_ack_cancel() {
    let mut p = Pair::with_channel();
    let consume = BasicConsume {
        queue: short("q"),
        consumer_tag: short("ctag"),
        ..BasicConsume::default()
    };
    let ok = BasicConsumeOk {
        consumer_tag: short("ctag"),
    };
    p.roundtrip(1, consume, ok);
    let deliver = Method::from(BasicDeliver {
        consumer_tag: short("ctag"),
        delivery_tag: 1,
        ..BasicDeliver::default()
    });
    let props = BasicProperties {
        content_type: Some(short("text/plain")),
        ..BasicProperties::default()
    };
    assert_eq!(p.s.send_content(1, &deliver, &props, b"hello"), Ok(None));
    p.pump();
    let ev = events(&mut p.c);
    assert_eq!(
        ev,
        [Event::Delivery(Box::new(Delivery {
            channel: 1,
            method: deliver,
            properties: props,
            body: bytes::Bytes::from_static(b"hello").into(),
        }))]
    );
    for m in [
        Method::from(BasicAck {
            delivery_tag: 1,
            multiple: false,
        }),
        BasicReject::default().into(),
        BasicNack::default().into(),
        BasicRecoverAsync::default().into(),
    ] {
        p.c.send_method(1, &m).unwrap();
        p.pump();
        assert_eq!(
            events(&mut p.s),
            [Event::Method {
                channel: 1,
                method: m
            }]
        );
    }
    let cancel = BasicCancel {
        consumer_tag: short("ctag"),
        nowait: false,
    };
    let ok = BasicCancelOk {
        consumer_tag: short("ctag"),
    };
    p.roundtrip(1, cancel, ok);
}

#[test]
fn server_cancel_is_answered() {
    let mut p = Pair::with_channel();
    let cancel = Method::from(BasicCancel {
        consumer_tag: short("ctag"),
        nowait: false,
    });
    p.s.send_method(1, &cancel).unwrap();
    p.pump();
    assert_eq!(
        events(&mut p.c),
        [Event::Method {
            channel: 1,
            method: cancel
        }]
    );
    assert_eq!(
        events(&mut p.s),
        [Event::Method {
            channel: 1,
            method: BasicCancelOk {
                consumer_tag: short("ctag")
            }
            .into()
        }]
    );
    // RabbitMQ's own notification is nowait: no answer.
    let cancel = Method::from(BasicCancel {
        consumer_tag: short("c2"),
        nowait: true,
    });
    p.s.send_method(1, &cancel).unwrap();
    p.pump();
    assert_eq!(events(&mut p.c).len(), 1);
    assert!(events(&mut p.s).is_empty());
}

#[test]
fn get_ok_with_content() {
    let mut p = Pair::with_channel();
    p.c.send_method(1, &BasicGet::default().into()).unwrap();
    p.pump();
    events(&mut p.s);
    let get_ok = Method::from(BasicGetOk {
        delivery_tag: 7,
        message_count: 3,
        ..BasicGetOk::default()
    });
    p.s.send_content(1, &get_ok, &BasicProperties::default(), b"")
        .unwrap();
    p.pump();
    let ev = events(&mut p.c);
    assert!(matches!(&ev[..], [Event::Delivery(d)] if d.method == get_ok && d.body.is_empty()));
    // An unrequested get-ok fails the connection.
    p.s.send_content(1, &get_ok, &BasicProperties::default(), b"x")
        .unwrap();
    p.pump();
    assert!(matches!(
        closed_error(&events(&mut p.c)),
        Some(Error::CommandInvalid { method_id: 71, .. })
    ));
}

#[test]
fn blocked_and_unblocked() {
    let mut p = Pair::new();
    p.s.send_method(
        0,
        &ConnectionBlocked {
            reason: short("low on memory"),
        }
        .into(),
    )
    .unwrap();
    p.pump();
    assert_eq!(
        events(&mut p.c),
        [Event::Blocked {
            reason: "low on memory".into()
        }]
    );
    assert_eq!(p.c.blocked(), Some("low on memory"));
    p.s.send_method(0, &ConnectionUnblocked.into()).unwrap();
    p.pump();
    assert_eq!(events(&mut p.c), [Event::Unblocked]);
    assert_eq!(p.c.blocked(), None);
    // Only a server blocks.
    assert!(p.c.send_method(0, &ConnectionUnblocked.into()).is_err());
    let e =
        p.s.handle_input(&method_frame(0, ConnectionUnblocked), t0())
            .unwrap_err();
    assert_eq!(e.reply_code(), 503);
}

#[test]
fn send_method_refusals() {
    let mut p = Pair::with_channel();
    let refused = [
        (1, Method::from(BasicDeliver::default())),
        (1, BasicQosOk.into()),
        (1, ChannelOpenOk::default().into()),
        (1, ChannelFlowOk::default().into()),
        (1, BasicCancelOk::default().into()),
        (0, ConnectionTuneOk::default().into()),
        (1, ConnectionUpdateSecret::default().into()),
        (0, BasicQos::default().into()),
        (0, ConnectionCloseOk.into()),
    ];
    for (ch, m) in refused {
        assert!(
            matches!(p.c.send_method(ch, &m), Err(Error::InvalidState(_))),
            "{m:?}"
        );
    }
    assert!(p.c.poll_transmit().is_none(), "nothing queued");
    assert!(matches!(
        p.c.send_method(1, &BasicCancelOk::default().into()),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        p.s.send_method(1, &BasicAck::default().into()),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        p.s.send_content(
            1,
            &BasicPublish::default().into(),
            &BasicProperties::default(),
            b""
        ),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        p.c.send_content(
            1,
            &BasicQos::default().into(),
            &BasicProperties::default(),
            b""
        ),
        Err(Error::InvalidState(_))
    ));
}

#[test]
fn wrong_direction_methods_are_503() {
    let mut p = Pair::with_channel();
    let e =
        p.s.handle_input(&method_frame(1, BasicDeliver::default()), t0())
            .unwrap_err();
    assert_eq!(e.reply_code(), 503);
    let mut p = Pair::with_channel();
    let e =
        p.c.handle_input(&method_frame(1, QueueDeclare::default()), t0())
            .unwrap_err();
    assert_eq!(e.reply_code(), 503);
}

#[test]
fn update_secret() {
    let mut p = Pair::new();
    p.roundtrip(
        0,
        ConnectionUpdateSecret::default(),
        ConnectionUpdateSecretOk,
    );
}

#[test]
fn every_request_expects_real_replies_from_the_other_side() {
    use super::super::rules::{Sender, expects, is_reply, sender};
    let all = crate::method::strategies::defaults();
    for req in &all {
        let Some(e) = expects(req) else { continue };
        let replies: Vec<_> = all.iter().filter(|m| e.matches(m)).collect();
        assert_eq!(replies.len(), e.method_ids.len(), "{}", req.name());
        for r in replies {
            assert!(is_reply(r), "{} -> {}", req.name(), r.name());
            assert!(
                sender(req) == Sender::Both || sender(r) != sender(req),
                "{} -> {}",
                req.name(),
                r.name()
            );
        }
    }
    // Every reply answers some request (channel.open-ok and close-ok are
    // the channel state's business).
    for r in all.iter().filter(|m| is_reply(m)) {
        assert!(
            all.iter().any(|q| expects(q).is_some_and(|e| e.matches(r))),
            "{}",
            r.name()
        );
    }
}
