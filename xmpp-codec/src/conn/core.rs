//! What every role shares: the codec, output queue, events, XEP-0198
//! counters, iq tracking, and the handling of stanzas once a session is
//! up.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::codec::{Decoder, Encoder};
use crate::config::Framing;
use crate::conn::config::Common;
use crate::conn::iq::IqTracker;
use crate::conn::sm::{self, NS_SM, Sm};
use crate::element::Element;
use crate::error::Error;
use crate::event::Event;
use crate::frame::StreamHeader;
use crate::stanza::error::{StanzaError, StanzaErrorCondition};
use crate::stanza::iq::{Iq, IqPayload};
use crate::stanza::jid::Jid;
use crate::str::Str;

/// The XEP-0199 namespace.
pub const NS_PING: &str = "urn:xmpp:ping";

#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) common: Common,
    pub(crate) decoder: Decoder,
    encoder: Encoder,
    pub(crate) inbuf: BytesMut,
    tcp_out: BytesMut,
    ws_out: VecDeque<Bytes>,
    pub(crate) events: VecDeque<Event>,
    /// `jabber:client` or `jabber:server`.
    pub(crate) content_ns: Str,
    pub(crate) header_sent: bool,
    pub(crate) close_sent: bool,
    /// Stanzas may flow (bound, resumed, or s2s-authenticated).
    pub(crate) online: bool,
    /// Our bound JID (client) or the client's (server).
    pub(crate) jid: Option<Jid>,
    pub(crate) sm: Sm,
    pub(crate) iq: IqTracker,
    pub(crate) now: Instant,
    /// Servers: the domain whose requests the machine answers itself;
    /// requests addressed elsewhere are the application's to route. `None`
    /// for a client, to which every request it receives is addressed.
    pub(crate) local_domain: Option<String>,
    id_counters: Vec<(&'static str, u32)>,
}

impl Core {
    pub(crate) fn new(common: Common, content_ns: &'static str, now: Instant) -> Self {
        Self {
            decoder: Decoder::new(common.framing, common.limits),
            encoder: Encoder::new(common.framing),
            common,
            inbuf: BytesMut::new(),
            tcp_out: BytesMut::new(),
            ws_out: VecDeque::new(),
            events: VecDeque::new(),
            content_ns: Str::from_static(content_ns),
            header_sent: false,
            close_sent: false,
            online: false,
            jid: None,
            sm: Sm::default(),
            iq: IqTracker::default(),
            now,
            local_domain: None,
            id_counters: Vec::new(),
        }
    }

    pub(crate) fn framing(&self) -> Framing {
        self.common.framing
    }

