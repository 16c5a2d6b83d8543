//! Verdicts: what the fuzzer received (the wire) and what the endpoint
//! under test reported (its events), against what the case expects.

use super::case::Script;
use super::endpoint::Got;
use super::wire::{Ev, FrameReader};

/// The first difference between two event lists, if any.
pub(crate) fn diff(got: &[Ev], want: &[Ev]) -> Option<String> {
    let at = got.iter().zip(want).position(|(g, w)| g != w);
    match at {
        Some(i) => Some(format!(
            "event {i}: got {}, want {}",
            got.get(i).map_or_else(String::new, Ev::describe),
            want.get(i).map_or_else(String::new, Ev::describe)
        )),
        None if got.len() != want.len() => {
            let n = got.len().min(want.len());
            let extra = |v: &[Ev]| {
                v.get(n)
                    .map_or_else(String::new, |e| format!(", next {}", e.describe()))
            };
            Some(format!(
                "{} events, want {}{}{}",
                got.len(),
                want.len(),
                extra(got),
                extra(want)
            ))
        }
        None => None,
    }
}

fn close_name(c: Option<u16>) -> String {
    c.map_or_else(|| "close without code".to_owned(), |c| format!("close {c}"))
}

/// Checks the frames the peer sent. With `exact_pongs` every expected pong
/// must arrive (a socket run, as Autobahn checks); otherwise (in memory,
/// where the split decides which pings share a read) the pongs need only
/// answer pings in order and include the last one, which RFC 6455 §5.5.3
/// allows.
pub(crate) fn wire(script: &Script, reader: &FrameReader, exact_pongs: bool) -> Result<(), String> {
    if let Some(v) = reader.violations.first() {
        return Err(format!("peer broke the protocol: {v}"));
    }
    if exact_pongs {
        if let Some(d) = diff(&reader.events, &script.expect) {
            return Err(d);
        }
    } else {
        let data = |v: &[Ev]| -> Vec<Ev> {
            v.iter()
                .filter(|e| matches!(e, Ev::Text(_) | Ev::Binary(_)))
                .cloned()
                .collect()
        };
        if let Some(d) = diff(&data(&reader.events), &data(&script.expect)) {
            return Err(d);
        }
        let pongs = |v: &[Ev]| -> Vec<Vec<u8>> {
            v.iter()
                .filter_map(|e| match e {
                    Ev::Pong(p) => Some(p.clone()),
                    _ => None,
                })
                .collect()
        };
        let (got, want) = (pongs(&reader.events), pongs(&script.expect));
        let mut it = want.iter();
        let ordered = got.iter().all(|g| it.any(|w| w == g));
        if !ordered || got.last() != want.last() {
            return Err(format!(
                "{} pongs do not answer the {} pings",
                got.len(),
                want.len()
            ));
        }
    }
    match reader.close {
        Some(c) if c == script.ending.wire_code() => Ok(()),
        Some(c) => Err(format!(
            "peer sent {}, want {}",
            close_name(c),
            close_name(script.ending.wire_code())
        )),
        None => Err(format!(
            "no close frame, want {}",
            close_name(script.ending.wire_code())
        )),
    }
}

/// Checks what the endpoint under test reported: each message and ping in
/// order (a ping stands for the pong the case expects) and one `Closed`
/// with the right code.
pub(crate) fn events(script: &Script, got: &[Got]) -> Result<(), String> {
    let seen: Vec<Ev> = got
        .iter()
        .filter_map(|g| match g {
            Got::Msg(e) => Some(e.clone()),
            Got::Ping(p) => Some(Ev::Pong(p.clone())),
            Got::Pong(_) | Got::Closed(_) => None,
        })
        .collect();
    if let Some(d) = diff(&seen, &script.expect) {
        return Err(format!("endpoint events: {d}"));
    }
    let closes: Vec<u16> = got
        .iter()
        .filter_map(|g| match g {
            Got::Closed(c) => Some(*c),
            _ => None,
        })
        .collect();
    let want = script.ending.event_code();
    if closes != [want] {
        return Err(format!(
            "endpoint reported Closed {closes:?}, want [{want}]"
        ));
    }
    Ok(())
}
