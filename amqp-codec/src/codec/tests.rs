use bytes::{BufMut as _, Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::content::{Command, ContentAssembler};
use crate::error::{FrameKind, PayloadError};
use crate::method::strategies::method;
use crate::method::{BasicDeliver, BasicPublish, ConnectionTune};
use crate::strategies::{basic_properties, content_header, short_string};
use crate::string::ShortString;

fn frame_strategy() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (any::<u16>(), method()).prop_map(|(channel, method)| Frame::Method { channel, method }),
        (any::<u16>(), content_header()).prop_map(|(channel, h)| Frame::Header {
            channel,
            header: Box::new(h)
        }),
        (any::<u16>(), vec(any::<u8>(), 0..300)).prop_map(|(channel, b)| Frame::Body {
            channel,
            payload: Bytes::from(b)
        }),
        Just(Frame::Heartbeat),
    ]
}

fn encoded(frames: &[Frame]) -> BytesMut {
    let mut b = BytesMut::new();
    for f in frames {
        encode(f, &mut b).unwrap();
    }
    b
}

fn decode_all(d: &mut Decoder, buf: &mut BytesMut) -> Result<Vec<Frame>, Error> {
    let mut out = Vec::new();
    while let Some(f) = d.decode(buf)? {
        out.push(f);
    }
    Ok(out)
}

fn method_frame(channel: u16, m: impl Into<Method>) -> Frame {
    Frame::Method {
        channel,
        method: m.into(),
    }
}

#[test]
fn heartbeat() {
    let mut b = encoded(&[Frame::Heartbeat]);
    assert_eq!(&b[..], [8, 0, 0, 0, 0, 0, 0, 0xce]);
    assert_eq!(
        Decoder::default().decode(&mut b),
        Ok(Some(Frame::Heartbeat))
    );
    assert!(b.is_empty());
    // Found on the frame header, before any payload.
    for (bytes, channel, size) in [
        (&[8, 0, 1, 0, 0, 0, 0][..], 1, 0),
        (&[8, 0, 0, 0, 0, 0, 1][..], 0, 1),
    ] {
        let e = Decoder::default().decode(&mut BytesMut::from(bytes));
        assert_eq!(e, Err(Error::BadHeartbeat { channel, size }));
        assert_eq!(e.unwrap_err().reply_code(), 501);
    }
}

#[test]
fn incomplete_frames_consume_nothing() {
    let whole = encoded(&[method_frame(3, BasicDeliver::default())]);
    let mut d = Decoder::default();
    for cut in 0..whole.len() {
        let mut b = BytesMut::from(&whole[..cut]);
        assert_eq!(d.decode(&mut b), Ok(None), "cut at {cut}");
        assert_eq!(b.len(), cut);
    }
}

#[test]
fn bad_frame_end() {
    let mut whole = encoded(&[method_frame(1, BasicDeliver::default())]);
    let last = whole.len() - 1;
    whole[last] = 0xcd;
    let before = whole.clone();
    let e = Decoder::default().decode(&mut whole).unwrap_err();
    assert_eq!(e, Error::BadFrameEnd(0xcd));
    assert_eq!(e.reply_code(), 501);
    assert!(e.is_hard());
    assert_eq!(whole, before, "envelope errors consume nothing");
}

#[test]
fn unknown_frame_type_fails_on_the_first_octet() {
    let e = Decoder::default().decode(&mut BytesMut::from(&[4u8][..]));
    assert_eq!(e, Err(Error::UnknownFrameType(4)));
    assert_eq!(e.unwrap_err().reply_code(), 501);
}

