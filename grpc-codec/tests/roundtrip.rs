//! Round-trip laws of the frame codec, proptested: `decode(encode(f)) == f`
//! for every valid frame of every type, any split of the input into chunks
//! decodes to the same frames (or the same error), and the header-block
//! and DATA splitters cut without losing or reordering a byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use bytes::{Bytes, BytesMut};
use grpc_codec::codec::{data_frames, encode, header_frames, push_promise_frames};
use grpc_codec::frame::{
    Continuation, Data, GoAway, Headers, MAX_WINDOW_SIZE, Ping, Priority, PrioritySpec,
    PushPromise, RstStream, SettingsFrame, Unknown, WindowUpdate,
};
use grpc_codec::{Decoder, Error, ErrorCode, Frame, Limits, Setting, SettingId, StreamId};
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn stream() -> impl Strategy<Value = StreamId> {
    (1..=StreamId::MAX.value()).prop_map(StreamId::new)
}

fn any_stream() -> impl Strategy<Value = StreamId> {
    any::<u32>().prop_map(StreamId::new)
}

fn priority_spec() -> impl Strategy<Value = PrioritySpec> {
    (any::<bool>(), any_stream(), any::<u8>()).prop_map(|(exclusive, dependency, weight)| {
        PrioritySpec {
            exclusive,
            dependency,
            weight,
        }
    })
}

fn data() -> impl Strategy<Value = Frame> {
    (stream(), bytes(100), any::<bool>(), any::<Option<u8>>()).prop_map(
        |(stream_id, data, end_stream, pad_len)| {
            Frame::Data(Data {
                stream_id,
                data,
                end_stream,
                pad_len,
            })
        },
    )
}

fn headers(end_headers: bool) -> impl Strategy<Value = Headers> {
    (
        stream(),
        bytes(100),
        any::<bool>(),
        any::<Option<u8>>(),
        proptest::option::of(priority_spec()),
    )
        .prop_map(
            move |(stream_id, fragment, end_stream, pad_len, priority)| Headers {
                stream_id,
                fragment,
                end_stream,
                end_headers,
                pad_len,
                priority,
            },
        )
}

fn push_promise(end_headers: bool) -> impl Strategy<Value = PushPromise> {
    (stream(), any_stream(), bytes(100), any::<Option<u8>>()).prop_map(
        move |(stream_id, promised_id, fragment, pad_len)| PushPromise {
            stream_id,
            promised_id,
            fragment,
            end_headers,
            pad_len,
        },
    )
}

fn setting() -> impl Strategy<Value = Setting> {
    let known = [1u16, 2, 3, 4, 5, 6, 8, 9];
    prop_oneof![
        any::<u32>().prop_map(|v| Setting::new(SettingId::HEADER_TABLE_SIZE, v)),
        (0..=1u32).prop_map(|v| Setting::new(SettingId::ENABLE_PUSH, v)),
        any::<u32>().prop_map(|v| Setting::new(SettingId::MAX_CONCURRENT_STREAMS, v)),
        (0..=MAX_WINDOW_SIZE).prop_map(|v| Setting::new(SettingId::INITIAL_WINDOW_SIZE, v)),
        (16_384..=16_777_215u32).prop_map(|v| Setting::new(SettingId::MAX_FRAME_SIZE, v)),
        any::<u32>().prop_map(|v| Setting::new(SettingId::MAX_HEADER_LIST_SIZE, v)),
        (0..=1u32).prop_map(|v| Setting::new(SettingId::ENABLE_CONNECT_PROTOCOL, v)),
        (0..=1u32).prop_map(|v| Setting::new(SettingId::NO_RFC7540_PRIORITIES, v)),
        (
            any::<u16>().prop_filter("unknown id", move |i| !known.contains(i)),
            any::<u32>()
        )
            .prop_map(|(i, v)| Setting::new(SettingId(i), v)),
    ]
}

