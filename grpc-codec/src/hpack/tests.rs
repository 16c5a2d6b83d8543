//! RFC 7541 Appendix C, error cases, and encoder-decoder round trips.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;

pub(super) fn unhex(s: &str) -> Bytes {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>()
        .into()
}

pub(super) fn h(name: &str, value: &str) -> Header {
    Header::new(name.to_owned(), value.to_owned())
}

fn table(d: &Decoder) -> Vec<(String, String)> {
    d.table_entries()
        .map(|(n, v)| {
            (
                String::from_utf8(n.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// One block of an Appendix C sequence: its wire (hex), its fields, the
/// table after it (newest first) and the table's size.
type Step<'a> = (&'a str, &'a [Header], &'a [(&'a str, &'a str)], usize);

/// Decodes each block of a sequence with one decoder, checking the fields,
/// the table and its size after each; then re-encodes the fields with an
/// encoder and decodes them back.
fn sequence(table_size: usize, steps: &[Step<'_>]) {
    let mut d = Decoder::new(table_size, Limits::default());
    for (i, (wire, headers, entries, size)) in steps.iter().enumerate() {
        let got = d.decode_to_vec(&unhex(wire)).unwrap();
        assert_eq!(got, *headers, "block {i}");
        assert_eq!(table(&d), owned(entries), "table after block {i}");
        assert_eq!(d.table_size(), *size, "table size after block {i}");
    }
    let mut e = Encoder::new();
    e.set_max_table_size(table_size);
    let mut d = Decoder::new(table_size, Limits::default());
    for (_, headers, _, _) in steps {
        let mut block = BytesMut::new();
        e.encode(*headers, &mut block);
        assert_eq!(d.decode_to_vec(&block.freeze()).unwrap(), *headers);
    }
}

#[test]
fn c2_literals_and_indexed() {
    // C.2.1: literal with indexing.
    sequence(
        4096,
        &[(
            "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
            &[h("custom-key", "custom-header")],
            &[("custom-key", "custom-header")],
            55,
        )],
    );
    // C.2.2: literal without indexing.
    sequence(
        4096,
        &[(
            "040c 2f73 616d 706c 652f 7061 7468",
            &[h(":path", "/sample/path")],
            &[],
            0,
        )],
    );
    // C.2.3: literal never indexed.
    sequence(
        4096,
        &[(
            "1008 7061 7373 776f 7264 0673 6563 7265 74",
            &[Header::sensitive("password", "secret")],
            &[],
            0,
        )],
    );
    // C.2.4: indexed.
    sequence(4096, &[("82", &[h(":method", "GET")], &[], 0)]);
}

fn requests() -> [Vec<Header>; 3] {
    let first = vec![
        h(":method", "GET"),
        h(":scheme", "http"),
        h(":path", "/"),
        h(":authority", "www.example.com"),
    ];
    let mut second = first.clone();
    second.push(h("cache-control", "no-cache"));
    let third = vec![
        h(":method", "GET"),
        h(":scheme", "https"),
        h(":path", "/index.html"),
        h(":authority", "www.example.com"),
        h("custom-key", "custom-value"),
    ];
    [first, second, third]
}

fn request_sequence(wires: [&str; 3]) {
    let [r1, r2, r3] = requests();
    sequence(
        4096,
        &[
            (wires[0], &r1, &[(":authority", "www.example.com")], 57),
            (
                wires[1],
                &r2,
                &[
                    ("cache-control", "no-cache"),
                    (":authority", "www.example.com"),
                ],
                110,
            ),
            (
                wires[2],
                &r3,
                &[
                    ("custom-key", "custom-value"),
                    ("cache-control", "no-cache"),
                    (":authority", "www.example.com"),
                ],
                164,
            ),
        ],
    );
}

#[test]
fn c3_requests_without_huffman() {
    request_sequence([
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]);
}

#[test]
fn c4_requests_with_huffman() {
    request_sequence([
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ]);
}

const DATE1: &str = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE2: &str = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION: &str = "https://www.example.com";
const COOKIE: &str = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

fn response_sequence(wires: [&str; 3]) {
    let r1 = [
        h(":status", "302"),
        h("cache-control", "private"),
        h("date", DATE1),
        h("location", LOCATION),
    ];
    let mut r2 = r1.clone();
    r2[0] = h(":status", "307");
    let r3 = [
        h(":status", "200"),
        h("cache-control", "private"),
        h("date", DATE2),
        h("location", LOCATION),
        h("content-encoding", "gzip"),
        h("set-cookie", COOKIE),
    ];
    // Table size 256: each response evicts.
    sequence(
        256,
        &[
            (
                wires[0],
                &r1,
                &[
                    ("location", LOCATION),
                    ("date", DATE1),
                    ("cache-control", "private"),
                    (":status", "302"),
                ],
                222,
            ),
            (
                wires[1],
                &r2,
                &[
                    (":status", "307"),
                    ("location", LOCATION),
                    ("date", DATE1),
                    ("cache-control", "private"),
                ],
                222,
            ),
            (
                wires[2],
                &r3,
                &[
                    ("set-cookie", COOKIE),
                    ("content-encoding", "gzip"),
                    ("date", DATE2),
                ],
                215,
            ),
        ],
    );
}

#[test]
fn c5_responses_without_huffman() {
    response_sequence([
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 \
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 \
         6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d \
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 \
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e \
         3d31",
    ]);
}

#[test]
fn c6_responses_with_huffman() {
    response_sequence([
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
         9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    ]);
}

#[test]
fn encoder_matches_rfc_where_policy_agrees() {
    // C.4: our encoder makes the same choices as the RFC's for requests.
    let mut e = Encoder::new();
    let mut out = Vec::new();
    for r in requests() {
        let mut b = BytesMut::new();
        e.encode(&r, &mut b);
        out.push(b.freeze());
    }
    assert_eq!(out[0], unhex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
    assert_eq!(out[1], unhex("8286 84be 5886 a8eb 1064 9cbf"));
    assert_eq!(
        out[2],
        unhex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")
    );
}

#[test]
fn raw_encoder_matches_rfc_c3() {
    // C.3: the same requests, never Huffman-coded.
    let mut e = Encoder::new();
    e.set_huffman(Huffman::Never);
    assert_eq!(e.huffman(), Huffman::Never);
    let mut out = Vec::new();
    for r in requests() {
        let mut b = BytesMut::new();
        e.encode(&r, &mut b);
        out.push(b.freeze());
    }
    assert_eq!(
        out[0],
        unhex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d")
    );
    assert_eq!(out[1], unhex("8286 84be 5808 6e6f 2d63 6163 6865"));
    assert_eq!(
        out[2],
        unhex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65")
    );
}

#[test]
fn encoder_cap_below_default_is_signaled_first() {
    let mut e = Encoder::with_cap(100);
    let mut b = BytesMut::new();
    e.encode(&[h("x-a", "1")], &mut b);
    // Size update to 100 (31 + 69), then the field.
    assert_eq!(&b[..3], &[0x3f, 69, 0x40]);
    let mut d = Decoder::default();
    assert_eq!(d.decode_to_vec(&b.freeze()).unwrap(), [h("x-a", "1")]);
    assert_eq!((d.table_capacity(), e.table_capacity()), (100, 100));
}

fn decode_err(d: &mut Decoder, wire: &str) -> Error {
    d.decode_to_vec(&unhex(wire)).unwrap_err()
}

#[test]
fn invalid_indices() {
    let mut d = Decoder::default();
    assert_eq!(decode_err(&mut d, "80"), Error::InvalidIndex(0));
    assert_eq!(decode_err(&mut d, "be"), Error::InvalidIndex(62));
    // Literal whose name index is past the table.
    assert_eq!(decode_err(&mut d, "7f00 0161"), Error::InvalidIndex(63));
    let err = decode_err(&mut d, "ff ff ff ff ff 0f");
    assert_eq!(err, Error::IntegerOverflow);
    assert_eq!(err.code(), 0x9);
    assert!(err.is_connection_error());
}

#[test]
fn truncated_blocks() {
    let mut d = Decoder::default();
    for wire in ["40", "400a 6375", "4003 616263", "04", "ff", "3f"] {
        assert_eq!(decode_err(&mut d, wire), Error::Truncated, "{wire}");
    }
}

#[test]
fn string_longer_than_limit() {
    let limits = Limits {
        max_string_len: 8,
        ..Limits::default()
    };
    let mut d = Decoder::new(4096, limits);
    // 9 raw octets.
    assert_eq!(
        decode_err(&mut d, "0009 616161616161616161 00"),
        Error::StringTooLong { len: 9, limit: 8 }
    );
    // 6 Huffman octets that decode to 9 ('0' is 5 bits: 9 x 5 = 45 bits).
    let mut b = BytesMut::new();
    huffman::encode(b"000000000", &mut b);
    let mut wire = vec![0x00, 0x80 | 6];
    wire.extend_from_slice(&b);
    wire.push(0);
    let err = d.decode_to_vec(&Bytes::from(wire)).unwrap_err();
    assert_eq!(err, Error::StringTooLong { len: 9, limit: 8 });
    // A length that cannot be in the block is refused before reading it.
    assert_eq!(
        decode_err(&mut d, "00 7f ffff ff0f"),
        Error::StringTooLong {
            len: 33_554_558,
            limit: 8
        }
    );
}

#[test]
fn huffman_errors_in_blocks() {
    let mut d = Decoder::default();
    // Value is EOS padded to 32 bits.
    assert_eq!(
        decode_err(&mut d, "0001 61 84 ffff ffff"),
        Error::HuffmanEos
    );
    // Value 'a' + 11 bits of ones: padding > 7 bits.
    assert_eq!(decode_err(&mut d, "0001 61 82 1fff"), Error::HuffmanPadding);
    // Value 'a' + 110: padding not all ones.
    assert_eq!(decode_err(&mut d, "0001 61 81 1e"), Error::HuffmanPadding);
}

#[test]
fn size_updates() {
    let mut d = Decoder::default();
    // At the start, several: fine.
    assert_eq!(
        d.decode_to_vec(&unhex("20 3fe1 1f 82")).unwrap(),
        [h(":method", "GET")]
    );
    assert_eq!(d.table_capacity(), 4096);
    // After a field: error.
    assert_eq!(decode_err(&mut d, "82 20"), Error::SizeUpdateNotAtStart);
    let mut d = Decoder::default();
    // Above our SETTINGS maximum.
    assert_eq!(
        decode_err(&mut d, "3fe2 1f"),
        Error::SizeUpdateTooLarge {
            size: 4097,
            max: 4096
        }
    );
}

#[test]
fn size_update_required_after_settings_decrease() {
    let mut d = Decoder::default();
    d.decode_to_vec(&unhex(
        "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
    ))
    .unwrap();
    d.set_max_table_size(32);
    assert_eq!(decode_err(&mut d, "82"), Error::SizeUpdateMissing);
    let mut d2 = Decoder::default();
    d2.set_max_table_size(32);
    // An update, but not small enough: refused as too large.
    assert!(matches!(
        decode_err(&mut d2, "3f21 82"),
        Error::SizeUpdateTooLarge { .. }
    ));
    let mut d3 = Decoder::default();
    d3.decode_to_vec(&unhex("4001 61 01 62")).unwrap();
    d3.set_max_table_size(0);
    assert_eq!(
        d3.decode_to_vec(&unhex("20 82")).unwrap(),
        [h(":method", "GET")]
    );
    assert_eq!((d3.table_capacity(), d3.table_size()), (0, 0));
    // Raising SETTINGS needs no update.
    d3.set_max_table_size(100);
    assert!(d3.decode_to_vec(&unhex("82")).is_ok());
}

#[test]
fn header_list_limit_keeps_the_table_in_step() {
    let limits = Limits {
        max_header_list_size: 60,
        ..Limits::default()
    };
    let mut d = Decoder::new(4096, limits);
    // custom-key: custom-header (55), then :method GET (42): too large.
    let wire =
        unhex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572 82 4001 61 01 62");
    let mut seen = Vec::new();
    let err = d.decode(&wire, |h| seen.push(h)).unwrap_err();
    assert_eq!(
        err,
        Error::HeaderListTooLarge {
            size: 55 + 42 + 34,
            limit: 60
        }
    );
    assert!(!err.is_connection_error());
    assert_eq!(err.code(), 0x1);
    assert_eq!(seen, [h("custom-key", "custom-header")]);
    // Both literals were indexed all the same.
    assert_eq!(d.table_size(), 55 + 34);
    assert_eq!(
        d.decode_to_vec(&unhex("bf")).unwrap(),
        [h("custom-key", "custom-header")]
    );
    assert_eq!(d.decode_to_vec(&unhex("be")).unwrap(), [h("a", "b")]);
}

#[test]
fn sensitive_fields_stay_never_indexed() {
    let mut d = Decoder::default();
    let decoded = d
        .decode_to_vec(&unhex("1008 7061 7373 776f 7264 0673 6563 7265 74"))
        .unwrap();
    let mut e = Encoder::new();
    let mut b = BytesMut::new();
    e.encode(&decoded, &mut b);
    assert_eq!(b[0] & 0xf0, 0x10);
    assert_eq!(e.table_size(), 0);
    assert_eq!(
        Decoder::default().decode_to_vec(&b.freeze()).unwrap(),
        decoded
    );
    // Credentials and short cookies are never indexed, even unmarked.
    for (name, value) in [
        ("authorization", "Basic dXNlcjpwYXNz"),
        ("proxy-authorization", "x"),
        ("cookie", "sid=31d4d96e407a"),
    ] {
        let mut b = BytesMut::new();
        e.encode(&[h(name, value)], &mut b);
        assert_eq!(b[0] & 0xf0, 0x10, "{name}");
        let got = Decoder::default().decode_to_vec(&b.freeze()).unwrap();
        assert!(got[0].sensitive);
    }
    // A long cookie is indexed.
    let mut b = BytesMut::new();
    e.encode(&[h("cookie", "session=0123456789abcdef0123456789")], &mut b);
    assert_eq!(b[0] & 0xc0, 0x40);
}

#[test]
fn encoder_signals_settings_changes() {
    let mut e = Encoder::new();
    let mut d = Decoder::default();
    let fields = [h("x-a", "1"), h("x-b", "2")];
    let mut b = BytesMut::new();
    e.encode(&fields, &mut b);
    d.decode_to_vec(&b.split().freeze()).unwrap();
    // Lowered to 0, then raised to 1000 before the next block: 0 is
    // signaled first, then 1000.
    e.set_max_table_size(0);
    d.set_max_table_size(0);
    e.set_max_table_size(1000);
    d.set_max_table_size(1000);
    e.encode(&fields, &mut b);
    // 1000 = 31 + 969: 0x3f, then 969 in 7-bit groups, low first.
    assert_eq!(&b[..4], &[0x20, 0x3f, 0xc9, 0x07]);
    assert_eq!(d.decode_to_vec(&b.split().freeze()).unwrap(), fields);
    assert_eq!(d.table_capacity(), 1000);
    // Raised past the cap: the table stays at 4096 at most, no update.
    let mut e = Encoder::new();
    e.set_max_table_size(1 << 20);
    e.encode(&fields, &mut b);
    assert_eq!(b[0] & 0xe0, 0x40);
    assert_eq!(e.table_capacity(), 4096);
}

/// Names: static-table names, a small pool (so fields recur and hit the
/// dynamic table), and arbitrary octets.
fn name() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        (0..table::STATIC_LEN).prop_map(|i| Bytes::from_static(table::STATIC[i].0.as_bytes())),
        prop::sample::select(vec![
            "x-a",
            "x-b",
            "grpc-status",
            "te",
            "content-type",
            "cookie"
        ])
        .prop_map(|s: &'static str| Bytes::from_static(s.as_bytes())),
        "[a-z0-9-]{1,16}".prop_map(Bytes::from),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from),
    ]
}

fn value() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "0",
            "GET",
            "/",
            "trailers",
            "application/grpc",
            "gzip"
        ])
        .prop_map(|s: &'static str| Bytes::from_static(s.as_bytes())),
        "[ -~]{0,40}".prop_map(Bytes::from),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from),
    ]
}