#[test]
fn oversize_frame_fails_on_the_header() {
    let mut d = Decoder::new(Limits {
        initial_frame_max: 4096,
        max_frame_size: 1 << 20,
        ..Limits::default()
    });
    // Like RabbitMQ, a payload of exactly frame-max is tolerated.
    let ok = [3, 0, 1, 0, 0, 0x10, 0x00];
    assert_eq!(d.decode(&mut BytesMut::from(&ok[..])), Ok(None));
    let big = [3, 0, 1, 0, 0, 0x10, 0x01];
    let e = d.decode(&mut BytesMut::from(&big[..])).unwrap_err();
    assert_eq!(
        e,
        Error::FrameTooLarge {
            size: 4097,
            max: 4096
        }
    );
    assert_eq!(e.reply_code(), 501);
    // After tuning.
    d.set_frame_max(8192);
    assert_eq!(d.decode(&mut BytesMut::from(&big[..])), Ok(None));
    // 0 and anything over the cap mean the cap.
    d.set_frame_max(0);
    assert_eq!(d.frame_max(), 1 << 20);
    d.set_frame_max(u32::MAX);
    assert_eq!(d.frame_max(), 1 << 20);
    let huge = [3, 0, 1, 0, 0x10, 0, 1];
    assert!(matches!(
        d.decode(&mut BytesMut::from(&huge[..])),
        Err(Error::FrameTooLarge { .. })
    ));
}

#[test]
fn payload_errors_carry_the_method() {
    // queue.declare with a truncated table.
    let payload = [0, 50, 0, 10, 0, 0, 0, 0, 0, 0, 0, 3, 1, b'k', b'I'];
    let mut b = BytesMut::new();
    b.put_u8(1);
    b.put_u16(1);
    b.put_u32(payload.len() as u32);
    b.put_slice(&payload);
    b.put_u8(0xce);
    let e = Decoder::default().decode(&mut b).unwrap_err();
    assert_eq!(e.reply_code(), 502);
    assert_eq!(e.failing_method(), (50, 10));
}

#[test]
fn protocol_header() {
    let mut b = BytesMut::from(&b"AMQP\x00\x00\x09\x01\x01"[..]);
    assert_eq!(decode_protocol_header(&mut b), Ok(true));
    assert_eq!(&b[..], [1]);
    for cut in 0..8 {
        let mut b = BytesMut::from(&PROTOCOL_HEADER[..cut]);
        assert_eq!(decode_protocol_header(&mut b), Ok(false));
        assert_eq!(b.len(), cut);
    }
    // HTTP fails on its first octet.
    let e = decode_protocol_header(&mut BytesMut::from(&b"G"[..])).unwrap_err();
    assert_eq!(
        e,
        Error::NotAmqp {
            received: b"G".to_vec()
        }
    );
    assert_eq!(e.header_answer(), Some(&PROTOCOL_HEADER));
    // AMQP 1.0 waits for all 8 octets to name the version asked for.
    let amqp10 = b"AMQP\x00\x01\x00\x00";
    assert_eq!(
        decode_protocol_header(&mut BytesMut::from(&amqp10[..5])),
        Ok(false)
    );
    let e = decode_protocol_header(&mut BytesMut::from(&amqp10[..])).unwrap_err();
    let h = ProtocolHeader {
        protocol_id: 0,
        major: 1,
        minor: 0,
        revision: 0,
    };
    assert_eq!(e, Error::UnsupportedProtocol(h));
    assert_eq!(e.header_answer(), Some(&PROTOCOL_HEADER));
    assert!(e.to_string().contains("AMQP 1-0-0"), "{e}");
    assert_eq!(ProtocolHeader::AMQP_0_9_1.to_bytes(), PROTOCOL_HEADER);
}

#[test]
fn server_refusing_our_version() {
    let mut d = Decoder::default();
    assert_eq!(d.decode(&mut BytesMut::from(&b"AMQ"[..])), Ok(None));
    let e = d
        .decode(&mut BytesMut::from(&b"AMQP\x00\x00\x09\x01"[..]))
        .unwrap_err();
    assert_eq!(e, Error::ProtocolRefused(ProtocolHeader::AMQP_0_9_1));
    assert_eq!(e.header_answer(), None);
    assert_eq!(
        d.decode(&mut BytesMut::from(&b"AX"[..])),
        Err(Error::UnknownFrameType(b'A'))
    );
}

