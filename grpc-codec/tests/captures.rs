//! Replays real grpc-core (grpcio 1.85) HTTP/2 traffic recorded on
//! loopback: `../shared/vectors/grpc-captures/CASE.c2s.bin` (client to
//! server: preface, then frames) and `CASE.s2c.bin` (server to client:
//! frames). Every file must decode completely, whole and in chunks, and
//! re-encode to the very same bytes.
//!
//! The captures use a 4 MiB SETTINGS_MAX_FRAME_SIZE, an unknown setting
//! (65027) and PINGs in the middle of calls. The decoder's frame size limit
//! is raised to the value in the SETTINGS frame of the same stream (both
//! peers advertise the same one), the way a connection raises it once its
//! own SETTINGS is acknowledged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use grpc_codec::codec::encode;
use grpc_codec::{Decoder, Frame, FrameType, SettingId, decode_preface};

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/grpc-captures")
}

/// Every capture file, sorted; fails naming the directory if it is absent.
fn captures() -> Vec<PathBuf> {
    let dir = captures_dir();
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (the shared vectors live beside the workspace, in ../shared)",
            dir.display()
        )
    });
    let mut v: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no *.bin captures in {}", dir.display());
    v
}

fn is_c2s(path: &Path) -> bool {
    path.to_string_lossy().ends_with(".c2s.bin")
}

/// Decodes `data` fed in `chunk`-byte pieces, panicking with `path` and
/// the frame index on any error or leftover bytes.
fn replay(path: &Path, data: &[u8], chunk: usize) -> Vec<Frame> {
    let name = path.display();
    let mut d = Decoder::default();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut need_preface = is_c2s(path);
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        if need_preface {
            match decode_preface(&mut buf) {
                Ok(true) => need_preface = false,
                Ok(false) => continue,
                Err(e) => panic!("{name}: preface: {e}"),
            }
        }
        loop {
            match d.decode(&mut buf) {
                Ok(Some(f)) => {
                    if let Frame::Settings(s) = &f {
                        if let Some(size) = s.get(SettingId::MAX_FRAME_SIZE) {
                            d.set_max_frame_size(size);
                        }
                    }
                    frames.push(f);
                }
                Ok(None) => break,
                Err(e) => panic!("{name}: frame {}: {e}", frames.len()),
            }
        }
    }
    assert!(!need_preface, "{name}: preface never completed");
    assert!(
        buf.is_empty(),
        "{name}: {} bytes of a truncated frame left after {} frames",
        buf.len(),
        frames.len()
    );
    assert_eq!(d.open_header_block(), None, "{name}: open field block");
    frames
}

fn type_name(f: &Frame) -> String {
    let t: FrameType = f.frame_type();
    t.to_string()
}

#[test]
fn every_capture_decodes_completely() {
    let mut total: BTreeMap<String, usize> = BTreeMap::new();
    let mut saw_unknown_setting = false;
    let mut largest = 0;
    for path in captures() {
        let data = fs::read(&path).unwrap();
        let frames = replay(&path, &data, data.len().max(1));

        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for f in &frames {
            *counts.entry(type_name(f)).or_default() += 1;
            *total.entry(type_name(f)).or_default() += 1;
            largest = largest.max(f.payload_len());
            if let Frame::Settings(s) = f {
                saw_unknown_setting |= s.get(SettingId(65027)).is_some();
            }
        }
        let file = path.file_name().unwrap().to_string_lossy();
        println!("{file}: {} frames {counts:?}", frames.len());

        // Re-encoding gives back the capture byte for byte.
        let mut out = BytesMut::new();
        if is_c2s(&path) {
            out.extend_from_slice(grpc_codec::PREFACE);
        }
        for f in &frames {
            encode(f, &mut out).unwrap();
        }
        assert!(out[..] == data[..], "{file}: re-encoding differs");
    }
    println!("all captures: {total:?}");
    assert!(saw_unknown_setting, "no SETTINGS with id 65027 seen");
    assert!(largest > 16_384, "no frame needed the raised frame size");
    assert!(total.get("PING").copied().unwrap_or(0) > 0, "no PING seen");
}

#[test]
fn every_capture_decodes_the_same_in_chunks() {
    for path in captures() {
        let data = fs::read(&path).unwrap();
        let whole = replay(&path, &data, data.len().max(1));
        for chunk in [1, 7, 9, 100, 4096] {
            // One byte at a time over the largest captures is slow in
            // debug builds without telling more than 7 does.
            if chunk == 1 && data.len() > 50_000 {
                continue;
            }
            let chunked = replay(&path, &data, chunk);
            assert!(
                chunked == whole,
                "{}: {chunk}-byte chunks decode differently",
                path.display()
            );
        }
    }
}
