//! Allocation counts on the receive path, measured with a counting global
//! allocator: decoding frames from one buffer is zero-copy and allocates
//! nothing per frame; a connection allocates O(1) per message at most.
//!
//! The counter is process-wide, and the test harness allocates on its own
//! threads while other tests run, so every measurement runs inside the one
//! test of this binary, one after another.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::alloc::System;

use bytes::BytesMut;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use ws_codec::codec::encode_parts;
use ws_codec::{Config, Connection, Decoder, Event, Message, OpCode, Role};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const FRAMES: usize = 1000;

/// `FRAMES` single-frame binary messages of assorted sizes (7-bit, 16-bit
/// and 64-bit lengths), masked if `mask`.
fn wire(mask: bool) -> BytesMut {
    let mut buf = BytesMut::new();
    let payload = vec![0x5a_u8; 70_000];
    for i in 0..FRAMES {
        let len = match i % 10 {
            0 => 70_000,
            1..=3 => 1024,
            _ => i % 126,
        };
        let key = mask.then_some([1, 2, 3, (i % 251) as u8]);
        encode_parts(true, false, OpCode::Binary, &payload[..len], key, &mut buf);
    }
    buf
}

/// Decodes every frame of `buf` in `role`, dropping each payload; returns
/// the frame count and the allocations made while decoding.
fn decode_all(role: Role, mut buf: BytesMut) -> (usize, usize) {
    let mut d = Decoder::new(role, 1 << 20);
    let mut n = 0;
    let reg = Region::new(GLOBAL);
    while let Some(f) = d.decode(&mut buf).unwrap() {
        assert_eq!(f.opcode, OpCode::Binary);
        n += 1;
    }
    let allocs = reg.change().allocations + reg.change().reallocations;
    (n, allocs)
}

/// The only test here: see the module comment.
#[test]
fn allocations_on_the_receive_path() {
    decoding_unmasked_frames_allocates_nothing_per_frame();
    decoding_masked_frames_allocates_nothing_per_frame();
    connection_allocates_o1_per_message();
}

fn decoding_unmasked_frames_allocates_nothing_per_frame() {
    // Server-to-client frames, read by a client.
    let (n, allocs) = decode_all(Role::Client, wire(false));
    assert_eq!(n, FRAMES);
    println!("client decoder: {allocs} allocations for {n} unmasked frames");
    // `bytes` turns the buffer into a shared one on the first split: once.
    assert!(allocs <= 1, "{allocs} allocations for {n} frames");
}

fn decoding_masked_frames_allocates_nothing_per_frame() {
    // Client-to-server frames, unmasked in place by a server.
    let (n, allocs) = decode_all(Role::Server, wire(true));
    assert_eq!(n, FRAMES);
    println!("server decoder: {allocs} allocations for {n} masked frames");
    assert!(allocs <= 1, "{allocs} allocations for {n} frames");
}

/// Feeds `wire` to an open connection in `role`, `chunk` bytes per
/// `handle_input`, draining events as a typical read loop does; with `keep`
/// the application holds on to every message (so the input buffer cannot
/// be reused). Returns the messages seen and the allocations made.
fn receive(role: Role, wire: &[u8], chunk: usize, keep: bool) -> (usize, usize) {
    let mut c = Connection::from_upgraded(role, Config::default(), None);
    let mut kept = Vec::with_capacity(if keep { FRAMES } else { 0 });
    let mut n = 0;
    let reg = Region::new(GLOBAL);
    for part in wire.chunks(chunk) {
        c.handle_input(part).unwrap();
        while let Some(ev) = c.poll_event() {
            match ev {
                Event::Message(Message::Binary(b)) => {
                    assert!(b.iter().all(|&x| x == 0x5a));
                    n += 1;
                    if keep {
                        kept.push(b);
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let allocs = reg.change().allocations + reg.change().reallocations;
    (n, allocs)
}

fn connection_allocates_o1_per_message() {
    for (role, masked) in [(Role::Server, true), (Role::Client, false)] {
        let w = wire(masked);
        // One read holding all messages; 4 KiB reads; 64 KiB reads.
        for chunk in [w.len(), 4096, 65_536] {
            let (n, allocs) = receive(role, &w, chunk, false);
            assert_eq!(n, FRAMES);
            println!(
                "{role:?}, {chunk}-byte reads, messages dropped: {allocs} allocations for {n} messages"
            );
            // Measured 7 to 11: the event queue and input buffer growing to
            // their working size, then reused. Nothing per message.
            assert!(
                allocs <= 16,
                "{allocs} allocations for {n} messages in {chunk}-byte reads"
            );
            let (n, allocs) = receive(role, &w, chunk, true);
            println!(
                "{role:?}, {chunk}-byte reads, messages kept: {allocs} allocations for {n} messages"
            );
            // Held payloads pin the input buffer, so some reads need a fresh
            // one. Measured 221 to 409: under one per two messages.
            assert!(
                allocs <= FRAMES / 2,
                "{allocs} allocations for {n} kept messages in {chunk}-byte reads"
            );
        }
    }
}
