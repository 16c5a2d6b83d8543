//! The hpack-test-case stories in `../shared/vectors/hpack/`: every case's
//! wire decodes to its headers, one decoder per story (the table carries
//! across its cases); then every story is re-encoded by our encoder and
//! decoded back, and our total size is compared with nghttp2's.
//!
//! The vectors live beside the workspace; these tests fail, naming the
//! path, when they are absent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use grpc_codec::hpack::{Decoder, Encoder, Header, HeaderList, Huffman, Limits};
use serde_json::Value;

const STORIES: [&str; 4] = [
    "nghttp2",
    "go-hpack",
    "python-hpack",
    "nghttp2-change-table-size",
];

struct Case {
    table_size: Option<usize>,
    wire: Bytes,
    headers: Vec<Header>,
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/hpack")
}

fn unhex(s: &str) -> Bytes {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>()
        .into()
}

/// The stories of one encoder, in order: each a list of cases.
fn stories(name: &str) -> Vec<(PathBuf, Vec<Case>)> {
    let dir = vectors_dir().join(name);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "cannot read the HPACK vectors in {}: {e} (the shared vectors live beside the workspace)",
            dir.display()
        )
    });
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no stories in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).unwrap();
            let json: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let cases = json["cases"]
                .as_array()
                .unwrap_or_else(|| panic!("{}: no cases", path.display()))
                .iter()
                .map(|c| Case {
                    table_size: c["header_table_size"]
                        .as_u64()
                        .map(|n| usize::try_from(n).unwrap()),
                    wire: unhex(c["wire"].as_str().unwrap()),
                    headers: c["headers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .flat_map(|h| h.as_object().unwrap().iter())
                        .map(|(n, v)| {
                            Header::new(n.clone().into_bytes(), v.as_str().unwrap().to_owned())
                        })
                        .collect(),
                })
                .collect();
            (path, cases)
        })
        .collect()
}

fn limits() -> Limits {
    Limits {
        max_header_list_size: 1 << 20,
        max_string_len: 1 << 20,
    }
}

/// Fields as the decoder reports them: the vectors carry no flags, so
/// compare names and values.
fn plain(fields: &[Header]) -> Vec<(&[u8], &[u8])> {
    fields.iter().map(|h| (&h.name[..], &h.value[..])).collect()
}

#[test]
fn every_story_decodes() {
    let (mut n_stories, mut n_cases, mut n_fields) = (0, 0, 0);
    for name in STORIES {
        for (path, cases) in stories(name) {
            let mut d = Decoder::new(4096, limits());
            // The same story through the borrowing API, and into one
            // reused HeaderList.
            let mut twin = Decoder::new(4096, limits());
            let mut listed = Decoder::new(4096, limits());
            let mut list = HeaderList::new();
            for (i, case) in cases.iter().enumerate() {
                if let Some(n) = case.table_size {
                    d.set_max_table_size(n);
                    twin.set_max_table_size(n);
                    listed.set_max_table_size(n);
                }
                let got = d
                    .decode_to_vec(&case.wire)
                    .unwrap_or_else(|e| panic!("{} case {i}: {e}", path.display()));
                assert_eq!(
                    plain(&got),
                    plain(&case.headers),
                    "{} case {i}",
                    path.display()
                );
                let mut borrowed = Vec::new();
                twin.decode_borrowed(&case.wire, |n, v, _| {
                    borrowed.push((n.to_vec(), v.to_vec()));
                })
                .unwrap_or_else(|e| panic!("{} case {i} (borrowed): {e}", path.display()));
                assert!(
                    borrowed
                        .iter()
                        .map(|(n, v)| (&n[..], &v[..]))
                        .eq(plain(&got)),
                    "{} case {i} (borrowed)",
                    path.display()
                );
                listed
                    .decode_list(&case.wire, &mut list)
                    .unwrap_or_else(|e| panic!("{} case {i} (list): {e}", path.display()));
                assert_eq!(list.to_headers(), got, "{} case {i} (list)", path.display());
                n_fields += got.len();
            }
            n_stories += 1;
            n_cases += cases.len();
        }
    }
    println!("decoded {n_stories} stories, {n_cases} cases, {n_fields} fields");
    assert_eq!(n_stories, 127);
}

/// Our encoding of one story's header lists, checked by decoding it back;
/// returns its size.
fn reencode(path: &Path, cases: &[Case], huffman: Huffman) -> usize {
    let mut e = Encoder::new();
    e.set_huffman(huffman);
    let mut d = Decoder::new(4096, limits());
    let mut total = 0;
    for (i, case) in cases.iter().enumerate() {
        if let Some(n) = case.table_size {
            e.set_max_table_size(n);
            d.set_max_table_size(n);
        }
        let mut block = BytesMut::new();
        e.encode(&case.headers, &mut block);
        total += block.len();
        let got = d
            .decode_to_vec(&block.freeze())
            .unwrap_or_else(|err| panic!("{} case {i} re-encoded: {err}", path.display()));
        assert_eq!(
            plain(&got),
            plain(&case.headers),
            "{} case {i}",
            path.display()
        );
        for (g, h) in got.iter().zip(&case.headers) {
            assert_eq!(g.sensitive, Encoder::never_indexed(h));
        }
        assert!(e.table_entries().eq(d.table_entries()));
    }
    total
}

#[test]
fn every_story_reencodes_smaller_than_nghttp2() {
    for name in STORIES {
        let (mut theirs, mut ours, mut plain_size) = (0, 0, 0);
        for (path, cases) in stories(name) {
            theirs += cases.iter().map(|c| c.wire.len()).sum::<usize>();
            plain_size += cases
                .iter()
                .flat_map(|c| &c.headers)
                .map(|h| h.name.len() + h.value.len())
                .sum::<usize>();
            ours += reencode(&path, &cases, Huffman::WhenShorter);
        }
        println!(
            "{name:>26}: theirs {theirs:>7} B, ours {ours:>7} B ({:.3}x theirs, {:.3}x plain {plain_size})",
            ours as f64 / theirs as f64,
            ours as f64 / plain_size as f64
        );
        if name.starts_with("nghttp2") {
            assert!(ours <= theirs, "{name}: ours {ours} > nghttp2's {theirs}");
        }
    }
}

/// Never Huffman-coded, every story still decodes back, and indexing alone
/// keeps it well under the plain size.
#[test]
fn every_story_reencodes_raw() {
    for name in STORIES {
        let (mut raw, mut coded, mut plain_size) = (0, 0, 0);
        for (path, cases) in stories(name) {
            plain_size += cases
                .iter()
                .flat_map(|c| &c.headers)
                .map(|h| h.name.len() + h.value.len())
                .sum::<usize>();
            raw += reencode(&path, &cases, Huffman::Never);
            coded += reencode(&path, &cases, Huffman::WhenShorter);
        }
        println!(
            "{name:>26}: raw {raw:>7} B ({:.3}x plain, {:.3}x Huffman-coded)",
            raw as f64 / plain_size as f64,
            raw as f64 / coded as f64
        );
        assert!(coded < raw && raw < plain_size / 2, "{name}");
    }
}