/// One valid frame of any type but CONTINUATION, whose field block is
/// complete in itself.
fn single_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        data(),
        headers(true).prop_map(Frame::Headers),
        (stream(), priority_spec())
            .prop_filter("no self-dependency", |(s, p)| p.dependency != *s)
            .prop_map(|(stream_id, spec)| Frame::Priority(Priority { stream_id, spec })),
        (stream(), any::<u32>()).prop_map(|(stream_id, c)| Frame::RstStream(RstStream {
            stream_id,
            code: ErrorCode(c)
        })),
        Just(Frame::Settings(SettingsFrame::ack())),
        vec(setting(), 0..10).prop_map(|p| Frame::Settings(SettingsFrame::new(p))),
        push_promise(true).prop_map(Frame::PushPromise),
        (any::<bool>(), any::<[u8; 8]>()).prop_map(|(ack, data)| Frame::Ping(Ping { ack, data })),
        (any_stream(), any::<u32>(), bytes(100)).prop_map(|(last_stream_id, c, debug_data)| {
            Frame::GoAway(GoAway {
                last_stream_id,
                code: ErrorCode(c),
                debug_data,
            })
        }),
        (any_stream(), 1..=WindowUpdate::MAX_INCREMENT).prop_map(|(stream_id, increment)| {
            Frame::WindowUpdate(WindowUpdate {
                stream_id,
                increment,
            })
        }),
        (10..=255u8, any::<u8>(), any_stream(), bytes(100)).prop_map(
            |(frame_type, flags, stream_id, payload)| Frame::Unknown(Unknown {
                frame_type,
                flags,
                stream_id,
                payload,
            })
        ),
    ]
}

/// A field block spread over HEADERS or PUSH_PROMISE and 1-3
/// CONTINUATIONs.
fn split_block() -> impl Strategy<Value = Vec<Frame>> {
    let first = prop_oneof![
        headers(false).prop_map(Frame::Headers),
        push_promise(false).prop_map(Frame::PushPromise),
    ];
    (first, vec(bytes(50), 1..4)).prop_map(|(first, fragments)| {
        let stream_id = first.stream_id();
        let n = fragments.len();
        let mut frames = vec![first];
        frames.extend(fragments.into_iter().enumerate().map(|(i, fragment)| {
            Frame::Continuation(Continuation {
                stream_id,
                fragment,
                end_headers: i + 1 == n,
            })
        }));
        frames
    })
}

/// Frames that are valid in a row: a single frame or a whole field block.
fn unit() -> impl Strategy<Value = Vec<Frame>> {
    prop_oneof![4 => single_frame().prop_map(|f| vec![f]), 1 => split_block()]
}

fn encode_all(frames: &[Frame]) -> BytesMut {
    let mut out = BytesMut::new();
    for f in frames {
        encode(f, &mut out).unwrap();
    }
    out
}

/// What a byte stream decodes to, fed in pieces cut at `cuts`: frames and
/// stream errors, then the connection error that stopped it.
fn decode_pieces(wire: &[u8], cuts: &[usize]) -> (Vec<Result<Frame, Error>>, Option<Error>) {
    let mut d = Decoder::default();
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.push(wire.len());
    points.sort_unstable();
    let mut at = 0;
    for p in points {
        buf.extend_from_slice(&wire[at..p]);
        at = p;
        loop {
            match d.decode(&mut buf) {
                Ok(Some(f)) => items.push(Ok(f)),
                Ok(None) => break,
                Err(e) if e.is_connection_error() => return (items, Some(e)),
                Err(e) => items.push(Err(e)),
            }
        }
    }
    (items, None)
}

