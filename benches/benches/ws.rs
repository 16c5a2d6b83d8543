//! WebSocket hot paths, ours beside tungstenite and fastwebsockets on the
//! same bytes in the same run.
//!
//! Every decode starts from the wire bytes in a slice and ends with the
//! payloads in hand: ours copies them into a fresh `BytesMut` (what a read
//! into our buffer costs), the peers read them through an in-memory stream
//! into theirs. fastwebsockets is async; its stream never returns
//! `Pending`, so it is polled with a no-op waker and no runtime.
//!
//! Run: `cargo bench -p benches -- --warm-up-time 1 --measurement-time 3`.

use std::future::Future;
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use benches::{KEY, binary, frames, text};
use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ws_codec::codec::encode_parts;
use ws_codec::deflate::{Deflate, DeflateParams};
use ws_codec::mask::apply_mask;
use ws_codec::utf8::Utf8Validator;
use ws_codec::{Config, Connection, Decoder, Event, OpCode, Role};

/// An in-memory transport: reads hand out `data`, writes are discarded.
struct Mem<'a> {
    data: &'a [u8],
}

impl Read for Mem<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.data.read(buf)
    }
}

impl Write for Mem<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for Mem<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = buf.remaining().min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        buf.put_slice(head);
        self.data = rest;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Mem<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Drives a future whose I/O never pends to completion.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Frame-level decode with our `Decoder` (server role: unmasking), text
/// payloads UTF-8-checked as fastwebsockets' `read_frame` does.
fn ours_decoder(wire: &[u8], text: bool) -> usize {
    let mut buf = BytesMut::from(wire);
    let mut d = Decoder::new(Role::Server, 16 << 20);
    let mut n = 0;
    while let Some(f) = d.decode(&mut buf).unwrap() {
        if text {
            Utf8Validator::validate(&f.payload).unwrap();
        }
        n += f.payload.len();
        black_box(f);
    }
    n
}

/// Message-level decode with our `Connection`, input in `read`-byte reads.
fn ours_connection(wire: &[u8], read: usize) -> usize {
    let mut c = Connection::from_upgraded(Role::Server, Config::default(), None);
    let mut n = 0;
    for chunk in wire.chunks(read) {
        c.handle_input(chunk).unwrap();
        while let Some(ev) = c.poll_event() {
            if let Event::Message(m) = ev {
                n += m.as_bytes().len();
                black_box(m);
            }
        }
    }
    n
}

/// Message-level decode with tungstenite's `WebSocket::read` (unmasks and
/// validates text: the only public read path that unmasks).
fn tungstenite_read(wire: &[u8], count: usize) -> usize {
    let mut ws = tungstenite::WebSocket::from_raw_socket(
        Mem { data: wire },
        tungstenite::protocol::Role::Server,
        None,
    );
    let mut n = 0;
    for _ in 0..count {
        let m = ws.read().unwrap();
        n += m.len();
        black_box(m);
    }
    n
}

/// Frame-level decode with fastwebsockets' `read_frame` (unmasks, and
/// validates final text frames).
fn fastwebsockets_read(wire: &[u8], count: usize) -> usize {
    let mut ws = fastwebsockets::WebSocket::after_handshake(
        Mem { data: wire },
        fastwebsockets::Role::Server,
    );
    block_on(async {
        let mut n = 0;
        for _ in 0..count {
            let f = ws.read_frame().await.unwrap();
            n += f.payload.len();
            black_box(f);
        }
        n
    })
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    let cases: [(&str, bool, usize); 4] = [
        ("16B_text", true, 16),
        ("1KiB", false, 1 << 10),
        ("64KiB", false, 64 << 10),
        ("1MiB", false, 1 << 20),
    ];
    for (name, is_text, size) in cases {
        // About 256 KiB of payload per iteration, at most 1000 frames.
        let count = ((256 << 10) / size).clamp(1, 1000);
        let (opcode, payload) = if is_text {
            (OpCode::Text, text(size).into_bytes())
        } else {
            (OpCode::Binary, binary(size))
        };
        let wire = frames(opcode, &payload, count, true);
        let total = size * count;
        assert_eq!(ours_decoder(&wire, is_text), total);
        assert_eq!(ours_connection(&wire, wire.len()), total);
        assert_eq!(tungstenite_read(&wire, count), total);
        assert_eq!(fastwebsockets_read(&wire, count), total);
        g.throughput(Throughput::Bytes(total as u64));
        g.bench_with_input(BenchmarkId::new("ws-codec/decoder", name), &wire, |b, w| {
            b.iter(|| ours_decoder(w, is_text));
        });
        g.bench_with_input(
            BenchmarkId::new("ws-codec/connection", name),
            &wire,
            |b, w| {
                b.iter(|| ours_connection(w, w.len()));
            },
        );
        g.bench_with_input(BenchmarkId::new("tungstenite/read", name), &wire, |b, w| {
            b.iter(|| tungstenite_read(w, count));
        });
        g.bench_with_input(
            BenchmarkId::new("fastwebsockets/read_frame", name),
            &wire,
            |b, w| b.iter(|| fastwebsockets_read(w, count)),
        );
    }
    g.finish();
}

