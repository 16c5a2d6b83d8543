//! Checks of the runner itself: the case table matches Autobahn's counts,
//! and the fuzzer's reader and inflater catch what they must.

use super::case::Script;
use super::inflate::Inflate as Inflater;
use super::memory::split_points;
use super::wire::{self, Compressor, Ev, FrameReader};
use super::{cases_close, cases_frag, cases_framing, cases_utf8};

#[test]
fn case_counts_match_autobahn() {
    assert_eq!(cases_framing::framing().len(), 16);
    assert_eq!(cases_framing::pings().len(), 11);
    assert_eq!(cases_framing::reserved_bits().len(), 7);
    assert_eq!(cases_framing::opcodes().len(), 10);
    assert_eq!(cases_frag::fragmentation().len(), 20);
    assert_eq!(cases_utf8::utf8().len(), 145);
    assert_eq!(cases_close::close().len(), 37);
}

#[test]
fn reader_flags_what_a_peer_must_not_send() {
    let bad: [(&[u8], bool, &str); 6] = [
        (&[0x81, 0x81, 1, 2, 3, 4, 0x61], false, "masked"),
        (&[0x81, 0x01, 0x61], true, "unmasked"),
        (&[0x81, 0x7e, 0x00, 0x01, 0x61], false, "non-minimal"),
        (&[0xc1, 0x01, 0x61], false, "RSV"),
        (&[0x81, 0x02, 0xc3, 0x28], false, "UTF-8"),
        (&[0x88, 0x00, 0x81, 0x00], false, "after the close"),
    ];
    for (bytes, masked, what) in bad {
        let mut r = FrameReader::new(masked, None);
        r.push(bytes);
        assert!(
            r.violations.first().is_some_and(|v| v.contains(what)),
            "{what}: {:?}",
            r.violations
        );
    }
}

#[test]
fn reader_reassembles_split_input() {
    let mut s = Script::new(true, None);
    s.frame(wire::TEXT, false, "h\u{e9}".as_bytes());
    s.frame(wire::PING, true, b"p");
    s.frame(wire::CONT, true, b"llo");
    let mut r = FrameReader::new(true, None);
    for op in &s.ops {
        if let super::case::Op::Write(b) = op {
            for byte in b {
                r.push(&[*byte]);
            }
        }
    }
    assert_eq!(
        r.events,
        [
            Ev::Ping(b"p".to_vec()),
            Ev::Text("h\u{e9}llo".as_bytes().to_vec())
        ]
    );
    assert!(r.violations.is_empty());
}

/// A peer compressing with a wider window than agreed must not inflate.
#[test]
fn inflater_enforces_the_window() {
    // 4 KiB of noise twice: the only matches are 4096 bytes back.
    let mut x = 0x2545_f491_u32;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect();
    let data = [noise.clone(), noise].concat();
    let wide = Compressor::new(15, false).message(&data);
    assert!(Inflater::new(9, false).message(&wide).is_err());
    assert_eq!(
        Inflater::new(15, false).message(&wide).ok(),
        Some(data.clone())
    );
    let narrow = Compressor::new(9, false).message(&data);
    assert_eq!(Inflater::new(9, false).message(&narrow).ok(), Some(data));
}

/// Context takeover: a second message referring to the first inflates
/// only with the kept context.
#[test]
fn inflater_resets_when_agreed() {
    let msg = b"the same sentence, twice over, the same sentence".to_vec();
    let mut c = Compressor::new(15, false);
    let _ = c.message(&msg);
    let second = c.message(&msg);
    let mut keep = Inflater::new(15, false);
    let _ = keep.message(&Compressor::new(15, false).message(&msg));
    assert_eq!(keep.message(&second).ok(), Some(msg.clone()));
    let mut reset = Inflater::new(15, true);
    let _ = reset.message(&Compressor::new(15, false).message(&msg));
    assert_ne!(reset.message(&second).ok(), Some(msg));
}

#[test]
fn split_points_cover_small_inputs_and_sample_big_ones() {
    assert_eq!(split_points(10, 1 << 20), (0..=10).collect::<Vec<_>>());
    let big = split_points(1 << 20, 16 << 20);
    assert!(big.len() <= 40 && big.len() >= 3);
    assert!(big.contains(&0) && big.contains(&(1 << 20)));
}

/// RFC 7692 §7.2.3: "Hello" compressed, again with context takeover, in a
/// stored block, and in a final block.
#[test]
fn inflater_decodes_the_rfc_examples() {
    let mut d = Inflater::new(15, false);
    let hello = Some(b"Hello".to_vec());
    assert_eq!(
        d.message(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).ok(),
        hello
    );
    assert_eq!(d.message(&[0xf2, 0x00, 0x11, 0x00, 0x00]).ok(), hello);
    let stored = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(Inflater::new(15, false).message(&stored).ok(), hello);
    let last = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(Inflater::new(15, false).message(&last).ok(), hello);
}
