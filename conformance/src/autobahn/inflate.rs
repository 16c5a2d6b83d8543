//! A small DEFLATE decoder (RFC 1951) for the fuzzer. It shares no code
//! with the zlib the codec uses, and it is strict where zlib is not: a
//! match reaching back further than the agreed LZ77 window (zlib-rs keeps a
//! 32 KiB window whatever it is told), or into an earlier message after no
//! context takeover was agreed, is an error.

/// Most bytes one message may inflate to.
const MAX_OUT: usize = 64 << 20;

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Order of the code length code lengths in a dynamic block header.
const CLEN_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// LSB-first bit reader.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    cnt: u32,
}

impl Bits<'_> {
    fn fill(&mut self, n: u32) {
        while self.cnt < n {
            let Some(&b) = self.data.get(self.pos) else {
                return;
            };
            self.buf |= u64::from(b) << self.cnt;
            self.pos += 1;
            self.cnt += 8;
        }
    }

    fn take(&mut self, n: u32) -> Result<u32, String> {
        self.fill(n);
        if self.cnt < n {
            return Err("input ends inside a block".to_owned());
        }
        let v = u32::try_from(self.buf & ((1u64 << n) - 1)).unwrap_or(0);
        self.buf >>= n;
        self.cnt -= n;
        Ok(v)
    }

    fn align(&mut self) {
        let drop = self.cnt % 8;
        self.buf >>= drop;
        self.cnt -= drop;
    }

    /// Only padding is left.
    fn done(&self) -> bool {
        self.pos >= self.data.len() && self.cnt < 8
    }
}

/// A canonical Huffman code as a lookup table on the next `max` bits.
struct Huffman {
    /// `symbol << 4 | length`; 0 where no code matches.
    table: Vec<u32>,
    max: u32,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Result<Self, String> {
        let max = u32::from(lengths.iter().copied().max().unwrap_or(0)).max(1);
        let mut count = [0u32; 16];
        for &l in lengths.iter().filter(|&&l| l > 0) {
            if let Some(c) = count.get_mut(usize::from(l)) {
                *c += 1;
            }
        }
        // RFC 1951 §3.2.2: the first code of each length.
        let mut next = [0u32; 16];
        let (mut code, mut prev) = (0u32, 0u32);
        for (bits, slot) in next.iter_mut().enumerate().skip(1) {
            code = (code + prev) << 1;
            *slot = code;
            prev = count.get(bits).copied().unwrap_or(0);
        }
        let mut table = vec![0u32; 1 << max];
        for (sym, &l) in lengths.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let l = u32::from(l);
            let slot = next.get_mut(l as usize).ok_or("bad code length")?;
            let c = *slot;
            *slot += 1;
            if c >= 1 << l {
                return Err("over-subscribed Huffman code".to_owned());
            }
            let rev = c.reverse_bits() >> (32 - l);
            let entry = (u32::try_from(sym).unwrap_or(0) << 4) | l;
            let mut i = rev;
            while i < 1 << max {
                if let Some(t) = table.get_mut(i as usize) {
                    *t = entry;
                }
                i += 1 << l;
            }
        }
        Ok(Self { table, max })
    }

    fn decode(&self, b: &mut Bits<'_>) -> Result<usize, String> {
        b.fill(self.max);
        let idx = b.buf & ((1u64 << self.max) - 1);
        let e = self
            .table
            .get(usize::try_from(idx).unwrap_or(0))
            .copied()
            .unwrap_or(0);
        let len = e & 15;
        if len == 0 || len > b.cnt {
            return Err("invalid Huffman code".to_owned());
        }
        b.buf >>= len;
        b.cnt -= len;
        Ok((e >> 4) as usize)
    }
}

/// One direction's decompressor: the window, and the history kept between
/// messages under context takeover.
pub(crate) struct Inflate {
    window: usize,
    reset: bool,
    history: Vec<u8>,
    fixed: Option<(Huffman, Huffman)>,
}

impl Inflate {
    /// A `bits`-bit window (9–15), history dropped after every message if
    /// `reset`.
    pub(crate) fn new(bits: u8, reset: bool) -> Self {
        Self {
            window: 1 << bits.clamp(9, 15),
            reset,
            history: Vec::new(),
            fixed: None,
        }
    }

    /// Inflates one message's payload (`00 00 ff ff` restored here).
    pub(crate) fn message(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        let input = [data, &[0x00, 0x00, 0xff, 0xff]].concat();
        let mut b = Bits {
            data: &input,
            pos: 0,
            buf: 0,
            cnt: 0,
        };
        let mut out = Vec::with_capacity(data.len() * 3);
        while !b.done() {
            let last = b.take(1)? == 1;
            match b.take(2)? {
                0 => self.stored(&mut b, &mut out)?,
                1 => {
                    let (lit, dist) = match self.fixed.take() {
                        Some(f) => f,
                        None => fixed()?,
                    };
                    let r = self.codes(&mut b, &mut out, &lit, &dist);
                    self.fixed = Some((lit, dist));
                    r?;
                }
                2 => {
                    let (lit, dist) = dynamic(&mut b)?;
                    self.codes(&mut b, &mut out, &lit, &dist)?;
                }
                _ => return Err("reserved block type".to_owned()),
            }
            if last {
                // A final block ends the stream (RFC 7692 §7.2.3.4); like
                // zlib, ignore what follows.
                break;
            }
        }
        if self.reset {
            self.history.clear();
        } else {
            self.history.extend_from_slice(&out);
            let excess = self.history.len().saturating_sub(self.window);
            self.history.drain(..excess);
        }
        Ok(out)
    }

