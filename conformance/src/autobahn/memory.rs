//! The same cases without sockets: the whole byte stream the fuzzer would
//! send (handshake included) is fed to a fresh [`Connection`] split in two
//! at every byte boundary (a spread sample for big inputs), in the case's
//! own write chunks, and a byte at a time for small inputs. Every run must
//! give the same verdict: the same events, the same echoes, the same close
//! code, and the fail-fast checkpoints hold whatever the split.

use ws_codec::Connection;

use super::case::{Case, Ending, Op, Script};
use super::check;
use super::endpoint::{self, Got};
use super::fuzz::{self, Side};
use super::wire::{self, Ev, FrameReader, Head, Pmd};

/// Inputs up to this size are also fed one byte per call.
const BYTEWISE_MAX: usize = 4096;

/// What one run produced.
struct Outcome {
    got: Vec<Got>,
    out: Vec<u8>,
}

/// The fixed parts of a case's in-memory runs.
struct Plan<'a> {
    case: &'a Case,
    side: Side,
    pmd: Option<Pmd>,
    input: Vec<u8>,
    /// Ends of the fuzzer's writes.
    writes: Vec<usize>,
    /// (offset, must still be open) fail-fast checkpoints.
    checks: Vec<(usize, bool)>,
}

impl Plan<'_> {
    fn fresh(&self) -> Connection {
        match self.side {
            Side::Server => Connection::server(endpoint::server_config()),
            Side::Client => endpoint::new_client(self.case.deflate.as_ref()),
        }
    }

    /// Feeds the input cut at `cuts` (sorted, ending at the input's end)
    /// and at every checkpoint.
    fn feed(&self, cuts: &[usize]) -> Result<Outcome, String> {
        let mut all: Vec<usize> = cuts.to_vec();
        all.extend(self.checks.iter().map(|c| c.0));
        all.push(self.input.len());
        all.sort_unstable();
        all.dedup();
        let mut conn = self.fresh();
        let mut o = Outcome {
            got: Vec::new(),
            out: Vec::new(),
        };
        let mut closed = false;
        let mut at = 0;
        for &c in &all {
            let _ = conn.handle_input(self.input.get(at..c).unwrap_or_default());
            closed |= endpoint::pump(&mut conn, Some(&mut o.got));
            while let Some(b) = conn.poll_transmit() {
                o.out.extend_from_slice(&b);
            }
            at = c;
            for &(pos, open) in &self.checks {
                if pos == c && open == closed {
                    return Err(if open {
                        format!("failed before the checkpoint at byte {pos}")
                    } else {
                        format!("did not fail fast by byte {pos}")
                    });
                }
            }
        }
        Ok(o)
    }

    /// Parses what the endpoint wrote, after its handshake head.
    fn wire(&self, out: &[u8]) -> Result<FrameReader, String> {
        let (_, n) = Head::parse(out).ok_or("no handshake head in the output")?;
        let client_fuzzer = self.side == Side::Server;
        let mut r = FrameReader::new(!client_fuzzer, self.pmd.map(|p| p.inflater(client_fuzzer)));
        r.push(out.get(n..).unwrap_or_default());
        Ok(r)
    }
}

/// The wire verdict that must not depend on the split: data echoes, the
/// close frame and any violation (pongs may be coalesced per read).
fn wire_verdict(r: &FrameReader) -> (Vec<Ev>, Option<Option<u16>>, Vec<String>) {
    let data = r
        .events
        .iter()
        .filter(|e| !matches!(e, Ev::Pong(_)))
        .cloned()
        .collect();
    (data, r.close, r.violations.clone())
}

/// Most split runs per case and role.
const MAX_SPLITS: usize = 1024;

