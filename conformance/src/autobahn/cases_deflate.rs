//! Categories 12 and 13: permessage-deflate (RFC 7692). 12.x echoes
//! compressed messages of 18 sizes (some auto-fragmented) from five
//! datasets under the default offer; 13.1–13.7 do the same on one dataset
//! under Autobahn's seven negotiation variants, and 13.8/13.9 (extras, not
//! in Autobahn) add every window size 9–15 and the four
//! no-context-takeover combinations with context takeover on the client.
//!
//! Autobahn sends 1000 messages per case; here the count shrinks with the
//! size (at most [`BYTES_PER_CASE`] of payload, at least 2 messages) to
//! keep the run short. The fuzzer inflates with the agreed window (plus
//! 256 bytes of slack) and resets when no context takeover was agreed, so
//! a peer overstepping either fails to inflate.

use std::sync::Arc;

use super::case::{Answer, Case, DeflateSpec, Script};
use super::testdata::Dataset;
use super::wire::{Extension, Pmd};

/// Payload bytes per case, before the 2-message floor.
const BYTES_PER_CASE: usize = 128 << 10;

/// In-memory runs: three split points per case (the inputs are big and
/// every run inflates and deflates them).
const SPLIT_BUDGET: usize = 0;

/// Autobahn's (payload size, auto-fragment size) table.
const SIZES: [(usize, usize); 18] = [
    (16, 0),
    (64, 0),
    (256, 0),
    (1024, 0),
    (4096, 0),
    (8192, 0),
    (16384, 0),
    (32768, 0),
    (65536, 0),
    (131_072, 0),
    (8192, 256),
    (16384, 256),
    (32768, 256),
    (65536, 256),
    (131_072, 256),
    (131_072, 1024),
    (131_072, 4096),
    (131_072, 32768),
];

/// Autobahn's client offer: `PerMessageDeflateOffer(request_no_context_takeover,
/// request_max_window_bits)`, which also always announces
/// `client_no_context_takeover` and a valueless `client_max_window_bits`.
fn offer(server_nct: bool, server_bits: u8) -> String {
    let mut s = "permessage-deflate; client_no_context_takeover; client_max_window_bits".to_owned();
    if server_nct {
        s.push_str("; server_no_context_takeover");
    }
    if server_bits != 0 {
        s.push_str(&format!("; server_max_window_bits={server_bits}"));
    }
    s
}

/// Autobahn's server accept: ask the client for no context takeover
/// and/or a window.
const fn ask(client_nct: bool, client_bits: u8) -> Answer {
    Answer {
        client_nct,
        client_bits,
        server_nct: false,
        server_bits: 0,
    }
}

fn echo_case(
    id: String,
    ds: &Arc<Vec<Dataset>>,
    set: usize,
    size: (usize, usize),
    spec: DeflateSpec,
) -> Case {
    let ds = Arc::clone(ds);
    let (len, frag) = size;
    let count = (BYTES_PER_CASE / len.max(1)).clamp(2, 1000);
    let mut c = Case::new(id, move |s: &mut Script| {
        let Some(d) = ds.get(set) else {
            return;
        };
        let mut ptr = 0;
        for _ in 0..count {
            let (msg, next) = d.slice(ptr, len);
            ptr = next;
            s.message(!d.binary, &msg, frag);
            if d.binary {
                s.echo_binary(&msg);
            } else {
                s.echo_text(&msg);
            }
        }
    });
    c.deflate = Some(spec);
    c.split_budget = SPLIT_BUDGET;
    c
}

/// Category 12: every dataset, every size, the default offer.
pub(crate) fn compression(ds: &Arc<Vec<Dataset>>) -> Vec<Case> {
    let mut v = Vec::new();
    for set in 0..ds.len() {
        for (i, size) in (1..).zip(SIZES) {
            let spec = DeflateSpec {
                offer: offer(false, 0),
                answers: vec![ask(false, 0)],
            };
            v.push(echo_case(
                format!("12.{}.{i}", set + 1),
                ds,
                set,
                size,
                spec,
            ));
        }
    }
    v
}

