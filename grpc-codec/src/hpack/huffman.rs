//! The HPACK Huffman code, RFC 7541 §5.2 and Appendix B.
//!
//! Decoding is table-driven: a 16384-entry table, built at compile time
//! from the code, maps the next 14 bits of input to the one or two whole
//! symbols they start with, so each step consumes up to 14 bits. Each step
//! waits on the one before (its shift is in the entry), so fewer, wider
//! steps are what pays: 14 bits beat 12 (half the table) by about 10% on
//! the hpack-test-case values (13 bits, a table that fits L1, by 6%; 15
//! bits by 5%), and 3 symbols from a 16-bit window (a 256 KiB table, out
//! of L1) lose again. Refilling the window from a position fixed one group
//! ahead, so the load leaves the chain, measured no faster. What does
//! pay is two chains at once: a name and its value (`decode_pair`), or
//! the two halves of a long string (`decode_split`). Pairing the values
//! of two literal fields in a row in `decode_list` (the second's name
//! looked up after the first's insertion) measured about 1% slower,
//! inlined or not: at these lengths a block decodes at over 3
//! instructions a cycle, bound more by the work per string than by the
//! chain. Per group, the end test is one compare against where the
//! padding starts, found once per string from the last octet's trailing
//! ones (testing the bits left after each group cost about 3%). Codes
//! longer than 14 bits (rare octets, EOS) fall back to a
//! canonical-code search. Encoding packs four codes at a time
//! into a 64-bit accumulator and stores the whole word, with no branch on
//! the bit count.

use bytes::BytesMut;

use super::Error;
use super::huffman_table::CODES;

/// Bits the decode table looks at per step.
const WINDOW: u32 = 14;
const TABLE_LEN: usize = 1 << WINDOW;
/// Length of EOS, the longest code.
const MAX_BITS: u32 = 30;
const EOS: u32 = 256;

/// Decode table entry, one per 14-bit window: the bits its symbols take in
/// bits 0..4 (4 and 5 stay clear, so the entry itself is a shift count),
/// the first symbol in 8..16, the second in 16..24, and how many whole
/// symbols the window starts with (1 or 2) in 28..30. 0 (no bits, no
/// symbols) means the window starts a code longer than 14 bits.
///
/// The fields are spaced so that the sum of [`STEPS`] entries holds the
/// sum of each (bits in 0..6, symbol count in 28..32): a group of steps
/// keeps one running sum, and the count in it says where the next
/// step's symbols go.
static DECODE: [u32; TABLE_LEN] = build_decode();

/// Per 14-bit window, the length of the code it starts with (0 for a
/// code longer than 14 bits): where the first of an entry's two symbols
/// ends, for [`steps_noting`].
static FIRST_LEN: [u8; TABLE_LEN] = build_first_len();

/// The canonical code's shape, for codes longer than the window.
static CANONICAL: Canonical = build_canonical();

struct Canonical {
    /// First code of each length (index = length in bits).
    first: [u32; MAX_BITS as usize + 1],
    /// Number of codes of each length.
    count: [u32; MAX_BITS as usize + 1],
    /// Index into `symbols` of each length's first code.
    offset: [u32; MAX_BITS as usize + 1],
    /// Symbols ordered by (code length, symbol): canonical code order.
    symbols: [u16; 257],
}

/// Per window, the first symbol and its code's length (`symbol | length
/// << 8`), or 0 for a code longer than the window: what both decode
/// tables are built from.
// Evaluated at compile time only: an index out of range fails the build.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const fn first_symbols() -> [u32; TABLE_LEN] {
    let mut single = [0u32; TABLE_LEN];
    let mut s = 0;
    while s < 256 {
        let (code, len) = CODES[s];
        let len = len as u32;
        if len <= WINDOW {
            let shift = WINDOW - len;
            let mut i = (code << shift) as usize;
            let end = ((code + 1) << shift) as usize;
            while i < end {
                single[i] = s as u32 | len << 8;
                i += 1;
            }
        }
        s += 1;
    }
    single
}

