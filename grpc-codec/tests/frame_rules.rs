//! The frame-level rules of RFC 9113 §4-§6 for the frame format and size,
//! stream 0, padding, the frames that carry field blocks and PRIORITY,
//! each with its error code and kind (connection or stream error), on
//! hand-built wire bytes. The fixed-layout control frames are in
//! `control_frame_rules.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

mod frame_support;

use bytes::{Bytes, BytesMut};
use frame_support::*;
use grpc_codec::codec::encode;
use grpc_codec::frame::{
    Continuation, Data, Headers, Ping, Priority, PrioritySpec, PushPromise, RstStream, Unknown,
    flags,
};
use grpc_codec::{Decoder, ErrorCode, Frame, FrameType, Limits, Reason};

// ---- §4.1 frame format ----

#[test]
fn incomplete_input_consumes_nothing() {
    let wire = raw(DATA, 0, 1, b"hello");
    let mut d = Decoder::default();
    for n in 0..wire.len() {
        let mut buf = BytesMut::from(&wire[..n]);
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert_eq!(buf.len(), n);
    }
}

#[test]
fn payload_is_split_off_without_copy() {
    let wire = raw(DATA, 0, 1, b"hello");
    let mut buf = BytesMut::from(&wire[..]);
    let base = buf.as_ptr() as usize;
    let Some(Frame::Data(d)) = Decoder::default().decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(d.data.as_ptr() as usize, base + 9);
}

#[test]
fn unknown_frame_types_are_kept_to_be_ignored() {
    let f = decode_one(&raw(0xfa, 0xff, 0x8000_0007, b"xyz"));
    assert_eq!(
        f,
        Frame::Unknown(Unknown {
            frame_type: 0xfa,
            flags: 0xff,
            stream_id: sid(7),
            payload: Bytes::from_static(b"xyz"),
        })
    );
    assert_eq!(f.frame_type(), FrameType(0xfa));
    // Stream 0 and any length are fine for an extension type.
    assert!(matches!(
        decode_one(&raw(0x10, 0, 0, &[])),
        Frame::Unknown(_)
    ));
}

#[test]
fn unknown_flags_are_ignored_and_not_sent() {
    // 0xf6 has none of DATA's flags (END_STREAM 0x1, PADDED 0x8).
    let f = decode_one(&raw(DATA, 0xf6, 1, b"ab"));
    assert_eq!(
        f,
        Frame::Data(Data::new(sid(1), Bytes::from_static(b"ab"), false))
    );
    let mut out = BytesMut::new();
    encode(&f, &mut out).unwrap();
    assert_eq!(&out[..], &raw(DATA, 0, 1, b"ab")[..]);
    let p = decode_one(&raw(PING, 0xfe, 0, &[0; 8]));
    assert_eq!(
        p,
        Frame::Ping(Ping {
            ack: false,
            data: [0; 8]
        })
    );
}

#[test]
fn reserved_stream_bit_is_ignored_and_cleared() {
    let f = decode_one(&raw(RST_STREAM, 0, 0x8000_0003, &[0, 0, 0, 8]));
    assert_eq!(
        f,
        Frame::RstStream(RstStream {
            stream_id: sid(3),
            code: ErrorCode::CANCEL
        })
    );
    let mut out = BytesMut::new();
    encode(&f, &mut out).unwrap();
    assert_eq!(&out[5..9], &[0, 0, 0, 3]);
    // PUSH_PROMISE's promised id, GOAWAY's last id and the window
    // increment have the same reserved bit.
    let pp = decode_one(&raw(PUSH_PROMISE, 4, 1, &[0x80, 0, 0, 2]));
    assert!(matches!(pp, Frame::PushPromise(p) if p.promised_id == sid(2)));
    let ga = decode_one(&raw(GOAWAY, 0, 0, &[0x80, 0, 0, 5, 0, 0, 0, 0]));
    assert!(matches!(ga, Frame::GoAway(g) if g.last_stream_id == sid(5)));
    let wu = decode_one(&raw(WINDOW_UPDATE, 0, 0, &[0x80, 0, 0, 1]));
    assert!(matches!(wu, Frame::WindowUpdate(w) if w.increment == 1));
}

// ---- §4.2 frame size ----

#[test]
fn frame_over_max_frame_size_fails_on_its_header() {
    for t in [DATA, HEADERS, PRIORITY, SETTINGS, WINDOW_UPDATE, 0xfa] {
        let mut hdr = raw(t, 0, 1, &[]);
        hdr[0..3].copy_from_slice(&[0, 0x40, 0x01]); // 16385
        let e = err(&hdr);
        assert_conn(&e, ErrorCode::FRAME_SIZE_ERROR);
        assert_eq!(
            e.reason(),
            Some(&Reason::FrameTooLarge {
                size: 16_385,
                limit: 16_384
            })
        );
    }
}

