use super::*;
use crate::properties::ContentHeader;

#[test]
fn publish_splits_at_frame_max_and_reassembles() {
    let (c, s) = configs(Tune {
        frame_max: 4096,
        ..Tune::default()
    });
    let mut p = Pair::connected(c, s);
    p.c.open_channel(1).unwrap();
    p.pump();
    events(&mut p.c);
    events(&mut p.s);
    let body: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let props = BasicProperties {
        message_id: Some(short("m1")),
        ..BasicProperties::default()
    };
    p.c.publish(1, &BasicPublish::default(), &props, &body)
        .unwrap();
    let out = p.c.poll_transmit().unwrap();
    let fs = frames(&out);
    let bodies = fs
        .iter()
        .filter(|f| matches!(f, Frame::Body { .. }))
        .count();
    assert_eq!(bodies, (1usize << 20).div_ceil(4096 - 8));
    let mut wire = BytesMut::from(&out[..]);
    while !wire.is_empty() {
        let start = wire.len();
        let mut d = Decoder::default();
        let _ = d.decode(&mut wire).unwrap().unwrap();
        assert!(start - wire.len() <= 4096, "frame over frame-max");
    }
    p.s.handle_input(&out, t0()).unwrap();
    let ev = events(&mut p.s);
    let [Event::Publish(pb)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(pb.body.len(), body.len());
    assert!(pb.body == body[..]);
    assert_eq!(pb.properties, props);

    // And a server's delivery the other way, split the same way.
    let deliver = Method::from(BasicDeliver::default());
    p.s.send_content(1, &deliver, &props, &body).unwrap();
    p.pump();
    let ev = events(&mut p.c);
    assert!(matches!(&ev[..], [Event::Delivery(d)] if d.body == body[..]));
}

/// `publish_bytes` queues big body frames as slices of the caller's body;
/// the bytes on the wire are the same as `publish`'s, and the receiving
/// side hands the body on as those frames' payloads.
#[test]
fn publish_bytes_shares_the_body_and_matches_publish() {
    let (c, s) = configs(Tune {
        frame_max: 131_072,
        ..Tune::default()
    });
    let mut p = Pair::connected(c, s);
    p.c.open_channel(1).unwrap();
    p.pump();
    events(&mut p.c);
    events(&mut p.s);
    let body = bytes::Bytes::from(
        (0..1 << 20)
            .map(|i: u32| (i % 253) as u8)
            .collect::<Vec<_>>(),
    );
    let props = BasicProperties::default();
    p.c.publish(1, &BasicPublish::default(), &props, &body)
        .unwrap();
    let copied = p.c.poll_transmit().unwrap();
    assert!(p.c.poll_transmit().is_none());

    p.c.publish_bytes(1, &BasicPublish::default(), &props, &body)
        .unwrap();
    assert_eq!(p.c.queued_output(), copied.len());
    let vectored: Vec<u8> = p.c.transmit_chunks().flatten().copied().collect();
    assert_eq!(vectored, copied[..]);
    let mut parts = Vec::new();
    while let Some(b) = p.c.poll_transmit() {
        parts.push(b);
    }
    let shared = parts
        .iter()
        .filter(|b| body.as_ptr_range().contains(&b.as_ptr()))
        .count();
    assert_eq!(shared, 8, "eight full 128 KiB frames");
    assert_eq!(parts.concat(), copied[..]);

    for part in std::iter::once(&copied).chain(&parts) {
        p.s.handle_input(part, t0()).unwrap();
    }
    let ev = events(&mut p.s);
    let [Event::Publish(a), Event::Publish(b)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(a.body, body[..]);
    assert_eq!(a.body, b.body);
    assert_eq!(b.body.chunks().len(), 9);
}

#[test]
fn header_too_large_for_frame_max_is_refused_cleanly() {
    let (c, s) = configs(Tune {
        frame_max: 4096,
        ..Tune::default()
    });
    let mut p = Pair::connected(c, s);
    p.c.open_channel(1).unwrap();
    p.pump();
    p.c.poll_transmit();
    let mut headers = crate::FieldTable::new();
    headers.push(
        short("big"),
        crate::FieldValue::LongString(vec![b'x'; 5000].into()),
    );
    let props = BasicProperties {
        headers: Some(headers),
        ..BasicProperties::default()
    };
    let e = p.c.publish(1, &BasicPublish::default(), &props, b"x");
    assert!(matches!(e, Err(Error::HeaderTooLarge { .. })), "{e:?}");
    assert!(p.c.poll_transmit().is_none(), "nothing half-queued");
    let body = bytes::Bytes::from(vec![1; 10_000]);
    let e =
        p.c.publish_bytes(1, &BasicPublish::default(), &props, &body);
    assert!(matches!(e, Err(Error::HeaderTooLarge { .. })), "{e:?}");
    assert_eq!(p.c.queued_output(), 0, "nothing half-queued");
    assert!(p.c.is_connected());
}

/// A server with channel 1 open, and the error its input `bytes` caused.
fn server_error(bytes: &[u8]) -> (Connection, Error) {
    let mut p = Pair::with_channel();
    let e = p.s.handle_input(bytes, t0()).unwrap_err();
    (p.s, e)
}

#[test]
fn header_without_method_is_505() {
    let (mut s, e) = server_error(&content_frames(1, b"x"));
    assert!(matches!(e, Error::UnexpectedFrame { .. }));
    let close = sent_close(&mut s).unwrap();
    assert_eq!(close.reply_code, 505);
    assert!(close.reply_text.starts_with("UNEXPECTED_FRAME - "));
    assert_eq!(closed_error(&events(&mut s)), Some(e));
}

#[test]
fn method_while_content_due_is_505() {
    let mut bytes = method_frame(1, BasicPublish::default());
    bytes.extend(method_frame(1, BasicQos::default()));
    let (mut s, e) = server_error(&bytes);
    assert_eq!(e.reply_code(), 505);
    assert_eq!(sent_close(&mut s).unwrap().reply_code, 505);
}

#[test]
fn body_larger_than_announced_is_501() {
    let mut bytes = method_frame(1, BasicPublish::default());
    let mut b = BytesMut::new();
    encode(
        &Frame::Header {
            channel: 1,
            header: Box::new(ContentHeader::basic(3, BasicProperties::default())),
        },
        &mut b,
    )
    .unwrap();
    encode(
        &Frame::Body {
            channel: 1,
            payload: bytes::Bytes::from_static(b"four"),
        },
        &mut b,
    )
    .unwrap();
    bytes.extend_from_slice(&b);
    let (mut s, e) = server_error(&bytes);
    assert!(matches!(
        e,
        Error::BodyOverrun {
            remaining: 3,
            got: 4
        }
    ));
    assert_eq!(sent_close(&mut s).unwrap().reply_code, 501);
}

#[test]
fn huge_announced_body_fails_before_allocation() {
    let mut bytes = method_frame(1, BasicPublish::default());
    let mut b = BytesMut::new();
    let header = ContentHeader::basic(u64::MAX, BasicProperties::default());
    encode(
        &Frame::Header {
            channel: 1,
            header: Box::new(header),
        },
        &mut b,
    )
    .unwrap();
    bytes.extend_from_slice(&b);
    let (mut s, e) = server_error(&bytes);
    assert!(matches!(e, Error::BodyTooLarge { .. }));
    assert_eq!(sent_close(&mut s).unwrap().reply_code, 501);
}

#[test]
fn interleaved_channels_keep_their_own_content() {
    let mut p = Pair::with_channel();
    p.c.open_channel(2).unwrap();
    p.pump();
    events(&mut p.s);
    // Content of two channels interleaved frame by frame (§4.2.6 allows it).
    let mut a = BytesMut::new();
    encode_method(1, &BasicPublish::default().into(), &mut a).unwrap();
    let mut b = BytesMut::new();
    encode_method(2, &BasicPublish::default().into(), &mut b).unwrap();
    let mut ca = BytesMut::new();
    encode_content(1, 60, &BasicProperties::default(), b"aaaa", 4096, &mut ca).unwrap();
    let mut cb = BytesMut::new();
    encode_content(2, 60, &BasicProperties::default(), b"bb", 4096, &mut cb).unwrap();
    for part in [&a, &b, &cb, &ca] {
        p.s.handle_input(part, t0()).unwrap();
    }
    let bodies: Vec<_> = events(&mut p.s)
        .into_iter()
        .map(|e| match e {
            Event::Publish(pb) => (pb.channel, pb.body.to_bytes()),
            e => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(
        bodies,
        [
            (2, bytes::Bytes::from_static(b"bb")),
            (1, bytes::Bytes::from_static(b"aaaa"))
        ]
    );
}