pub(super) fn header() -> impl Strategy<Value = Header> {
    (name(), value(), prop::bool::weighted(0.1)).prop_map(|(name, value, sensitive)| Header {
        name,
        value,
        sensitive,
    })
}

#[derive(Debug, Clone)]
pub(super) enum Op {
    Block(Vec<Header>),
    /// A SETTINGS_HEADER_TABLE_SIZE change, seen by both ends before the
    /// next block.
    Resize(usize),
}

pub(super) fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        6 => prop::collection::vec(header(), 0..16).prop_map(Op::Block),
        1 => prop_oneof![Just(0usize), 0usize..600, 0usize..5000].prop_map(Op::Resize),
    ];
    prop::collection::vec(op, 1..24)
}

fn huffman() -> impl Strategy<Value = Huffman> {
    prop_oneof![Just(Huffman::WhenShorter), Just(Huffman::Never)]
}

/// The fields as the encoder sends them: some never indexed by policy.
pub(super) fn as_sent(fields: &[Header]) -> Vec<Header> {
    fields
        .iter()
        .map(|f| Header {
            sensitive: Encoder::never_indexed(f),
            ..f.clone()
        })
        .collect()
}

pub(super) fn assert_same_tables(e: &Encoder, d: &Decoder) -> Result<(), TestCaseError> {
    let ours: Vec<(&[u8], &[u8])> = e.table_entries().collect();
    let theirs: Vec<(&[u8], &[u8])> = d.table_entries().collect();
    prop_assert_eq!(ours, theirs);
    prop_assert_eq!(e.table_size(), d.table_size());
    prop_assert_eq!(e.table_capacity(), d.table_capacity());
    Ok(())
}

