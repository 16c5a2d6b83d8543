//! HTTP/2: frame decoding of a DATA/HEADERS mix, and a request/response
//! loop between our client and server machines in memory.
//!
//! There is no public Rust HTTP/2 frame parser to put beside ours (the
//! `h2` crate's codec is private), so `frame_decode` compares
//! `grpc_codec::Decoder` with a floor: a loop that only reads each 9-byte
//! frame header and skips the payload, the least any parser must do.
//! `server_loop` counts complete exchanges (GET, 200 with a 19-byte body)
//! per second through both connection machines, framing and HPACK
//! included, no sockets.

use std::hint::black_box;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use grpc_codec::codec::encode;
use grpc_codec::frame::{Data, Headers};
use grpc_codec::hpack::{self, Header};
use grpc_codec::{Config, Connection, Decoder, Event, Frame, Request, Response, StreamId};

/// 1000 frames: per stream a HEADERS (a typical request head, HPACK'd)
/// and a DATA of 16 B, 1 KiB or 16 KiB in turn.
fn frame_mix() -> Bytes {
    let mut enc = hpack::Encoder::new();
    let mut out = BytesMut::new();
    let sizes = [16usize, 1024, 16 * 1024];
    for i in 0..500u32 {
        let id = StreamId::new(2 * i + 1);
        let mut block = BytesMut::new();
        enc.encode(
            &[
                Header::new(":method", "POST"),
                Header::new(":scheme", "http"),
                Header::new(":path", format!("/grpc.testing.TestService/UnaryCall/{i}")),
                Header::new(":authority", "127.0.0.1:50051"),
                Header::new("content-type", "application/grpc"),
                Header::new("te", "trailers"),
                Header::new("user-agent", "grpc-codec-bench/0.0"),
            ],
            &mut block,
        );
        let _ = encode(
            &Frame::Headers(Headers::new(id, block.freeze(), false)),
            &mut out,
        );
        let size = sizes[i as usize % sizes.len()];
        let _ = encode(
            &Frame::Data(Data::new(id, Bytes::from(vec![0x5a; size]), true)),
            &mut out,
        );
    }
    out.freeze()
}

/// The floor: read each frame header's length and skip the payload.
fn header_walk(mut buf: &[u8]) -> usize {
    let mut frames = 0;
    while let [a, b, c, _, _, _, _, _, _, rest @ ..] = buf {
        let len = (usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c);
        if rest.len() < len {
            break;
        }
        buf = &rest[len..];
        frames += 1;
    }
    frames
}

fn frame_decode(c: &mut Criterion) {
    let input = frame_mix();
    let mut g = c.benchmark_group("h2_frame_decode");
    // Frames per second: the payload bytes are split off, not copied, so
    // bytes per second would mostly measure the 16 KiB frames' sizes.
    g.throughput(Throughput::Elements(1000));
    g.bench_function("grpc-codec Decoder", |b| {
        // The input copy each decode consumes is made outside the timing.
        b.iter_batched(
            || BytesMut::from(&input[..]),
            |mut buf| {
                let mut d = Decoder::default();
                let mut n = 0;
                while let Ok(Some(f)) = d.decode(&mut buf) {
                    black_box(&f);
                    n += 1;
                }
                assert_eq!(n, 1000);
            },
            BatchSize::LargeInput,
        );
    });
    g.bench_function("floor: 9-byte header walk", |b| {
        b.iter(|| assert_eq!(header_walk(black_box(&input)), 1000));
    });
    g.finish();
}

fn drain(from: &mut Connection, to: &mut Connection, now: Instant) {
    while let Some(b) = from.poll_transmit() {
        let _ = to.handle_input(&b, now);
    }
}

/// Requests per batch.
const BATCH: u64 = 100;

fn server_loop(c: &mut Criterion) {
    let now = Instant::now();
    let cfg = Config {
        max_concurrent_streams: 1000,
        ..Config::default()
    };
    let mut client = Connection::client(cfg, now);
    let mut server = Connection::server(cfg, now);
    for _ in 0..2 {
        drain(&mut client, &mut server, now);
        drain(&mut server, &mut client, now);
    }
    while client.poll_event().is_some() {}
    while server.poll_event().is_some() {}
    let request = Request::new("GET", "http", "127.0.0.1", "/");
    let response = Response::new(200).header("content-type", "text/plain");
    let body = Bytes::from_static(b"hello from h2-peer\n");
    let mut g = c.benchmark_group("h2_server_loop");
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("grpc-codec client <-> server, GET 19 B", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                let _ = client.send_request(&request, true);
            }
            drain(&mut client, &mut server, now);
            while let Some(ev) = server.poll_event() {
                if let Event::Request { stream, .. } = ev {
                    let _ = server.send_response(stream, &response, false);
                    let _ = server.send_data(stream, body.clone(), true);
                }
            }
            drain(&mut server, &mut client, now);
            drain(&mut client, &mut server, now);
            let mut done = 0;
            while let Some(ev) = client.poll_event() {
                if matches!(
                    ev,
                    Event::Data {
                        end_stream: true,
                        ..
                    }
                ) {
                    done += 1;
                }
            }
            assert_eq!(done, BATCH);
        });
    });
    g.finish();
}

criterion_group!(benches, frame_decode, server_loop);
criterion_main!(benches);