proptest! {
    #[test]
    fn every_frame_type_round_trips(frames in unit()) {
        let wire = encode_all(&frames);
        let expected: usize = frames.iter().map(|f| 9 + f.payload_len()).sum();
        prop_assert_eq!(wire.len(), expected);
        let (items, fatal) = decode_pieces(&wire, &[]);
        prop_assert_eq!(fatal, None);
        let decoded: Vec<Frame> = items.into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(decoded, frames);
    }

    #[test]
    fn chunking_does_not_change_valid_streams(
        units in vec(unit(), 0..8),
        cuts in vec(any::<usize>(), 0..20),
    ) {
        let frames: Vec<Frame> = units.into_iter().flatten().collect();
        let wire = encode_all(&frames);
        let (items, fatal) = decode_pieces(&wire, &cuts);
        prop_assert_eq!(fatal, None);
        let decoded: Vec<Frame> = items.into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(decoded, frames);
    }

    #[test]
    fn chunking_does_not_change_errors(
        units in vec(unit(), 0..4),
        noise in vec(any::<u8>(), 0..64),
        more in vec(unit(), 0..4),
        cuts in vec(any::<usize>(), 0..20),
    ) {
        let mut wire = encode_all(&units.into_iter().flatten().collect::<Vec<_>>());
        wire.extend_from_slice(&noise);
        wire.extend_from_slice(&encode_all(&more.into_iter().flatten().collect::<Vec<_>>()));
        prop_assert_eq!(decode_pieces(&wire, &cuts), decode_pieces(&wire, &[]));
    }

    #[test]
    fn header_frames_cut_and_rejoin(
        h in headers(true),
        block in bytes(60_000),
        max in 16_384..40_000u32,
    ) {
        let h = Headers { fragment: block.clone(), ..h };
        let frames: Vec<Frame> = header_frames(h.clone(), max).collect();
        let mut joined = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            prop_assert!(f.payload_len() <= max as usize);
            prop_assert_eq!(f.stream_id(), h.stream_id);
            match f {
                Frame::Headers(x) if i == 0 => {
                    prop_assert_eq!(x.end_headers, frames.len() == 1);
                    prop_assert_eq!((x.end_stream, x.pad_len, x.priority), (h.end_stream, h.pad_len, h.priority));
                    joined.extend_from_slice(&x.fragment);
                }
                Frame::Continuation(c) if i > 0 => {
                    prop_assert_eq!(c.end_headers, i + 1 == frames.len());
                    joined.extend_from_slice(&c.fragment);
                }
                other => prop_assert!(false, "frame {} is {:?}", i, other),
            }
        }
        prop_assert_eq!(&joined[..], &block[..]);
        let mut d = Decoder::new(Limits { max_frame_size: max, max_header_block_size: 1 << 20, ..Limits::default() });
        let mut wire = encode_all(&frames);
        for f in &frames {
            let got = d.decode(&mut wire).unwrap();
            prop_assert_eq!(got.as_ref(), Some(f));
        }
    }

    #[test]
    fn push_promise_frames_cut_and_rejoin(p in push_promise(true), block in bytes(5_000), max in 300..2_000u32) {
        let p = PushPromise { fragment: block.clone(), ..p };
        let frames: Vec<Frame> = push_promise_frames(p, max).collect();
        let mut joined = Vec::new();
        for f in &frames {
            prop_assert!(f.payload_len() <= max as usize);
            match f {
                Frame::PushPromise(x) => joined.extend_from_slice(&x.fragment),
                Frame::Continuation(c) => joined.extend_from_slice(&c.fragment),
                other => prop_assert!(false, "{:?}", other),
            }
        }
        prop_assert_eq!(&joined[..], &block[..]);
    }

    #[test]
    fn data_frames_cut_and_rejoin(
        s in stream(),
        body in bytes(5_000),
        end_stream in any::<bool>(),
        max in 1..2_000u32,
    ) {
        let frames: Vec<Frame> = data_frames(s, body.clone(), end_stream, max).collect();
        let mut joined = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let Frame::Data(d) = f else { panic!("{f:?}") };
            prop_assert!(d.data.len() <= max as usize);
            prop_assert!(!d.data.is_empty() || body.is_empty());
            prop_assert_eq!(d.end_stream, end_stream && i + 1 == frames.len());
            joined.extend_from_slice(&d.data);
        }
        prop_assert_eq!(&joined[..], &body[..]);
        prop_assert_eq!(frames.is_empty(), body.is_empty() && !end_stream);
    }
}
