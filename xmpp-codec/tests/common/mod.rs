//! Shared helpers: the shared vectors beside the workspace, a minimal JSON
//! reader for them (no serde in a codec crate's dev-dependencies), and a
//! decode loop.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use bytes::BytesMut;
use xmpp_codec::{Decoder, Error, Frame, Framing, Limits};

/// Reads `../shared/vectors/<rel>` (beside the workspace); fails naming
/// the path when absent.
pub fn vector(rel: &str) -> String {
    let mut path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "shared", "vectors"]
        .iter()
        .collect();
    path.push(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read test vector {}: {e} (the shared vectors live beside the workspace)",
            path.display()
        )
    })
}

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn parse(s: &str) -> Json {
        let mut p = P {
            s: s.as_bytes(),
            i: 0,
        };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing JSON");
        v
    }
    pub fn get(&self, k: &str) -> Option<&Json> {
        match self {
            Json::Obj(kv) => kv.iter().find(|(a, _)| a == k).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }
    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            other => panic!("not an array: {other:?}"),
        }
    }
    pub fn num(&self) -> f64 {
        match self {
            Json::Num(n) => *n,
            other => panic!("not a number: {other:?}"),
        }
    }
    pub fn s(&self, k: &str) -> &str {
        self.get(k).unwrap_or_else(|| panic!("no key {k}")).str()
    }
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut kv = Vec::new();
                loop {
                    self.ws();
                    if self.eat("}") {
                        return Json::Obj(kv);
                    }
                    self.eat(",");
                    self.ws();
                    let k = self.string();
                    self.ws();
                    assert!(self.eat(":"));
                    kv.push((k, self.value()));
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                loop {
                    self.ws();
                    if self.eat("]") {
                        return Json::Arr(a);
                    }
                    self.eat(",");
                    a.push(self.value());
                }
            }
            b'"' => Json::Str(self.string()),
            b't' => {
                assert!(self.eat("true"));
                Json::Bool(true)
            }
            b'f' => {
                assert!(self.eat("false"));
                Json::Bool(false)
            }
            b'n' => {
                assert!(self.eat("null"));
                Json::Null
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len() && b"+-0123456789.eE".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                Json::Num(
                    std::str::from_utf8(&self.s[start..self.i])
                        .unwrap()
                        .parse()
                        .unwrap(),
                )
            }
        }
    }
    fn string(&mut self) -> String {
        assert!(self.eat("\""));
        let mut out = Vec::new();
        loop {
            let b = self.s[self.i];
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).unwrap(),
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    let c = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                            self.i += 4;
                            let mut cp = u32::from_str_radix(hex, 16).unwrap();
                            if (0xD800..0xDC00).contains(&cp) {
                                assert!(self.eat("\\u"));
                                let lo = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                                self.i += 4;
                                let lo = u32::from_str_radix(lo, 16).unwrap();
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            }
                            char::from_u32(cp).unwrap()
                        }
                        other => char::from(other),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
    }
}

/// Decodes `chunks` fed one after another into one buffer, calling
/// `reset()` before each chunk list after the first (stream restarts).
/// Returns the frames without keepalives, and the first error.
pub fn decode_segments(
    framing: Framing,
    limits: Limits,
    segments: &[Vec<Vec<u8>>],
) -> (Vec<Frame>, Option<Error>, usize) {
    let mut d = Decoder::new(framing, limits);
    let mut frames = Vec::new();
    let mut buf = BytesMut::new();
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            assert!(buf.is_empty(), "bytes left before a restart");
            d.reset();
        }
        for chunk in seg {
            buf.extend_from_slice(chunk);
            loop {
                match d.decode(&mut buf) {
                    Ok(Some(Frame::Keepalive)) => {}
                    Ok(Some(f)) => frames.push(f),
                    Ok(None) => break,
                    Err(e) => return (frames, Some(e), buf.len()),
                }
            }
        }
    }
    (frames, None, buf.len())
}

/// A small deterministic generator for split points.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// `data` cut at random points.
pub fn random_chunks(data: &[u8], rng: &mut Lcg) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let n = 1 + rng.next(40);
        let end = (i + n).min(data.len());
        out.push(data[i..end].to_vec());
        i = end;
    }
    out
}
