//! Payloads for categories 12 and 13. Autobahn ships five files (a JSON
//! file, a bitmap, Goethe's Faust, an HTML page and a PDF); `--testdata DIR`
//! loads those, and otherwise deterministic look-alikes of the same kinds
//! are generated so the runner needs nothing from outside.

use std::path::Path;

/// One payload source.
pub(crate) struct Dataset {
    /// Sent as binary messages (else text, sliced on characters).
    pub(crate) binary: bool,
    data: Vec<u8>,
    /// Byte offset of every slicing unit: every byte for binary data, every
    /// character start for text.
    starts: Vec<usize>,
}

impl Dataset {
    fn new(binary: bool, data: Vec<u8>) -> Self {
        let starts = if binary {
            (0..data.len()).collect()
        } else {
            std::str::from_utf8(&data)
                .map(|s| s.char_indices().map(|(i, _)| i).collect())
                .unwrap_or_default()
        };
        Self {
            binary,
            data,
            starts,
        }
    }

    /// The next message of `len` units from unit `ptr`, wrapping around the
    /// end as Autobahn's `sendOne` does; returns it and the next `ptr`.
    pub(crate) fn slice(&self, ptr: usize, len: usize) -> (Vec<u8>, usize) {
        let n = self.starts.len();
        if len == 0 || n == 0 {
            return (Vec::new(), ptr);
        }
        let to = (ptr + len) % n;
        let at = |u: usize| self.starts.get(u).copied().unwrap_or(self.data.len());
        let (a, b) = (at(ptr), at(to));
        let msg = if to > ptr {
            self.data.get(a..b).unwrap_or_default().to_vec()
        } else {
            let head = self.data.get(a..).unwrap_or_default();
            let tail = self.data.get(..b).unwrap_or_default();
            [head, tail].concat()
        };
        (msg, to)
    }
}

/// The five datasets in Autobahn's order (12.1 to 12.5), from `dir` when
/// it holds Autobahn's files, generated otherwise.
pub(crate) fn datasets(dir: Option<&Path>) -> Vec<Dataset> {
    let load = |file: &str, binary: bool| -> Option<Vec<u8>> {
        let data = std::fs::read(dir?.join(file)).ok()?;
        (binary || std::str::from_utf8(&data).is_ok()).then_some(data)
    };
    vec![
        // json_data1
        Dataset::new(false, load("data1.json", false).unwrap_or_else(json)),
        // lena512
        Dataset::new(true, load("lena512.bmp", true).unwrap_or_else(bitmap)),
        // gutenberg_faust
        Dataset::new(true, load("pg2229.txt", true).unwrap_or_else(verse)),
        // html_data1
        Dataset::new(false, load("data1.html", false).unwrap_or_else(html)),
        // ooms
        Dataset::new(true, load("10.1.1.105.5439.pdf", true).unwrap_or_else(pdf)),
    ]
}

/// xorshift64: the generators' only randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words.get(self.below(words.len())).copied().unwrap_or("")
    }
}

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "server",
    "client",
    "message",
    "frame",
    "window",
    "stream",
    "Zürich",
    "café",
    "naïve",
    "Straße",
    "東京",
    "Ελλάδα",
    "€",
    "ñandú",
    "smörgåsbord",
    "лес",
    "deflate",
    "context",
    "takeover",
    "the",
    "and",
    "of",
    "to",
    "in",
    "is",
    "for",
];

const GERMAN: &[&str] = &[
    "Habe",
    "nun",
    "ach",
    "Philosophie",
    "Juristerei",
    "und",
    "Medizin",
    "leider",
    "auch",
    "Theologie",
    "durchaus",
    "studiert",
    "mit",
    "heißem",
    "Bemühn",
    "Da",
    "steh",
    "ich",
    "armer",
    "Tor",
    "bin",
    "so",
    "klug",
    "als",
    "wie",
    "zuvor",
    "Geist",
    "Natur",
    "Tag",
    "Nacht",
    "Mephisto",
    "Gretchen",
    "Schüler",
    "Wagner",
    "Kräfte",
    "Blüten",
    "Töne",
    "Mädchen",
    "ewig",
    "Welt",
];

