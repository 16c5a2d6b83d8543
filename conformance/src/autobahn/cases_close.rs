//! Category 7: close handling. The peer echoes a valid close code, answers
//! an invalid one (or a 1-byte or over-long payload) with 1002 and a reason
//! that is not UTF-8 with 1007, and ignores whatever follows a close frame.

use super::case::Case;
use super::wire::{CLOSE, CONT, PING, TEXT};

const BAD_UTF8: &[u8] =
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64";

/// Close codes a peer must echo (7.7.x).
const VALID: [u16; 13] = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
];
/// Close codes a peer must answer with 1002 (7.9.x).
const INVALID: [u16; 9] = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];

/// All category 7 cases.
pub(crate) fn close() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(Case::new("7.1.1", |s| {
        s.frame(TEXT, true, b"Hello World!");
        s.echo_text(b"Hello World!");
    }));
    // 7.1.2–7.1.5: whatever follows our close frame is ignored.
    v.push(Case::new("7.1.2", |s| {
        s.close(Some(1000), b"");
        s.frame(CLOSE, true, b"");
        s.echo_close(Some(1000));
    }));
    v.push(Case::new("7.1.3", |s| {
        s.close(Some(1000), b"");
        s.frame(PING, true, b"");
        s.echo_close(Some(1000));
    }));
    v.push(Case::new("7.1.4", |s| {
        s.close(Some(1000), b"");
        s.frame(TEXT, true, b"Hello World!");
        s.echo_close(Some(1000));
    }));
    v.push(Case::new("7.1.5", |s| {
        s.frame(TEXT, false, b"fragment1");
        s.close(Some(1000), b"");
        s.frame(CONT, true, b"fragment2");
        s.echo_close(Some(1000));
    }));
    // 7.1.6 is INFORMATIONAL in Autobahn; strictly, both messages come
    // back before the close answer, and the trailing ping goes unanswered.
    v.push(Case::new("7.1.6", |s| {
        let big: Vec<u8> = b"BAsd7&jh23"
            .iter()
            .copied()
            .cycle()
            .take(256 << 10)
            .collect();
        s.frame(TEXT, true, &big);
        s.frame(TEXT, true, b"Hello World!");
        s.close(Some(1000), b"");
        s.frame(PING, true, b"");
        s.echo_text(&big);
        s.echo_text(b"Hello World!");
        s.echo_close(Some(1000));
    }));
    // 7.3.x: close payload lengths 0, 1, 2, with a reason, 125, 126.
    v.push(Case::new("7.3.1", |s| {
        s.close(None, b"");
        s.echo_close(None);
    }));
    v.push(Case::new("7.3.2", |s| {
        s.close(None, b"a");
        s.fail(1002);
    }));
    v.push(Case::new("7.3.3", |s| {
        s.close(Some(1000), b"");
        s.echo_close(Some(1000));
    }));
    v.push(Case::new("7.3.4", |s| {
        s.close(Some(1000), b"Hello World!");
        s.echo_close(Some(1000));
    }));
    v.push(Case::new("7.3.5", |s| {
        s.close(Some(1000), &[b'*'; 123]);
        s.echo_close(Some(1000));
    }));
    v.push(Case::new("7.3.6", |s| {
        s.close(Some(1000), &[b'*'; 124]);
        s.fail(1002);
    }));
    // 7.5.1: Autobahn takes 1002 or 1007; a reason that is not UTF-8 is
    // inconsistent payload data (RFC 6455 §7.4.1, §8.1), so 1007.
    v.push(Case::new("7.5.1", |s| {
        s.close(Some(1000), BAD_UTF8);
        s.fail(1007);
    }));
    for (i, code) in (1..).zip(VALID) {
        v.push(Case::new(format!("7.7.{i}"), move |s| {
            s.close(Some(code), b"");
            s.echo_close(Some(code));
        }));
    }
    for (i, code) in (1..).zip(INVALID) {
        v.push(Case::new(format!("7.9.{i}"), move |s| {
            s.close(Some(code), b"");
            s.fail(1002);
        }));
    }
    // 7.13.x are INFORMATIONAL in Autobahn; codes past 4999 are not
    // sendable (§7.4.2), so strictly 1002.
    for (i, code) in (1..).zip([5000u16, 65535]) {
        v.push(Case::new(format!("7.13.{i}"), move |s| {
            s.close(Some(code), b"");
            s.fail(1002);
        }));
    }
    v
}
