use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::codec::{Decoder, encode};
use crate::config::Limits;
use crate::field_table::{FieldTable, FieldValue};
use crate::frame::Frame;
use crate::method::BasicDeliver;
use crate::method::strategies::{basic_deliver, method};
use crate::properties::BasicProperties;
use crate::strategies::{basic_properties, content_header};
use crate::string::ShortString;

/// Frames on channel 1: whole messages (whose bodies may be split), lone
/// methods, and stray headers, bodies and heartbeats that break the order.
fn frames() -> impl Strategy<Value = Vec<Frame>> {
    // Properties vary from message to message, so that a header decoded
    // into the last one's box must overwrite all of it; headers tables
    // often of like shapes, so that one is decoded over another entry by
    // entry.
    // Deliveries vary too, so that one decoded over the last must
    // overwrite all of its arguments.
    let message = (
        vec(vec(any::<u8>(), 0..40), 0..4),
        any::<bool>(),
        basic_properties(),
        proptest::option::of(like_tables()),
        basic_deliver(),
    );
    let message = message.prop_map(|(parts, empty, mut properties, like, deliver)| {
        if like.is_some() {
            properties.headers = like;
        }
        let len: usize = parts.iter().map(Vec::len).sum();
        let mut header = ContentHeader::basic(len as u64, properties);
        if empty {
            header.body_size = 0;
        }
        let mut out = vec![
            Frame::Method {
                channel: 1,
                method: deliver.into(),
            },
            Frame::Header {
                channel: 1,
                header: Box::new(header),
            },
        ];
        if !empty {
            out.extend(parts.into_iter().map(|p| Frame::Body {
                channel: 1,
                payload: Bytes::from(p),
            }));
        }
        out
    });
    let stray = prop_oneof![
        method().prop_map(|method| vec![Frame::Method { channel: 1, method }]),
        content_header().prop_map(|h| vec![Frame::Header {
            channel: 1,
            header: Box::new(h)
        }]),
        vec(any::<u8>(), 0..20).prop_map(|b| vec![Frame::Body {
            channel: 1,
            payload: Bytes::from(b)
        }]),
        Just(vec![Frame::Heartbeat]),
    ];
    vec(prop_oneof![4 => message, 1 => stray], 0..8).prop_map(|v| v.into_iter().flatten().collect())
}

/// Tables from a few keys and value types, nested, so that consecutive
/// ones often share entries' keys and types and differ in length, some
/// types and nested tables.
fn like_tables() -> impl Strategy<Value = FieldTable> {
    let key = prop::sample::select(vec!["x-retry", "x-trace", "k"])
        .prop_map(|k| ShortString::try_from(k).unwrap());
    let value = prop_oneof![
        (0..3i32).prop_map(FieldValue::I32),
        prop::sample::select(vec!["", "trace", "a much longer trace id"])
            .prop_map(FieldValue::from),
        Just(FieldValue::Void),
    ];
    let value = value.prop_recursive(3, 12, 3, move |inner| {
        vec((key.clone(), inner), 0..3).prop_map(|v| FieldValue::Table(FieldTable::from(v)))
    });
    let key = prop::sample::select(vec!["x-retry", "x-trace", "k"])
        .prop_map(|k| ShortString::try_from(k).unwrap());
    vec((key, value), 0..4).prop_map(FieldTable::from)
}