    fn stored(&self, b: &mut Bits<'_>, out: &mut Vec<u8>) -> Result<(), String> {
        b.align();
        let len = b.take(16)?;
        if b.take(16)? != !len & 0xffff {
            return Err("stored block length check failed".to_owned());
        }
        for _ in 0..len {
            out.push(u8::try_from(b.take(8)?).unwrap_or(0));
        }
        self.check_size(out)
    }

    fn check_size(&self, out: &[u8]) -> Result<(), String> {
        if out.len() > MAX_OUT {
            return Err("message inflates past 64 MiB".to_owned());
        }
        Ok(())
    }

    fn codes(
        &self,
        b: &mut Bits<'_>,
        out: &mut Vec<u8>,
        lit: &Huffman,
        dist: &Huffman,
    ) -> Result<(), String> {
        loop {
            let sym = lit.decode(b)?;
            match sym {
                0..=255 => out.push(u8::try_from(sym).unwrap_or(0)),
                256 => return self.check_size(out),
                _ => {
                    let i = sym - 257;
                    let base = LEN_BASE.get(i).ok_or("invalid length code")?;
                    let extra = LEN_EXTRA.get(i).copied().unwrap_or(0);
                    let len = usize::from(*base) + b.take(u32::from(extra))? as usize;
                    let d = dist.decode(b)?;
                    let dbase = DIST_BASE.get(d).ok_or("invalid distance code")?;
                    let dextra = DIST_EXTRA.get(d).copied().unwrap_or(0);
                    let distance = usize::from(*dbase) + b.take(u32::from(dextra))? as usize;
                    if distance > self.window {
                        return Err(format!(
                            "distance {distance} beyond the agreed {}-byte window",
                            self.window
                        ));
                    }
                    let have = self.history.len() + out.len();
                    if distance > have {
                        return Err(format!(
                            "distance {distance} reaches before the message's {have} bytes of context"
                        ));
                    }
                    for _ in 0..len {
                        let pos = out.len();
                        let byte = if distance <= pos {
                            out.get(pos - distance).copied()
                        } else {
                            let back = self.history.len() - (distance - pos);
                            self.history.get(back).copied()
                        };
                        out.push(byte.unwrap_or(0));
                    }
                    self.check_size(out)?;
                }
            }
        }
    }
}

/// The fixed codes (RFC 1951 §3.2.6).
fn fixed() -> Result<(Huffman, Huffman), String> {
    let lit: Vec<u8> = (0..288)
        .map(|i| match i {
            144..=255 => 9,
            256..=279 => 7,
            _ => 8,
        })
        .collect();
    Ok((Huffman::new(&lit)?, Huffman::new(&[5; 30])?))
}

/// Reads a dynamic block's code tables (RFC 1951 §3.2.7).
fn dynamic(b: &mut Bits<'_>) -> Result<(Huffman, Huffman), String> {
    let hlit = b.take(5)? as usize + 257;
    let hdist = b.take(5)? as usize + 1;
    let hclen = b.take(4)? as usize + 4;
    let mut clen = [0u8; 19];
    for &i in CLEN_ORDER.iter().take(hclen) {
        if let Some(c) = clen.get_mut(i) {
            *c = u8::try_from(b.take(3)?).unwrap_or(0);
        }
    }
    let ch = Huffman::new(&clen)?;
    let mut lengths: Vec<u8> = Vec::with_capacity(hlit + hdist);
    while lengths.len() < hlit + hdist {
        match ch.decode(b)? {
            s @ 0..=15 => lengths.push(u8::try_from(s).unwrap_or(0)),
            16 => {
                let prev = *lengths.last().ok_or("repeat with no previous length")?;
                let n = 3 + b.take(2)? as usize;
                lengths.extend(std::iter::repeat_n(prev, n));
            }
            17 => {
                let n = 3 + b.take(3)? as usize;
                lengths.extend(std::iter::repeat_n(0, n));
            }
            _ => {
                let n = 11 + b.take(7)? as usize;
                lengths.extend(std::iter::repeat_n(0, n));
            }
        }
    }
    if lengths.len() > hlit + hdist {
        return Err("code lengths overrun".to_owned());
    }
    let (lit, dist) = lengths.split_at(hlit);
    Ok((Huffman::new(lit)?, Huffman::new(dist)?))
}