// Evaluated at compile time only: an index out of range fails the build.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const fn build_decode() -> [u32; TABLE_LEN] {
    // Pass 1: the first symbol of every window.
    let single = first_symbols();
    // Pass 2: more symbols while the next also fits whole in the window.
    let mut table = [0u32; TABLE_LEN];
    let mut i = 0;
    while i < TABLE_LEN {
        let mut used = 0;
        let mut count = 0;
        let mut syms = 0;
        while count < 2 {
            let e = single[(i << used) & (TABLE_LEN - 1)];
            let len = e >> 8;
            if len == 0 || len > WINDOW - used {
                break;
            }
            syms |= (e & 0xff) << (8 * count);
            used += len;
            count += 1;
        }
        table[i] = if count == 0 {
            0
        } else {
            used | syms << 8 | count << 28
        };
        i += 1;
    }
    table
}

// Evaluated at compile time only: an index out of range fails the build.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const fn build_first_len() -> [u8; TABLE_LEN] {
    let single = first_symbols();
    let mut table = [0u8; TABLE_LEN];
    let mut i = 0;
    while i < TABLE_LEN {
        table[i] = (single[i] >> 8) as u8;
        i += 1;
    }
    table
}

// Evaluated at compile time only: an index out of range fails the build.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const fn build_canonical() -> Canonical {
    let mut c = Canonical {
        first: [0; MAX_BITS as usize + 1],
        count: [0; MAX_BITS as usize + 1],
        offset: [0; MAX_BITS as usize + 1],
        symbols: [0; 257],
    };
    let mut n = 0;
    let mut len = 1;
    while len <= MAX_BITS as usize {
        c.offset[len] = n;
        let mut s = 0;
        while s < 257 {
            if CODES[s].1 as usize == len {
                if c.count[len] == 0 {
                    c.first[len] = CODES[s].0;
                }
                c.count[len] += 1;
                c.symbols[n as usize] = s as u16;
                n += 1;
            }
            s += 1;
        }
        len += 1;
    }
    c
}

#[inline(always)]
fn entry(window: u64) -> u32 {
    // The mask keeps the index in range, so the fallback never happens.
    #[allow(clippy::cast_possible_truncation)]
    let i = (window as usize) & (TABLE_LEN - 1);
    DECODE.get(i).copied().unwrap_or(0)
}

/// Decodes a code longer than the window from the front of a 30-bit
/// window: `(symbol, bits)`.
#[cold]
fn decode_long(window: u32) -> (u32, u32) {
    let c = &CANONICAL;
    for len in WINDOW + 1..=MAX_BITS {
        let code = window >> (MAX_BITS - len);
        let i = len as usize;
        let (Some(&first), Some(&count), Some(&offset)) =
            (c.first.get(i), c.count.get(i), c.offset.get(i))
        else {
            break;
        };
        let k = code.wrapping_sub(first);
        if k < count {
            let sym = c.symbols.get((offset + k) as usize).copied().unwrap_or(0);
            return (u32::from(sym), len);
        }
    }
    // Unreachable for a complete code: every 30-bit window starts with one.
    (EOS, MAX_BITS)
}

/// Decodes the Huffman-coded `src` and appends the octets to `dst`.
///
/// # Errors
///
/// [`Error::HuffmanEos`] if the string holds the EOS symbol,
/// [`Error::HuffmanPadding`] if it ends in more than 7 bits of padding or
/// in padding that is not the start of EOS (all ones). `dst` is left as it
/// was on error.
pub fn decode(src: &[u8], dst: &mut Vec<u8>) -> Result<(), Error> {
    let start = dst.len();
    dst.resize(start + max_decoded_len(src.len()), 0);
    let out = dst.get_mut(start..).unwrap_or_default();
    match decode_slice(src, out) {
        Ok(n) => {
            dst.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            dst.truncate(start);
            Err(e)
        }
    }
}

/// Room [`decode_slice`] needs for `len` coded octets: every code is at
/// least 5 bits, plus [`SLACK`] octets so each group of table steps can
/// write its symbols unconditionally, and for a string long enough to
/// split, room for the gap between its halves (see [`decode_split`]).
#[inline]
pub(crate) const fn max_decoded_len(len: usize) -> usize {
    len * 8 / 5 + 3 * SLACK
}