#[test]
fn max_frame_size_is_adjustable() {
    let big = raw(DATA, 0, 1, &vec![0; 16_385]);
    let exact = raw(DATA, 0, 1, &vec![0; 16_384]);
    assert!(decode_all(&exact).is_ok());
    let mut d = Decoder::default();
    d.set_max_frame_size(4 << 20);
    assert_eq!(d.max_frame_size(), 4 << 20);
    assert!(decode_with(&mut d, &big).is_ok());
    // Values outside what SETTINGS_MAX_FRAME_SIZE allows are clamped.
    d.set_max_frame_size(0);
    assert_eq!(d.max_frame_size(), 16_384);
    d.set_max_frame_size(u32::MAX);
    assert_eq!(d.max_frame_size(), 16_777_215);
}

// ---- stream 0 (§6.1-§6.10) ----

#[test]
fn stream_frames_on_stream_zero_are_protocol_errors() {
    let cases: [(u8, u8, &[u8]); 6] = [
        (DATA, 0, b""),
        (HEADERS, 4, b""),
        (PRIORITY, 0, &[0, 0, 0, 1, 16]),
        (RST_STREAM, 0, &[0, 0, 0, 8]),
        (PUSH_PROMISE, 4, &[0, 0, 0, 2]),
        (CONTINUATION, 4, b""),
    ];
    for (t, fl, p) in cases {
        let e = err(&raw(t, fl, 0, p));
        assert_conn(&e, ErrorCode::PROTOCOL_ERROR);
        assert_eq!(
            e.reason(),
            Some(&Reason::StreamIdRequired(FrameType(t))),
            "{t}"
        );
    }
}

#[test]
fn connection_frames_on_a_stream_are_protocol_errors() {
    let cases: [(u8, &[u8]); 3] = [(SETTINGS, b""), (PING, &[0; 8]), (GOAWAY, &[0; 8])];
    for (t, p) in cases {
        let e = err(&raw(t, 0, 1, p));
        assert_conn(&e, ErrorCode::PROTOCOL_ERROR);
        assert_eq!(e.reason(), Some(&Reason::StreamIdForbidden(FrameType(t))));
    }
}

// ---- padding (§6.1, §6.2, §6.6) ----

#[test]
fn padding() {
    let f = decode_one(&raw(
        DATA,
        flags::PADDED | flags::END_STREAM,
        1,
        b"\x02ab\0\0",
    ));
    assert_eq!(
        f,
        Frame::Data(Data {
            stream_id: sid(1),
            data: Bytes::from_static(b"ab"),
            end_stream: true,
            pad_len: Some(2),
        })
    );
    let Frame::Data(d) = &f else { panic!() };
    assert_eq!(d.flow_controlled_len(), 5);
    // Padding that leaves exactly nothing is fine.
    let f = decode_one(&raw(DATA, flags::PADDED, 1, b"\x02\0\0"));
    assert!(matches!(f, Frame::Data(d) if d.data.is_empty() && d.pad_len == Some(2)));
}

#[test]
fn padding_as_long_as_the_payload_is_a_protocol_error() {
    for (t, fl, p) in [
        (DATA, flags::PADDED, &b"\x04ab\0"[..]),
        (DATA, flags::PADDED, b"\x01"),
        (DATA, flags::PADDED, b"\xff"),
        (HEADERS, flags::PADDED | flags::END_HEADERS, b"\x04abc"),
        (
            HEADERS,
            flags::PADDED | flags::PRIORITY | flags::END_HEADERS,
            b"\x01\0\0\0\x03\x10",
        ),
        (
            PUSH_PROMISE,
            flags::PADDED | flags::END_HEADERS,
            b"\x01\0\0\0\x02",
        ),
    ] {
        let e = err(&raw(t, fl, 1, p));
        assert_conn(&e, ErrorCode::PROTOCOL_ERROR);
        assert!(
            matches!(e.reason(), Some(Reason::PaddingTooLong { .. })),
            "{e:?}"
        );
    }
}

#[test]
fn too_short_for_announced_fields_is_a_frame_size_error() {
    for (t, fl, p) in [
        (DATA, flags::PADDED, &b""[..]),
        (HEADERS, flags::PADDED | flags::END_HEADERS, b""),
        (HEADERS, flags::PRIORITY | flags::END_HEADERS, b"\0\0\0\x03"),
        (PUSH_PROMISE, flags::END_HEADERS, b"\0\0\x02"),
        (
            PUSH_PROMISE,
            flags::PADDED | flags::END_HEADERS,
            b"\0\0\0\x02",
        ),
    ] {
        assert_conn(&err(&raw(t, fl, 1, p)), ErrorCode::FRAME_SIZE_ERROR);
    }
}

