//! Federation (XEP-0220 dialback, no TLS): one outgoing stream per remote
//! domain, which carries our stanzas and our `<db:verify/>` questions
//! about the peer's incoming streams, and the incoming streams, whose
//! stanzas are routed once their domain is verified.

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use xmpp_codec::conn::S2sConfig;
use xmpp_codec::stanza::error::StanzaErrorCondition;
use xmpp_codec::stanza::{NS_CLIENT, NS_SERVER};
use xmpp_codec::{Connection, Element, Event, Node};

use super::link::{Link, Step};
use super::router::{self, bounce};
use super::{Hub, Input};

/// How long connecting to a remote server may take.
const CONNECT_TIME: Duration = Duration::from_secs(10);
/// A stream must authenticate within this long.
const AUTH_TIME: Duration = Duration::from_secs(30);

/// `el` with every element in namespace `from` moved to `to` (stanzas are
/// `jabber:client` inside the server, `jabber:server` on s2s streams).
pub(crate) fn renamespace(el: &Element, from: &str, to: &str) -> Element {
    let ns = if el.ns() == from {
        to.to_owned()
    } else {
        el.ns().as_str().to_owned()
    };
    let mut out = Element::new(el.name().to_owned(), ns);
    if let Some(p) = el.prefix() {
        out = out.with_prefix(p.clone());
    }
    for a in el.attrs() {
        if a.ns.is_empty() {
            out.set_attr(a.name.clone(), a.value.clone());
        } else {
            out.set_attr_ns(a.name.clone(), a.ns.clone(), a.value.clone());
        }
    }
    for n in el.nodes() {
        match n {
            Node::Element(c) => out.push_child(renamespace(c, from, to)),
            Node::Text(t) => out.push_text(t.clone()),
        }
    }
    out
}

fn config(hub: &Hub, remote: &str) -> Option<S2sConfig> {
    let s = hub.s2s.as_ref()?;
    let mut cfg = S2sConfig::new(hub.domain.clone(), remote.to_owned(), s.secret.clone());
    cfg.common.random = crate::xmpp_driver::random_source();
    cfg.common.close_timeout = Duration::from_secs(5);
    Some(cfg)
}

/// The channel of the outgoing stream to `domain`, started if needed.
fn outgoing(hub: &Arc<Hub>, domain: &str) -> Sender<Input> {
    let mut st = hub.lock();
    if let Some(tx) = st.outgoing.get(domain) {
        return tx.clone();
    }
    let (tx, rx) = mpsc::channel();
    st.outgoing.insert(domain.to_owned(), tx.clone());
    drop(st);
    let (hub2, domain2, tx2) = (Arc::clone(hub), domain.to_owned(), tx.clone());
    let spawned = std::thread::Builder::new()
        .name(format!("xmpp-s2s-out-{domain}"))
        .spawn(move || run_outgoing(&hub2, &domain2, tx2, rx));
    if spawned.is_err() {
        hub.lock().outgoing.remove(domain);
    }
    tx
}

/// Sends a stanza to a remote domain (bounced with
/// `remote-server-not-found` without federation).
pub(crate) fn send_remote(hub: &Arc<Hub>, domain: &str, el: Element) {
    if hub.s2s.is_none() {
        bounce(hub, &el, StanzaErrorCondition::RemoteServerNotFound);
        return;
    }
    if let Err(mpsc::SendError(Input::Stanza(el))) = outgoing(hub, domain).send(Input::Stanza(el)) {
        // The stream just ended: try a new one once.
        hub.lock().outgoing.remove(domain);
        let _ = outgoing(hub, domain).send(Input::Stanza(el));
    }
}

/// Everything still waiting when an outgoing stream fails: stanzas are
/// bounced, verifications answered `invalid`.
fn fail_all(
    hub: &Arc<Hub>,
    domain: &str,
    pending: Vec<Element>,
    leftovers: Vec<Input>,
    cond: StanzaErrorCondition,
) {
    hub.lock().outgoing.remove(domain);
    for el in pending {
        bounce(hub, &el, cond);
    }
    for input in leftovers {
        match input {
            Input::Stanza(el) => bounce(hub, &el, cond),
            Input::Verify { reply, .. } => {
                let _ = reply.send(Input::Verdict {
                    from: domain.to_owned(),
                    valid: false,
                });
            }
            _ => {}
        }
    }
}

