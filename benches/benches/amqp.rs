//! AMQP 0-9-1 hot paths, ours beside amq-protocol (lapin's codec) on the
//! same bytes in the same run.
//!
//! Decode starts from a consumer's wire bytes (`basic.deliver`, content
//! header, body frames at frame-max 131072) and ends with whole messages in
//! hand. The rows come in two sets:
//!
//! * with the read (`ours`, `amq-protocol/frames`...): both sides first copy
//!   the wire slice into their own buffer inside the timed loop, standing in
//!   for the socket read. The copy costs both the same, and with 1 MiB
//!   bodies it is nearly all of our time, which caps the ratio there;
//! * without it (`.../owned`): each side is handed its own buffer holding
//!   the wire, made untimed (criterion's `iter_batched`, `LargeInput`):
//!   ours a `BytesMut` taken over from a `Vec` without a copy,
//!   amq-protocol's parser the `Vec` itself. Dropping the buffer is timed
//!   on both sides.
//!
//! Ours runs `Decoder::decode_into` into a `ContentAssembler`, which hands
//! the body on as slices of the read buffer, one per body frame, copying
//! nothing. `ours` reads each message where it was assembled, as a
//! consumer loop would (`ContentAssembler::command`: a `&Command` valid
//! until the channel's next frame; the assembler reuses its header box and
//! headers table from one message to the next); the loop reads the body
//! length and hands the borrowed command to `black_box`. `ours/take` takes
//! each message out as an owned `Command` (`take_command`) instead, one
//! header box and table allocated per message, as amq-protocol's rows own
//! theirs. `ours/frames` goes through `Frame`s (`Decoder::decode` and the
//! assembler's frame methods), owned too.
//! amq-protocol's `parse_frame` yields frames only, each body frame copied
//! into a `Vec`; lapin assembles them in its channel code, so two rows are
//! given: frames only (`amq-protocol/frames`) and frames gathered into
//! messages the cheapest way, reusing a lone body frame's `Vec` and
//! reserving the whole body once a second frame comes
//! (`amq-protocol/assembled`).
//!
//! Encode writes one publish (method, header, body frames) into a reused
//! buffer; `ours/vectored` queues it for a vectored write instead, body
//! frames of 2 KiB or more as slices of the body rather than copies. amq-protocol's frames are built once outside the loop (lapin
//! copies each body chunk into a new `Vec` per publish; that cost is not
//! counted here).
//!
//! Run: `cargo bench -p benches --bench amqp -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use amq_protocol::frame::{AMQPFrame, WriteContext, gen_frame, parse_frame};
use amq_protocol::types::generation::gen_field_table;
use amq_protocol::types::parsing::parse_field_table;
use amqp_codec::{
    Assembled, ContentAssembler, Decoder, FieldTable, Frame, Limits, OutputQueue, encode_content,
    encode_content_shared, encode_method,
};
use benches::amqp::{FRAME_MAX, deliveries, properties, publish, table, table_bytes};
use benches::binary;
use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Body sizes and how many messages one iteration decodes.
const SIZES: [(&str, usize, usize); 3] = [
    ("100B", 100, 1000),
    ("4KiB", 4 << 10, 256),
    ("1MiB", 1 << 20, 4),
];

/// Whole messages out of `buf` with our `Decoder::decode_into` and a
/// `ContentAssembler`, each read in place; returns the body bytes seen.
fn ours_decode(mut buf: BytesMut) -> usize {
    let mut d = Decoder::new(Limits::default());
    d.set_frame_max(FRAME_MAX);
    let mut channel = ContentAssembler::new(d.limits().max_body_size);
    let mut n = 0;
    while let Some(done) = d.decode_into(&mut buf, &mut channel).unwrap() {
        if done == Assembled::Complete
            && let Some(c) = channel.command()
        {
            n += c.content.as_ref().map_or(0, |c| c.body.len());
            black_box(c);
        }
    }
    n
}

/// The same, each message taken out as an owned `Command`.
fn ours_take(mut buf: BytesMut) -> usize {
    let mut d = Decoder::new(Limits::default());
    d.set_frame_max(FRAME_MAX);
    let mut channel = ContentAssembler::new(d.limits().max_body_size);
    let mut n = 0;
    while let Some(done) = d.decode_into(&mut buf, &mut channel).unwrap() {
        if done == Assembled::Complete
            && let Some(c) = channel.take_command()
        {
            n += c.content.as_ref().map_or(0, |c| c.body.len());
            black_box(c);
        }
    }
    n
}