fn json() -> Vec<u8> {
    let mut r = Rng(0x6a73_6f6e);
    let mut s = String::from("[\n");
    let mut id = 0u32;
    while s.len() < 194_000 {
        id += 1;
        let tags: Vec<String> = (0..3).map(|_| format!("\"{}\"", r.pick(WORDS))).collect();
        let about: Vec<&str> = (0..12).map(|_| r.pick(WORDS)).collect();
        s.push_str(&format!(
            "  {{\"id\": {id}, \"guid\": \"{:016x}\", \"isActive\": {}, \"balance\": \"{}.{:02}\", \
             \"name\": \"{} {}\", \"tags\": [{}], \"about\": \"{}\", \"latitude\": {}.{:06}}},\n",
            r.next(),
            r.next() % 2 == 0,
            r.below(10_000),
            r.below(100),
            r.pick(WORDS),
            r.pick(WORDS),
            tags.join(", "),
            about.join(" "),
            r.below(180),
            r.below(1_000_000),
        ));
    }
    s.push_str("  {}\n]\n");
    s.into_bytes()
}

fn verse() -> Vec<u8> {
    let mut r = Rng(0x0066_6175_7374);
    let mut s = String::from("Faust: Der Tragödie erster Teil\n\n");
    while s.len() < 222_000 {
        let n = 4 + r.below(6);
        let line: Vec<&str> = (0..n).map(|_| r.pick(GERMAN)).collect();
        s.push_str(&line.join(" "));
        s.push_str(if r.below(5) == 0 { ".\n\n" } else { ",\n" });
    }
    s.into_bytes()
}

fn html() -> Vec<u8> {
    let mut r = Rng(0x6874_6d6c);
    let mut s = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>data</title></head>\n<body>\n",
    );
    while s.len() < 263_000 {
        let class = r.pick(WORDS);
        let text: Vec<&str> = (0..20).map(|_| r.pick(WORDS)).collect();
        s.push_str(&format!(
            "<div class=\"{class}\" id=\"n{}\"><h2>{}</h2><p>{}</p><a href=\"/{}/{}\">{}</a></div>\n",
            r.below(100_000),
            r.pick(WORDS),
            text.join(" "),
            r.pick(WORDS),
            r.below(1000),
            r.pick(WORDS),
        ));
    }
    s.push_str("</body></html>\n");
    s.into_bytes()
}

/// A 512x512 8-bit grayscale BMP: smooth shapes plus a little noise.
fn bitmap() -> Vec<u8> {
    let mut r = Rng(0x6c65_6e61);
    let mut v = Vec::with_capacity(263_222);
    v.extend_from_slice(b"BM");
    v.extend_from_slice(&263_222u32.to_le_bytes());
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(&1078u32.to_le_bytes());
    v.extend_from_slice(&40u32.to_le_bytes());
    v.extend_from_slice(&512u32.to_le_bytes());
    v.extend_from_slice(&512u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&8u16.to_le_bytes());
    v.extend_from_slice(&[0; 24]);
    for g in 0..=255u8 {
        v.extend_from_slice(&[g, g, g, 0]);
    }
    for y in 0..512usize {
        for x in 0..512usize {
            let dx = x.abs_diff(256);
            let dy = y.abs_diff(200);
            let shade = (dx * dx + dy * dy) / 300 + (x ^ y) / 16 + r.below(6);
            v.push(u8::try_from(shade & 0xff).unwrap_or(0));
        }
    }
    v
}

/// PDF-like: text dictionaries around incompressible stream bodies.
fn pdf() -> Vec<u8> {
    let mut r = Rng(0x0070_6466);
    let mut v = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut obj = 1;
    while v.len() < 256_000 {
        let n = 2048 + r.below(8192);
        v.extend_from_slice(
            format!("{obj} 0 obj\n<< /Length {n} /Filter /FlateDecode >>\nstream\n").as_bytes(),
        );
        v.extend((0..n).map(|_| r.next().to_le_bytes().first().copied().unwrap_or(0)));
        v.extend_from_slice(b"\nendstream\nendobj\n");
        obj += 1;
    }
    v.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
    v
}
