//! Category 9: limits and performance, bounded: messages up to 4 MiB (9.1.x
//! and 9.2.x stop at 9.x.4; 9.x.5 and 9.x.6 send 8 and 16 MiB and are left
//! out, as are the unbounded 9.9/9.10), fragmented (9.3, 9.4) and chopped
//! (9.5, 9.6) variants, and 1000 round trips per size (9.7, 9.8),
//! pipelined rather than timed.

use super::case::{Case, Script};
use super::wire::{BINARY, TEXT};

fn repeat(pattern: &[u8], len: usize) -> Vec<u8> {
    pattern.iter().copied().cycle().take(len).collect()
}

fn echo(s: &mut Script, text: bool, data: &[u8]) {
    if text {
        s.echo_text(data);
    } else {
        s.echo_binary(data);
    }
}

const TEXT_PATTERN: &[u8] = b"BAsd7&jh23";
const BINARY_PATTERN: &[u8] = b"\x00\xfe\x23\xfa\xf0";

/// All category 9 cases run here.
pub(crate) fn limits() -> Vec<Case> {
    let mut v = Vec::new();
    for (sub, text) in [(1, true), (2, false)] {
        for (i, len) in (1..).zip([64usize << 10, 256 << 10, 1 << 20, 4 << 20]) {
            v.push(Case::new(format!("9.{sub}.{i}"), move |s| {
                let data = repeat(if text { TEXT_PATTERN } else { BINARY_PATTERN }, len);
                s.frame(if text { TEXT } else { BINARY }, true, &data);
                echo(s, text, &data);
            }));
        }
    }
    let frags = [
        64usize,
        256,
        1 << 10,
        4 << 10,
        16 << 10,
        64 << 10,
        256 << 10,
        1 << 20,
        4 << 20,
    ];
    for (sub, text) in [(3, true), (4, false)] {
        for (i, frag) in (1..).zip(frags) {
            v.push(Case::new(format!("9.{sub}.{i}"), move |s| {
                let data = vec![if text { b'*' } else { 0xfe }; 4 << 20];
                s.message(text, &data, frag);
                echo(s, text, &data);
            }));
        }
    }
    for (sub, text) in [(5, true), (6, false)] {
        for (i, chop) in (1..).zip([64usize, 128, 256, 512, 1024, 2048]) {
            v.push(Case::new(format!("9.{sub}.{i}"), move |s| {
                let data = repeat(if text { TEXT_PATTERN } else { BINARY_PATTERN }, 1 << 20);
                s.frame_chopped(if text { TEXT } else { BINARY }, true, &data, chop);
                echo(s, text, &data);
            }));
        }
    }
    for (sub, text) in [(7, true), (8, false)] {
        for (i, len) in (1..).zip([0usize, 16, 64, 256, 1024, 4096]) {
            v.push(Case::new(format!("9.{sub}.{i}"), move |s| {
                let data = vec![if text { b'*' } else { 0xfe }; len];
                // Autobahn sends each after the previous echo: one write each.
                for _ in 0..1000 {
                    let b = s.encode(true, 0, if text { TEXT } else { BINARY }, &data);
                    s.write(b);
                    echo(s, text, &data);
                }
            }));
        }
    }
    v
}
