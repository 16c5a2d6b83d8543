//! Category 6: UTF-8 handling. Valid text is echoed however it is
//! fragmented; invalid text fails the connection with 1007, and fails fast:
//! as soon as the byte that makes the sequence invalid arrives, even inside
//! an incomplete frame (6.4.x).

use super::case::{Case, Script};
use super::wire::{CONT, TEXT};

const KOSME: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
const MIXED: &str = "Hello-\u{b5}@\u{df}\u{f6}\u{e4}\u{fc}\u{e0}\u{e1}-UTF-8!!";

/// All category 6 cases: 6.1–6.4 by hand, 6.5–6.23 from the sequence
/// table (Markus Kuhn's UTF-8 decoder stress test, as Autobahn uses it).
pub(crate) fn utf8() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(Case::new("6.1.1", |s| {
        s.frame(TEXT, true, b"");
        s.echo_text(b"");
    }));
    for (id, middle) in [("6.1.2", &b""[..]), ("6.1.3", b"middle frame payload")] {
        v.push(Case::new(id, move |s| {
            s.frame(TEXT, false, b"");
            s.frame(CONT, false, middle);
            s.frame(CONT, true, b"");
            s.echo_text(middle);
        }));
    }
    v.push(Case::new("6.2.1", |s| {
        s.frame(TEXT, true, MIXED.as_bytes());
        s.echo_text(MIXED.as_bytes());
    }));
    v.push(Case::new("6.2.2", |s| {
        // Split on a code point boundary.
        let (a, b) = MIXED.as_bytes().split_at(15);
        s.frame(TEXT, false, a);
        s.frame(CONT, true, b);
        s.echo_text(MIXED.as_bytes());
    }));
    for (id, payload) in [("6.2.3", MIXED.as_bytes()), ("6.2.4", KOSME)] {
        v.push(Case::new(id, move |s| {
            s.message(true, payload, 1);
            s.echo_text(payload);
        }));
    }
    let bad: Vec<u8> = [KOSME, b"\xed\xa0\x80", b"edited"].concat();
    let bad2 = bad.clone();
    v.push(Case::new("6.3.1", move |s| {
        s.frame(TEXT, true, &bad);
        s.fail(1007);
    }));
    v.push(Case::new("6.3.2", move |s| {
        s.message(true, &bad2, 1);
        s.fail(1007);
    }));
    // 6.4.x: U+110000 spelled as F4 90 80 80 arrives in the middle; the
    // peer must fail on the second part, before the third is sent.
    let p: Vec<u8> = [KOSME, b"\xf4\x90\x80\x80", b"edited"].concat();
    for (n, cuts, one_frame) in [
        (1, [11usize, 15], false),
        (2, [12, 13], false),
        (3, [11, 15], true),
        (4, [12, 13], true),
    ] {
        let p = p.clone();
        v.push(Case::new(format!("6.4.{n}"), move |s| {
            fail_fast(s, &p, cuts, one_frame);
        }));
    }
    for (group, seqs) in (5..).zip(sequences()) {
        for (i, (valid, payload)) in (1..).zip(seqs) {
            v.push(Case::new(format!("6.{group}.{i}"), move |s| {
                s.frame(TEXT, true, &payload);
                if valid {
                    s.echo_text(&payload);
                } else {
                    s.fail(1007);
                }
            }));
        }
    }
    v
}

/// Sends `p` in three parts cut at `cuts`, as three frames or as three
/// writes of one frame, with the fail-fast checkpoints between them.
fn fail_fast(s: &mut Script, p: &[u8], cuts: [usize; 2], one_frame: bool) {
    let [c1, c2] = cuts;
    let (a, rest) = p.split_at(c1.min(p.len()));
    let (b, c) = rest.split_at((c2 - c1).min(rest.len()));
    if one_frame {
        let bytes = s.encode(true, 0, TEXT, p);
        let h = s.header_len(p.len());
        let (x, rest) = bytes.split_at((h + c1).min(bytes.len()));
        let (y, z) = rest.split_at((c2 - c1).min(rest.len()));
        s.write(x.to_vec());
        s.expect_open();
        s.write(y.to_vec());
        s.expect_failed();
        s.write(z.to_vec());
    } else {
        s.frame(TEXT, false, a);
        s.expect_open();
        s.frame(CONT, false, b);
        s.expect_failed();
        s.frame(CONT, true, c);
    }
    s.fail(1007);
}