fn run_outgoing(hub: &Arc<Hub>, domain: &str, tx: Sender<Input>, rx: Receiver<Input>) {
    let addr = hub
        .s2s
        .as_ref()
        .and_then(|s| s.peers.get(domain).cloned())
        .unwrap_or_else(|| format!("{domain}:5269"));
    let tcp = crate::xmpp_driver::resolve(&addr)
        .ok()
        .and_then(|a| TcpStream::connect_timeout(&a, CONNECT_TIME).ok());
    let (Some(tcp), Some(cfg)) = (tcp, config(hub, domain)) else {
        eprintln!("xmpp server: s2s to {domain} ({addr}): cannot connect");
        let left = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        fail_all(
            hub,
            domain,
            Vec::new(),
            left,
            StanzaErrorCondition::RemoteServerNotFound,
        );
        return;
    };
    let conn = Connection::s2s_originating(cfg, Instant::now());
    let Some(mut link) = Link::with_channel(tcp, conn, &format!("xmpp-s2s-out-{domain}"), tx, rx)
    else {
        return;
    };
    let started = Instant::now();
    let mut pending: Vec<Element> = Vec::new();
    let mut verifies: HashMap<String, Sender<Input>> = HashMap::new();
    let mut authenticated = false;
    loop {
        while let Some(ev) = link.conn.poll_event() {
            match ev {
                Event::DomainAuthenticated { .. } => {
                    authenticated = true;
                    for el in pending.drain(..) {
                        let _ = link
                            .conn
                            .send_stanza(&renamespace(&el, NS_CLIENT, NS_SERVER));
                    }
                }
                Event::DomainRejected { .. } => {
                    eprintln!("xmpp server: s2s to {domain}: dialback refused");
                    let _ = link.conn.close();
                }
                Event::DialbackVerified { id, valid, .. } => {
                    if let Some(reply) = verifies.remove(&id) {
                        let _ = reply.send(Input::Verdict {
                            from: domain.to_owned(),
                            valid,
                        });
                    }
                }
                Event::Message(el) | Event::Presence(el) | Event::Iq(el) => {
                    incoming_stanza(hub, &el);
                }
                Event::IqResponse { element, .. } => incoming_stanza(hub, &element),
                _ => {}
            }
        }
        if !link.flush() || link.conn.is_closed() {
            break;
        }
        if !authenticated && started.elapsed() > AUTH_TIME {
            let _ = link.conn.close();
            let _ = link.flush();
            break;
        }
        match link.next() {
            Step::Fed | Step::Input(Input::Verdict { .. } | Input::Data(_) | Input::Eof) => {}
            Step::Eof => break,
            Step::Input(Input::Stanza(el)) => {
                if authenticated {
                    let _ = link
                        .conn
                        .send_stanza(&renamespace(&el, NS_CLIENT, NS_SERVER));
                } else {
                    pending.push(el);
                }
            }
            Step::Input(Input::Verify { id, key, reply }) => {
                if link.conn.send_dialback_verify(&id, &key).is_ok() {
                    verifies.insert(id, reply);
                } else {
                    let _ = reply.send(Input::Verdict {
                        from: domain.to_owned(),
                        valid: false,
                    });
                }
            }
        }
    }
    for (_, reply) in verifies {
        let _ = reply.send(Input::Verdict {
            from: domain.to_owned(),
            valid: false,
        });
    }
    // Leave the table before draining, so new stanzas start a new stream.
    hub.lock().outgoing.remove(domain);
    let left = link.drain();
    fail_all(
        hub,
        domain,
        pending,
        left,
        StanzaErrorCondition::RemoteServerTimeout,
    );
    link.finish();
}

/// A stanza from a remote server (its `from` domain verified by the
/// machine): routed like a local one; iqs for the server itself get
/// `service-unavailable`.
fn incoming_stanza(hub: &Arc<Hub>, el: &Element) {
    let el = renamespace(el, NS_SERVER, NS_CLIENT);
    if let Some(el) = router::route(hub, el) {
        if el.name() == "iq" {
            bounce(hub, &el, StanzaErrorCondition::ServiceUnavailable);
        }
    }
}

/// Serves an incoming s2s stream until it ends.
pub(super) fn run_incoming(tcp: TcpStream, id: u64, hub: &Arc<Hub>) {
    let Some(cfg) = config(hub, "") else {
        return;
    };
    let conn = Connection::s2s_receiving(cfg, Instant::now());
    let Some(mut link) = Link::new(tcp, conn, &format!("xmpp-s2s-in-{id}")) else {
        return;
    };
    let started = Instant::now();
    let mut verified = false;
    loop {
        while let Some(ev) = link.conn.poll_event() {
            match ev {
                Event::DialbackResult {
                    from,
                    key,
                    stream_id,
                    ..
                } => {
                    let _ = outgoing(hub, &from).send(Input::Verify {
                        id: stream_id,
                        key,
                        reply: link.tx.clone(),
                    });
                }
                Event::DomainAuthenticated { .. } => verified = true,
                Event::Message(el) | Event::Presence(el) | Event::Iq(el) => {
                    incoming_stanza(hub, &el);
                }
                Event::IqResponse { element, .. } => incoming_stanza(hub, &element),
                _ => {}
            }
        }
        if !link.flush() || link.conn.is_closed() {
            break;
        }
        if !verified && started.elapsed() > AUTH_TIME * 2 {
            let _ = link.conn.close();
            let _ = link.flush();
            break;
        }
        match link.next() {
            Step::Eof => break,
            Step::Input(Input::Verdict { from, valid }) => {
                let _ = link.conn.dialback_verdict(&from, valid);
            }
            Step::Fed | Step::Input(_) => {}
        }
    }
    link.finish();
}