/// Category 13: negotiation variants on the JSON dataset.
pub(crate) fn negotiation(ds: &Arc<Vec<Dataset>>) -> Vec<Case> {
    let variants: [(String, Vec<Answer>); 7] = [
        (offer(false, 0), vec![ask(false, 0)]),
        (offer(true, 0), vec![ask(true, 0)]),
        (offer(false, 9), vec![ask(false, 9)]),
        (offer(false, 15), vec![ask(false, 15)]),
        (offer(true, 9), vec![ask(true, 9)]),
        (offer(true, 15), vec![ask(true, 15)]),
        (
            format!(
                "{}, {}, {}",
                offer(true, 9),
                offer(true, 0),
                offer(false, 0)
            ),
            vec![ask(true, 9), ask(true, 0), ask(false, 0)],
        ),
    ];
    let mut v = Vec::new();
    for (j, (off, answers)) in (1..).zip(variants) {
        for (i, size) in (1..).zip(SIZES) {
            let spec = DeflateSpec {
                offer: off.clone(),
                answers: answers.clone(),
            };
            v.push(echo_case(format!("13.{j}.{i}"), ds, 0, size, spec));
        }
    }
    // 13.8.x: each window 9–15 both ways, context takeover both ways.
    let mut i = 0;
    for bits in 9..=15u8 {
        for size in [(4096, 0), (65536, 1024)] {
            i += 1;
            let spec = DeflateSpec {
                offer: format!(
                    "permessage-deflate; client_max_window_bits={bits}; server_max_window_bits={bits}"
                ),
                answers: vec![Answer {
                    client_nct: false,
                    client_bits: bits,
                    server_nct: false,
                    server_bits: bits,
                }],
            };
            v.push(echo_case(format!("13.8.{i}"), ds, 0, size, spec));
        }
    }
    // 13.9.x: the four no-context-takeover combinations at windows 9 and 15.
    let mut i = 0;
    for bits in [9u8, 15] {
        for (snct, cnct) in [(false, false), (true, false), (false, true), (true, true)] {
            i += 1;
            let mut off = "permessage-deflate".to_owned();
            if snct {
                off.push_str("; server_no_context_takeover");
            }
            if cnct {
                off.push_str("; client_no_context_takeover");
            }
            off.push_str(&format!(
                "; server_max_window_bits={bits}; client_max_window_bits={bits}"
            ));
            let spec = DeflateSpec {
                offer: off,
                answers: vec![Answer {
                    client_nct: cnct,
                    client_bits: bits,
                    server_nct: snct,
                    server_bits: bits,
                }],
            };
            v.push(echo_case(format!("13.9.{i}"), ds, 0, (16384, 0), spec));
        }
    }
    v
}

/// Checks our server's answer against the client's offers (RFC 7692 §5,
/// §7.1): exactly one permessage-deflate element, answering the client's
/// first (preferred) offer, echoing `server_no_context_takeover`, a server
/// window no larger than asked, `client_max_window_bits` only if offered
/// and no larger than offered. Returns the agreed parameters.
pub(crate) fn check_answer(offers: &[Extension], answer: &[Extension]) -> Result<Pmd, String> {
    let [ans] = answer else {
        return Err(format!("{} extensions in the answer, want 1", answer.len()));
    };
    let Some(first) = offers.first() else {
        return Err("nothing was offered".to_owned());
    };
    if ans.name != "permessage-deflate" {
        return Err(format!("answered unoffered extension {}", ans.name));
    }
    let pmd = Pmd::from_answer(ans, first.has("client_no_context_takeover"))?;
    if first.has("server_no_context_takeover") && !pmd.server_nct {
        return Err("server_no_context_takeover was requested but not answered".to_owned());
    }
    if let Some(b) = first.value("server_max_window_bits") {
        match ans.value("server_max_window_bits") {
            Some(a) if a.parse::<u8>().ok() <= b.parse::<u8>().ok() => {}
            other => {
                return Err(format!(
                    "server_max_window_bits={b} was requested, answered {other:?}"
                ));
            }
        }
    }
    if ans.has("client_max_window_bits") {
        if !first.has("client_max_window_bits") {
            return Err("client_max_window_bits answered but not offered".to_owned());
        }
        if let Some(b) = first.value("client_max_window_bits") {
            if ans
                .value("client_max_window_bits")
                .and_then(|a| a.parse::<u8>().ok())
                > b.parse::<u8>().ok()
            {
                return Err(format!("client window above the offered {b}"));
            }
        }
    }
    Ok(pmd)
}

/// The fuzzing server's answer to our client's offers: the first of the
/// case's [`Answer`]s that the first offer allows, echoing the server
/// parameters the client asked for. `None` when nothing applies.
pub(crate) fn answer_for(offers: &[Extension], answers: &[Answer]) -> Option<(String, Pmd)> {
    let first = offers.iter().find(|e| e.name == "permessage-deflate")?;
    let a = answers
        .iter()
        .find(|a| a.client_bits == 0 || first.has("client_max_window_bits"))?;
    let mut s = "permessage-deflate".to_owned();
    if a.server_nct || first.has("server_no_context_takeover") {
        s.push_str("; server_no_context_takeover");
    }
    let asked = first
        .value("server_max_window_bits")
        .and_then(|v| v.parse::<u8>().ok());
    let server_bits = match (asked, a.server_bits) {
        (Some(x), 0) => x,
        (Some(x), y) => x.min(y),
        (None, y) => y,
    };
    if server_bits != 0 {
        s.push_str(&format!("; server_max_window_bits={server_bits}"));
    }
    if a.client_nct {
        s.push_str("; client_no_context_takeover");
    }
    let cap = first
        .value("client_max_window_bits")
        .and_then(|v| v.parse::<u8>().ok())
        .unwrap_or(15);
    if a.client_bits != 0 {
        s.push_str(&format!(
            "; client_max_window_bits={}",
            a.client_bits.min(cap)
        ));
    }
    let ext = super::wire::parse_extensions(&s);
    let pmd = Pmd::from_answer(ext.first()?, first.has("client_no_context_takeover")).ok()?;
    Some((s, pmd))
}