/// Split points: every boundary when `len + 1` runs of `len` bytes fit the
/// budget (and [`MAX_SPLITS`]), else both ends densely and the middle
/// evenly.
pub(crate) fn split_points(len: usize, budget: usize) -> Vec<usize> {
    let n = (budget / len.max(1)).clamp(3, MAX_SPLITS);
    if n > len {
        return (0..=len).collect();
    }
    let edge = (n / 4).min(64);
    let mut v: Vec<usize> = (0..edge).chain(len - edge..=len).collect();
    let middle = n.saturating_sub(v.len()).max(1);
    v.extend((1..=middle).map(|i| i * len / (middle + 1)));
    v.sort_unstable();
    v.dedup();
    v
}

/// The handshake prefix and what it agrees, for `side`.
fn prologue(case: &Case, side: Side) -> Result<(Vec<u8>, Option<Pmd>), String> {
    match side {
        Side::Server => {
            let offer = case.deflate.as_ref().map(|d| d.offer.as_str());
            let req = wire::client_request("127.0.0.1", offer);
            let mut conn = Connection::server(endpoint::server_config());
            let _ = conn.handle_input(&req);
            endpoint::pump(&mut conn, None);
            let out = conn.poll_transmit().unwrap_or_default();
            let (head, _) = Head::parse(&out).ok_or("no handshake answer")?;
            Ok((req, fuzz::negotiated(case, &head)?))
        }
        Side::Client => {
            let mut conn = endpoint::new_client(case.deflate.as_ref());
            let req = conn.poll_transmit().unwrap_or_default();
            let (head, _) = Head::parse(&req).ok_or("no opening request")?;
            fuzz::answer_request(case, &head)
        }
    }
}

/// Runs `case` in memory against our endpoint on `side`. Returns how many
/// runs agreed.
pub(crate) fn run(case: &Case, side: Side) -> Result<usize, String> {
    let (prefix, pmd) = prologue(case, side)?;
    let client_fuzzer = side == Side::Server;
    let mut script = Script::new(client_fuzzer, pmd.map(|p| p.compressor(client_fuzzer)));
    (case.build)(&mut script);
    let mut plan = Plan {
        case,
        side,
        pmd,
        writes: vec![prefix.len()],
        input: prefix,
        checks: Vec::new(),
    };
    for op in &script.ops {
        match op {
            Op::Write(b) => {
                plan.input.extend_from_slice(b);
                plan.writes.push(plan.input.len());
            }
            Op::Pause => {}
            Op::ExpectOpen => plan.checks.push((plan.input.len(), true)),
            Op::ExpectFailed => plan.checks.push((plan.input.len(), false)),
        }
    }
    if script.ending == Ending::FuzzerCloses {
        // The fuzzer closes once the echoes are in, so its close frame is
        // always a call of its own, as on a socket.
        plan.checks.push((plan.input.len(), true));
        let close = script.closing_frame();
        plan.input.extend_from_slice(&close);
        plan.writes.push(plan.input.len());
    }
    let base = plan.feed(&[])?;
    check::events(&script, &base.got)?;
    let base_wire = plan.wire(&base.out)?;
    check::wire(&script, &base_wire, false)?;
    let want = wire_verdict(&base_wire);
    let len = plan.input.len();
    let mut runs: Vec<(String, Vec<usize>)> =
        vec![("the case's writes".to_owned(), plan.writes.clone())];
    if len <= BYTEWISE_MAX {
        runs.push(("one byte per call".to_owned(), (1..=len).collect()));
    }
    runs.extend(
        split_points(len, case.split_budget)
            .into_iter()
            .map(|k| (format!("split at byte {k}"), vec![k])),
    );
    for (name, cuts) in &runs {
        let o = plan.feed(cuts).map_err(|e| format!("{name}: {e}"))?;
        if o.got != base.got {
            let d = check::events(&script, &o.got).err().unwrap_or_default();
            return Err(format!(
                "{name}: endpoint events differ from the unsplit run {d}"
            ));
        }
        // Equal bytes need no parsing (pongs may differ, echoes may not).
        if o.out != base.out && wire_verdict(&plan.wire(&o.out)?) != want {
            return Err(format!("{name}: wire output differs from the unsplit run"));
        }
    }
    Ok(runs.len() + 1)
}
