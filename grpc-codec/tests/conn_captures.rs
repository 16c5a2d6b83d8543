//! Replays the real grpc-core (grpcio 1.85) captures in
//! `../shared/vectors/grpc-captures/` through the connection machine: our
//! server takes every `*.c2s.bin` stream, our client every `*.s2c.bin`
//! stream, whole and in chunks, without error.
//!
//! Both machines advertise what grpc-core advertised on the recording
//! (4 MiB windows and frames, and raw binary metadata: setting 0xfe03),
//! since the peer's frames and fields were made for it.
//! The client first opens as many streams as the responses use, so its
//! stream ids match the capture's (1, 3, ...).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

mod conn_support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use conn_support::{frames, t0};
use grpc_codec::{Config, Connection, Event, Frame, Limits, Request};

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/grpc-captures")
}

fn captures(suffix: &str) -> Vec<PathBuf> {
    let dir = captures_dir();
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (the shared vectors live beside the workspace, in ../shared)",
            dir.display()
        )
    });
    let mut v: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no *{suffix} captures in {}", dir.display());
    v
}

/// What grpc-core advertised in the recordings.
fn grpc_like() -> Config {
    Config {
        initial_window_size: 4 << 20,
        connection_window_size: 4 << 20,
        grpc_true_binary: true,
        limits: Limits {
            max_frame_size: 4 << 20,
            ..Limits::default()
        },
        ..Config::default()
    }
}

/// Feeds `data` in `chunk`-byte pieces; panics on any error. Returns the
/// events.
fn feed(conn: &mut Connection, data: &[u8], chunk: usize, name: &str) -> Vec<Event> {
    let mut events = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        if let Err(e) = conn.handle_input(piece, t0()) {
            panic!("{name} ({chunk}-byte chunks): {e}");
        }
        events.extend(std::iter::from_fn(|| conn.poll_event()));
        while conn.poll_transmit().is_some() {}
    }
    assert!(!conn.is_closed(), "{name}: closed");
    events
}

fn summary(events: &[Event]) -> (usize, usize, usize, usize) {
    let mut heads = 0;
    let mut body = 0;
    let mut trailers = 0;
    let mut resets = 0;
    for e in events {
        match e {
            Event::Request { .. } | Event::Response { .. } => heads += 1,
            Event::Data { data, .. } => body += data.len(),
            Event::Trailers { .. } => trailers += 1,
            Event::Reset { .. } => resets += 1,
            _ => {}
        }
    }
    (heads, body, trailers, resets)
}

#[test]
fn server_accepts_every_client_capture() {
    for path in captures(".c2s.bin") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = fs::read(&path).unwrap();
        let mut whole = Connection::server(grpc_like(), t0());
        let events = feed(&mut whole, &data, data.len(), &name);
        let (requests, body, _, _) = summary(&events);
        assert!(requests > 0, "{name}: no request");
        assert!(
            events.iter().any(
                |e| matches!(e, Event::Request { request, .. } if &request.method[..] == b"POST")
            ),
            "{name}: no POST"
        );
        println!("{name}: {requests} requests, {body} body bytes");
        for chunk in [1, 9, 1000] {
            if chunk == 1 && data.len() > 50_000 {
                continue;
            }
            let mut s = Connection::server(grpc_like(), t0());
            assert_eq!(feed(&mut s, &data, chunk, &name), events, "{name}: {chunk}");
        }
    }
}

#[test]
fn client_accepts_every_server_capture() {
    for path in captures(".s2c.bin") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = fs::read(&path).unwrap();
        let streams: BTreeSet<u32> = frames(&data)
            .iter()
            .filter_map(|f| match f {
                Frame::Headers(h) => Some(h.stream_id.value()),
                _ => None,
            })
            .collect();
        let run = |chunk: usize| {
            let mut c = Connection::client(grpc_like(), t0());
            for &want in &streams {
                let req = Request::new("POST", "http", "localhost", "/grpc.testing.TestService/X")
                    .header("content-type", "application/grpc")
                    .header("te", "trailers");
                let id = c.send_request(&req, true).unwrap();
                assert_eq!(id.value(), want, "{name}: stream ids differ");
            }
            while c.poll_transmit().is_some() {}
            feed(&mut c, &data, chunk, &name)
        };
        let events = run(data.len());
        let (responses, body, trailers, resets) = summary(&events);
        assert_eq!(responses, streams.len(), "{name}: responses");
        assert_eq!(resets, 0, "{name}: resets");
        println!("{name}: {responses} responses, {body} body bytes, {trailers} trailers");
        for chunk in [7, 1000] {
            assert_eq!(run(chunk), events, "{name}: {chunk}-byte chunks");
        }
    }
}
