//! HPACK, ours beside the Rust peers (`hpack`, `loona-hpack`,
//! `httlib-hpack`; h2's HPACK is private) on the hpack-test-case stories in
//! `../shared/vectors/hpack/`, in the same run.
//!
//! * `hpack_decode`: every case of the nghttp2, go-hpack and python-hpack
//!   stories (one decoder per story, as a connection would), throughput in
//!   wire bytes. Each decoder hands out every field: ours through its
//!   callback (`ours`: a `Header` of shared `Bytes`; `ours-borrowed`:
//!   borrowed slices) or into a `HeaderList` reused across the story
//!   (`ours-list`: owned, one buffer per block), `hpack` and
//!   `loona-hpack` through theirs (borrowed where they can),
//!   `httlib-hpack` into its `Vec` (its API consumes a `Vec` it is given,
//!   so the copy into one is part of its cost).
//! * `hpack_encode`: the header lists of the 32 stories (one encoder per
//!   story), throughput in plain bytes (name + value). `hpack` and
//!   `loona-hpack` never Huffman-code: `ours-raw` is ours told not to
//!   either (`Huffman::Never`), the same class of output; `httlib-hpack` is
//!   asked for its best representation, indexing and Huffman, like `ours`.
//! * `huffman_decode`: every header value of the stories, Huffman-coded,
//!   decoded alone: ours, `hpack`'s and `httlib-huffman` (at its fastest, 5
//!   bits per step).
//!
//! The corpus sizes and each encoder's output size are printed first.
//!
//! Run: `cargo bench -p benches --bench hpack -- --warm-up-time 1 --measurement-time 3`.

use std::borrow::Cow;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use grpc_codec::hpack::{Decoder, Encoder, Header, HeaderList, Huffman, Limits, huffman};
use serde_json::Value;

struct Case {
    wire: Bytes,
    headers: Vec<Header>,
}

type Story = Vec<Case>;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/hpack")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The stories of one encoder. All wires are slices of one buffer, in
/// order, as blocks read from one connection would be.
fn stories(name: &str) -> Vec<Story> {
    let dir = vectors_dir().join(name);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let parsed: Vec<Vec<(Vec<u8>, Vec<Header>)>> = paths
        .iter()
        .map(|p| {
            let json: Value =
                serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json");
            json["cases"]
                .as_array()
                .expect("cases")
                .iter()
                .map(|c| {
                    // These stories keep the default table size throughout.
                    let size = c.get("header_table_size").and_then(Value::as_u64);
                    assert!(
                        size.is_none_or(|n| n == 4096),
                        "{}: table size change",
                        p.display()
                    );
                    let headers = c["headers"]
                        .as_array()
                        .expect("headers")
                        .iter()
                        .flat_map(|h| h.as_object().expect("header").iter())
                        .map(|(n, v)| {
                            Header::new(
                                n.clone().into_bytes(),
                                v.as_str().expect("value").to_owned(),
                            )
                        })
                        .collect();
                    (unhex(c["wire"].as_str().expect("wire")), headers)
                })
                .collect()
        })
        .collect();
    let all = Bytes::from(
        parsed
            .iter()
            .flatten()
            .flat_map(|(w, _)| w.clone())
            .collect::<Vec<u8>>(),
    );
    let mut at = 0;
    parsed
        .into_iter()
        .map(|story| {
            story
                .into_iter()
                .map(|(wire, headers)| {
                    let case = Case {
                        wire: all.slice(at..at + wire.len()),
                        headers,
                    };
                    at += wire.len();
                    case
                })
                .collect()
        })
        .collect()
}

fn limits() -> Limits {
    Limits {
        max_header_list_size: 1 << 20,
        max_string_len: 1 << 20,
    }
}

fn decode_ours(stories: &[Story]) -> usize {
    let mut n = 0;
    for story in stories {
        let mut d = Decoder::new(4096, limits());
        for case in story {
            d.decode(&case.wire, |h| {
                black_box(h);
                n += 1;
            })
            .expect("ours decodes");
        }
    }
    n
}

fn decode_ours_borrowed(stories: &[Story]) -> usize {
    let mut n = 0;
    for story in stories {
        let mut d = Decoder::new(4096, limits());
        for case in story {
            d.decode_borrowed(&case.wire, |name, value, sensitive| {
                black_box((name, value, sensitive));
                n += 1;
            })
            .expect("ours decodes");
        }
    }
    n
}