fn decode_text_1mib(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_text_1mib");
    let size = 1 << 20;
    let msg = text(size);
    let wire = frames(OpCode::Text, msg.as_bytes(), 1, true);
    assert_eq!(ours_connection(&wire, wire.len()), size);
    assert_eq!(ours_connection(&wire, 64 << 10), size);
    assert_eq!(tungstenite_read(&wire, 1), size);
    assert_eq!(fastwebsockets_read(&wire, 1), size);
    g.throughput(Throughput::Bytes(size as u64));
    g.bench_function("ws-codec/connection_one_read", |b| {
        b.iter(|| ours_connection(&wire, wire.len()));
    });
    g.bench_function("ws-codec/connection_64KiB_reads", |b| {
        b.iter(|| ours_connection(&wire, 64 << 10));
    });
    g.bench_function("tungstenite/read", |b| {
        b.iter(|| tungstenite_read(&wire, 1))
    });
    g.bench_function("fastwebsockets/read_frame", |b| {
        b.iter(|| fastwebsockets_read(&wire, 1));
    });
    let mut dst = vec![0u8; size];
    g.bench_function("memcpy", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(msg.as_bytes()));
            black_box(&dst);
        });
    });
    g.finish();
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    for (name, size) in [("16B", 16), ("1KiB", 1 << 10), ("64KiB", 64 << 10)] {
        let payload = Bytes::from(binary(size));
        g.throughput(Throughput::Bytes(size as u64));
        for (dir, mask) in [("server", None), ("client_masked", Some(KEY))] {
            let id = format!("{name}_{dir}");
            let mut ours = BytesMut::with_capacity(size + 14);
            g.bench_function(BenchmarkId::new("ws-codec", &id), |b| {
                b.iter(|| {
                    ours.clear();
                    encode_parts(true, false, OpCode::Binary, &payload, mask, &mut ours);
                    black_box(&ours);
                });
            });
            let mut tung = Vec::with_capacity(size + 14);
            g.bench_function(BenchmarkId::new("tungstenite", &id), |b| {
                b.iter(|| {
                    use tungstenite::protocol::frame::{Frame, coding};
                    tung.clear();
                    let mut f = Frame::message(
                        payload.clone(),
                        coding::OpCode::Data(coding::Data::Binary),
                        true,
                    );
                    f.header_mut().mask = mask;
                    f.format(&mut tung).unwrap();
                    black_box(&tung);
                });
            });
            let mut fws = Vec::with_capacity(size + 14);
            g.bench_function(BenchmarkId::new("fastwebsockets", &id), |b| {
                b.iter(|| {
                    use fastwebsockets::{Frame, OpCode, Payload};
                    let mut f = Frame::new(true, OpCode::Binary, mask, Payload::Borrowed(&payload));
                    if mask.is_some() {
                        f.mask();
                    }
                    black_box(f.write(&mut fws));
                });
            });
        }
    }
    g.finish();
}