/// Autobahn's UTF-8 test sequences, in its order: one group per 6.N
/// (N = 5, 6, ...), each a list of (valid, bytes).
fn sequences() -> Vec<Vec<(bool, Vec<u8>)>> {
    let ok = |b: &[u8]| (true, b.to_vec());
    let bad = |b: &[u8]| (false, b.to_vec());
    let mut g: Vec<Vec<(bool, Vec<u8>)>> = Vec::new();
    // 6.5: some valid sequences.
    g.push(vec![
        ok(b"hello\x24world"),
        ok(b"hello\xc2\xa2world"),
        ok(b"hello\xe2\x82\xacworld"),
        ok(b"hello\xf0\xa4\xad\xa2world"),
        ok(KOSME),
    ]);
    // 6.6: every prefix of a multi-byte string; only whole code points pass.
    g.push(
        (1..=KOSME.len())
            .map(|i| {
                let p = KOSME.get(..i).unwrap_or_default();
                (std::str::from_utf8(p).is_ok(), p.to_vec())
            })
            .collect(),
    );
    // 6.7: first sequence of each length; 6.8: of lengths 5 and 6.
    g.push(vec![
        ok(b"\x00"),
        ok(b"\xc2\x80"),
        ok(b"\xe0\xa0\x80"),
        ok(b"\xf0\x90\x80\x80"),
    ]);
    g.push(vec![
        bad(b"\xf8\x88\x80\x80\x80"),
        bad(b"\xfc\x84\x80\x80\x80\x80"),
    ]);
    // 6.9: last sequence of each length; 6.10: past U+10FFFF.
    g.push(vec![
        ok(b"\x7f"),
        ok(b"\xdf\xbf"),
        ok(b"\xef\xbf\xbf"),
        ok(b"\xf4\x8f\xbf\xbf"),
    ]);
    g.push(vec![
        bad(b"\xf7\xbf\xbf\xbf"),
        bad(b"\xfb\xbf\xbf\xbf\xbf"),
        bad(b"\xfd\xbf\xbf\xbf\xbf\xbf"),
    ]);
    // 6.11: other boundaries.
    g.push(vec![
        ok(b"\xed\x9f\xbf"),
        ok(b"\xee\x80\x80"),
        ok(b"\xef\xbf\xbd"),
        ok(b"\xf4\x8f\xbf\xbf"),
        bad(b"\xf4\x90\x80\x80"),
    ]);
    // 6.12: unexpected continuation bytes.
    let mut cont = vec![
        bad(b"\x80"),
        bad(b"\xbf"),
        bad(b"\x80\xbf"),
        bad(b"\x80\xbf\x80"),
        bad(b"\x80\xbf\x80\xbf"),
        bad(b"\x80\xbf\x80\xbf\x80"),
        bad(b"\x80\xbf\x80\xbf\x80\xbf"),
    ];
    cont.push((false, (0x80u8..0xbf).collect()));
    g.push(cont);
    // 6.13: lonely start bytes, each followed by a space.
    g.push(
        [
            (0xc0u8, 0xdfu8),
            (0xe0, 0xef),
            (0xf0, 0xf7),
            (0xf8, 0xfb),
            (0xfc, 0xfd),
        ]
        .iter()
        .map(|&(a, b)| (false, (a..b).flat_map(|c| [c, 0x20]).collect()))
        .collect(),
    );
    // 6.14: last continuation byte missing; 6.15: all of them in a row.
    let missing: [&[u8]; 10] = [
        b"\xc0",
        b"\xe0\x80",
        b"\xf0\x80\x80",
        b"\xf8\x80\x80\x80",
        b"\xfc\x80\x80\x80\x80",
        b"\xdf",
        b"\xef\xbf",
        b"\xf7\xbf\xbf",
        b"\xfb\xbf\xbf\xbf",
        b"\xfd\xbf\xbf\xbf\xbf",
    ];
    g.push(missing.iter().map(|m| bad(m)).collect());
    g.push(vec![(false, missing.concat())]);
    // 6.16: bytes that never appear.
    g.push(vec![bad(b"\xfe"), bad(b"\xff"), bad(b"\xfe\xfe\xff\xff")]);
    // 6.17–6.19: overlong forms of '/', the largest overlongs, and NUL.
    g.push(vec![
        bad(b"\xc0\xaf"),
        bad(b"\xe0\x80\xaf"),
        bad(b"\xf0\x80\x80\xaf"),
        bad(b"\xf8\x80\x80\x80\xaf"),
        bad(b"\xfc\x80\x80\x80\x80\xaf"),
    ]);
    g.push(vec![
        bad(b"\xc1\xbf"),
        bad(b"\xe0\x9f\xbf"),
        bad(b"\xf0\x8f\xbf\xbf"),
        bad(b"\xf8\x87\xbf\xbf\xbf"),
        bad(b"\xfc\x83\xbf\xbf\xbf\xbf"),
    ]);
    g.push(vec![
        bad(b"\xc0\x80"),
        bad(b"\xe0\x80\x80"),
        bad(b"\xf0\x80\x80\x80"),
        bad(b"\xf8\x80\x80\x80\x80"),
        bad(b"\xfc\x80\x80\x80\x80\x80"),
    ]);
    // 6.20: single UTF-16 surrogates; 6.21: paired ones.
    let singles: [&[u8]; 7] = [
        b"\xed\xa0\x80",
        b"\xed\xad\xbf",
        b"\xed\xae\x80",
        b"\xed\xaf\xbf",
        b"\xed\xb0\x80",
        b"\xed\xbe\x80",
        b"\xed\xbf\xbf",
    ];
    g.push(singles.iter().map(|s| bad(s)).collect());
    let mut pairs = Vec::new();
    for hi in [
        b"\xed\xa0\x80",
        b"\xed\xad\xbf",
        b"\xed\xae\x80",
        b"\xed\xaf\xbf",
    ] {
        for lo in [b"\xed\xb0\x80", b"\xed\xbf\xbf"] {
            pairs.push((false, [&hi[..], &lo[..]].concat()));
        }
    }
    g.push(pairs);
    // 6.22: non-characters, which are valid UTF-8.
    let mut nonchars = vec![ok(b"\xef\xbf\xbe"), ok(b"\xef\xbf\xbf")];
    for z1 in [0xf0u8, 0xf1, 0xf2, 0xf3, 0xf4] {
        for z2 in [0x8fu8, 0x9f, 0xaf, 0xbf] {
            if z1 == 0xf4 && z2 != 0x8f {
                continue;
            }
            for z3 in [0xbeu8, 0xbf] {
                if z1 == 0xf0 && z2 == 0x8f {
                    continue;
                }
                nonchars.push((true, vec![z1, z2, 0xbf, z3]));
            }
        }
    }
    g.push(nonchars);
    // 6.23: the Specials block, replacement character included.
    g.push(
        (0xb9u8..=0xbf)
            .map(|last| (true, vec![0xef, 0xbf, last]))
            .collect(),
    );
    g
}
