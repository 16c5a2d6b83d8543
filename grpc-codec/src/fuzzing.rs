//! Plain entry points for the fuzz targets in `fuzz/`, so an ordinary
//! `cargo test` can replay their corpora on stable Rust. Each must hold for
//! any input: no panic, bounded work and memory.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

/// The HPACK target's entry point, beside the frame one, so every target
/// of this crate is `grpc_codec::fuzzing::<target>`.
pub use crate::hpack::fuzzing::hpack_decode;

use crate::codec::{Decoder, decode_preface, encode};
use crate::config::{Config, FlowControl, Limits, Settings};
use crate::conn::Connection;
use crate::error::{Error, ErrorCode};
use crate::event::{Event, Request, Response};
use crate::frame::{Frame, MAX_PAYLOAD_LEN, SettingId};
use crate::hpack::Header;

/// Splits `data` into chunks whose sizes come from its first byte, so one
/// input covers both content and read boundaries.
fn chunks(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (step, rest) = match data.split_first() {
        Some((s, r)) => (usize::from(*s % 64) + 1, r),
        None => (1, data),
    };
    rest.chunks(step)
}

/// What decoding a byte stream gave: frames and stream errors in order,
/// then the connection error that stopped it, if any.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    items: Vec<Result<Frame, Error>>,
    fatal: Option<Error>,
}

/// Decodes `pieces` fed one after another, the preface first if
/// `preface`, raising the frame size limit as SETTINGS frames ask, the way
/// the capture replay does.
fn decode_stream<'a>(pieces: impl Iterator<Item = &'a [u8]>, preface: bool) -> Outcome {
    let mut d = Decoder::default();
    let mut settings = Settings::default();
    let mut buf = BytesMut::new();
    let mut out = Outcome {
        items: Vec::new(),
        fatal: None,
    };
    let mut need_preface = preface;
    for piece in pieces {
        buf.extend_from_slice(piece);
        if need_preface {
            match decode_preface(&mut buf) {
                Ok(true) => need_preface = false,
                Ok(false) => continue,
                Err(e) => {
                    out.fatal = Some(e);
                    return out;
                }
            }
        }
        loop {
            match d.decode(&mut buf) {
                Ok(Some(f)) => {
                    if let Frame::Settings(s) = &f {
                        let applied = settings.apply(&s.params);
                        assert!(applied.is_ok(), "decoder let through {s:?}");
                        if s.get(SettingId::MAX_FRAME_SIZE).is_some() {
                            d.set_max_frame_size(settings.max_frame_size);
                        }
                    }
                    out.items.push(Ok(f));
                }
                Ok(None) => break,
                Err(e) if e.is_connection_error() => {
                    out.fatal = Some(e);
                    return out;
                }
                Err(e) => out.items.push(Err(e)),
            }
        }
    }
    out
}

/// The frame decoder, with and without the client preface: chunked input
/// decodes as the whole input does, and the frames it gives re-encode to
/// bytes that decode to the same frames.
pub fn h2_frame(data: &[u8]) {
    let body = data.get(1..).unwrap_or_default();
    for preface in [false, true] {
        let chunked = decode_stream(chunks(data), preface);
        let whole = decode_stream(std::iter::once(body), preface);
        assert!(
            chunked == whole,
            "chunking changed {whole:?} to {chunked:?}"
        );

        let frames: Vec<&Frame> = whole.items.iter().filter_map(|r| r.as_ref().ok()).collect();
        let mut wire = BytesMut::new();
        for f in &frames {
            let r = encode(f, &mut wire);
            assert!(r.is_ok(), "decoded {f:?} does not encode: {r:?}");
        }
        let mut d = Decoder::new(Limits {
            max_frame_size: MAX_PAYLOAD_LEN,
            ..Limits::default()
        });
        for f in frames {
            let again = d.decode(&mut wire);
            assert!(
                again.as_ref() == Ok(&Some(f.clone())),
                "{f:?} re-decoded as {again:?}"
            );
        }
        assert!(wire.is_empty(), "re-encoding left {} bytes", wire.len());
    }
}

