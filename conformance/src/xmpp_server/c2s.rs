//! One client connection: login against the configured users, binding,
//! resumption, and the stanzas it sends (routed) and is sent.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use xmpp_codec::conn::ServerConfig;
use xmpp_codec::event::AuthRequest;
use xmpp_codec::sasl::SaslCondition;
use xmpp_codec::sasl::scram::{ScramHash, StoredCredentials};
use xmpp_codec::stanza::NS_CLIENT;
use xmpp_codec::stanza::error::StanzaErrorCondition;
use xmpp_codec::stanza::jid::Jid;
use xmpp_codec::{Connection, Element, Event, Framing};

use super::link::{Link, Step};
use super::router::{self, Route, Session};
use super::{Hub, Input};

/// A client must be online within this long of connecting.
const LOGIN_TIME: Duration = Duration::from_secs(30);
const NS_ROSTER: &str = "jabber:iq:roster";

struct C2s<'a> {
    hub: &'a Arc<Hub>,
    id: u64,
    link: Link,
    /// The authenticated localpart.
    user: Option<String>,
    /// The bound (or resumed) full JID.
    jid: Option<Jid>,
    pushes: u32,
}

/// The c2s machine's settings, for TCP or RFC 7395 framing.
pub(super) fn config(hub: &Hub, framing: Framing) -> ServerConfig {
    let mut cfg = ServerConfig::new(hub.domain.clone());
    cfg.common.random = crate::xmpp_driver::random_source();
    cfg.common.framing = framing;
    // Iqs are routed or answered here; pings the machine answers itself.
    cfg.common.answer_unknown_iq = false;
    cfg.common.close_timeout = Duration::from_secs(5);
    cfg
}

/// Serves the client on `tcp` until it leaves.
pub(super) fn run(tcp: TcpStream, id: u64, hub: &Arc<Hub>) {
    let conn = Connection::server(config(hub, Framing::Tcp), Instant::now());
    if let Some(link) = Link::new(tcp, conn, &format!("xmpp-c2s-{id}")) {
        serve(link, id, hub);
    }
}

/// Serves the client on `link` (TCP or WebSocket) until it leaves.
pub(super) fn serve(link: Link, id: u64, hub: &Arc<Hub>) {
    let mut c = C2s {
        hub,
        id,
        link,
        user: None,
        jid: None,
        pushes: 0,
    };
    let started = Instant::now();
    let mut dropped = false;
    loop {
        while let Some(ev) = c.link.conn.poll_event() {
            c.event(ev);
        }
        if !c.link.flush() {
            dropped = true;
            break;
        }
        if c.link.conn.is_closed() {
            break;
        }
        if c.jid.is_none() && started.elapsed() > LOGIN_TIME {
            let _ = c.link.conn.close();
            let _ = c.link.flush();
            break;
        }
        match c.link.next() {
            Step::Fed => {}
            Step::Eof => {
                dropped = true;
                break;
            }
            Step::Input(Input::Stanza(el)) => {
                if c.link.conn.is_online() {
                    let _ = c.link.conn.send_stanza(&el);
                }
            }
            Step::Input(_) => {}
        }
    }
    c.leave(dropped);
    c.link.finish();
}