/// Room past the decoded octets: a group of [`STEPS`] writes 2 octets
/// each at up to 6 past its start (and the writes are bounded by the
/// 4-bit count field, up to 15 + 2).
const SLACK: usize = 18;
/// Table steps per 64-bit read, of which at least 57 bits are input.
const STEPS: u32 = 57 / WINDOW;

/// Decodes `src` into the front of `out`, which holds at least
/// [`max_decoded_len`] octets; returns how many it wrote (the octets past
/// them are clobbered).
///
/// The input is read as if followed by ones, the padding EOS starts with,
/// 64 bits at a bit position at a time, and decoded [`STEPS`] table steps
/// (of at most 14 bits each) per read with no branch between them. No code
/// of 14 bits or fewer is all ones, so steps that reach valid padding
/// decode nothing: a window of ones is a long code's, whose entry is a
/// no-op. A symbol that ends past the input ate padding that was not all
/// ones.
#[inline]
pub(crate) fn decode_slice(src: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    if src.len() >= SPLIT_MIN {
        return decode_split(src, out);
    }
    let mut s = Stream::new(src);
    s.finish(out)?;
    Ok(s.pos)
}

/// Strings from this long on are decoded as two halves at once.
const SPLIT_MIN: usize = 64;
/// How far past the middle the front half's stream goes, for its symbols
/// to meet the back half's: at most 8, for its last group to end within
/// 64 bits of the middle.
const OVERLAP: usize = 8;

/// [`decode_slice`] for a string long enough to split in two chains.
///
/// The front stream decodes from the start until just past the middle
/// octet; the back stream decodes from the middle to the end, into the
/// room after the front's. Both note where their symbols end in the 64
/// bits after the middle. Codes are not aligned to octets, so the back
/// stream may start inside a code and decode garbage at first; but a
/// prefix code decodes the same from any true symbol boundary on, so
/// from the first point where both streams have a symbol end, the back
/// stream is right: the front's symbols after it and the back's before
/// it are dropped. If there is no such point (Huffman codes usually fall
/// into step within a few symbols), or the back stream fails, the front
/// stream goes on alone, and decides.
// Out of line: inlined into `decode_slice`, it left the short-string
// path spilling registers in its loop (about 1.5% on `huffman::decode`).
#[inline(never)]
fn decode_split(src: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let mid = src.len() / 2;
    let limit = 8 * mid;
    // The front writes fewer octets than this: it stops within 64 bits of
    // `limit`, and a group writes at most SLACK past its start.
    let gap = (limit + 64) / 5 + SLACK;
    let (front_out, back_out) = out.split_at_mut_checked(gap).ok_or(Error::HuffmanPadding)?;
    let mut front = Stream::new(src);
    let mut back = Stream::new(src.get(mid..).unwrap_or_default());
    // Bit `k`: a symbol ends `k` bits past `limit` (for the back stream,
    // bit 0: it starts there).
    let (mut front_ends, mut back_ends) = (0u64, 1u64);
    let mut back_ok = true;
    // The front cannot reach the end here: `src` is at least 32 octets.
    while front.live() && front.p < limit + OVERLAP {
        if back_ok && back.live() {
            back_ok = back.group_noting(back_out, &mut back_ends, 0).is_ok();
        }
        front.group_noting(front_out, &mut front_ends, limit)?;
    }
    while back_ok && back.live() {
        back_ok = back.group_noting(back_out, &mut back_ends, 0).is_ok();
    }
    let common = front_ends & back_ends;
    if back_ok && common != 0 && front.p < limit + 64 {
        let upto = u64::MAX >> (63 - common.trailing_zeros());
        let keep = front.pos - (front_ends & !upto).count_ones() as usize;
        let from = gap + (back_ends & !1 & upto).count_ones() as usize;
        let to = gap + back.pos;
        if from <= to && to <= out.len() && keep <= gap {
            out.copy_within(from..to, keep);
            return Ok(keep + to - from);
        }
    }
    front.finish(out)?;
    Ok(front.pos)
}

