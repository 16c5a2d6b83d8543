//! Differential test against Python's sans-IO wsproto (`--wsproto PYTHON`).
//!
//! A few hundred deterministic pseudo-random client frame sequences, valid
//! and invalid (RSV bits, reserved opcodes, non-minimal and oversized
//! lengths, fragmented or over-long control frames, fragmentation misuse,
//! bad UTF-8 inside and across fragments, bad close payloads and codes,
//! unmasked frames, truncation), each cut into a few chunks, go through
//! our server `Connection` and through `peers/wsproto_diff.py` (wsproto's
//! server `Connection` after a completed handshake). Both verdicts are the
//! events in order (messages reassembled, pings, pongs) ending with the
//! close code, or `open`. They must be equal, except in the classes where
//! wsproto is less strict than ws-codec, where the case agrees if only the
//! final verdict differs and ours is the one RFC 6455 calls for:
//!
//! * **Unassigned close codes 1012 and 1013.** wsproto accepts them (IANA
//!   registered them after RFC 6455 as Service Restart and Try Again
//!   Later). RFC 6455 §7.4.2 reserves 1000–2999 for codes the protocol
//!   defines and §7.4.1 defines neither, so ws-codec, like Autobahn 7.9,
//!   fails the connection with 1002.
//! * **No frame size limit.** wsproto waits for any declared payload
//!   length; ws-codec fails a frame over its `max_frame_size` (16 MiB by
//!   default) as soon as the header arrives, with 1009 (§7.4.1, message
//!   too big).

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use ws_codec::{Config, Connection, Event, Message, Role};

/// How many sequences.
const CASES: usize = 400;

/// A class of known wsproto leniency (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leniency {
    UnassignedCloseCode,
    NoSizeLimit,
}

/// One generated input.
struct Seq {
    chunks: Vec<Vec<u8>>,
    leniency: Option<Leniency>,
    kinds: Vec<&'static str>,
}

/// The sequence generator: xorshift64, so every run tests the same inputs.
struct Gen {
    rng: u64,
    key: u32,
    bytes: Vec<u8>,
    leniency: Option<Leniency>,
    kinds: Vec<&'static str>,
    /// No item may follow (truncation, oversized length).
    last: bool,
}

const VALID_CODES: [u16; 13] = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
];
const BAD_CODES: [u16; 15] = [
    0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
];
const BAD_UTF8: [&[u8]; 10] = [
    b"\x80",
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\xfe",
    b"\xc2\x41",
    b"\xe2\x82\x41",
    b"\xf0\x9f\x98",
];
const WORDS: [&str; 8] = ["hello", " ", "ünï", "€", "日本語", "😀", "ok", "\u{10ffff}"];

impl Gen {
    fn next(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes().first().copied().unwrap_or(0)
    }

    fn text(&mut self, max_words: usize) -> Vec<u8> {
        let n = self.below(max_words + 1);
        (0..n)
            .flat_map(|_| {
                let w = WORDS.get(self.below(WORDS.len())).copied().unwrap_or("");
                w.as_bytes().to_vec()
            })
            .collect()
    }