/// Commands (and heartbeats, as `None`) through `Decoder::decode` and the
/// assembler's frame methods, up to the first error.
fn through_frames(mut buf: BytesMut) -> (Vec<Option<Command>>, Option<Error>) {
    let mut d = Decoder::new(Limits::default());
    let mut a = ContentAssembler::new(100);
    let mut out = Vec::new();
    loop {
        let r = d.decode(&mut buf).and_then(|f| {
            Ok(match f {
                None => return Ok(false),
                Some(Frame::Method { method, .. }) => a.method(method)?.map(Some),
                Some(Frame::Header { header, .. }) => a.header(header)?.map(Some),
                Some(Frame::Body { payload, .. }) => a.body(payload)?.map(Some),
                Some(Frame::Heartbeat) => Some(None),
            })
            .map(|c| {
                out.extend(c);
                true
            })
        });
        match r {
            Ok(true) => {}
            Ok(false) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

/// The same through `Decoder::decode_into`, each command read in place
/// (and cloned) or, if `take`, taken.
fn in_place(mut buf: BytesMut, take: bool) -> (Vec<Option<Command>>, Option<Error>) {
    let mut d = Decoder::new(Limits::default());
    let mut a = ContentAssembler::new(100);
    let mut out = Vec::new();
    loop {
        match d.decode_into(&mut buf, &mut a) {
            Ok(None) => return (out, None),
            Ok(Some(Assembled::Heartbeat)) => out.push(None),
            Ok(Some(Assembled::Partial)) => {
                assert!(a.command().is_none());
                assert!(a.take_command().is_none());
            }
            Ok(Some(Assembled::Complete)) if take => out.push(Some(a.take_command().unwrap())),
            Ok(Some(Assembled::Complete)) => out.push(Some(a.command().unwrap().clone())),
            Err(e) => return (out, Some(e)),
        }
    }
}

proptest! {
    #[test]
    fn decoding_in_place_matches_the_frame_path(
        frames in frames(),
        flip in proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
    ) {
        let mut buf = BytesMut::new();
        for f in &frames {
            encode(f, &mut buf).unwrap();
        }
        if let Some((at, x)) = flip
            && !buf.is_empty()
        {
            let at = at.index(buf.len());
            buf[at] ^= x;
        }
        let frames = through_frames(buf.clone());
        prop_assert_eq!(&in_place(buf.clone(), true), &frames);
        prop_assert_eq!(&in_place(buf, false), &frames);
    }
}

#[test]
fn out_of_order_frames_fail_in_place_too() {
    let mut buf = BytesMut::new();
    let deliver = Frame::Method {
        channel: 1,
        method: BasicDeliver::default().into(),
    };
    encode(&deliver, &mut buf).unwrap();
    encode(&deliver, &mut buf).unwrap();
    let (done, e) = in_place(buf, false);
    assert!(done.is_empty());
    let e = e.unwrap();
    assert_eq!(
        e,
        Error::UnexpectedFrame {
            expected: FrameKind::Header,
            got: FrameKind::Method
        }
    );
    assert_eq!(e.reply_code(), 505);
}

#[test]
fn commands_read_in_place_reuse_the_header_box() {
    let mut props = BasicProperties {
        content_type: Some("text/plain".try_into().unwrap()),
        headers: Some(vec![("a".try_into().unwrap(), 1i32.into())].into()),
        ..BasicProperties::default()
    };
    let mut buf = BytesMut::new();
    for _ in 0..2 {
        encode(
            &Frame::Method {
                channel: 1,
                method: BasicDeliver::default().into(),
            },
            &mut buf,
        )
        .unwrap();
        encode(
            &Frame::Header {
                channel: 1,
                header: Box::new(ContentHeader::basic(0, props.clone())),
            },
            &mut buf,
        )
        .unwrap();
        props = BasicProperties::default();
    }
    let mut d = Decoder::new(Limits::default());
    let mut a = ContentAssembler::new(100);
    let mut seen = Vec::new();
    while let Some(done) = d.decode_into(&mut buf, &mut a).unwrap() {
        if done == Assembled::Complete {
            let header = &a.command().unwrap().content.as_ref().unwrap().header;
            seen.push((
                std::ptr::from_ref::<ContentHeader>(header),
                header.properties.clone(),
            ));
        }
    }
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].0, seen[1].0,
        "the second header reuses the first's box"
    );
    assert_eq!(seen[0].1.content_type.as_deref(), Some("text/plain"));
    assert_eq!(
        seen[1].1,
        BasicProperties::default(),
        "nothing left of the first"
    );
    assert!(a.is_idle());
    a.reset();
    assert!(a.command().is_none());
}
