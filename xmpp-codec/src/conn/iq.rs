//! Our iq requests waiting for their response (RFC 6120 §8.2.3: every
//! `get`/`set` gets exactly one `result` or `error` with its `id`), and
//! XEP-0199 pings.

use std::time::Instant;

use crate::conn::core::NS_PING;
use crate::element::Element;
use crate::stanza::iq::{Iq, IqPayload};
use crate::stanza::jid::Jid;
use crate::str::Str;

/// Requests in flight with their deadlines.
#[derive(Debug, Clone, Default)]
pub(crate) struct IqTracker {
    pending: Vec<(Str, Option<Instant>)>,
}

impl IqTracker {
    pub(crate) fn track(&mut self, id: Str, deadline: Option<Instant>) {
        self.pending.retain(|(i, _)| *i != id);
        self.pending.push((id, deadline));
    }

    /// Whether `id` was waiting; it no longer is.
    pub(crate) fn complete(&mut self, id: &Str) -> bool {
        let before = self.pending.len();
        self.pending.retain(|(i, _)| i != id);
        self.pending.len() != before
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().filter_map(|(_, d)| *d).min()
    }

    /// Removes and returns the requests whose deadline has passed.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<Str> {
        let mut out = Vec::new();
        self.pending.retain(|(id, d)| {
            let expired = d.is_some_and(|d| d <= now);
            if expired {
                out.push(id.clone());
            }
            !expired
        });
        out
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

/// An XEP-0199 ping (`<iq type='get'><ping/></iq>`) to `to` (the server
/// when `None`).
pub(crate) fn ping(id: Str, to: Option<&Jid>, content_ns: &Str) -> Element {
    let mut iq = Iq::new(id, IqPayload::Get(Element::new("ping", NS_PING)));
    iq.common.to = to.cloned();
    iq.to_element(content_ns)
}
