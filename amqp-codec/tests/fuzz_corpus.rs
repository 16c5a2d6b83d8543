//! Replays the fuzz corpora and regressions on stable Rust, through the same
//! plain functions the cargo-fuzz targets in `../fuzz/` call, so a crash once
//! found stays fixed without a nightly toolchain or libFuzzer. Targets whose
//! directories do not exist yet replay nothing.
//!
//! Run: `cargo test -p amqp-codec --features fuzzing --test fuzz_corpus`.
#![cfg(feature = "fuzzing")]
#![allow(clippy::panic, clippy::expect_used, clippy::indexing_slicing)]

use std::fs;
use std::path::{Path, PathBuf};

/// A fuzz target's name and the function its one line calls.
type Target = (&'static str, fn(&[u8]));

/// Every fuzz target.
const TARGETS: &[Target] = &[
    ("amqp_frame", amqp_codec::fuzzing::frame),
    ("amqp_field_table", amqp_codec::fuzzing::field_table),
    ("amqp_conn_client", amqp_codec::fuzzing::conn_client),
    ("amqp_conn_server", amqp_codec::fuzzing::conn_server),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir`, sorted; empty if `dir` does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn replay_corpora() {
    for (target, f) in TARGETS {
        let mut n = 0;
        for kind in ["corpus", "regressions"] {
            for path in files(&fuzz_dir().join(kind).join(target)) {
                let data =
                    fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
                eprintln!("replaying {}", path.display());
                f(&data);
                n += 1;
            }
        }
        eprintln!("{target}: {n} inputs");
    }
}

/// Inputs every target must survive whether or not a corpus exists.
#[test]
fn seeds() {
    let handshake = include_bytes!("seeds/handshake.bin");
    for (_, f) in TARGETS {
        f(b"");
        f(b"AMQP\x00\x00\x09\x01");
        f(handshake);
        for cut in 0..handshake.len() {
            f(handshake.get(..cut).unwrap_or_default());
        }
        // Every single-bit corruption of the handshake.
        let mut data = handshake.to_vec();
        for i in 0..data.len() * 8 {
            let (byte, bit) = (i / 8, 1u8 << (i % 8));
            data[byte] ^= bit;
            f(&data);
            data[byte] ^= bit;
        }
    }
}