#[test]
fn body_frames_are_split_at_frame_max_and_reassembled() {
    let body: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let props = BasicProperties {
        delivery_mode: Some(2),
        ..BasicProperties::default()
    };
    let mut b = BytesMut::new();
    encode_method(5, &BasicPublish::default().into(), &mut b).unwrap();
    encode_content(5, 60, &props, &body, 4096, &mut b).unwrap();
    let mut d = Decoder::default();
    let frames = decode_all(&mut d, &mut b).unwrap();
    let sizes: Vec<usize> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Body { payload, .. } => Some(payload.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [4088, 4088, 1824]);
    let mut a = ContentAssembler::new(1 << 20);
    let mut done = None;
    for f in frames {
        assert_eq!(f.channel(), 5);
        let r = match f {
            Frame::Method { method, .. } => a.method(method),
            Frame::Header { header, .. } => a.header(header),
            Frame::Body { payload, .. } => a.body(payload),
            Frame::Heartbeat => unreachable!(),
        };
        if let Some(c) = r.unwrap() {
            done = Some(c);
        }
    }
    let Command { method, content } = done.unwrap();
    assert_eq!(method.name(), "basic.publish");
    let content = content.unwrap();
    assert_eq!(content.header.properties, props);
    assert_eq!(content.header.body_size, 10_000);
    assert_eq!(content.body, body);
    assert!(a.is_idle());
}

#[test]
fn encode_content_edges() {
    let p = BasicProperties::default();
    // Empty body: a header frame only.
    let mut b = BytesMut::new();
    encode_content(1, 60, &p, b"", 4096, &mut b).unwrap();
    let frames = decode_all(&mut Decoder::default(), &mut b).unwrap();
    assert!(matches!(&frames[..], [Frame::Header { header, .. }] if header.body_size == 0));
    // Frame-max 0: one body frame.
    encode_content(1, 60, &p, &[7; 100_000], 0, &mut b).unwrap();
    assert_eq!(
        decode_all(&mut Decoder::default(), &mut b).unwrap().len(),
        2
    );
    // Too small for any body byte.
    let e = encode_content(1, 60, &p, b"x", 8, &mut b);
    assert_eq!(e, Err(Error::FrameMaxTooSmall(8)));
    assert!(b.is_empty(), "failed encodes leave dst alone");
    // A header that does not fit.
    let big = BasicProperties {
        message_id: Some(ShortString::try_new("m".repeat(255)).unwrap()),
        ..p
    };
    let e = encode_content(1, 60, &big, b"x", 100, &mut b).unwrap_err();
    assert!(matches!(e, Error::HeaderTooLarge { frame_max: 100, .. }));
    assert!(!e.is_peer_error());
    assert!(b.is_empty());
}

#[test]
fn bodies_are_not_copied() {
    let mut b = BytesMut::new();
    encode(
        &Frame::Body {
            channel: 1,
            payload: Bytes::from_static(b"hello"),
        },
        &mut b,
    )
    .unwrap();
    let start = b.as_ptr() as usize;
    let Some(Frame::Body { payload, .. }) = Decoder::default().decode(&mut b).unwrap() else {
        panic!("not a body");
    };
    assert_eq!(payload.as_ptr() as usize, start + 7);
    // A one-frame body goes through the assembler untouched too.
    let mut a = ContentAssembler::new(100);
    a.method(BasicDeliver::default().into()).unwrap();
    a.header(Box::new(ContentHeader::basic(
        5,
        BasicProperties::default(),
    )))
    .unwrap();
    let c = a.body(payload.clone()).unwrap().unwrap();
    assert_eq!(
        c.content.unwrap().body.as_contiguous().unwrap().as_ptr(),
        payload.as_ptr()
    );
}