fn decode_ours_list(stories: &[Story]) -> usize {
    let mut n = 0;
    for story in stories {
        let mut d = Decoder::new(4096, limits());
        let mut list = HeaderList::new();
        for case in story {
            d.decode_list(&case.wire, &mut list).expect("ours decodes");
            n += list.len();
            black_box(&list);
        }
    }
    n
}

fn decode_hpack(stories: &[Story]) -> usize {
    let mut n = 0;
    for story in stories {
        let mut d = hpack::Decoder::new();
        for case in story {
            d.decode_with_cb(&case.wire, |name: Cow<[u8]>, value: Cow<[u8]>| {
                black_box((name, value));
                n += 1;
            })
            .expect("hpack decodes");
        }
    }
    n
}

fn decode_loona(stories: &[Story]) -> usize {
    let mut n = 0;
    for story in stories {
        let mut d = loona_hpack::Decoder::new();
        for case in story {
            d.decode_with_cb(&case.wire, |name: Cow<[u8]>, value: Cow<[u8]>| {
                black_box((name, value));
                n += 1;
            })
            .expect("loona-hpack decodes");
        }
    }
    n
}

fn decode_httlib(stories: &[Story]) -> usize {
    let mut n = 0;
    let mut out = Vec::new();
    for story in stories {
        let mut d = httlib_hpack::Decoder::default();
        for case in story {
            let mut buf = case.wire.to_vec();
            d.decode(&mut buf, &mut out).expect("httlib-hpack decodes");
            n += out.len();
            black_box(&out);
            out.clear();
        }
    }
    n
}

fn encode_ours(stories: &[Story], huffman: Huffman, dst: &mut BytesMut) -> usize {
    let mut total = 0;
    for story in stories {
        let mut e = Encoder::new();
        e.set_huffman(huffman);
        for case in story {
            dst.clear();
            e.encode(&case.headers, dst);
            total += dst.len();
            black_box(&dst);
        }
    }
    total
}

fn encode_hpack(stories: &[Story], dst: &mut Vec<u8>) -> usize {
    let mut total = 0;
    for story in stories {
        let mut e = hpack::Encoder::new();
        for case in story {
            dst.clear();
            let fields = case.headers.iter().map(|h| (&h.name[..], &h.value[..]));
            e.encode_into(fields, dst).expect("hpack encodes");
            total += dst.len();
            black_box(&dst);
        }
    }
    total
}

fn encode_loona(stories: &[Story], dst: &mut Vec<u8>) -> usize {
    let mut total = 0;
    for story in stories {
        let mut e = loona_hpack::Encoder::new();
        for case in story {
            dst.clear();
            let fields = case.headers.iter().map(|h| (&h.name[..], &h.value[..]));
            e.encode_into(fields, dst).expect("loona-hpack encodes");
            total += dst.len();
            black_box(&dst);
        }
    }
    total
}

fn encode_httlib(stories: &[Story], dst: &mut Vec<u8>) -> usize {
    // Huffman name and value, incremental indexing, best representation.
    const FLAGS: u8 = 0x1 | 0x2 | 0x4 | 0x10;
    let mut total = 0;
    for story in stories {
        let mut e = httlib_hpack::Encoder::default();
        for case in story {
            dst.clear();
            for h in &case.headers {
                e.encode((h.name.to_vec(), h.value.to_vec(), FLAGS), dst)
                    .expect("httlib-hpack encodes");
            }
            total += dst.len();
            black_box(&dst);
        }
    }
    total
}

