//! Shared inputs for the criterion benches in `benches/`: the same bytes go
//! to our codecs and to the peer crates in one run.

use bytes::BytesMut;
use ws_codec::OpCode;
use ws_codec::codec::encode_parts;

/// The masking key of RFC 6455 §5.7, used for every masked bench frame.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// `len` bytes of JSON-ish UTF-8 text, mostly ASCII with some two-, three-
/// and four-byte code points, cut at a code point boundary and padded with
/// spaces to exactly `len` bytes.
#[must_use]
pub fn text(len: usize) -> String {
    const NAMES: [&str; 4] = ["zoë", "Ελένη", "王小明", "🦀 ferris"];
    let mut s = String::with_capacity(len + 128);
    let mut i = 0usize;
    while s.len() < len {
        s.push_str(&format!(
            r#"{{"id":{i},"user":"{}","text":"message number {i} in the stream","ok":true}},"#,
            NAMES[i % NAMES.len()]
        ));
        i += 1;
    }
    let mut end = len;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    while s.len() < len {
        s.push(' ');
    }
    s
}

/// `len` bytes of binary data (a non-repeating byte pattern).
#[must_use]
pub fn binary(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// `count` single-frame messages of `payload`, masked with [`KEY`] if
/// `masked` (client to server) or not (server to client).
#[must_use]
pub fn frames(opcode: OpCode, payload: &[u8], count: usize, masked: bool) -> Vec<u8> {
    let mut buf = BytesMut::new();
    for _ in 0..count {
        encode_parts(
            true,
            false,
            opcode,
            payload,
            masked.then_some(KEY),
            &mut buf,
        );
    }
    buf.to_vec()
}
