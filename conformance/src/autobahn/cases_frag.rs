//! Category 5: fragmentation. Fragmented control frames, continuations
//! without a message and new messages inside one fail with 1002; control
//! frames between fragments are answered and the message still arrives.

use super::case::{Case, Script};
use super::wire::{CONT, PING, PONG, TEXT};

/// How the frames of a case are written.
#[derive(Debug, Clone, Copy)]
enum How {
    /// All frames back to back.
    Plain,
    /// Each frame in its own write, with a pause (Autobahn's `sync`).
    Sync,
    /// Octet by octet (Autobahn's `chopsize = 1`).
    Octets,
}

fn send(s: &mut Script, how: How, op: u8, fin: bool, payload: &[u8]) {
    match how {
        How::Plain => s.frame(op, fin, payload),
        How::Sync => s.frame_sync(op, fin, payload),
        How::Octets => s.frame_chopped(op, fin, payload, 1),
    }
}

const HOWS: [How; 3] = [How::Plain, How::Sync, How::Octets];

/// All category 5 cases.
pub(crate) fn fragmentation() -> Vec<Case> {
    let mut v = Vec::new();
    for (id, op) in [("5.1", PING), ("5.2", PONG)] {
        v.push(Case::new(id, move |s| {
            s.frame(op, false, b"fragment1");
            s.frame(CONT, true, b"fragment2");
            s.fail(1002);
        }));
    }
    for (n, how) in (3..).zip(HOWS) {
        v.push(Case::new(format!("5.{n}"), move |s| {
            send(s, how, TEXT, false, b"fragment1");
            send(s, how, CONT, true, b"fragment2");
            s.echo_text(b"fragment1fragment2");
        }));
    }
    for (n, how) in (6..).zip(HOWS) {
        v.push(Case::new(format!("5.{n}"), move |s| {
            send(s, how, TEXT, false, b"fragment1");
            send(s, how, PING, true, b"ping payload");
            send(s, how, CONT, true, b"fragment2");
            s.pong(b"ping payload");
            s.echo_text(b"fragment1fragment2");
        }));
    }
    // 5.9–5.14: a continuation (final, then non-final) with no message.
    for (n, fin, how) in [
        (9, true, How::Plain),
        (10, true, How::Sync),
        (11, true, How::Octets),
        (12, false, How::Plain),
        (13, false, How::Sync),
        (14, false, How::Octets),
    ] {
        v.push(Case::new(format!("5.{n}"), move |s| {
            send(s, how, CONT, fin, b"non-continuation payload");
            send(s, how, TEXT, true, b"Hello, world!");
            s.fail(1002);
        }));
    }
    v.push(Case::new("5.15", |s| {
        s.frame(TEXT, false, b"fragment1");
        s.frame(CONT, true, b"fragment2");
        s.frame(CONT, false, b"fragment3");
        s.frame(TEXT, true, b"fragment4");
        s.echo_text(b"fragment1fragment2");
        s.fail(1002);
    }));
    for (id, first_fin) in [("5.16", false), ("5.17", true)] {
        v.push(Case::new(id, move |s| {
            for _ in 0..2 {
                s.frame(CONT, first_fin, b"fragment1");
                s.frame(TEXT, false, b"fragment2");
                s.frame(CONT, true, b"fragment3");
            }
            s.fail(1002);
        }));
    }
    v.push(Case::new("5.18", |s| {
        s.frame(TEXT, false, b"fragment1");
        s.frame(TEXT, true, b"fragment2");
        s.fail(1002);
    }));
    for (id, how) in [("5.19", How::Plain), ("5.20", How::Sync)] {
        v.push(Case::new(id, move |s| {
            send(s, how, TEXT, false, b"fragment1");
            send(s, how, CONT, false, b"fragment2");
            send(s, how, PING, true, b"pongme 1!");
            s.pause();
            send(s, how, CONT, false, b"fragment3");
            send(s, how, CONT, false, b"fragment4");
            send(s, how, PING, true, b"pongme 2!");
            send(s, how, CONT, true, b"fragment5");
            s.pong(b"pongme 1!");
            s.pong(b"pongme 2!");
            s.echo_text(b"fragment1fragment2fragment3fragment4fragment5");
        }));
    }
    v
}