fn unmask(c: &mut Criterion) {
    let mut g = c.benchmark_group("unmask");
    for (name, size) in [("1KiB", 1 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)] {
        let src = binary(size);
        let mut buf = src.clone();
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("ws-codec/apply_mask", name), |b| {
            b.iter(|| apply_mask(black_box(&mut buf), KEY, 0));
        });
        // The same u32 loop as tungstenite's (private) apply_mask.
        g.bench_function(BenchmarkId::new("fastwebsockets/unmask", name), |b| {
            b.iter(|| fastwebsockets::unmask(black_box(&mut buf), KEY));
        });
        g.bench_function(BenchmarkId::new("memcpy", name), |b| {
            b.iter(|| black_box(&mut buf).copy_from_slice(black_box(&src)));
        });
        // A payload as it sits in a read buffer: after a 14-byte header
        // (64-bit length and mask), so not 16-byte aligned.
        let mut framed = vec![0u8; size + 14];
        let at14 = &mut framed[14..];
        g.bench_function(
            BenchmarkId::new("ws-codec/apply_mask_at_offset_14", name),
            |b| {
                b.iter(|| apply_mask(black_box(&mut *at14), KEY, 0));
            },
        );
        g.bench_function(
            BenchmarkId::new("fastwebsockets/unmask_at_offset_14", name),
            |b| b.iter(|| fastwebsockets::unmask(black_box(&mut *at14), KEY)),
        );
    }
    g.finish();
}

/// 64 KiB of JSON-ish text, compressed by a server and inflated by a
/// client, contexts reset per message so every iteration does full work.
fn deflate_round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("deflate_round_trip");
    let msg = text(64 << 10).into_bytes();
    g.throughput(Throughput::Bytes(msg.len() as u64));
    let params = DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    let mut tx = Deflate::new(&params, Role::Server, 6, 0);
    let mut rx = Deflate::new(&params, Role::Client, 6, 0);
    let (mut z, mut out) = (Vec::new(), Vec::new());
    let mut ours = || {
        z.clear();
        out.clear();
        tx.compress(&msg, &mut z).unwrap();
        rx.decompress(&z, true, &mut out, 1 << 20).unwrap();
        out.len()
    };
    assert_eq!(ours(), msg.len());
    g.bench_function("ws-codec", |b| b.iter(&mut ours));

    // The same backend (zlib-rs through flate2) driven directly: the floor.
    use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
    let mut comp = Compress::new(Compression::new(6), false);
    let mut dec = Decompress::new(false);
    let (mut z2, mut out2) = (
        Vec::with_capacity(msg.len() + 1024),
        Vec::with_capacity(msg.len() + 1024),
    );
    let mut raw = || {
        z2.clear();
        out2.clear();
        comp.reset();
        dec.reset(false);
        comp.compress_vec(&msg, &mut z2, FlushCompress::Sync)
            .unwrap();
        dec.decompress_vec(&z2, &mut out2, FlushDecompress::Sync)
            .unwrap();
        out2.len()
    };
    assert_eq!(raw(), msg.len());
    g.bench_function("flate2_zlib-rs_raw", |b| b.iter(&mut raw));

    // flate2's default backend; its one-shot API allocates its state.
    let miniz = || {
        let z = miniz_oxide::deflate::compress_to_vec(&msg, 6);
        miniz_oxide::inflate::decompress_to_vec(&z).unwrap().len()
    };
    assert_eq!(miniz(), msg.len());
    g.bench_function("miniz_oxide_oneshot", |b| b.iter(miniz));
    g.finish();
}

fn utf8(c: &mut Criterion) {
    let mut g = c.benchmark_group("utf8");
    let t = text(1 << 20).into_bytes();
    g.throughput(Throughput::Bytes(t.len() as u64));
    g.bench_function("ws-codec/Utf8Validator::validate", |b| {
        b.iter(|| Utf8Validator::validate(black_box(&t)).unwrap());
    });
    g.bench_function("ws-codec/Utf8Validator::feed", |b| {
        b.iter(|| {
            let mut v = Utf8Validator::new();
            v.feed(black_box(&t)).unwrap();
            v.finish().unwrap();
        });
    });
    g.bench_function("std::str::from_utf8", |b| {
        b.iter(|| std::str::from_utf8(black_box(&t)).unwrap().len());
    });
    let mut dst = vec![0u8; t.len()];
    g.bench_function("memcpy", |b| {
        b.iter(|| black_box(&mut dst).copy_from_slice(black_box(&t)));
    });
    g.finish();
}

criterion_group!(
    ws,
    decode,
    decode_text_1mib,
    encode,
    unmask,
    deflate_round_trip,
    utf8
);
criterion_main!(ws);