    /// Ids for our own requests: `prefix` and a per-prefix counter (`b1`
    /// for the first bind), unique within the connection.
    pub(crate) fn next_id(&mut self, prefix: &'static str) -> Str {
        let n = match self.id_counters.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, n)) => {
                *n = n.wrapping_add(1);
                *n
            }
            None => {
                self.id_counters.push((prefix, 1));
                1
            }
        };
        Str::from(format!("{prefix}{n}"))
    }

    fn write(
        &mut self,
        f: impl FnOnce(&mut Encoder, &mut BytesMut) -> Result<(), Error>,
    ) -> Result<(), Error> {
        match self.common.framing {
            Framing::Tcp => f(&mut self.encoder, &mut self.tcp_out),
            Framing::WebSocket => {
                let mut msg = BytesMut::new();
                f(&mut self.encoder, &mut msg)?;
                self.ws_out.push_back(msg.freeze());
                Ok(())
            }
        }
    }

    /// Writes a stream header.
    pub(crate) fn open(&mut self, header: &StreamHeader) -> Result<(), Error> {
        self.header_sent = true;
        self.write(|e, out| e.open(header, out))
    }

    /// A header in our content namespace.
    pub(crate) fn header(&self) -> StreamHeader {
        let mut h = StreamHeader::new(self.content_ns.clone());
        if self.framing() == Framing::WebSocket {
            h.namespaces = crate::Namespaces::default();
        }
        h
    }

    /// Writes a top-level element (no XEP-0198 accounting).
    pub(crate) fn send(&mut self, el: &Element) {
        let _ = self.write(|e, out| {
            e.element(el, out);
            Ok(())
        });
    }

    /// Writes the end of our stream, once.
    pub(crate) fn send_close(&mut self) {
        if !self.close_sent {
            self.close_sent = true;
            let _ = self.write(|e, out| {
                e.close(out);
                Ok(())
            });
        }
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        match self.common.framing {
            Framing::Tcp => (!self.tcp_out.is_empty()).then(|| self.tcp_out.split().freeze()),
            Framing::WebSocket => self.ws_out.pop_front(),
        }
    }

    pub(crate) fn event(&mut self, e: Event) {
        self.events.push_back(e);
    }

    /// Sends a stanza: XEP-0198 keeps it until acknowledged; an iq request
    /// is tracked for its response.
    pub(crate) fn send_stanza(&mut self, el: &Element) -> Result<(), Error> {
        if !self.sm.has_room(self.common.max_unacked) {
            return Err(Error::InvalidState(
                "too many unacknowledged stanzas (XEP-0198)",
            ));
        }
        if el.name() == "iq" && matches!(el.attr("type"), Some("get" | "set")) {
            let id = el
                .attr_str("id")
                .cloned()
                .ok_or(Error::InvalidState("iq request without id"))?;
            let deadline = self.common.iq_timeout.and_then(|t| self.now.checked_add(t));
            self.iq.track(id, deadline);
        }
        self.send(el);
        self.sm.sent(el, self.common.max_unacked)?;
        let every = self.common.ack_request_every;
        if every > 0 && self.sm.since_request >= every {
            self.sm.since_request = 0;
            self.send(&sm::request());
        }
        Ok(())
    }

    /// An XEP-0198 `<r/>` or `<a/>`: answers or applies it. `Ok(false)` for
    /// anything else.
    pub(crate) fn handle_sm(&mut self, el: &Element) -> Result<bool, Error> {
        if el.ns() != NS_SM {
            return Ok(false);
        }
        match el.name() {
            "r" => {
                self.send(&sm::answer(self.sm.inbound));
                Ok(true)
            }
            "a" => {
                let h = sm::h_of(el)?;
                self.sm.ack(h)?;
                self.event(Event::Acked { h });
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// A stanza received once the session is up: counted, iq requests
    /// answered when they are ours to answer, responses matched, the rest
    /// reported.
    pub(crate) fn deliver(&mut self, el: Element) {
        self.sm.received();
        match el.name() {
            "message" => self.event(Event::Message(el)),
            "presence" => self.event(Event::Presence(el)),
            _ => self.deliver_iq(el),
        }
    }

    fn deliver_iq(&mut self, el: Element) {
        let iq = match Iq::from_element(&el) {
            Ok(iq) => iq,
            Err(e) => {
                // A request we cannot read still gets an error, if it can
                // be addressed (§8.3.1); anything else is dropped.
                if matches!(el.attr("type"), Some("get" | "set")) && el.attr("id").is_some() {
                    let cond = e
                        .stanza_condition()
                        .unwrap_or(StanzaErrorCondition::BadRequest);
                    self.reply_error(&el, cond);
                }
                return;
            }
        };
        match &iq.payload {
            IqPayload::Get(child) | IqPayload::Set(child) => {
                // A server answers for itself (no `to`, its domain) and on
                // behalf of the sender's own account (its bare JID, RFC 6120
                // §10.3.3); requests to anyone else are the application's
                // to route (RFC 6121 §8.5), pings included.
                let ours = match (&self.local_domain, &iq.common.to) {
                    (Some(domain), Some(to)) => {
                        (to.local().is_none() && to.domain() == domain)
                            || (to.resource().is_none()
                                && self.jid.as_ref().is_some_and(|j| j.bare() == *to))
                    }
                    _ => true,
                };
                if !ours {
                    self.event(Event::Iq(el));
                } else if child.is("ping", NS_PING) && matches!(iq.payload, IqPayload::Get(_)) {
                    let reply = iq.result(None).to_element(&self.content_ns);
                    self.send_reply(&reply);
                } else if self.common.answer_unknown_iq
                    && !self
                        .common
                        .iq_namespaces
                        .iter()
                        .any(|n| child.ns() == n.as_str())
                {
                    self.reply_error(&el, StanzaErrorCondition::FeatureNotImplemented);
                } else {
                    self.event(Event::Iq(el));
                }
            }
            IqPayload::Result(_) | IqPayload::Error(_) => {
                let id = iq.common.id.clone().unwrap_or_default();
                if self.iq.complete(&id) {
                    self.event(Event::IqResponse { id, element: el });
                } else {
                    self.event(Event::Iq(el));
                }
            }
        }
    }

    fn reply_error(&mut self, el: &Element, cond: StanzaErrorCondition) {
        let mut reply =
            Element::new(el.name_str().clone(), self.content_ns.clone()).with_attr("type", "error");
        for (ours, theirs) in [("id", "id"), ("to", "from"), ("from", "to")] {
            if let Some(v) = el.attr_str(theirs) {
                reply.set_attr(ours, v.clone());
            }
        }
        reply.push_child(StanzaError::new(cond).to_element(&self.content_ns));
        self.send_reply(&reply);
    }

    /// Our answer to a request: a stanza like any other for XEP-0198, but
    /// never refused (the peer's pace sets the queue's).
    fn send_reply(&mut self, el: &Element) {
        self.send(el);
        if self.sm.sent(el, usize::MAX).is_err() {
            self.sm.unacked.pop_back();
        }
    }

    /// Sends again what the peer never acknowledged (after resumption).
    pub(crate) fn resend_unacked(&mut self) -> usize {
        let pending: Vec<Element> = self.sm.unacked.iter().cloned().collect();
        for el in &pending {
            self.send(el);
        }
        pending.len()
    }
}
