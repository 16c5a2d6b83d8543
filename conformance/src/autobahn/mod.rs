//! An Autobahn|Testsuite-equivalent case runner (`ws-peer autobahn`).
//!
//! Autobahn itself needs Python 2, so its case definitions for categories
//! 1–7, 9 (bounded), 12 and 13 are encoded here as data and small
//! functions: what the fuzzer sends and what the peer must answer. Where
//! Autobahn accepts a NON-STRICT or INFORMATIONAL outcome the strict one is
//! required (fail fast, the exact close code).
//!
//! Each case runs four ways:
//! 1. over loopback, a raw-socket fuzzing client against our echo server
//!    (a ws-codec server `Connection` in a thread, deflate accepted when
//!    offered);
//! 2. over loopback, a raw-socket fuzzing server against our echo client;
//! 3. and 4. in memory against each role, the input (handshake included)
//!    split in two at every byte boundary, in the case's own write chunks,
//!    and byte by byte, all required to give the same verdict. Inputs of
//!    1 KiB or more (1.x.6–1.x.8, 7.1.6, 9.x, 12.x, 13.x) are split at a
//!    sample of boundaries: both ends densely, the middle evenly.
//!
//! The socket runs write what Autobahn writes in one reactor turn in one
//! `write` (frames back to back, `sync` frames and chops apart), pause
//! 2 ms where Autobahn waits, and wait at most 20 ms at a "must still be
//! open" checkpoint; the peer gets 2 s to answer and close.
//!
//! ```text
//! ws-peer autobahn [--case ID] [--verbose] [--testdata DIR]
//! ws-peer autobahn --wsproto PYTHON [--verbose]
//! ```
//!
//! `--case 6.4` runs every case whose id is or starts with `6.4.`.
//! `--testdata DIR` uses Autobahn's own payload files for 12.x (from its
//! `autobahntestsuite/testdata`). `--wsproto PYTHON` runs only the
//! differential test against Python's wsproto instead.
//! One line per category, then `N passed, M failed` alone on the last line;
//! the exit code is 0 only if everything passed.

mod case;
mod cases_close;
mod cases_deflate;
mod cases_frag;
mod cases_framing;
mod cases_limits;
mod cases_utf8;
mod check;
mod endpoint;
mod fuzz;
mod inflate;
mod memory;
mod testdata;
#[cfg(test)]
mod tests;
mod wire;
mod wsproto;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use case::Case;
use fuzz::Side;

const USAGE: &str = "usage: ws-peer autobahn [--case ID] [--verbose] [--testdata DIR]
       ws-peer autobahn --wsproto PYTHON [--verbose]";

/// Command-line options.
#[derive(Default)]
struct Opts {
    case: Option<String>,
    verbose: bool,
    testdata: Option<PathBuf>,
    wsproto: Option<String>,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--case" => o.case = Some(value()?),
            "--testdata" => o.testdata = Some(PathBuf::from(value()?)),
            "--wsproto" => o.wsproto = Some(value()?),
            "--verbose" | "-v" => o.verbose = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

/// Runs the cases (or the wsproto diff) with `args` (the words after
/// `autobahn`) and returns the process exit code.
pub fn main(args: Vec<String>) -> i32 {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return 0;
    }
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("ws-peer autobahn: {e}\n{USAGE}");
            return 2;
        }
    };
    if let Some(py) = &opts.wsproto {
        return wsproto::run(py, opts.verbose);
    }
    let ds = Arc::new(testdata::datasets(opts.testdata.as_deref()));
    let cases: Vec<Case> = all_cases(&ds)
        .into_iter()
        .filter(|c| {
            opts.case
                .as_deref()
                .is_none_or(|id| c.id == id || c.id.starts_with(&format!("{id}.")))
        })
        .collect();
    if cases.is_empty() {
        eprintln!(
            "ws-peer autobahn: no case matches {}",
            opts.case.as_deref().unwrap_or_default()
        );
        return 2;
    }
    let server = match endpoint::start_server() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ws-peer autobahn: cannot start the echo server: {e}");
            return 1;
        }
    };
    let started = Instant::now();
    let results = run_all(&cases, server);
    report(&cases, &results, opts.verbose, started.elapsed())
}

/// Every case, in Autobahn's order.
fn all_cases(ds: &Arc<Vec<testdata::Dataset>>) -> Vec<Case> {
    let mut v = cases_framing::framing();
    v.extend(cases_framing::pings());
    v.extend(cases_framing::reserved_bits());
    v.extend(cases_framing::opcodes());
    v.extend(cases_frag::fragmentation());
    v.extend(cases_utf8::utf8());
    v.extend(cases_close::close());
    v.extend(cases_limits::limits());
    v.extend(cases_deflate::compression(ds));
    v.extend(cases_deflate::negotiation(ds));
    v
}

/// One case's result.
struct Outcome {
    failures: Vec<String>,
    runs: usize,
    took: Duration,
}

fn run_case(case: &Case, server: std::net::SocketAddr) -> Outcome {
    let t = Instant::now();
    let mut failures = Vec::new();
    let mut runs = 0;
    for side in [Side::Server, Side::Client] {
        let who = match side {
            Side::Server => "our server",
            Side::Client => "our client",
        };
        match fuzz::run(case, side, server) {
            Ok(()) => runs += 1,
            Err(e) => failures.push(format!("socket, {who}: {e}")),
        }
        match memory::run(case, side) {
            Ok(n) => runs += n,
            Err(e) => failures.push(format!("in memory, {who}: {e}")),
        }
    }
    Outcome {
        failures,
        runs,
        took: t.elapsed(),
    }
}

/// Runs the cases on a few threads; results in case order.
fn run_all(cases: &[Case], server: std::net::SocketAddr) -> Vec<Outcome> {
    let threads = std::thread::available_parallelism()
        .map_or(4, std::num::NonZero::get)
        .clamp(2, 8);
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Outcome)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(case) = cases.get(i) else {
                            return mine;
                        };
                        mine.push((i, run_case(case, server)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|r| r.0);
    results.into_iter().map(|r| r.1).collect()
}

fn report(cases: &[Case], results: &[Outcome], verbose: bool, took: Duration) -> i32 {
    let mut categories: Vec<u32> = cases.iter().map(Case::category).collect();
    categories.dedup();
    for (case, r) in cases.iter().zip(results) {
        if !r.failures.is_empty() {
            println!("FAIL {}", case.id);
            for f in &r.failures {
                println!("    {f}");
            }
        } else if verbose {
            println!(
                "ok   {} ({} runs, {} ms)",
                case.id,
                r.runs,
                r.took.as_millis()
            );
        }
    }
    let (mut pass, mut fail) = (0usize, 0usize);
    for cat in categories {
        let (p, f) = cases
            .iter()
            .zip(results)
            .filter(|(c, _)| c.category() == cat)
            .fold((0, 0), |(p, f), (_, r)| {
                if r.failures.is_empty() {
                    (p + 1, f)
                } else {
                    (p, f + 1)
                }
            });
        println!("autobahn: category {cat}: {p} passed, {f} failed");
        pass += p;
        fail += f;
    }
    eprintln!(
        "autobahn: {} cases in {:.1} s",
        cases.len(),
        took.as_secs_f64()
    );
    println!("{pass} passed, {fail} failed");
    i32::from(fail > 0)
}