/// A body of several frames keeps each frame's payload where the decoder
/// split it off the read buffer; past `MAX_CHUNKS` frames (a peer slicing
/// a body thin) the pieces are copied together instead.
#[test]
fn multi_frame_bodies_are_not_copied_until_too_many_pieces() {
    let start = |size: u64| {
        let mut a = ContentAssembler::new(1 << 20);
        a.method(BasicDeliver::default().into()).unwrap();
        a.header(Box::new(ContentHeader::basic(
            size,
            BasicProperties::default(),
        )))
        .unwrap();
        a
    };
    let mut wire = BytesMut::new();
    encode_content(
        1,
        60,
        &BasicProperties::default(),
        &[7; 10_000],
        4096,
        &mut wire,
    )
    .unwrap();
    let mut d = Decoder::new(Limits::default());
    let mut a = start(10_000);
    let mut payloads = Vec::new();
    let mut done = None;
    while let Some(f) = d.decode(&mut wire).unwrap() {
        if let Frame::Body { payload, .. } = f {
            payloads.push(payload.as_ptr());
            done = a.body(payload).unwrap();
        }
    }
    let body = done.unwrap().content.unwrap().body;
    assert_eq!(payloads.len(), 3);
    let chunks: Vec<_> = body.chunks().iter().map(|c| c.as_ptr()).collect();
    assert_eq!(chunks, payloads);
    assert_eq!(body, vec![7; 10_000]);

    let n = crate::MAX_CHUNKS + 10;
    let mut a = start(n as u64);
    for i in 0..n {
        let r = a.body(Bytes::from(vec![i as u8])).unwrap();
        // Empty frames are allowed and change nothing.
        a.body(Bytes::new()).ok();
        if i + 1 < n {
            assert!(r.is_none());
        } else {
            let body = r.unwrap().content.unwrap().body;
            assert_eq!(body.chunks().len(), 1);
            assert_eq!(body, (0..n).map(|i| i as u8).collect::<Vec<_>>());
        }
    }
}

#[test]
fn content_out_of_order() {
    let header = || Box::new(ContentHeader::basic(10, BasicProperties::default()));
    let deliver = || Method::from(BasicDeliver::default());
    let check = |e: Error, expected: FrameKind, got: FrameKind| {
        assert_eq!(e, Error::UnexpectedFrame { expected, got });
        assert_eq!(e.reply_code(), 505);
    };
    let mut a = ContentAssembler::new(100);
    check(
        a.body(Bytes::from_static(b"x")).unwrap_err(),
        FrameKind::Method,
        FrameKind::Body,
    );
    check(
        a.header(header()).unwrap_err(),
        FrameKind::Method,
        FrameKind::Header,
    );
    a.method(deliver()).unwrap();
    check(
        a.body(Bytes::from_static(b"x")).unwrap_err(),
        FrameKind::Header,
        FrameKind::Body,
    );
    assert!(a.is_idle(), "errors reset the channel");
    a.method(deliver()).unwrap();
    check(
        a.method(deliver()).unwrap_err(),
        FrameKind::Header,
        FrameKind::Method,
    );
    a.method(deliver()).unwrap();
    a.header(header()).unwrap();
    check(
        a.header(header()).unwrap_err(),
        FrameKind::Body,
        FrameKind::Header,
    );
    // Wrong class.
    a.method(deliver()).unwrap();
    let mut h = header();
    h.class_id = 50;
    let e = a.header(h).unwrap_err();
    assert_eq!(
        e,
        Error::ContentClassMismatch {
            expected: 60,
            got: 50
        }
    );
    assert_eq!(e.reply_code(), 505);
    // Too large, and more body than announced: 501 as RabbitMQ.
    a.method(deliver()).unwrap();
    let e = a
        .header(Box::new(ContentHeader::basic(
            101,
            BasicProperties::default(),
        )))
        .unwrap_err();
    assert_eq!(
        e,
        Error::BodyTooLarge {
            size: 101,
            limit: 100
        }
    );
    assert_eq!(e.reply_code(), 501);
    a.method(deliver()).unwrap();
    a.header(header()).unwrap();
    a.body(Bytes::from_static(b"12345678")).unwrap();
    let e = a.body(Bytes::from_static(b"123")).unwrap_err();
    assert_eq!(
        e,
        Error::BodyOverrun {
            remaining: 2,
            got: 3
        }
    );
    assert_eq!(e.reply_code(), 501);
    // Non-content methods pass straight through.
    let c = a.method(ConnectionTune::default().into()).unwrap().unwrap();
    assert!(c.content.is_none());
}