/// Decodes two strings into the fronts of `a_out` and `b_out` as
/// [`decode_slice`] would, one after the other, but with their table
/// steps interleaved: each step waits on the one before in its own string
/// only, so the two chains overlap. Returns how many octets each wrote,
/// or the first string's error; the second's is in the inner result.
#[inline]
pub(crate) fn decode_pair(
    a: &[u8],
    a_out: &mut [u8],
    b: &[u8],
    b_out: &mut [u8],
) -> Result<(usize, Result<usize, Error>), Error> {
    let mut sa = Stream::new(a);
    let mut sb = Stream::new(b);
    let mut b_result = Ok(());
    while sa.live() && sb.live() {
        sa.group(a_out)?;
        if let Err(e) = sb.group(b_out) {
            b_result = Err(e);
            break;
        }
    }
    // The first string's error, if any, is the one to report.
    sa.finish(a_out)?;
    Ok((
        sa.pos,
        b_result.and_then(|()| sb.finish(b_out)).map(|()| sb.pos),
    ))
}

/// One string being decoded (see [`decode_slice`]).
struct Stream<'a> {
    src: &'a [u8],
    /// Input bits.
    total: usize,
    /// The last (up to 8) octets as one word whose low bits are ones past
    /// the input: the window at `p` near the end is `last` shifted left by
    /// `p - base` with ones shifted in.
    last: u64,
    base: usize,
    /// Bits decoded.
    p: usize,
    /// Octets written.
    pos: usize,
    /// Where the padding starts: the trailing ones of the last octet, up
    /// to 7 (no code of 7 bits or fewer is all ones, so they cannot end a
    /// symbol). Decoding ends at or past it.
    stop: usize,
}

impl<'a> Stream<'a> {
    #[inline(always)]
    fn new(src: &'a [u8]) -> Self {
        let total = src.len() * 8;
        let (last, base) = match src.last_chunk::<8>() {
            Some(w) => (u64::from_be_bytes(*w), total - 64),
            None => (short_word(src), 0),
        };
        let padding = src.last().map_or(0, |b| b.trailing_ones().min(7));
        Self {
            src,
            total,
            last,
            base,
            p: 0,
            pos: 0,
            stop: total - padding as usize,
        }
    }

    /// Input is left that is not valid padding.
    #[inline(always)]
    fn live(&self) -> bool {
        self.p < self.stop
    }

    /// Decodes to the end.
    #[inline(always)]
    fn finish(&mut self, out: &mut [u8]) -> Result<(), Error> {
        while self.live() {
            self.group(out)?;
        }
        Ok(())
    }

    /// One read and its table steps.
    #[inline(always)]
    fn group(&mut self, out: &mut [u8]) -> Result<(), Error> {
        let window = self.window();
        let (bits, n) = steps(window, out, self.pos)?;
        self.advance(window, bits, n, out)
    }

    /// [`Stream::group`], also setting bit `k` of `ends` for each symbol
    /// that ends `k` < 64 bits past bit `origin` of the stream.
    #[inline(always)]
    fn group_noting(&mut self, out: &mut [u8], ends: &mut u64, origin: usize) -> Result<(), Error> {
        // Positions before `origin` wrap to huge offsets, noted nowhere.
        let at = self.p.wrapping_sub(origin) as u64;
        if (64..u64::MAX - 56).contains(&at) {
            // No symbol of this group can end within the 64 bits.
            return self.group(out);
        }
        let window = self.window();
        let (bits, n) = steps_noting(window, out, self.pos, at, ends)?;
        self.advance(window, bits, n, out)?;
        // The end of a long code (or of the group again).
        *ends |= bit(self.p.wrapping_sub(origin) as u64);
        Ok(())
    }

    /// 64 bits from `p` on (`p < total`), at least 57 of them input and
    /// the rest ones past its end.
    #[inline(always)]
    fn window(&self) -> u64 {
        match self
            .src
            .get(self.p / 8..)
            .and_then(<[u8]>::first_chunk::<8>)
        {
            Some(word) => u64::from_be_bytes(*word) << (self.p % 8),
            // `p - base` < 64: `p` is in the last word.
            #[allow(clippy::cast_possible_truncation)]
            None => !(!self.last << (self.p - self.base) as u32),
        }
    }

