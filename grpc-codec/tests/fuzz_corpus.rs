//! Replays the fuzz corpora and regressions on stable Rust, through the same
//! plain functions the cargo-fuzz targets in `../fuzz/` call, so a crash once
//! found stays fixed without a nightly toolchain or libFuzzer.
//!
//! Run: `cargo test -p grpc-codec --features fuzzing --test fuzz_corpus`.
#![cfg(feature = "fuzzing")]
#![allow(clippy::panic, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

/// A fuzz target's name and the function its one line calls.
type Target = (&'static str, fn(&[u8]));

/// Every fuzz target.
const TARGETS: &[Target] = &[
    ("h2_frame", grpc_codec::fuzzing::h2_frame),
    ("hpack_decode", grpc_codec::fuzzing::hpack_decode),
    ("h2_conn_server", grpc_codec::fuzzing::h2_conn_server),
    ("h2_conn_client", grpc_codec::fuzzing::h2_conn_client),
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
fn corpus_directory_exists() {
    let dir = fuzz_dir().join("corpus");
    assert!(
        dir.is_dir(),
        "{} is missing: the seed corpora live in the repository's fuzz/corpus/",
        dir.display()
    );
}

#[test]
fn every_target_replays_its_corpus() {
    let dir = fuzz_dir().join("corpus");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    for &(target, f) in TARGETS {
        let target_dir = dir.join(target);
        assert!(
            target_dir.is_dir(),
            "{} is missing: seed it from the captures (see fuzz/corpus/)",
            target_dir.display()
        );
        let n = replay(target, f);
        assert!(
            n > 0,
            "no inputs for fuzz target {target} in {}",
            target_dir.display()
        );
        println!("{target}: replayed {n} inputs");
    }
}