impl C2s<'_> {
    fn event(&mut self, ev: Event) {
        match ev {
            Event::Authenticate(req) => self.authenticate(req),
            Event::Authenticated { identity } => self.user = Some(identity),
            Event::Online { jid } => {
                self.register(&jid);
                self.jid = Some(jid);
            }
            Event::SmEnabled { id: Some(id), .. } => {
                if let Some(jid) = &self.jid {
                    self.hub.lock().previds.insert(id, jid.to_string());
                }
            }
            Event::ResumeRequest { previd, .. } => self.resume(&previd),
            Event::Message(el) | Event::Presence(el) | Event::Iq(el) => self.stanza(el),
            Event::IqResponse { element, .. } => self.stanza(element),
            _ => {}
        }
    }

    fn authenticate(&mut self, req: AuthRequest) {
        let conn = &mut self.link.conn;
        let r = match req {
            AuthRequest::Plain {
                username,
                authzid,
                password,
            } => {
                let ok = self
                    .hub
                    .users
                    .get(&username)
                    .is_some_and(|u| u.password == password)
                    && authzid.is_none_or(|a| {
                        a == username || a == format!("{username}@{}", self.hub.domain)
                    });
                if ok {
                    conn.accept_auth()
                } else {
                    conn.reject_auth(SaslCondition::NotAuthorized)
                }
            }
            AuthRequest::Scram { hash, username, .. } => {
                let creds = match self.hub.users.get(&username) {
                    Some(u) => match hash {
                        ScramHash::Sha1 => u.sha1.clone(),
                        ScramHash::Sha256 => u.sha256.clone(),
                    },
                    // Made-up keys: the proof fails without telling why.
                    None => StoredCredentials::derive(
                        hash,
                        "x",
                        b"unknown-user-salt",
                        super::ITERATIONS,
                    )
                    .unwrap_or(StoredCredentials {
                        hash,
                        salt: b"unknown-user-salt".to_vec(),
                        iterations: super::ITERATIONS,
                        stored_key: vec![0; 32],
                        server_key: vec![0; 32],
                    }),
                };
                conn.accept_credentials(&creds)
            }
            AuthRequest::External { .. } => conn.reject_auth(SaslCondition::InvalidMechanism),
        };
        drop(r);
    }

    fn register(&self, jid: &Jid) {
        let session = Session {
            route: Route::Live(self.link.tx.clone()),
            conn: self.id,
            available: false,
            user: jid.local().unwrap_or_default().to_owned(),
        };
        self.hub.lock().sessions.insert(jid.to_string(), session);
    }

    fn resume(&mut self, previd: &str) {
        let user = self.user.clone().unwrap_or_default();
        let taken = self.hub.lock().take_detached(previd, &user);
        let Some((jid, state, queued)) = taken else {
            let _ = self.link.conn.reject_resume();
            return;
        };
        if self.link.conn.accept_resume(&state).is_err() {
            return;
        }
        for el in &queued {
            let _ = self.link.conn.send_stanza(el);
        }
        let Ok(jid) = jid.parse::<Jid>() else {
            return;
        };
        self.register(&jid);
        let mut st = self.hub.lock();
        if let Some(s) = st.sessions.get_mut(&jid.to_string()) {
            s.available = true;
        }
        st.previds.insert(previd.to_owned(), jid.to_string());
        drop(st);
        self.jid = Some(jid);
    }

    /// A stanza from our client (its `from` set by the machine).
    fn stanza(&mut self, el: Element) {
        let Some(el) = router::route(self.hub, el) else {
            return;
        };
        match el.name() {
            "presence" => self.presence(&el),
            "iq" => self.server_iq(&el),
            _ => {}
        }
    }

    /// Presence without `to`: availability, broadcast to the user's
    /// sessions (there are no subscriptions to broadcast to).
    fn presence(&self, el: &Element) {
        let (Some(jid), Some(user)) = (&self.jid, &self.user) else {
            return;
        };
        let available = match el.attr("type") {
            None => true,
            Some("unavailable") => false,
            Some(_) => return,
        };
        let mut st = self.hub.lock();
        if let Some(s) = st.sessions.get_mut(&jid.to_string()) {
            s.available = available;
        }
        st.send_to_user(user, el, false);
    }

    fn reply(&mut self, el: &Element) {
        let _ = self.link.conn.send_stanza(el);
    }

    /// An iq for the server (or the user's own bare JID): the roster, or
    /// `service-unavailable`.
    fn server_iq(&mut self, el: &Element) {
        let t = el.attr("type");
        if !matches!(t, Some("get" | "set")) {
            return;
        }
        let query = el.children().find(|c| c.is("query", NS_ROSTER));
        let (Some(query), Some(user)) = (query, self.user.clone()) else {
            if let Some(r) = router::error_reply(el, StanzaErrorCondition::ServiceUnavailable) {
                self.reply(&r);
            }
            return;
        };
        let mut result = Element::new("iq", NS_CLIENT).with_attr("type", "result");
        if let Some(id) = el.attr("id") {
            result.set_attr("id", id.to_owned());
        }
        if t == Some("get") {
            let mut q = Element::new("query", NS_ROSTER);
            let st = self.hub.lock();
            for (jid, name) in st.rosters.get(&user).map(Vec::as_slice).unwrap_or_default() {
                q.push_child(item(jid, name.as_deref(), "none"));
            }
            drop(st);
            self.reply(&result.with_child(q));
            return;
        }
        let items: Vec<&Element> = query.children().filter(|c| c.name() == "item").collect();
        let [it] = items.as_slice() else {
            if let Some(r) = router::error_reply(el, StanzaErrorCondition::BadRequest) {
                self.reply(&r);
            }
            return;
        };
        let Some(jid) = it.attr("jid").and_then(|j| j.parse::<Jid>().ok()) else {
            if let Some(r) = router::error_reply(el, StanzaErrorCondition::BadRequest) {
                self.reply(&r);
            }
            return;
        };
        let remove = it.attr("subscription") == Some("remove");
        let name = it.attr("name").map(str::to_owned);
        let jid = jid.to_string();
        let mut st = self.hub.lock();
        if !st.roster_set(&user, &jid, name.clone(), remove) {
            drop(st);
            if let Some(r) = router::error_reply(el, StanzaErrorCondition::ResourceConstraint) {
                self.reply(&r);
            }
            return;
        }
        self.pushes = self.pushes.wrapping_add(1);
        let push = Element::new("iq", NS_CLIENT)
            .with_attr("type", "set")
            .with_attr("id", format!("push{}", self.pushes))
            .with_child(Element::new("query", NS_ROSTER).with_child(item(
                &jid,
                name.as_deref(),
                if remove { "remove" } else { "none" },
            )));
        st.send_to_user(&user, &push, false);
        drop(st);
        self.reply(&result);
    }

    /// The connection ended: a session with resumption hibernates when the
    /// client just dropped; otherwise it goes, with unavailable presence to
    /// the user's other sessions.
    fn leave(&mut self, dropped: bool) {
        let Some(jid) = self.jid.take() else {
            return;
        };
        let key = jid.to_string();
        let mut st = self.hub.lock();
        let ours = st
            .sessions
            .get(&key)
            .is_some_and(|s| s.conn == self.id && matches!(s.route, Route::Live(_)));
        if !ours {
            return;
        }
        let closed = self.link.conn.is_closed();
        if let (true, false, Some(state)) = (dropped, closed, self.link.conn.sm_state()) {
            if let Some(s) = st.sessions.get_mut(&key) {
                s.route = Route::Detached {
                    state,
                    queued: Vec::new(),
                    since: Instant::now(),
                };
            }
            return;
        }
        let was_available = st.sessions.remove(&key).is_some_and(|s| s.available);
        st.previds.retain(|_, j| *j != key);
        if was_available {
            let unavailable = Element::new("presence", NS_CLIENT)
                .with_attr("type", "unavailable")
                .with_attr("from", key);
            st.send_to_user(jid.local().unwrap_or_default(), &unavailable, false);
        }
    }
}

fn item(jid: &str, name: Option<&str>, subscription: &str) -> Element {
    let mut el = Element::new("item", NS_ROSTER)
        .with_attr("jid", jid.to_owned())
        .with_attr("subscription", subscription.to_owned());
    if let Some(n) = name {
        el.set_attr("name", n.to_owned());
    }
    el
}