#[test]
fn property_flags() {
    let mut b = BytesMut::new();
    let only = BasicProperties {
        delivery_mode: Some(2),
        ..BasicProperties::default()
    };
    assert_eq!(only.flags(), 0x1000);
    ContentHeader::basic(0, only.clone())
        .encode(&mut b)
        .unwrap();
    assert_eq!(&b[12..], [0x10, 0x00, 2]);
    // A continuation word flagging nothing is accepted.
    let with_cont = Bytes::from_static(&[0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 2]);
    let h = ContentHeader::decode(&mut Reader::new(&with_cont), &Limits::default()).unwrap();
    assert_eq!(h.properties, only);
    // Bits for properties basic does not have.
    for (bytes, bits) in [
        (
            &[0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x02][..],
            0x0002,
        ),
        (
            &[0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0x80, 0x00][..],
            0x8000,
        ),
    ] {
        let e = ContentHeader::decode(&mut Reader::new(&Bytes::from(bytes)), &Limits::default())
            .unwrap_err();
        assert_eq!(
            e,
            Error::payload(60, 0, PayloadError::UnknownProperties(bits))
        );
        assert_eq!(e.reply_code(), 501);
    }
}

#[test]
fn tune_applies_to_later_frames() {
    let mut d = Decoder::new(Limits {
        initial_frame_max: 4096,
        ..Limits::default()
    });
    let body = Frame::Body {
        channel: 1,
        payload: Bytes::from(vec![0; 5000]),
    };
    let mut b = encoded(std::slice::from_ref(&body));
    assert!(d.decode(&mut b.clone()).is_err());
    d.set_frame_max(131_072);
    assert_eq!(d.decode(&mut b), Ok(Some(body)));
}

proptest! {
    #[test]
    fn frames_round_trip(f in frame_strategy()) {
        let mut b = encoded(std::slice::from_ref(&f));
        let mut d = Decoder::new(Limits { initial_frame_max: u32::MAX, ..Limits::default() });
        prop_assert_eq!(d.decode(&mut b), Ok(Some(f)));
        prop_assert!(b.is_empty());
    }

    #[test]
    fn any_split_decodes_the_same(
        frames in vec(frame_strategy(), 1..8),
        cuts in vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let whole = encoded(&frames);
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(whole.len() + 1)).collect();
        at.sort_unstable();
        let mut d = Decoder::new(Limits { initial_frame_max: u32::MAX, ..Limits::default() });
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut prev = 0;
        for cut in at.into_iter().chain([whole.len()]) {
            buf.extend_from_slice(&whole[prev..cut]);
            prev = cut;
            out.extend(decode_all(&mut d, &mut buf).unwrap());
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(out, frames);
    }

    #[test]
    fn content_round_trips(
        props in basic_properties(),
        body in vec(any::<u8>(), 0..3000),
        frame_max in prop_oneof![Just(0u32), 9u32..600, 4096u32..5000],
        channel in any::<u16>(),
        tag in short_string(),
    ) {
        let mut b = BytesMut::new();
        let deliver = Method::from(BasicDeliver { consumer_tag: tag, ..BasicDeliver::default() });
        encode_method(channel, &deliver, &mut b).unwrap();
        match encode_content(channel, 60, &props, &body, frame_max, &mut b) {
            Ok(()) => {}
            Err(Error::HeaderTooLarge { .. }) => return Ok(()),
            Err(e) => panic!("{e}"),
        }
        // The method frame is the caller's to size; only content is split.
        let mut d = Decoder::new(Limits { initial_frame_max: u32::MAX, ..Limits::default() });
        let mut a = ContentAssembler::new(1 << 20);
        let mut got = None;
        while let Some(f) = d.decode(&mut b).unwrap() {
            if frame_max != 0 && !matches!(f, Frame::Method { .. }) {
                let mut again = BytesMut::new();
                encode(&f, &mut again).unwrap();
                prop_assert!(again.len() <= frame_max as usize);
            }
            let r = match f {
                Frame::Method { method, .. } => a.method(method),
                Frame::Header { header, .. } => a.header(header),
                Frame::Body { payload, .. } => a.body(payload),
                Frame::Heartbeat => unreachable!(),
            };
            if let Some(c) = r.unwrap() {
                got = Some(c);
            }
        }
        let c = got.unwrap();
        prop_assert_eq!(c.method, deliver);
        let content = c.content.unwrap();
        prop_assert_eq!(content.header.properties, props);
        prop_assert_eq!(content.body, body);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in vec(any::<u8>(), 0..256)) {
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(&b[..]);
        while let Ok(Some(_)) = d.decode(&mut buf) {}
    }
}