/// Small limits, so the fuzzer reaches them.
fn conn_config(manual: bool) -> Config {
    Config {
        max_concurrent_streams: 8,
        initial_window_size: 4096,
        connection_window_size: 16_384,
        flow_control: if manual {
            FlowControl::Manual
        } else {
            FlowControl::Auto
        },
        grpc_true_binary: manual,
        limits: Limits {
            max_header_block_size: 8192,
            max_continuation_frames: 8,
            max_header_list_size: 4096,
            max_queued_output: 64 * 1024,
            max_pending_control: 64,
            max_send_buffer: 32 * 1024,
            max_resets: 32,
            max_empty_frames: 16,
            max_closed_streams: 16,
            ..Limits::default()
        },
        ..Config::default()
    }
}

/// What a connection run produced: every event and every output byte.
/// Chunking must not change it.
#[derive(Debug, PartialEq, Eq)]
pub struct ConnRun {
    /// Events in order.
    pub events: Vec<Event>,
    /// Output bytes, concatenated.
    pub output: Vec<u8>,
    /// The error that ended the input, if any.
    pub error: Option<Error>,
}

/// Feeds `pieces` to `conn` as an application would: after each piece,
/// take the events and react to them with `react`, then take the
/// output. Checks the bounds that must hold whatever the input.
fn drive<'a>(
    mut conn: Connection,
    pieces: impl Iterator<Item = &'a [u8]>,
    mut react: impl FnMut(&mut Connection, &Event),
) -> ConnRun {
    let t0 = Instant::now();
    let mut run = ConnRun {
        events: Vec::new(),
        output: Vec::new(),
        error: None,
    };
    let limits = conn_config(false).limits;
    while let Some(b) = conn.poll_transmit() {
        run.output.extend_from_slice(&b);
    }
    for (i, piece) in pieces.enumerate() {
        let now = t0 + Duration::from_millis(u64::try_from(i).unwrap_or(u64::MAX));
        let r = conn.handle_input(piece, now);
        if let Some(deadline) = conn.poll_timeout() {
            if deadline <= now {
                conn.handle_timeout(now);
            }
        }
        while let Some(ev) = conn.poll_event() {
            react(&mut conn, &ev);
            run.events.push(ev);
        }
        assert!(
            conn.send_buffered() <= limits.max_send_buffer,
            "send buffer over its limit"
        );
        assert!(
            conn.queued_output() <= limits.max_queued_output + 64 * 1024,
            "output over its limit: {}",
            conn.queued_output()
        );
        while let Some(b) = conn.poll_transmit() {
            run.output.extend_from_slice(&b);
        }
        if let Err(e) = r {
            assert!(conn.is_closed(), "error {e} left the connection open");
            assert_eq!(conn.handle_input(b"", now).err(), Some(e.clone()));
            run.error = Some(e);
            break;
        }
    }
    if run.error.is_none() {
        // The transport ends: whatever state the input left, the
        // connection is over afterwards.
        let r = conn.handle_eof();
        run.events.extend(std::iter::from_fn(|| conn.poll_event()));
        assert!(conn.is_closed(), "open after EOF");
        assert_eq!(conn.handle_eof(), r, "EOF is not sticky");
    }
    let closed = run
        .events
        .iter()
        .filter(|e| matches!(e, Event::Closed { .. }))
        .count();
    assert!(closed <= 1, "{closed} Closed events");
    run
}

/// The server's answers: a response, a body and trailers for each
/// request; manual-mode releases for DATA.
fn serve(conn: &mut Connection, ev: &Event) {
    match ev {
        Event::Request { stream, .. } => {
            let _ = conn.send_response(*stream, &Response::new(200), false);
            let _ = conn.send_data(*stream, Bytes::from_static(&[7; 5000]), false);
            let _ = conn.send_trailers(*stream, &[Header::new("grpc-status", "0")]);
        }
        Event::Data { stream, data, .. } => {
            let _ = conn.release_capacity(*stream, data.len());
        }
        Event::Trailers { stream, .. } => {
            let _ = conn.reset_stream(*stream, ErrorCode::NO_ERROR);
        }
        _ => {}
    }
}

/// Runs a server over `data` cut into `pieces`.
#[must_use]
pub fn run_server<'a>(pieces: impl Iterator<Item = &'a [u8]>, manual: bool) -> ConnRun {
    drive(
        Connection::server(conn_config(manual), Instant::now()),
        pieces,
        serve,
    )
}