    fn binary(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.byte()).collect()
    }

    /// Masking key and header prefix of a frame with a raw length field.
    fn header(&mut self, b0: u8, len_field: &[u8], masked: bool) -> Option<[u8; 4]> {
        self.key = self.key.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let key = self.key.to_be_bytes();
        self.bytes.push(b0);
        let mut lf = len_field.to_vec();
        if let Some(first) = lf.first_mut() {
            if masked {
                *first |= 0x80;
            }
        }
        self.bytes.extend_from_slice(&lf);
        masked.then(|| {
            self.bytes.extend_from_slice(&key);
            key
        })
    }

    fn payload(&mut self, p: &[u8], key: Option<[u8; 4]>) {
        match key {
            Some(k) => self
                .bytes
                .extend(p.iter().zip(k.iter().cycle()).map(|(b, k)| b ^ k)),
            None => self.bytes.extend_from_slice(p),
        }
    }

    /// A frame with the minimal length encoding.
    fn frame(&mut self, fin: bool, rsv: u8, op: u8, p: &[u8]) {
        let b0 = (u8::from(fin) << 7) | (rsv << 4) | op;
        let len = p.len();
        let field: Vec<u8> = match (u8::try_from(len), u16::try_from(len)) {
            (Ok(l), _) if l < 126 => vec![l],
            (_, Ok(l)) => [&[126u8][..], &l.to_be_bytes()].concat(),
            _ => [&[127u8][..], &(len as u64).to_be_bytes()].concat(),
        };
        let key = self.header(b0, &field, true);
        self.payload(p, key);
    }

    fn close(&mut self, code: u16, reason: &[u8]) {
        let p = [&code.to_be_bytes()[..], reason].concat();
        self.frame(true, 0, 0x8, &p);
    }

    /// One valid item.
    fn valid(&mut self) {
        match self.below(9) {
            0 | 1 => {
                let t = self.text(8);
                self.frame(true, 0, 0x1, &t);
                self.kinds.push("text");
            }
            2 => {
                let b = self.binary(40);
                self.frame(true, 0, 0x2, &b);
                self.kinds.push("binary");
            }
            3 | 4 => {
                // Fragments cut anywhere, code points included, with a
                // control frame between two of them now and then.
                let (op, data) = if self.below(3) == 0 {
                    (0x2, self.binary(60))
                } else {
                    (0x1, self.text(12))
                };
                let n = 2 + self.below(3);
                let mut cuts: Vec<usize> = (1..n).map(|_| self.below(data.len() + 1)).collect();
                cuts.sort_unstable();
                let mut at = 0;
                for (i, c) in cuts.iter().copied().chain([data.len()]).enumerate() {
                    let part = data.get(at..c).unwrap_or_default().to_vec();
                    self.frame(i + 1 == n, 0, if i == 0 { op } else { 0x0 }, &part);
                    if i + 1 < n && self.below(3) == 0 {
                        let p = self.binary(20);
                        self.frame(true, 0, 0x9, &p);
                    }
                    at = c;
                }
                self.kinds.push("fragmented");
            }
            5 => {
                let p = self.binary(125);
                self.frame(true, 0, 0x9, &p);
                self.kinds.push("ping");
            }
            6 => {
                let p = self.binary(30);
                self.frame(true, 0, 0xA, &p);
                self.kinds.push("pong");
            }
            7 => {
                let t: Vec<u8> = b"x".repeat(126 + self.below(70_000));
                self.frame(true, 0, 0x1, &t);
                self.kinds.push("long text");
            }
            _ => {
                let code = VALID_CODES
                    .get(self.below(VALID_CODES.len()))
                    .copied()
                    .unwrap_or(1000);
                let reason = self.text(3);
                if self.below(4) == 0 {
                    self.frame(true, 0, 0x8, b"");
                } else {
                    self.close(
                        code,
                        reason.get(..reason.len().min(100)).unwrap_or_default(),
                    );
                }
                self.kinds.push("close");
            }
        }
    }

    /// One invalid item (or an edge the two may treat differently).
    fn invalid(&mut self) {
        let kind = match self.below(17) {
            0 => {
                let rsv = 1 + u8::try_from(self.below(7)).unwrap_or(0);
                let op = [0x1u8, 0x2, 0x9, 0x8]
                    .get(self.below(4))
                    .copied()
                    .unwrap_or(1);
                self.frame(true, rsv, op, b"rsv");
                "rsv bits"
            }
            1 => {
                let op = [3u8, 4, 5, 6, 7, 11, 12, 13, 14, 15]
                    .get(self.below(10))
                    .copied()
                    .unwrap_or(3);
                self.frame(true, 0, op, b"op");
                "reserved opcode"
            }
            2 => {
                let key = self.header(0x81, &[126, 0, 5], true);
                self.payload(b"short", key);
                "non-minimal 16-bit length"
            }
            3 => {
                let len = u64::try_from(self.below(70_000)).unwrap_or(0);
                let mut f = vec![127u8];
                f.extend_from_slice(&len.to_be_bytes());
                let key = self.header(0x82, &f, true);
                let p = vec![7u8; usize::try_from(len).unwrap_or(0)];
                self.payload(&p, key);
                if len <= 0xffff {
                    "non-minimal 64-bit length"
                } else {
                    "64-bit length"
                }
            }
            4 => {
                let mut f = vec![127u8];
                f.extend_from_slice(&(0x8000_0000_0000_0005u64).to_be_bytes());
                let _ = self.header(0x82, &f, true);
                self.last = true;
                "64-bit length with the MSB set"
            }
            5 => {
                let op = [0x8u8, 0x9, 0xA].get(self.below(3)).copied().unwrap_or(9);
                self.frame(true, 0, op, &[b'c'; 126]);
                "control frame over 125 bytes"
            }
            6 => {
                let op = [0x8u8, 0x9, 0xA].get(self.below(3)).copied().unwrap_or(9);
                self.frame(false, 0, op, b"");
                "fragmented control frame"
            }
            7 => {
                let fin = self.below(2) == 0;
                self.frame(fin, 0, 0x0, b"cont");
                "continuation without a message"
            }
            8 => {
                self.frame(false, 0, 0x1, b"first");
                let op = [0x1u8, 0x2].get(self.below(2)).copied().unwrap_or(1);
                self.frame(true, 0, op, b"second");
                "new message inside a fragmented one"
            }
            9 | 10 => {
                let bad = BAD_UTF8
                    .get(self.below(BAD_UTF8.len()))
                    .copied()
                    .unwrap_or(b"\xff");
                let t = [self.text(3), bad.to_vec(), self.text(3)].concat();
                if self.below(2) == 0 {
                    self.frame(true, 0, 0x1, &t);
                } else {
                    let cut = self.below(t.len() + 1);
                    let (a, b) = t.split_at(cut);
                    self.frame(false, 0, 0x1, a);
                    self.frame(true, 0, 0x0, b);
                }
                "invalid UTF-8"
            }
            11 => {
                self.frame(true, 0, 0x8, b"x");
                "1-byte close payload"
            }
            12 => {
                let code = BAD_CODES
                    .get(self.below(BAD_CODES.len()))
                    .copied()
                    .unwrap_or(0);
                if matches!(code, 1012 | 1013) {
                    self.leniency = self.leniency.or(Some(Leniency::UnassignedCloseCode));
                }
                self.close(code, b"");
                "invalid close code"
            }
            13 => {
                self.close(1000, b"bad \xed\xa0\x80 reason");
                "close reason not UTF-8"
            }
            14 => {
                let key = self.header(0x81, &[5], false);
                self.payload(b"plain", key);
                "unmasked frame"
            }
            15 => {
                let len = (16u64 << 20) + 1 + u64::try_from(self.below(1 << 30)).unwrap_or(0);
                let mut f = vec![127u8];
                f.extend_from_slice(&len.to_be_bytes());
                let key = self.header(0x82, &f, true);
                let p = self.binary(10);
                self.payload(&p, key);
                self.leniency = self.leniency.or(Some(Leniency::NoSizeLimit));
                self.last = true;
                "oversized frame"
            }
            _ => {
                let t = self.text(6);
                let start = self.bytes.len();
                self.frame(true, 0, 0x1, &t);
                let cut = 1 + self.below(self.bytes.len() - start);
                self.bytes.truncate(self.bytes.len() - cut);
                self.last = true;
                "truncated frame"
            }
        };
        self.kinds.push(kind);
    }

    fn seq(&mut self) -> Seq {
        self.bytes.clear();
        self.kinds.clear();
        self.leniency = None;
        self.last = false;
        let n = 1 + self.below(6);
        for _ in 0..n {
            if self.last {
                break;
            }
            if self.below(5) < 3 {
                self.valid();
            } else {
                self.invalid();
            }
        }
        let pieces = 1 + self.below(4);
        let mut cuts: Vec<usize> = (1..pieces)
            .map(|_| self.below(self.bytes.len() + 1))
            .collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut at = 0;
        for c in cuts.into_iter().chain([self.bytes.len()]) {
            chunks.push(self.bytes.get(at..c).unwrap_or_default().to_vec());
            at = c;
        }
        Seq {
            chunks,
            leniency: self.leniency,
            kinds: self.kinds.clone(),
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Our verdict, in the script's format.
fn ours(chunks: &[Vec<u8>]) -> String {
    let mut c = Connection::from_upgraded(Role::Server, Config::default(), None);
    let mut toks = Vec::new();
    for ch in chunks {
        let _ = c.handle_input(ch);
        while let Some(ev) = c.poll_event() {
            match ev {
                Event::Message(Message::Text(t)) => {
                    toks.push(format!("text:{}", hex(t.as_bytes())))
                }
                Event::Message(Message::Binary(b)) => toks.push(format!("binary:{}", hex(&b))),
                Event::Ping(p) => toks.push(format!("ping:{}", hex(&p))),
                Event::Pong(p) => toks.push(format!("pong:{}", hex(&p))),
                Event::Closed { code, .. } => {
                    toks.push(format!("close:{}", code.0));
                    return toks.join(" ");
                }
                _ => {}
            }
        }
    }
    toks.push("open".to_owned());
    toks.join(" ")
}

/// Whether a difference is the known leniency `l`, ours being right.
fn lenient(l: Leniency, ours: &str, theirs: &str) -> bool {
    let split = |v: &str| -> (String, String) {
        match v.rsplit_once(' ') {
            Some((a, b)) => (a.to_owned(), b.to_owned()),
            None => (String::new(), v.to_owned()),
        }
    };
    let ((op, ol), (tp, tl)) = (split(ours), split(theirs));
    match l {
        Leniency::UnassignedCloseCode => {
            op == tp && ol == "close:1002" && (tl == "close:1012" || tl == "close:1013")
        }
        Leniency::NoSizeLimit => op == tp && ol == "close:1009" && tl == "open",
    }
}

fn short(v: &str) -> String {
    v.split(' ')
        .map(|t| {
            if t.len() > 48 {
                format!("{}…[{}]", t.get(..40).unwrap_or(t), t.len())
            } else {
                t.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn script_path() -> std::path::PathBuf {
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/wsproto_diff.py");
    if built.exists() {
        built
    } else {
        std::path::PathBuf::from("conformance/peers/wsproto_diff.py")
    }
}

/// Runs wsproto on every sequence; one verdict line each.
fn theirs(python: &str, seqs: &[Seq]) -> Result<Vec<String>, String> {
    let mut child = Command::new(python)
        .arg(script_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input: String = seqs
        .iter()
        .map(|s| {
            let parts: Vec<String> = s.chunks.iter().map(|c| hex(c)).collect();
            format!("{}\n", parts.join(","))
        })
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .collect();
    let _ = writer.join();
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() || lines.len() != seqs.len() {
        return Err(format!(
            "{python} wsproto_diff.py exited {status} after {} of {} verdicts",
            lines.len(),
            seqs.len()
        ));
    }
    Ok(lines)
}

/// Runs the differential test with `python` (which must import wsproto).
pub(crate) fn run(python: &str, verbose: bool) -> i32 {
    let mut g = Gen {
        rng: 0x9e37_79b9_7f4a_7c15,
        key: 0x1234_5678,
        bytes: Vec::new(),
        leniency: None,
        kinds: Vec::new(),
        last: false,
    };
    let seqs: Vec<Seq> = (0..CASES).map(|_| g.seq()).collect();
    let verdicts = match theirs(python, &seqs) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("wsproto-diff: {e}");
            println!("wsproto-diff: 0 passed, 1 failed");
            println!("0 passed, 1 failed");
            return 1;
        }
    };
    let (mut pass, mut fail, mut known) = (0usize, 0usize, 0usize);
    for (i, (s, t)) in seqs.iter().zip(&verdicts).enumerate() {
        let o = ours(&s.chunks);
        if &o == t {
            pass += 1;
            if verbose {
                println!("ok   #{i} [{}]: {}", s.kinds.join(", "), short(&o));
            }
            continue;
        }
        if let Some(l) = s.leniency.filter(|&l| lenient(l, &o, t)) {
            pass += 1;
            known += 1;
            println!(
                "known wsproto leniency #{i} ({l:?}): ours {}, wsproto {}",
                short(o.rsplit(' ').next().unwrap_or_default()),
                short(t.rsplit(' ').next().unwrap_or_default())
            );
            continue;
        }
        fail += 1;
        let input: Vec<String> = s.chunks.iter().map(|c| hex(c)).collect();
        println!("DIFF #{i} [{}]", s.kinds.join(", "));
        println!("    ours:    {}", short(&o));
        println!("    wsproto: {}", short(t));
        println!("    input:   {}", short(&input.join(",")));
    }
    println!("wsproto-diff: {known} of the passes are known wsproto leniencies");
    println!("wsproto-diff: {pass} passed, {fail} failed");
    println!("{pass} passed, {fail} failed");
    i32::from(fail > 0)
}