#[test]
fn payloads_decoded_in_the_buffer_match_shared_ones() {
    // basic.deliver and a headers-free content header are decoded where
    // they lie; a header with headers is split off, its longstrs sharing
    // the read buffer.
    let deliver = Method::from(BasicDeliver {
        consumer_tag: ShortString::try_new("amq.ctag-Ab3xYz0123456789").unwrap(),
        delivery_tag: 7,
        redelivered: true,
        exchange: ShortString::try_new("orders").unwrap(),
        routing_key: ShortString::try_new("orders.eu").unwrap(),
    });
    let plain = BasicProperties {
        app_id: Some(ShortString::try_new("bench").unwrap()),
        ..BasicProperties::default()
    };
    let mut headers = crate::FieldTable::new();
    headers.push(
        ShortString::try_new("x-trace").unwrap(),
        crate::FieldValue::from("4bf92f3577b34da6"),
    );
    let with_headers = BasicProperties {
        headers: Some(headers),
        ..plain.clone()
    };
    let mut wire = BytesMut::new();
    encode_method(1, &deliver, &mut wire).unwrap();
    encode_content(1, 60, &plain, b"ab", 0, &mut wire).unwrap();
    encode_content(1, 60, &with_headers, b"", 0, &mut wire).unwrap();
    let mut d = Decoder::default();
    let frames: Vec<Frame> = std::iter::from_fn(|| d.decode(&mut wire).unwrap()).collect();
    assert!(wire.is_empty());
    assert_eq!(frames.len(), 4);
    assert_eq!(
        frames[0],
        Frame::Method {
            channel: 1,
            method: deliver
        }
    );
    assert!(matches!(&frames[1], Frame::Header { header, .. } if header.properties == plain));
    assert!(
        matches!(&frames[3], Frame::Header { header, .. } if header.properties == with_headers)
    );

    // Were a longstr read from a payload in the buffer, it would be copied.
    let mut r = Reader::borrowed(&[0, 0, 0, 2, b'h', b'i']);
    assert_eq!(r.long_string().unwrap(), "hi");
    assert!(r.is_empty());
}

#[test]
fn short_string_windows_past_the_payload_change_nothing() {
    // basic.deliver whose last shortstr ends 2 octets before the frame
    // end: its window reaches into the frames after it, which must not
    // show in the string.
    let payload = [
        0, 60, 0, 60, 1, b't', 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, b'e', 2, b'r', b'k',
    ];
    let frame = |payload: &[u8]| {
        let mut f = vec![1, 0, 1];
        f.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
        f.extend_from_slice(payload);
        f.push(0xce);
        f
    };
    let mut wire = BytesMut::from(&frame(&payload)[..]);
    wire.extend_from_slice(&[0xff; 40]);
    let Some(Frame::Method { method, .. }) = Decoder::default().decode(&mut wire).unwrap() else {
        panic!("a method frame");
    };
    let Method::BasicDeliver(m) = method else {
        panic!("basic.deliver");
    };
    assert_eq!((m.exchange.as_str(), m.routing_key.as_str()), ("e", "rk"));
    assert_eq!(m.routing_key, ShortString::try_new("rk").unwrap());

    // A shortstr claiming more than its payload holds is truncated, even
    // where the bytes past the payload are not UTF-8.
    let mut short = payload;
    short[17] = 9;
    let mut wire = BytesMut::from(&frame(&short)[..]);
    wire.extend_from_slice(&[0xff; 40]);
    assert_eq!(
        Decoder::default().decode(&mut wire),
        Err(Error::payload(60, 60, PayloadError::Truncated))
    );
}