    /// Moves past what [`steps`] decoded from `window`, or past the long
    /// code it starts with if they decoded nothing; checks for the end.
    #[inline(always)]
    fn advance(&mut self, window: u64, bits: u32, n: usize, out: &mut [u8]) -> Result<(), Error> {
        if bits == 0 {
            let (sym, len) = long_code(window);
            let len = len as usize;
            if self.p + len > self.total {
                // Not valid padding: that ends decoding before it is read.
                return Err(Error::HuffmanPadding);
            }
            put(out, self.pos, sym)?;
            self.p += len;
            self.pos += 1;
        } else {
            self.p += bits as usize;
            self.pos += n;
        }
        if self.p > self.total {
            // A symbol took padding bits that were not all ones.
            return Err(Error::HuffmanPadding);
        }
        Ok(())
    }
}

/// `src` (under 8 octets) as the top of a big-endian word, ones below.
#[inline]
fn short_word(src: &[u8]) -> u64 {
    let len = src.len();
    let ones = !0u64 >> (8 * len.min(7));
    let word = if let (Some(a), Some(b)) = (src.first_chunk::<4>(), src.last_chunk::<4>()) {
        // Two loads that overlap: octet `len - 4` goes to bit 88 - 8 len.
        u64::from(u32::from_be_bytes(*a)) << 32
            | u64::from(u32::from_be_bytes(*b)) << (64 - 8 * len)
    } else if let (Some(&a), Some(&b), Some(&c)) = (src.first(), src.get(len / 2), src.last()) {
        u64::from(a) << 56 | u64::from(b) << (56 - 8 * (len / 2)) | u64::from(c) << (64 - 8 * len)
    } else {
        0
    };
    word | ones
}

/// [`STEPS`] decode-table steps from the front of `window` (at least 56
/// bits of it input or padding): writes their symbols at `out[pos..]` and
/// returns the bits they took and how many symbols they wrote. They stop
/// at a long code: no bits if the window starts with one.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)]
fn steps(mut window: u64, out: &mut [u8], pos: usize) -> Result<(u32, usize), Error> {
    let Some(chunk) = out
        .get_mut(pos..)
        .and_then(<[u8]>::first_chunk_mut::<SLACK>)
    else {
        return Err(Error::HuffmanPadding);
    };
    // Bits taken in 0..6, symbols written in 28..32 (see `DECODE`).
    let mut sum = 0u32;
    for _ in 0..STEPS {
        let e = entry(window >> (64 - WINDOW));
        let n = (sum >> 28) as usize;
        if let Some(slot) = chunk.get_mut(n..n + 2) {
            slot.copy_from_slice(&((e >> 8) as u16).to_le_bytes());
        }
        sum += e;
        // Bits 4 and 5 are clear: the entry is its own shift count, which
        // the shift masks to 6 bits for free.
        window = window.wrapping_shl(e);
    }
    Ok((sum & 0x3f, (sum >> 28) as usize))
}

/// `1 << k`, or 0 for `k` >= 64.
#[inline(always)]
fn bit(k: u64) -> u64 {
    u32::try_from(k)
        .ok()
        .and_then(|k| 1u64.checked_shl(k))
        .unwrap_or(0)
}

/// [`steps`] starting `at` bits past an origin (wrapping: before it is
/// huge), also setting bit `k` of `ends` for each symbol that ends `k` <
/// 64 bits past the origin.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)]
fn steps_noting(
    mut window: u64,
    out: &mut [u8],
    pos: usize,
    mut at: u64,
    ends: &mut u64,
) -> Result<(u32, usize), Error> {
    let Some(chunk) = out
        .get_mut(pos..)
        .and_then(<[u8]>::first_chunk_mut::<SLACK>)
    else {
        return Err(Error::HuffmanPadding);
    };
    let mut sum = 0u32;
    for _ in 0..STEPS {
        let i = (window >> (64 - WINDOW)) as usize;
        let e = entry(window >> (64 - WINDOW));
        let first = FIRST_LEN.get(i).copied().unwrap_or(0);
        let n = (sum >> 28) as usize;
        if let Some(slot) = chunk.get_mut(n..n + 2) {
            slot.copy_from_slice(&((e >> 8) as u16).to_le_bytes());
        }
        sum += e;
        // A step of one symbol (or none) notes the same end twice.
        *ends |= bit(at.wrapping_add(u64::from(first)));
        at = at.wrapping_add(u64::from(e & 0x3f));
        *ends |= bit(at);
        window = window.wrapping_shl(e);
    }
    Ok((sum & 0x3f, (sum >> 28) as usize))
}