/// The same through `Frame`s: `Decoder::decode`, then the assembler's
/// `method`/`header`/`body`.
fn ours_frames(mut buf: BytesMut) -> usize {
    let mut d = Decoder::new(Limits::default());
    d.set_frame_max(FRAME_MAX);
    let mut channel = ContentAssembler::new(d.limits().max_body_size);
    let mut n = 0;
    while let Some(f) = d.decode(&mut buf).unwrap() {
        let done = match f {
            Frame::Method { method, .. } => channel.method(method),
            Frame::Header { header, .. } => channel.header(header),
            Frame::Body { payload, .. } => channel.body(payload),
            Frame::Heartbeat => Ok(None),
        };
        if let Some(c) = done.unwrap() {
            n += c.content.as_ref().map_or(0, |c| c.body.len());
            black_box(c);
        }
    }
    n
}

/// amq-protocol frames out of `buf`; returns the body bytes seen.
fn theirs_frames(buf: Vec<u8>) -> usize {
    let mut i = &buf[..];
    let mut n = 0;
    while !i.is_empty() {
        let (rest, f) = parse_frame(i).unwrap();
        i = rest;
        if let AMQPFrame::Body(_, data) = &f {
            n += data.len();
        }
        black_box(f);
    }
    n
}

/// amq-protocol frames gathered into messages; returns the body bytes seen.
fn theirs_assembled(buf: Vec<u8>) -> usize {
    let mut i = &buf[..];
    let mut method = None;
    let mut header = None;
    let mut body: Vec<u8> = Vec::new();
    let mut n = 0;
    while !i.is_empty() {
        let (rest, f) = parse_frame(i).unwrap();
        i = rest;
        match f {
            AMQPFrame::Method(_, m) => method = Some(m),
            AMQPFrame::Header(_, _, h) => header = Some(h),
            AMQPFrame::Body(_, data) => {
                let size = header.as_ref().map_or(0, |h| h.body_size);
                if body.is_empty() {
                    body = data;
                } else {
                    let total = usize::try_from(size).unwrap();
                    body.reserve_exact(total.saturating_sub(body.len()));
                    body.extend_from_slice(&data);
                }
                if body.len() as u64 == size {
                    n += body.len();
                    black_box((method.take(), header.take(), std::mem::take(&mut body)));
                }
            }
            _ => {}
        }
    }
    n
}

/// Our read buffer holding `wire`, taken over from a `Vec` of it without
/// copying (`BytesMut` has no `From<Vec<u8>>`; through `Bytes`, it keeps
/// the `Vec`'s allocation, which nothing else shares).
fn owned(wire: &[u8]) -> BytesMut {
    let v = wire.to_vec();
    let at = v.as_ptr();
    let buf = BytesMut::from(Bytes::from(v));
    debug_assert_eq!(buf.as_ptr(), at);
    buf
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("amqp_decode");
    for (label, size, count) in SIZES {
        let wire = deliveries(&binary(size), count);
        let total = size * count;
        assert_eq!(ours_decode(owned(&wire)), total);
        assert_eq!(ours_take(owned(&wire)), total);
        assert_eq!(ours_frames(owned(&wire)), total);
        assert_eq!(theirs_frames(wire.clone()), total);
        assert_eq!(theirs_assembled(wire.clone()), total);
        g.throughput(Throughput::Elements(count as u64));
        // With the read: each side copies the wire into its own buffer.
        g.bench_with_input(BenchmarkId::new("ours", label), &wire, |b, w| {
            b.iter(|| ours_decode(BytesMut::from(&w[..])));
        });
        g.bench_with_input(BenchmarkId::new("ours/take", label), &wire, |b, w| {
            b.iter(|| ours_take(BytesMut::from(&w[..])));
        });
        g.bench_with_input(BenchmarkId::new("ours/frames", label), &wire, |b, w| {
            b.iter(|| ours_frames(BytesMut::from(&w[..])));
        });
        g.bench_with_input(
            BenchmarkId::new("amq-protocol/frames", label),
            &wire,
            |b, w| b.iter(|| theirs_frames(w.to_vec())),
        );
        g.bench_with_input(
            BenchmarkId::new("amq-protocol/assembled", label),
            &wire,
            |b, w| b.iter(|| theirs_assembled(w.to_vec())),
        );
        // Without it: each side is handed its own buffer, filled untimed.
        g.bench_with_input(BenchmarkId::new("ours/owned", label), &wire, |b, w| {
            b.iter_batched(|| owned(w), ours_decode, BatchSize::LargeInput);
        });
        g.bench_with_input(
            BenchmarkId::new("amq-protocol/frames/owned", label),
            &wire,
            |b, w| b.iter_batched(|| w.clone(), theirs_frames, BatchSize::LargeInput),
        );
        g.bench_with_input(
            BenchmarkId::new("amq-protocol/assembled/owned", label),
            &wire,
            |b, w| b.iter_batched(|| w.clone(), theirs_assembled, BatchSize::LargeInput),
        );
    }
    g.finish();
}

