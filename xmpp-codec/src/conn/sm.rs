//! XEP-0198 stream management: stanza counters (modulo 2^32, §4), the
//! queue of unacknowledged stanzas, and the state exported for resumption
//! (§5).

use std::collections::VecDeque;

use crate::element::Element;
use crate::error::Error;
use crate::stanza::jid::Jid;
use crate::stanza::stream_error::StreamErrorCondition;

/// The XEP-0198 namespace (version 3).
pub const NS_SM: &str = "urn:xmpp:sm:3";

/// A session's XEP-0198 state, exported with
/// [`Connection::sm_state`](super::Connection::sm_state) to resume it on
/// a new connection (client: [`ClientConfig::resume`](super::ClientConfig);
/// server: [`Connection::accept_resume`](super::Connection::accept_resume)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SmState {
    /// The resumption id (`previd`).
    pub id: String,
    /// The bound JID of the session.
    pub jid: Option<Jid>,
    /// Stanzas received and handled (our `h`), modulo 2^32.
    pub inbound: u32,
    /// Stanzas the peer acknowledged, modulo 2^32.
    pub acked: u32,
    /// Stanzas sent but not acknowledged, oldest first.
    pub unacked: Vec<Element>,
}

/// Live XEP-0198 state of one stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sm {
    /// Counting outbound stanzas (we sent `<enable/>` or `<enabled/>`).
    pub(crate) outbound_on: bool,
    /// Counting inbound stanzas (we got `<enabled/>` or `<enable/>`).
    pub(crate) inbound_on: bool,
    pub(crate) id: Option<String>,
    pub(crate) inbound: u32,
    pub(crate) acked: u32,
    pub(crate) unacked: VecDeque<Element>,
    /// Stanzas sent since our last `<r/>`.
    pub(crate) since_request: usize,
}

impl Sm {
    /// Counts one received stanza.
    pub(crate) const fn received(&mut self) {
        if self.inbound_on {
            self.inbound = self.inbound.wrapping_add(1);
        }
    }

    /// Keeps one sent stanza until acknowledged; refuses when `max` are
    /// already waiting.
    pub(crate) fn sent(&mut self, el: &Element, max: usize) -> Result<(), Error> {
        if !self.outbound_on {
            return Ok(());
        }
        if self.unacked.len() >= max {
            return Err(Error::InvalidState(
                "too many unacknowledged stanzas (XEP-0198)",
            ));
        }
        self.unacked.push_back(el.clone());
        self.since_request = self.since_request.saturating_add(1);
        Ok(())
    }

    /// Whether one more stanza can be kept.
    pub(crate) fn has_room(&self, max: usize) -> bool {
        !self.outbound_on || self.unacked.len() < max
    }

    /// Applies the peer's `h` (§4): drops what it acknowledges. An `h`
    /// acknowledging stanzas we never sent is `undefined-condition`
    /// (§4's `handled-count-too-high`); one going backwards is ignored.
    pub(crate) fn ack(&mut self, h: u32) -> Result<(), Error> {
        let n = h.wrapping_sub(self.acked);
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > self.unacked.len() {
            if n > usize::try_from(u32::MAX / 2).unwrap_or(usize::MAX) {
                return Ok(());
            }
            return Err(Error::Stream {
                condition: StreamErrorCondition::UndefinedCondition,
                reason: "handled-count-too-high (XEP-0198 §4)",
            });
        }
        self.unacked.drain(..n);
        self.acked = h;
        Ok(())
    }

    /// The exportable state.
    pub(crate) fn export(&self, jid: Option<Jid>) -> Option<SmState> {
        Some(SmState {
            id: self.id.clone()?,
            jid,
            inbound: self.inbound,
            acked: self.acked,
            unacked: self.unacked.iter().cloned().collect(),
        })
    }

    /// Takes over an exported session's counters and queue.
    pub(crate) fn import(&mut self, state: &SmState) {
        self.id = Some(state.id.clone());
        self.inbound = state.inbound;
        self.acked = state.acked;
        self.unacked = state.unacked.iter().cloned().collect();
        self.inbound_on = true;
        self.outbound_on = true;
    }
}

/// `<enable resume='true'/>` (§3).
pub(crate) fn enable(resume: bool) -> Element {
    let el = Element::new("enable", NS_SM);
    if resume {
        el.with_attr("resume", "true")
    } else {
        el
    }
}

/// `<r/>`.
pub(crate) fn request() -> Element {
    Element::new("r", NS_SM)
}

/// `<a h=..>`.
pub(crate) fn answer(h: u32) -> Element {
    Element::new("a", NS_SM).with_attr("h", h.to_string())
}

/// The `h` attribute of `<a/>`, `<resume/>`, `<resumed/>`.
pub(crate) fn h_of(el: &Element) -> Result<u32, Error> {
    el.attr("h")
        .and_then(|h| h.parse().ok())
        .ok_or(Error::Stream {
            condition: StreamErrorCondition::InvalidXml,
            reason: "XEP-0198 element without a valid h",
        })
}

/// `<failed/>` with a stanza error condition (§3, §5).
pub(crate) fn failed(condition: &'static str) -> Element {
    Element::new("failed", NS_SM).with_child(Element::new(
        condition,
        crate::stanza::error::NS_STANZA_ERRORS,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(i: u32) -> Element {
        Element::new("message", "jabber:client").with_attr("id", i.to_string())
    }

    #[test]
    fn counters_wrap_at_2_pow_32() {
        let mut sm = Sm {
            outbound_on: true,
            inbound_on: true,
            inbound: u32::MAX,
            acked: u32::MAX - 1,
            ..Sm::default()
        };
        sm.received();
        assert_eq!(sm.inbound, 0);
        for i in 0..4 {
            sm.sent(&msg(i), 10).unwrap();
        }
        // Two stanzas acknowledged: u32::MAX - 1 + 2 wraps to 0.
        sm.ack(0).unwrap();
        assert_eq!(sm.unacked.len(), 2);
        assert_eq!(sm.unacked[0], msg(2));
        sm.ack(2).unwrap();
        assert!(sm.unacked.is_empty());
        assert!(sm.ack(3).is_err());
        // An old h (going backwards) is ignored.
        sm.ack(1).unwrap();
        assert_eq!(sm.acked, 2);
    }

    #[test]
    fn queue_is_bounded() {
        let mut sm = Sm {
            outbound_on: true,
            ..Sm::default()
        };
        sm.sent(&msg(0), 1).unwrap();
        assert!(sm.sent(&msg(1), 1).is_err());
        assert!(!sm.has_room(1));
    }
}