/// The code longer than the table's window at the front of `window`:
/// `(symbol, bits)`.
#[inline]
#[allow(clippy::cast_possible_truncation)]
fn long_code(window: u64) -> (u32, u32) {
    decode_long((window >> (64 - MAX_BITS)) as u32)
}

#[inline]
#[allow(clippy::cast_possible_truncation)]
fn put(out: &mut [u8], pos: usize, sym: u32) -> Result<(), Error> {
    if sym == EOS {
        return Err(Error::HuffmanEos);
    }
    let Some(slot) = out.get_mut(pos) else {
        return Err(Error::HuffmanPadding);
    };
    *slot = sym as u8;
    Ok(())
}

/// The length in octets of `src` Huffman-coded.
#[inline]
#[must_use]
pub fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src.iter().map(|&b| usize::from(code(b).1)).sum();
    bits.div_ceil(8)
}

/// Per octet, its code left-aligned in a word (a code takes at most the
/// top 30 bits).
static ENCODE: [u64; 256] = build_encode();
/// Per octet, the length of its code.
static ENCODE_LEN: [u8; 256] = build_encode_len();

#[allow(clippy::indexing_slicing)]
const fn build_encode() -> [u64; 256] {
    let mut t = [0u64; 256];
    let mut s = 0;
    while s < 256 {
        let (code, len) = CODES[s];
        t[s] = (code as u64) << (64 - len as u32);
        s += 1;
    }
    t
}

#[allow(clippy::indexing_slicing)]
const fn build_encode_len() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut s = 0;
    while s < 256 {
        t[s] = CODES[s].1;
        s += 1;
    }
    t
}

/// An octet's code, left-aligned, and its length.
#[inline(always)]
fn code(b: u8) -> (u64, u8) {
    let i = usize::from(b);
    (
        ENCODE.get(i).copied().unwrap_or(0),
        ENCODE_LEN.get(i).copied().unwrap_or(0),
    )
}

/// Appends `src` Huffman-coded to `dst`: [`encoded_len`] octets, the last
/// padded with the high bits of EOS (ones).
pub fn encode(src: &[u8], dst: &mut BytesMut) {
    let start = dst.len();
    let len = encoded_len(src);
    dst.resize(start + len + SLACK_OUT, 0);
    let n = dst
        .get_mut(start..)
        .and_then(|out| encode_slice(src, out))
        .unwrap_or(0);
    dst.truncate(start + n);
}

/// Room [`encode_slice`] needs past the coded octets: it writes whole
/// 64-bit words.
pub(crate) const SLACK_OUT: usize = 8;

/// Codes `src` into the front of `out` and returns the coded length, or
/// `None` once it is clear the code will not fit with [`SLACK_OUT`]
/// octets to spare (a code of `n` octets always fits in `n + SLACK_OUT`;
/// the octets past it are clobbered).
///
/// Codes gather left-aligned in a 64-bit word; after each group of four,
/// the whole word is stored and the pointer moves past its whole octets,
/// so there is no branch on the bit count. A group goes in one step
/// when its codes and the partial octet left over fit in the word (text
/// always does: its codes are at most 14 bits), else code by code.
#[inline]
pub(crate) fn encode_slice(src: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut w = Writer {
        acc: 0,
        nbits: 0,
        pos: 0,
    };
    let mut quads = src.chunks_exact(4);
    for q in &mut quads {
        let &[a, b, c, d] = q else { continue };
        let [(ca, la), (cb, lb), (cc, lc), (cd, ld)] = [a, b, c, d].map(code);
        let n1 = w.nbits + u32::from(la);
        let n2 = n1 + u32::from(lb);
        let n3 = n2 + u32::from(lc);
        let n4 = n3 + u32::from(ld);
        if n4 < 64 {
            w.acc |= ca >> w.nbits | cb >> n1 | cc >> n2 | cd >> n3;
            w.nbits = n4;
            w.flush(out)?;
        } else {
            for s in [a, b, c, d] {
                w.push(s, out)?;
            }
        }
    }
    for &s in quads.remainder() {
        w.push(s, out)?;
    }
    if w.nbits > 0 {
        // Pad with the top bits of EOS, all ones.
        w.acc |= !0u64 >> w.nbits;
        w.nbits = 8;
        w.flush(out)?;
    }
    Some(w.pos)
}