// ---- HEADERS (§6.2) ----

#[test]
fn headers_fields() {
    let f = decode_one(&raw(
        HEADERS,
        flags::PADDED | flags::PRIORITY | flags::END_HEADERS | flags::END_STREAM,
        3,
        b"\x01\x80\0\0\x01\x0f\x82\0",
    ));
    assert_eq!(
        f,
        Frame::Headers(Headers {
            stream_id: sid(3),
            fragment: Bytes::from_static(b"\x82"),
            end_stream: true,
            end_headers: true,
            pad_len: Some(1),
            priority: Some(PrioritySpec {
                exclusive: true,
                dependency: sid(1),
                weight: 15,
            }),
        })
    );
    let Frame::Headers(h) = f else { panic!() };
    assert_eq!(h.priority_error(), None);
}

#[test]
fn headers_depending_on_itself_is_delivered_then_a_stream_error() {
    // The block must still reach HPACK, so the decoder delivers it.
    let f = decode_one(&raw(
        HEADERS,
        flags::PRIORITY | flags::END_HEADERS,
        3,
        b"\0\0\0\x03\x10\x82",
    ));
    let Frame::Headers(h) = f else { panic!() };
    assert_eq!(h.fragment, Bytes::from_static(b"\x82"));
    let e = h.priority_error().unwrap();
    assert_stream(&e, 3, ErrorCode::PROTOCOL_ERROR);
    assert_eq!(e.reason(), Some(&Reason::SelfDependency));
}

// ---- PRIORITY (§6.3) ----

#[test]
fn priority_parsed() {
    let f = decode_one(&raw(PRIORITY, 0, 3, &[0, 0, 0, 1, 255]));
    assert_eq!(
        f,
        Frame::Priority(Priority {
            stream_id: sid(3),
            spec: PrioritySpec {
                exclusive: false,
                dependency: sid(1),
                weight: 255
            },
        })
    );
}

#[test]
fn priority_of_wrong_length_is_a_stream_error_and_consumed() {
    for len in [0, 4, 6] {
        let mut wire = raw(PRIORITY, 0, 5, &vec![0; len]);
        wire.extend(raw(PING, 0, 0, &[1; 8]));
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(&wire[..]);
        let e = d.decode(&mut buf).unwrap_err();
        assert_stream(&e, 5, ErrorCode::FRAME_SIZE_ERROR);
        assert_eq!(
            e.reason(),
            Some(&Reason::BadLength {
                frame: FrameType::PRIORITY,
                len: u32::try_from(len).unwrap()
            })
        );
        // The frame is gone; the connection goes on.
        assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Ping(_)))));
    }
}

#[test]
fn priority_depending_on_itself_is_a_stream_error() {
    let e = err(&raw(PRIORITY, 0, 5, &[0x80, 0, 0, 5, 0]));
    assert_stream(&e, 5, ErrorCode::PROTOCOL_ERROR);
    assert_eq!(e.reason(), Some(&Reason::SelfDependency));
}

// ---- PUSH_PROMISE (§6.6) ----

#[test]
fn push_promise() {
    let f = decode_one(&raw(
        PUSH_PROMISE,
        flags::PADDED | flags::END_HEADERS,
        1,
        b"\x01\0\0\0\x02\x82\0",
    ));
    assert_eq!(
        f,
        Frame::PushPromise(PushPromise {
            stream_id: sid(1),
            promised_id: sid(2),
            fragment: Bytes::from_static(b"\x82"),
            end_headers: true,
            pad_len: Some(1),
        })
    );
}

// ---- CONTINUATION (§4.3, §6.10) ----

#[test]
fn header_block_across_continuations() {
    let mut wire = raw(HEADERS, flags::END_STREAM, 1, b"\x82");
    wire.extend(raw(CONTINUATION, 0, 1, b"\x86"));
    wire.extend(raw(CONTINUATION, flags::END_HEADERS, 1, b"\x84"));
    wire.extend(raw(DATA, 0, 1, b"x"));
    let mut d = Decoder::default();
    let mut buf = BytesMut::from(&wire[..]);
    assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Headers(h))) if !h.end_headers));
    assert_eq!(d.open_header_block(), Some(sid(1)));
    assert!(matches!(
        d.decode(&mut buf),
        Ok(Some(Frame::Continuation(_)))
    ));
    let f = d.decode(&mut buf).unwrap().unwrap();
    assert_eq!(
        f,
        Frame::Continuation(Continuation {
            stream_id: sid(1),
            fragment: Bytes::from_static(b"\x84"),
            end_headers: true,
        })
    );
    assert_eq!(d.open_header_block(), None);
    assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Data(_)))));
}