fn hpack_benches(c: &mut Criterion) {
    let mut decode_set: Vec<Story> = ["nghttp2", "go-hpack", "python-hpack"]
        .iter()
        .flat_map(|name| stories(name))
        .collect();
    let encode_set = stories("nghttp2");
    let cases = |set: &[Story]| set.iter().flatten().count();
    let wire: usize = decode_set.iter().flatten().map(|c| c.wire.len()).sum();
    let fields: usize = decode_set.iter().flatten().map(|c| c.headers.len()).sum();
    let plain: usize = encode_set
        .iter()
        .flatten()
        .flat_map(|c| &c.headers)
        .map(|h| h.name.len() + h.value.len())
        .sum();
    let enc_fields: usize = encode_set.iter().flatten().map(|c| c.headers.len()).sum();
    let nghttp2_size: usize = encode_set.iter().flatten().map(|c| c.wire.len()).sum();
    assert_eq!(decode_ours(&decode_set), fields);
    assert_eq!(decode_ours_borrowed(&decode_set), fields);
    assert_eq!(decode_ours_list(&decode_set), fields);
    assert_eq!(decode_hpack(&decode_set), fields);
    assert_eq!(decode_loona(&decode_set), fields);
    assert_eq!(decode_httlib(&decode_set), fields);
    // Decoding needs only the wires: drop the rest from the working set.
    decode_set
        .iter_mut()
        .flatten()
        .for_each(|c| c.headers = Vec::new());
    println!(
        "decode corpus: {} stories, {} cases, {fields} fields, {wire} wire bytes",
        decode_set.len(),
        cases(&decode_set)
    );
    println!(
        "encode corpus: {} stories, {} cases, {enc_fields} fields, {plain} plain bytes",
        encode_set.len(),
        cases(&encode_set)
    );
    let mut bm = BytesMut::new();
    let mut v = Vec::new();
    for (name, size) in [
        ("nghttp2 (recorded)", nghttp2_size),
        (
            "ours",
            encode_ours(&encode_set, Huffman::WhenShorter, &mut bm),
        ),
        (
            "ours-raw",
            encode_ours(&encode_set, Huffman::Never, &mut bm),
        ),
        ("hpack", encode_hpack(&encode_set, &mut v)),
        ("loona-hpack", encode_loona(&encode_set, &mut v)),
        ("httlib-hpack", encode_httlib(&encode_set, &mut v)),
    ] {
        println!(
            "encoded size {name:>18}: {size:>8} B = {:.3} x plain, {:.3} x nghttp2",
            size as f64 / plain as f64,
            size as f64 / nghttp2_size as f64
        );
    }

    let mut g = c.benchmark_group("hpack_decode");
    g.throughput(Throughput::Bytes(wire as u64));
    // `hpack` and `loona-hpack` take about 2 s per pass.
    g.sample_size(10);
    g.bench_function("ours", |b| b.iter(|| decode_ours(&decode_set)));
    g.bench_function("ours-borrowed", |b| {
        b.iter(|| decode_ours_borrowed(&decode_set));
    });
    g.bench_function("ours-list", |b| b.iter(|| decode_ours_list(&decode_set)));
    g.bench_function("hpack", |b| b.iter(|| decode_hpack(&decode_set)));
    g.bench_function("loona-hpack", |b| b.iter(|| decode_loona(&decode_set)));
    g.bench_function("httlib-hpack", |b| b.iter(|| decode_httlib(&decode_set)));
    g.finish();

    let mut g = c.benchmark_group("hpack_encode");
    g.throughput(Throughput::Bytes(plain as u64));
    g.bench_function("ours", |b| {
        b.iter(|| encode_ours(&encode_set, Huffman::WhenShorter, &mut bm));
    });
    g.bench_function("ours-raw", |b| {
        b.iter(|| encode_ours(&encode_set, Huffman::Never, &mut bm));
    });
    g.bench_function("hpack", |b| b.iter(|| encode_hpack(&encode_set, &mut v)));
    g.bench_function("loona-hpack", |b| {
        b.iter(|| encode_loona(&encode_set, &mut v))
    });
    g.bench_function("httlib-hpack", |b| {
        b.iter(|| encode_httlib(&encode_set, &mut v));
    });
    g.finish();

    // Every value, Huffman-coded (the same bytes for everyone).
    let coded: Vec<Vec<u8>> = encode_set
        .iter()
        .flatten()
        .flat_map(|c| &c.headers)
        .filter(|h| !h.value.is_empty())
        .map(|h| {
            let mut b = BytesMut::new();
            huffman::encode(&h.value, &mut b);
            b.to_vec()
        })
        .collect();
    let coded_len: usize = coded.iter().map(Vec::len).sum();
    println!(
        "huffman corpus: {} strings, {coded_len} coded bytes",
        coded.len()
    );
    let mut g = c.benchmark_group("huffman_decode");
    g.throughput(Throughput::Bytes(coded_len as u64));
    g.bench_function("ours", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            for s in &coded {
                out.clear();
                huffman::decode(s, &mut out).expect("ours");
                black_box(&out);
            }
        });
    });
    g.bench_function("hpack", |b| {
        b.iter(|| {
            let mut d = hpack::huffman::HuffmanDecoder::new();
            for s in &coded {
                black_box(d.decode(s).expect("hpack"));
            }
        });
    });
    g.bench_function("httlib-huffman", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            for s in &coded {
                out.clear();
                httlib_huffman::decode(s, &mut out, httlib_huffman::DecoderSpeed::FiveBits)
                    .expect("httlib");
                black_box(&out);
            }
        });
    });
    g.finish();
}

criterion_group!(benches, hpack_benches);
criterion_main!(benches);