/// The bit accumulator of [`encode_slice`].
struct Writer {
    /// Pending bits, left-aligned: at most 7 between steps.
    acc: u64,
    nbits: u32,
    /// Octets written.
    pos: usize,
}

impl Writer {
    /// Adds one octet's code and stores the word.
    #[inline(always)]
    fn push(&mut self, s: u8, out: &mut [u8]) -> Option<()> {
        let (c, len) = code(s);
        self.acc |= c >> self.nbits;
        self.nbits += u32::from(len);
        self.flush(out)
    }

    /// Stores the word and keeps the partial octet (`nbits` is below 64).
    #[inline(always)]
    fn flush(&mut self, out: &mut [u8]) -> Option<()> {
        let word = out
            .get_mut(self.pos..)
            .and_then(<[u8]>::first_chunk_mut::<8>)?;
        *word = self.acc.to_be_bytes();
        self.pos += (self.nbits / 8) as usize;
        self.acc <<= self.nbits & !7;
        self.nbits &= 7;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(src: &[u8]) -> Result<Vec<u8>, Error> {
        let mut v = Vec::new();
        decode(src, &mut v).map(|()| v)
    }

    fn enc(src: &[u8]) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode(src, &mut b);
        assert_eq!(b.len(), encoded_len(src));
        b.to_vec()
    }

    #[test]
    fn code_is_canonical_and_complete() {
        let mut order: Vec<usize> = (0..257).collect();
        order.sort_by_key(|&s| (CODES[s].1, s));
        let mut code = 0u32;
        let mut prev = CODES[order[0]].1;
        let mut kraft = 0f64;
        for (i, &s) in order.iter().enumerate() {
            let (c, len) = CODES[s];
            if i > 0 {
                code = (code + 1) << (len - prev);
            }
            prev = len;
            assert_eq!(c, code, "symbol {s}");
            kraft += 2f64.powi(-i32::from(len));
        }
        assert!((kraft - 1.0).abs() < 1e-12);
        assert_eq!(CODES[256], (0x3fff_ffff, 30));
    }

    #[test]
    fn rfc7541_appendix_c_strings() {
        // C.4.1 and C.6.1.
        let cases: [(&[u8], &str); 4] = [
            (b"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"),
            (b"no-cache", "a8eb10649cbf"),
            (b"custom-key", "25a849e95ba97d7f"),
            (
                b"Mon, 21 Oct 2013 20:13:21 GMT",
                "d07abe941054d444a8200595040b8166e082a62d1bff",
            ),
        ];
        for (plain, hex) in cases {
            let wire: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            assert_eq!(enc(plain), wire);
            assert_eq!(dec(&wire).unwrap(), plain);
        }
    }