proptest! {
    /// Encoder then decoder gives the fields back, flags included, with
    /// both tables equal after every block, across table size changes.
    #[test]
    fn encode_decode_round_trip(ops in ops(), huffman in huffman()) {
        let mut e = Encoder::new();
        e.set_huffman(huffman);
        let mut d = Decoder::new(DEFAULT_TABLE_SIZE, Limits::default());
        let mut block = BytesMut::new();
        for op in ops {
            match op {
                Op::Block(fields) => {
                    e.encode(&fields, &mut block);
                    let got = d.decode_to_vec(&block.split().freeze()).unwrap();
                    prop_assert_eq!(got, as_sent(&fields));
                    assert_same_tables(&e, &d)?;
                }
                Op::Resize(n) => {
                    e.set_max_table_size(n);
                    d.set_max_table_size(n);
                }
            }
        }
    }

    /// A list sent as one block or split across several decodes to the
    /// same fields and leaves the same table.
    #[test]
    fn split_into_blocks(fields in prop::collection::vec(header(), 0..40), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5), huffman in huffman()) {
        let mut whole = BytesMut::new();
        let mut e1 = Encoder::new();
        e1.set_huffman(huffman);
        e1.encode(&fields, &mut whole);
        let mut d1 = Decoder::default();
        let fields = as_sent(&fields);
        prop_assert_eq!(&d1.decode_to_vec(&whole.freeze()).unwrap(), &fields);

        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(fields.len() + 1)).collect();
        at.push(0);
        at.push(fields.len());
        at.sort_unstable();
        let mut e2 = Encoder::new();
        e2.set_huffman(huffman);
        let mut d2 = Decoder::default();
        let mut got = Vec::new();
        for w in at.windows(2) {
            let mut b = BytesMut::new();
            e2.encode(&fields[w[0]..w[1]], &mut b);
            got.extend(d2.decode_to_vec(&b.freeze()).unwrap());
        }
        prop_assert_eq!(got, fields);
        assert_same_tables(&e2, &d2)?;
        let t1: Vec<_> = d1.table_entries().collect();
        let t2: Vec<_> = d2.table_entries().collect();
        prop_assert_eq!(t1, t2);
    }

    /// Arbitrary blocks: never a panic, and what decodes re-encodes and
    /// decodes to the same fields.
    #[test]
    fn arbitrary_blocks(data in prop::collection::vec(any::<u8>(), 0..200)) {
        fuzzing::hpack_decode(&data);
    }
}