/// A client that opened three streams (1: GET, 3: POST with a body and
/// a deadline, 5: POST with trailers), run over server bytes `pieces`.
#[must_use]
pub fn run_client<'a>(pieces: impl Iterator<Item = &'a [u8]>, manual: bool) -> ConnRun {
    let mut c = Connection::client(conn_config(manual), Instant::now());
    let get = Request::new("GET", "https", "example.com", "/");
    let post = Request::new("POST", "https", "example.com", "/upload");
    let _ = c.send_request(&get, true);
    if let Ok(id) = c.send_request(&post, false) {
        let _ = c.send_data(id, Bytes::from_static(&[1; 10_000]), true);
        let _ = c.set_deadline(id, Some(Instant::now()));
    }
    if let Ok(id) = c.send_request(&post, false) {
        let _ = c.send_trailers(id, &[Header::new("x-done", "1")]);
    }
    let _ = c.send_ping(*b"fuzzping");
    // The preface, SETTINGS and requests are not under test.
    while c.poll_transmit().is_some() {}
    drive(c, pieces, |c, ev| match ev {
        Event::Data { stream, data, .. } => {
            let _ = c.release_capacity(*stream, data.len());
        }
        Event::Response { stream, .. } if stream.value() == 5 => {
            let _ = c.reset_stream(*stream, ErrorCode::CANCEL);
        }
        Event::GoAway { .. } => {
            let _ = c.shutdown();
        }
        _ => {}
    })
}

/// The server connection machine: arbitrary client bytes (after the
/// chunking byte; its top bit picks manual flow control) in arbitrary
/// chunks. Driven like an application (answering requests, releasing
/// data, resetting): no panic, bounded output and send buffers, one
/// `Closed` at most, sticky errors. Without reactions, the chunked run
/// must give the same events and output as the whole input.
pub fn h2_conn_server(data: &[u8]) {
    let manual = data.first().is_some_and(|b| b & 0x80 != 0);
    let body = data.get(1..).unwrap_or_default();
    let _ = run_server(chunks(data), manual);
    let server = || Connection::server(conn_config(manual), Instant::now());
    let chunked = drive(server(), chunks(data), |_, _| {});
    let whole = drive(server(), std::iter::once(body), |_, _| {});
    check_same(&chunked, &whole);
}

/// The client connection machine, as [`h2_conn_server`], over server
/// bytes (no preface) after it opened three streams.
pub fn h2_conn_client(data: &[u8]) {
    let manual = data.first().is_some_and(|b| b & 0x80 != 0);
    let body = data.get(1..).unwrap_or_default();
    let _ = run_client(chunks(data), manual);
    let client = || {
        let mut c = Connection::client(conn_config(manual), Instant::now());
        let get = Request::new("GET", "https", "example.com", "/");
        let _ = c.send_request(&get, true);
        let _ = c.send_request(&get, true);
        c
    };
    let chunked = drive(client(), chunks(data), |_, _| {});
    let whole = drive(client(), std::iter::once(body), |_, _| {});
    check_same(&chunked, &whole);
}

/// Asserts two runs of the same input agree, naming the first
/// difference.
#[allow(clippy::panic)]
fn check_same(a: &ConnRun, b: &ConnRun) {
    if a.error != b.error {
        panic!("chunking changed the error: {:?} vs {:?}", a.error, b.error);
    }
    if let Some(i) =
        (0..a.events.len().max(b.events.len())).find(|&i| a.events.get(i) != b.events.get(i))
    {
        panic!(
            "chunking changed event {i}: {:?} vs {:?}",
            a.events.get(i),
            b.events.get(i)
        );
    }
    if let Some(i) =
        (0..a.output.len().max(b.output.len())).find(|&i| a.output.get(i) != b.output.get(i))
    {
        panic!(
            "chunking changed output byte {i} of {}/{}",
            a.output.len(),
            b.output.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conn_targets_run_on_odd_inputs() {
        for f in [h2_conn_server, h2_conn_client] {
            f(b"");
            f(b"\x00");
            f(b"\x03PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0");
            f(&[0xff; 64]);
            f(b"\x81\0\0\0\x04\0\0\0\0\0\0\0\x08\x06\0\0\0\0\0fuzzping");
        }
    }

    #[test]
    fn runs_on_odd_inputs() {
        h2_frame(b"");
        h2_frame(b"\x00");
        h2_frame(b"\x03PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0");
        h2_frame(&[0xff; 64]);
        h2_frame(b"\x01\0\0\x05\x02\0\0\0\0\x01\0\0\0\x01\x07");
    }
}