/// amq-protocol's frames for one publish of `body`, as parsed from ours.
fn their_publish_frames(body: &[u8]) -> (Vec<AMQPFrame>, usize) {
    let mut wire = BytesMut::new();
    encode_method(1, &publish(), &mut wire).unwrap();
    encode_content(1, 60, &properties(), body, FRAME_MAX, &mut wire).unwrap();
    let mut frames = Vec::new();
    let mut i = &wire[..];
    while !i.is_empty() {
        let (rest, f) = parse_frame(i).unwrap();
        frames.push(f);
        i = rest;
    }
    (frames, wire.len())
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("amqp_encode");
    let method = publish();
    let props = properties();
    for (label, size, _) in SIZES {
        let body = binary(size);
        let (frames, wire_len) = their_publish_frames(&body);
        g.throughput(Throughput::Elements(1));
        let mut buf = BytesMut::with_capacity(wire_len);
        g.bench_function(BenchmarkId::new("ours", label), |b| {
            b.iter(|| {
                buf.clear();
                encode_method(1, &method, &mut buf).unwrap();
                encode_content(1, 60, &props, black_box(&body), FRAME_MAX, &mut buf).unwrap();
                assert_eq!(buf.len(), wire_len);
            });
        });
        // The same frames queued for a vectored write, big body frames as
        // slices of the caller's `Bytes` (what `Connection::publish_bytes`
        // does); draining the queue stands in for the `writev`.
        let shared = Bytes::from(body.clone());
        let mut q = OutputQueue::new();
        g.bench_function(BenchmarkId::new("ours/vectored", label), |b| {
            b.iter(|| {
                encode_method(1, &method, q.buffer()).unwrap();
                encode_content_shared(1, 60, &props, black_box(&shared), FRAME_MAX, &mut q)
                    .unwrap();
                assert_eq!(q.len(), wire_len);
                while let Some(part) = q.pop() {
                    black_box(part);
                }
            });
        });
        let mut out: Vec<u8> = Vec::with_capacity(wire_len);
        g.bench_function(BenchmarkId::new("amq-protocol", label), |b| {
            b.iter(|| {
                out.clear();
                let mut ctx = WriteContext::from(std::mem::take(&mut out));
                for f in black_box(&frames) {
                    ctx = gen_frame(f)(ctx).unwrap();
                }
                out = ctx.into_inner().0;
                assert_eq!(out.len(), wire_len);
            });
        });
    }
    g.finish();
}

fn field_table(c: &mut Criterion) {
    let mut g = c.benchmark_group("amqp_field_table");
    let wire = table_bytes();
    let shared = Bytes::from(wire.clone());
    let limits = Limits::default();
    let ours = FieldTable::decode(&shared, &limits).unwrap();
    assert_eq!(ours, table());
    let (rest, theirs) = parse_field_table(&wire[..]).unwrap();
    assert!(rest.is_empty());
    assert_eq!(theirs.inner().len(), ours.len());
    g.throughput(Throughput::Bytes(wire.len() as u64));
    g.bench_function("decode/ours", |b| {
        b.iter(|| FieldTable::decode(black_box(&shared), &limits).unwrap());
    });
    g.bench_function("decode/amq-protocol", |b| {
        b.iter(|| parse_field_table(black_box(&wire[..])).unwrap());
    });
    let mut buf = BytesMut::with_capacity(wire.len());
    g.bench_function("encode/ours", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&ours).encode(&mut buf).unwrap();
            assert_eq!(buf.len(), wire.len());
        });
    });
    let mut out: Vec<u8> = Vec::with_capacity(wire.len());
    g.bench_function("encode/amq-protocol", |b| {
        b.iter(|| {
            out.clear();
            let ctx = WriteContext::from(std::mem::take(&mut out));
            out = gen_field_table(black_box(&theirs))(ctx)
                .unwrap()
                .into_inner()
                .0;
            assert_eq!(out.len(), wire.len());
        });
    });
    g.finish();
}

criterion_group!(benches, decode, encode, field_table);
criterion_main!(benches);
