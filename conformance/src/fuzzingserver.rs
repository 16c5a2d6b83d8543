//! The Autobahn|Testsuite *fuzzingserver* client sequence, for machines
//! that can run Autobahn (it needs Python 2, which Debian 12 lacks):
//! `/getCaseCount`, then `/runCase?case=N&agent=A` for every case with the
//! client echoing whatever the server sends until it closes, then
//! `/updateReports?agent=A`, after which the server writes its report.

use ws_codec::{Event, Message};

use crate::ws_driver::{self, DriverError, WsStream, WsUrl};

/// Runs every case of the fuzzingserver at `base` (`ws://host:port`) as
/// agent `agent`; `say` gets one line per case. Returns the number of
/// cases run; the verdicts are in the fuzzingserver's report.
pub fn run(base: &WsUrl, agent: &str, say: &mut dyn FnMut(&str)) -> Result<u32, DriverError> {
    let count = case_count(base)?;
    say(&format!("fuzzingserver has {count} cases"));
    for case in 1..=count {
        let url = at(base, &format!("/runCase?case={case}&agent={agent}"));
        match echo_until_closed(&url) {
            Ok(n) => say(&format!("case {case}: echoed {n} messages")),
            // A case that makes us fail the connection is the point of many
            // cases; the report judges it.
            Err(e) => say(&format!("case {case}: ended with {e}")),
        }
    }
    let url = at(base, &format!("/updateReports?agent={agent}"));
    let (mut s, _) = WsStream::connect(&url, ws_driver::config(true))?;
    // The server may close first once it has written the report.
    let _ = s.conn().close(ws_codec::CloseCode::NORMAL, "");
    wait_closed(&mut s)?;
    s.finish();
    Ok(count)
}

fn at(base: &WsUrl, path: &str) -> WsUrl {
    WsUrl {
        path: path.to_owned(),
        ..base.clone()
    }
}

fn case_count(base: &WsUrl) -> Result<u32, DriverError> {
    let (mut s, _) = WsStream::connect(&at(base, "/getCaseCount"), ws_driver::config(true))?;
    let mut count = None;
    loop {
        match s.next_event()? {
            Event::Message(Message::Text(t)) => count = t.as_str().trim().parse().ok(),
            Event::Closed { .. } => break,
            _ => {}
        }
    }
    s.finish();
    count.ok_or_else(|| DriverError::Unexpected("getCaseCount sent no number".to_owned()))
}

/// Echoes every message (same type) until the connection closes.
fn echo_until_closed(url: &WsUrl) -> Result<u64, DriverError> {
    let (mut s, _) = WsStream::connect(url, ws_driver::config(true))?;
    let mut echoed = 0;
    loop {
        match s.next_event()? {
            Event::Message(Message::Text(t)) => {
                // The peer may close while we echo; its close ends the loop.
                let _ = s.conn().send_text(t.as_str());
                echoed += 1;
            }
            Event::Message(Message::Binary(b)) => {
                let _ = s.conn().send_binary(&b);
                echoed += 1;
            }
            Event::Closed { .. } => break,
            _ => {}
        }
    }
    s.finish();
    Ok(echoed)
}

fn wait_closed(s: &mut WsStream) -> Result<(), DriverError> {
    loop {
        if let Event::Closed { .. } = s.next_event()? {
            return Ok(());
        }
    }
}
