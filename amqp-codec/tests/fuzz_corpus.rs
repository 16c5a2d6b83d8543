//! Replays the fuzz corpora and regressions on stable Rust, through the same
//! plain functions the cargo-fuzz targets in `../fuzz/` call, so a crash once
//! found stays fixed without a nightly toolchain or libFuzzer. Every target
//! must have a seed corpus in `fuzz/corpus/<target>/`; a missing or empty
//! one fails.
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

/// Runs `f` on every input of `target`'s corpus and regressions; returns
/// how many inputs ran.
fn replay(target: &str, f: fn(&[u8])) -> usize {
    let corpus = fuzz_dir().join("corpus").join(target);
    let regressions = fuzz_dir().join("regressions").join(target);
    let inputs: Vec<PathBuf> = files(&corpus)
        .into_iter()
        .chain(files(&regressions))
        .collect();
    for path in &inputs {
        let data = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        // A panic here names the input through the panic hook's message.
        eprintln!("replaying {}", path.display());
        f(&data);
    }
    inputs.len()
}

#[test]
fn every_target_has_a_corpus() {
    for (target, _) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        assert!(
            dir.is_dir(),
            "{} is missing: the seed corpora live in the repository's fuzz/corpus/",
            dir.display()
        );
    }
}

#[test]
fn every_target_replays_its_corpus() {
    for &(target, f) in TARGETS {
        let n = replay(target, f);
        assert!(
            n > 0,
            "no inputs for fuzz target {target} in {}",
            fuzz_dir().join("corpus").join(target).display()
        );
        println!("{target}: replayed {n} inputs");
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