#[test]
fn anything_but_continuation_inside_a_block_is_a_protocol_error() {
    let interlopers = [
        raw(PRIORITY, 0, 1, &[0, 0, 0, 3, 0]),
        raw(PRIORITY, 0, 3, &[0, 0, 0, 1, 0]),
        raw(HEADERS, flags::END_HEADERS, 3, b"\x82"),
        raw(DATA, 0, 1, b""),
        raw(PING, 0, 0, &[0; 8]),
        raw(0xfa, 0, 0, b""),
        raw(CONTINUATION, flags::END_HEADERS, 3, b""),
    ];
    for first in [
        raw(HEADERS, 0, 1, b"\x82"),
        raw(PUSH_PROMISE, 0, 1, &[0, 0, 0, 2]),
    ] {
        for x in &interlopers {
            let mut wire = first.clone();
            wire.extend(raw(CONTINUATION, 0, 1, b""));
            wire.extend_from_slice(x);
            let e = err(&wire);
            assert_conn(&e, ErrorCode::PROTOCOL_ERROR);
            assert_eq!(
                e.reason(),
                Some(&Reason::ExpectedContinuation {
                    stream: sid(1),
                    got: FrameType(x[3])
                })
            );
        }
    }
}

#[test]
fn continuation_without_an_open_block_is_a_protocol_error() {
    let c = raw(CONTINUATION, flags::END_HEADERS, 1, b"\x82");
    for before in [
        Vec::new(),
        raw(HEADERS, flags::END_HEADERS, 1, b"\x82"),
        raw(DATA, 0, 1, b""),
        [
            raw(HEADERS, 0, 1, b""),
            raw(CONTINUATION, flags::END_HEADERS, 1, b""),
        ]
        .concat(),
    ] {
        let e = err(&[before, c.clone()].concat());
        assert_conn(&e, ErrorCode::PROTOCOL_ERROR);
        assert_eq!(e.reason(), Some(&Reason::UnexpectedContinuation));
    }
}

#[test]
fn header_block_size_is_limited() {
    let limits = Limits {
        max_header_block_size: 10,
        ..Limits::default()
    };
    let ok = [
        raw(HEADERS, 0, 1, &[0; 6]),
        raw(CONTINUATION, flags::END_HEADERS, 1, &[0; 4]),
    ]
    .concat();
    assert!(decode_with(&mut Decoder::new(limits), &ok).is_ok());
    let over = [
        raw(HEADERS, 0, 1, &[0; 6]),
        raw(CONTINUATION, flags::END_HEADERS, 1, &[0; 5]),
    ]
    .concat();
    let e = decode_with(&mut Decoder::new(limits), &over).unwrap_err();
    assert_conn(&e, ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(e.reason(), Some(&Reason::HeaderBlockTooLarge { limit: 10 }));
    // Padding does not count; a single frame can exceed the limit too.
    let padded = raw(HEADERS, flags::PADDED | flags::END_HEADERS, 1, &[20; 31]);
    assert!(decode_with(&mut Decoder::new(limits), &padded).is_ok());
    let single = raw(HEADERS, flags::END_HEADERS, 1, &[0; 11]);
    let e = decode_with(&mut Decoder::new(limits), &single).unwrap_err();
    assert_conn(&e, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn continuation_count_is_limited() {
    let limits = Limits {
        max_continuation_frames: 3,
        ..Limits::default()
    };
    let mut wire = raw(HEADERS, 0, 1, b"");
    for _ in 0..3 {
        wire.extend(raw(CONTINUATION, 0, 1, b""));
    }
    wire.extend(raw(CONTINUATION, flags::END_HEADERS, 1, b""));
    let e = decode_with(&mut Decoder::new(limits), &wire).unwrap_err();
    assert_conn(&e, ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(e.reason(), Some(&Reason::TooManyContinuations { limit: 3 }));
    let mut fine = raw(HEADERS, 0, 1, b"");
    fine.extend(raw(CONTINUATION, 0, 1, b""));
    fine.extend(raw(CONTINUATION, 0, 1, b""));
    fine.extend(raw(CONTINUATION, flags::END_HEADERS, 1, b""));
    assert!(decode_with(&mut Decoder::new(limits), &fine).is_ok());
}
