//! The routing table and the rules for where a stanza goes (RFC 6121 §8.5),
//! the rosters, and the sessions waiting for resumption.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use xmpp_codec::Element;
use xmpp_codec::conn::SmState;
use xmpp_codec::stanza::NS_CLIENT;
use xmpp_codec::stanza::error::{StanzaError, StanzaErrorCondition};
use xmpp_codec::stanza::jid::Jid;

use super::{Hub, Input};

/// How long a dropped session with XEP-0198 resumption waits for its
/// client.
pub const HIBERNATION: Duration = Duration::from_secs(300);
/// Stanzas kept for a hibernating session.
const MAX_QUEUED: usize = 1000;
/// Roster items per user.
const MAX_ROSTER: usize = 1000;

/// Where a session's stanzas go.
#[derive(Debug)]
pub(crate) enum Route {
    /// Its connection thread.
    Live(Sender<Input>),
    /// Its connection dropped; it may be resumed until `since +
    /// HIBERNATION`.
    Detached {
        state: SmState,
        queued: Vec<Element>,
        since: Instant,
    },
}

/// One bound resource.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) route: Route,
    /// The connection thread serving it.
    pub(crate) conn: u64,
    /// It sent available presence (and not unavailable since).
    pub(crate) available: bool,
    /// The account's localpart.
    pub(crate) user: String,
}

impl Session {
    fn deliver(&mut self, el: Element) {
        match &mut self.route {
            Route::Live(tx) => {
                let _ = tx.send(Input::Stanza(el));
            }
            Route::Detached { queued, .. } => {
                if queued.len() < MAX_QUEUED {
                    queued.push(el);
                }
            }
        }
    }
}

/// What the connections share.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Full JID → session.
    pub(crate) sessions: HashMap<String, Session>,
    /// XEP-0198 resumption id → full JID.
    pub(crate) previds: HashMap<String, String>,
    /// Localpart → roster items (JID, name).
    pub(crate) rosters: HashMap<String, Vec<(String, Option<String>)>>,
    /// Remote domain → its outgoing s2s stream's channel.
    pub(crate) outgoing: HashMap<String, Sender<Input>>,
}

impl State {
    /// Sends `el` to every session of `user` (available ones only when
    /// `available_only`); returns how many got it.
    pub(crate) fn send_to_user(&mut self, user: &str, el: &Element, available_only: bool) -> usize {
        self.expire();
        let mut n = 0;
        for s in self.sessions.values_mut() {
            if s.user == user && (s.available || !available_only) {
                s.deliver(el.clone());
                n += 1;
            }
        }
        n
    }

    /// Drops hibernating sessions whose time is up.
    fn expire(&mut self) {
        let now = Instant::now();
        self.sessions.retain(|_, s| match &s.route {
            Route::Detached { since, .. } => now.duration_since(*since) < HIBERNATION,
            Route::Live(_) => true,
        });
        let sessions = &self.sessions;
        self.previds.retain(|_, jid| sessions.contains_key(jid));
    }

    /// Takes the hibernating session `previd` of `user`: its state and the
    /// stanzas queued for it.
    pub(crate) fn take_detached(
        &mut self,
        previd: &str,
        user: &str,
    ) -> Option<(String, SmState, Vec<Element>)> {
        self.expire();
        let jid = self.previds.get(previd)?.clone();
        let s = self.sessions.get(&jid)?;
        if s.user != user || !matches!(s.route, Route::Detached { .. }) {
            return None;
        }
        self.previds.remove(previd);
        let s = self.sessions.remove(&jid)?;
        match s.route {
            Route::Detached { state, queued, .. } => Some((jid, state, queued)),
            Route::Live(_) => None,
        }
    }

    /// A roster set (RFC 6121 §2.3); returns the item to push.
    pub(crate) fn roster_set(
        &mut self,
        user: &str,
        jid: &str,
        name: Option<String>,
        remove: bool,
    ) -> bool {
        let items = self.rosters.entry(user.to_owned()).or_default();
        items.retain(|(j, _)| j != jid);
        if !remove {
            if items.len() >= MAX_ROSTER {
                return false;
            }
            items.push((jid.to_owned(), name));
        }
        true
    }
}

/// An error reply to `el` (RFC 6120 §8.3.1): addresses swapped, same id.
/// `None` for stanzas that must not be answered with an error (errors,
/// iq responses, presence).
pub(crate) fn error_reply(el: &Element, condition: StanzaErrorCondition) -> Option<Element> {
    let t = el.attr("type");
    if t == Some("error")
        || el.name() == "presence"
        || (el.name() == "iq" && matches!(t, Some("result")))
    {
        return None;
    }
    let mut reply = Element::new(el.name().to_owned(), NS_CLIENT).with_attr("type", "error");
    for (ours, theirs) in [("id", "id"), ("to", "from"), ("from", "to")] {
        if let Some(v) = el.attr(theirs) {
            reply.set_attr(ours, v.to_owned());
        }
    }
    let ns = xmpp_codec::Str::from_static(NS_CLIENT);
    reply.push_child(StanzaError::new(condition).to_element(&ns));
    Some(reply)
}

/// Answers `el` with a stanza error, routed back to its sender.
pub(crate) fn bounce(hub: &Arc<Hub>, el: &Element, condition: StanzaErrorCondition) {
    if let Some(reply) = error_reply(el, condition) {
        if let Some(server_bound) = route(hub, reply) {
            // An error for the server itself: nothing to do with it.
            drop(server_bound);
        }
    }
}

/// Routes a stanza (its `from` already set and checked). Returns it when
/// it is addressed to the server itself (no `to`, our domain, or an iq to
/// the sender's own bare JID), for the caller to handle.
pub(crate) fn route(hub: &Arc<Hub>, el: Element) -> Option<Element> {
    let Some(to) = el.attr("to").and_then(|t| t.parse::<Jid>().ok()) else {
        return Some(el);
    };
    if to.domain() != hub.domain {
        super::s2s::send_remote(hub, to.domain(), el);
        return None;
    }
    let Some(local) = to.local() else {
        return Some(el);
    };
    if !hub.users.contains_key(local) {
        bounce(hub, &el, StanzaErrorCondition::ServiceUnavailable);
        return None;
    }
    let own = el
        .attr("from")
        .and_then(|f| f.parse::<Jid>().ok())
        .is_some_and(|f| f.bare() == to.bare());
    let mut st = hub.lock();
    st.expire();
    let key = to.to_string();
    if to.resource().is_some() {
        if let Some(s) = st.sessions.get_mut(&key) {
            s.deliver(el);
            return None;
        }
        if el.name() != "message" {
            drop(st);
            if el.name() == "iq" {
                bounce(hub, &el, StanzaErrorCondition::ServiceUnavailable);
            }
            return None;
        }
    }
    match el.name() {
        "iq" if own => Some(el),
        "iq" => {
            drop(st);
            bounce(hub, &el, StanzaErrorCondition::ServiceUnavailable);
            None
        }
        "presence" => {
            st.send_to_user(local, &el, false);
            None
        }
        _ => {
            let n = st.send_to_user(local, &el, true);
            drop(st);
            if n == 0 {
                // No offline storage: RFC 6121 §8.5.2.2.1 lets the server
                // answer service-unavailable instead.
                bounce(hub, &el, StanzaErrorCondition::ServiceUnavailable);
            }
            None
        }
    }
}
