//! Replays the fuzz corpora and regressions on stable Rust, through the same
//! plain functions the cargo-fuzz targets in `../fuzz/` call, so a crash once
//! found stays fixed without a nightly toolchain or libFuzzer. Every target
//! must have a seed corpus in `fuzz/corpus/<target>/`; a missing or empty
//! one fails.
//!
//! Run: `cargo test -p xmpp-codec --features fuzzing --test fuzz_corpus`.
#![cfg(feature = "fuzzing")]
#![allow(clippy::panic, clippy::expect_used, clippy::indexing_slicing)]

use std::fs;
use std::path::{Path, PathBuf};

/// A fuzz target's name and the function its one line calls.
type Target = (&'static str, fn(&[u8]));

/// Every fuzz target.
const TARGETS: &[Target] = &[
    ("xmpp_stream", xmpp_codec::fuzzing::stream),
    ("xmpp_sasl_scram", xmpp_codec::fuzzing::sasl_scram),
    ("xmpp_conn_client", xmpp_codec::fuzzing::conn_client),
    ("xmpp_conn_server", xmpp_codec::fuzzing::conn_server),
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
        eprintln!("replaying {}", path.display());
        f(&data);
    }
    inputs.len()
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

/// Inputs every target must survive whether or not a corpus exists: a
/// stream cut at every byte, and every single-bit corruption of it.
#[test]
fn seeds() {
    let stream: &[u8] = b"\x03<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams'><message to='a@b'><body>x &amp; y</body>\
        </message> <iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq></stream:stream>";
    for (_, f) in TARGETS {
        f(b"");
        for cut in 0..stream.len() {
            f(stream.get(..cut).unwrap_or_default());
        }
        let mut data = stream.to_vec();
        for i in 0..data.len() * 8 {
            let (byte, bit) = (i / 8, 1u8 << (i % 8));
            data[byte] ^= bit;
            f(&data);
            data[byte] ^= bit;
        }
    }
}
