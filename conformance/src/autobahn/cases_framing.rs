//! Categories 1 (framing), 2 (pings and pongs), 3 (reserved bits) and 4
//! (reserved opcodes).

use super::case::Case;
use super::wire::{BINARY, CLOSE, PING, PONG, TEXT};

const HELLO: &[u8] = b"Hello, world!";
const NON_UTF8: &[u8] = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff";

/// Category 1: text (1.1.x) and binary (1.2.x) messages of the lengths
/// around each length-encoding boundary, echoed.
pub(crate) fn framing() -> Vec<Case> {
    let lens = [0usize, 125, 126, 127, 128, 65535, 65536, 65536];
    let mut v = Vec::new();
    for (sub, text) in [(1, true), (2, false)] {
        for (i, &len) in lens.iter().enumerate() {
            // 1.x.8 sends the 64 KiB frame in writes of 997 bytes.
            let chop = if i == 7 { 997 } else { 0 };
            v.push(Case::new(format!("1.{sub}.{}", i + 1), move |s| {
                let byte = if text { b'*' } else { 0xfe };
                let payload = vec![byte; len];
                let op = if text { TEXT } else { BINARY };
                if chop > 0 {
                    s.frame_chopped(op, true, &payload, chop);
                } else {
                    s.frame(op, true, &payload);
                }
                if text {
                    s.echo_text(&payload);
                } else {
                    s.echo_binary(&payload);
                }
            }));
        }
    }
    v
}

/// Category 2: pings are answered with their payload, 126-byte pings fail
/// the connection, unsolicited pongs are ignored.
pub(crate) fn pings() -> Vec<Case> {
    let mut v = Vec::new();
    let simple: [(&str, &[u8]); 3] = [("2.1", b""), ("2.2", HELLO), ("2.3", NON_UTF8)];
    for (id, payload) in simple {
        v.push(Case::new(id, move |s| {
            s.frame(PING, true, payload);
            s.pong(payload);
        }));
    }
    v.push(Case::new("2.4", |s| {
        let p = [0xfe; 125];
        s.frame(PING, true, &p);
        s.pong(&p);
    }));
    v.push(Case::new("2.5", |s| {
        s.frame(PING, true, &[0xfe; 126]);
        s.fail(1002);
    }));
    v.push(Case::new("2.6", |s| {
        let p = [0xfe; 125];
        s.frame_chopped(PING, true, &p, 1);
        s.pong(&p);
    }));
    v.push(Case::new("2.7", |s| {
        s.frame(PONG, true, b"");
        s.close(Some(1000), b"");
        s.echo_close(Some(1000));
    }));
    v.push(Case::new("2.8", |s| {
        s.frame(PONG, true, b"unsolicited pong payload");
        s.close(Some(1000), b"");
        s.echo_close(Some(1000));
    }));
    v.push(Case::new("2.9", |s| {
        s.frame(PONG, true, b"unsolicited pong payload");
        s.frame(PING, true, b"ping payload");
        s.pong(b"ping payload");
    }));
    for (id, chop) in [("2.10", 0usize), ("2.11", 1)] {
        v.push(Case::new(id, move |s| {
            for i in 0..10 {
                let p = format!("payload-{i}");
                if chop > 0 {
                    s.frame_chopped(PING, true, p.as_bytes(), chop);
                } else {
                    s.frame(PING, true, p.as_bytes());
                }
                s.pong(p.as_bytes());
            }
        }));
    }
    v
}

/// Category 3: any RSV bit without a negotiated extension fails the
/// connection with 1002, after echoing what came before.
pub(crate) fn reserved_bits() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(Case::new("3.1", |s| {
        s.frame_rsv(1, TEXT, true, HELLO);
        s.fail(1002);
    }));
    // 3.2–3.4: a good message, the bad one, then a ping that must go
    // unanswered; sent at once, frame by frame, and octet by octet.
    for (id, rsv, how) in [("3.2", 2u8, 0u8), ("3.3", 3, 1), ("3.4", 4, 2)] {
        v.push(Case::new(id, move |s| {
            let send = |s: &mut super::case::Script, rsv: u8, op: u8, p: &[u8]| match how {
                0 => s.frame_rsv(rsv, op, true, p),
                1 => {
                    s.frame_rsv(rsv, op, true, p);
                    s.pause();
                }
                _ => {
                    let b = s.encode(true, rsv, op, p);
                    for c in b.chunks(1) {
                        s.write(c.to_vec());
                    }
                }
            };
            send(s, 0, TEXT, HELLO);
            send(s, rsv, TEXT, HELLO);
            send(s, 0, PING, b"");
            s.echo_text(HELLO);
            s.fail(1002);
        }));
    }
    v.push(Case::new("3.5", |s| {
        s.frame_rsv(5, BINARY, true, NON_UTF8);
        s.fail(1002);
    }));
    // Autobahn describes 3.6 as a ping but sends a binary frame; we send
    // what it sends.
    v.push(Case::new("3.6", |s| {
        s.frame_rsv(6, BINARY, true, HELLO);
        s.fail(1002);
    }));
    v.push(Case::new("3.7", |s| {
        s.frame_rsv(7, CLOSE, true, b"");
        s.fail(1002);
    }));
    v
}

/// Category 4: reserved non-control (4.1.x: 3–7) and control (4.2.x:
/// 11–15) opcodes fail the connection with 1002.
pub(crate) fn opcodes() -> Vec<Case> {
    let mut v = Vec::new();
    for (sub, base) in [(1u8, 3u8), (2, 11)] {
        v.push(Case::new(format!("4.{sub}.1"), move |s| {
            s.frame(base, true, b"");
            s.fail(1002);
        }));
        v.push(Case::new(format!("4.{sub}.2"), move |s| {
            s.frame(base + 1, true, b"reserved opcode payload");
            s.fail(1002);
        }));
        for (i, payload) in [(3u8, &b""[..]), (4, HELLO), (5, HELLO)] {
            v.push(Case::new(format!("4.{sub}.{i}"), move |s| {
                let op = base + i - 1;
                if i == 5 {
                    s.frame_chopped(TEXT, true, HELLO, 1);
                    s.frame_chopped(op, true, payload, 1);
                    s.frame_chopped(PING, true, b"", 1);
                } else {
                    s.frame(TEXT, true, HELLO);
                    s.frame(op, true, payload);
                    s.frame(PING, true, b"");
                }
                s.echo_text(HELLO);
                s.fail(1002);
            }));
        }
    }
    v
}