    #[test]
    fn every_symbol_alone_and_long_codes() {
        for b in 0..=255u8 {
            for n in [1, 2, 3, 7, 13] {
                let s = vec![b; n];
                assert_eq!(dec(&enc(&s)).unwrap(), s, "{b} x{n}");
            }
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(dec(&enc(&all)).unwrap(), all);
    }

    #[test]
    fn eos_and_padding_errors() {
        // EOS alone (30 ones) padded to 32 bits.
        assert_eq!(dec(&[0xff, 0xff, 0xff, 0xff]), Err(Error::HuffmanEos));
        // 'a' (00011) then EOS, then padding.
        let mut v: u64 = 0b00011;
        v = (v << 30) | 0x3fff_ffff;
        v = (v << 5) | 0b11111;
        let bytes = v.to_be_bytes();
        assert_eq!(dec(&bytes[3..]), Err(Error::HuffmanEos));
        // EOS in the middle, followed by a symbol.
        let mut w: u64 = 0x3fff_ffff;
        w = (w << 5) | 0b00011;
        w <<= 5;
        w |= 0b11111;
        assert_eq!(dec(&w.to_be_bytes()[3..]), Err(Error::HuffmanEos));
        // 'a' then 11 ones: padding longer than 7 bits.
        assert_eq!(dec(&[0b0001_1111, 0xff]), Err(Error::HuffmanPadding));
        // A lone octet of ones: 8 bits of padding.
        assert_eq!(dec(&[0xff]), Err(Error::HuffmanPadding));
        // 'a' then 110: padding not all ones.
        assert_eq!(dec(&[0b0001_1110]), Err(Error::HuffmanPadding));
        // 'a' then 111: fine.
        assert_eq!(dec(&[0b0001_1111]).unwrap(), b"a");
        // Empty input is the empty string.
        assert_eq!(dec(&[]).unwrap(), b"");
    }

    #[test]
    fn error_leaves_dst_as_it_was() {
        let mut v = b"keep".to_vec();
        assert!(decode(&[0xff], &mut v).is_err());
        assert_eq!(v, b"keep");
    }

    /// Bit by bit, straight from the code: the oracle for the table-driven
    /// decoder, errors included.
    fn reference(src: &[u8]) -> Result<Vec<u8>, Error> {
        let (mut code, mut len, mut out) = (0u32, 0u8, Vec::new());
        for i in 0..src.len() * 8 {
            code = code << 1 | u32::from(src[i / 8] >> (7 - i % 8) & 1);
            len += 1;
            if let Some(sym) = CODES.iter().position(|&c| c == (code, len)) {
                if sym == 256 {
                    return Err(Error::HuffmanEos);
                }
                out.push(sym as u8);
                (code, len) = (0, 0);
            }
        }
        if len > 7 || code != (1 << len) - 1 {
            return Err(Error::HuffmanPadding);
        }
        Ok(out)
    }

    proptest! {
        #[test]
        fn agrees_with_the_bitwise_reference(
            s in proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(0xffu8), Just(0xfe), Just(0x00)],
                0..40,
            )
        ) {
            prop_assert_eq!(dec(&s), reference(&s));
        }

        #[test]
        fn agrees_with_the_reference_on_valid_strings(
            plain in proptest::collection::vec(any::<u8>(), 0..60),
            tail in 0usize..3,
        ) {
            // Valid strings, then with a few octets cut off the end.
            let coded = enc(&plain);
            let cut = &coded[..coded.len().saturating_sub(tail)];
            prop_assert_eq!(dec(cut), reference(cut));
        }

        #[test]
        fn long_strings_agree_with_the_reference(
            plain in proptest::collection::vec(
                prop_oneof![any::<u8>(), b'0'..=b'9', b'a'..=b'z'],
                40..240,
            ),
            damage in proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
            tail in 0usize..3,
        ) {
            // Split in two chains (see `decode_split`): valid, with one
            // octet changed anywhere, or cut short.
            let mut coded = enc(&plain);
            if let Some((at, b)) = damage {
                let i = at.index(coded.len());
                coded[i] = b;
            }
            let cut = &coded[..coded.len().saturating_sub(tail)];
            prop_assert_eq!(dec(cut), reference(cut));
        }

        #[test]
        fn long_arbitrary_input_agrees_with_the_reference(
            s in proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(0xffu8), Just(0x00)],
                SPLIT_MIN..SPLIT_MIN + 40,
            )
        ) {
            prop_assert_eq!(dec(&s), reference(&s));
        }

        #[test]
        fn round_trip(s in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(dec(&enc(&s)).unwrap(), s);
        }

        #[test]
        fn encode_slice_bails_only_when_longer(s in proptest::collection::vec(
            prop_oneof![any::<u8>(), b'a'..=b'z', Just(b'\n')],
            0..80,
        )) {
            let mut out = vec![0; s.len() + SLACK_OUT];
            match encode_slice(&s, &mut out) {
                Some(n) => {
                    prop_assert_eq!(n, encoded_len(&s));
                    prop_assert_eq!(&out[..n], &enc(&s)[..]);
                }
                None => prop_assert!(encoded_len(&s) > s.len()),
            }
        }

        #[test]
        fn round_trip_text(s in "[ -~]{0,200}") {
            prop_assert_eq!(dec(&enc(s.as_bytes())).unwrap(), s.as_bytes());
        }

        #[test]
        fn arbitrary_input_never_panics(s in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(plain) = dec(&s) {
                // What decodes re-encodes to the same bits.
                prop_assert_eq!(enc(&plain), s);
            }
        }
    }
}
