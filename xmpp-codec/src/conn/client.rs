//! The c2s client (RFC 6120 §4–§7): stream open, STARTTLS as a signal,
//! SASL, the restart, resumption (XEP-0198 §5) or binding and the legacy
//! session, XEP-0198 enable, then stanzas.

use crate::config::Framing;
use crate::conn::bind;
use crate::conn::config::{ClientConfig, TlsPolicy};
use crate::conn::core::Core;
use crate::conn::features::{NS_TLS, StreamFeatures};
use crate::conn::sasl::{self, ClientSasl};
use crate::conn::sm::{self, NS_SM};
use crate::element::Element;
use crate::error::Error;
use crate::event::Event;
use crate::frame::StreamHeader;
use crate::sasl::NS_SASL;
use crate::stanza::iq::Iq;
use crate::stanza::stream_error::{NS_STREAMS, StreamErrorCondition};
use crate::str::Str;

#[derive(Debug)]
enum Phase {
    /// Our header is out; waiting for the server's.
    Header,
    /// Waiting for `<stream:features/>`.
    Features,
    /// `<starttls/>` sent.
    StartTls,
    /// `<proceed/>` received: the caller does TLS; input waits.
    TlsPending,
    /// `<auth/>` sent.
    Sasl(ClientSasl),
    /// `<resume/>` sent.
    Resuming,
    /// Bind request sent with this id.
    Binding(Str),
    /// Session request sent with this id.
    Session(Str),
    /// Stanzas flow.
    Online,
}

#[derive(Debug)]
pub(crate) struct Client {
    config: ClientConfig,
    phase: Phase,
    tls_done: bool,
    authenticated: bool,
    features: StreamFeatures,
}

const fn stream_err(condition: StreamErrorCondition, reason: &'static str) -> Error {
    Error::Stream { condition, reason }
}

impl Client {
    pub(crate) fn new(config: ClientConfig, core: &mut Core) -> Self {
        let c = Self {
            config,
            phase: Phase::Header,
            tls_done: false,
            authenticated: false,
            features: StreamFeatures::default(),
        };
        c.open(core);
        c
    }

    fn open(&self, core: &mut Core) {
        let mut h = core.header();
        h.to = Some(Str::from(self.config.jid.domain().to_owned()));
        let _ = core.open(&h);
    }

    /// A new stream on the same transport (§4.3.3).
    fn restart(&mut self, core: &mut Core) {
        core.decoder.reset();
        self.phase = Phase::Header;
        self.open(core);
    }

    pub(crate) const fn paused(&self) -> bool {
        matches!(self.phase, Phase::TlsPending)
    }

    pub(crate) fn tls_established(&mut self, core: &mut Core) -> Result<(), Error> {
        match self.phase {
            Phase::TlsPending => {
                self.tls_done = true;
                core.inbuf.clear();
                self.restart(core);
                Ok(())
            }
            Phase::Header if !self.authenticated => {
                self.tls_done = true;
                Ok(())
            }
            _ => Err(Error::InvalidState("no TLS handshake is due")),
        }
    }

    pub(crate) fn handle_header(&mut self, core: &mut Core, h: &StreamHeader) -> Result<(), Error> {
        if !matches!(self.phase, Phase::Header) {
            return Err(Error::BadFormat("a second stream header"));
        }
        if core.framing() == Framing::Tcp && h.namespaces.default_ns() != core.content_ns.as_str() {
            return Err(Error::InvalidNamespace);
        }
        if h.version.as_ref().is_none_or(|v| v.as_str() != "1.0") {
            return Err(stream_err(
                StreamErrorCondition::UnsupportedVersion,
                "not an XMPP 1.0 stream",
            ));
        }
        self.phase = Phase::Features;
        Ok(())
    }

    pub(crate) fn handle_element(&mut self, core: &mut Core, el: Element) -> Result<(), Error> {
        if core.handle_sm(&el)? {
            return Ok(());
        }
        match std::mem::replace(&mut self.phase, Phase::Online) {
            Phase::Header | Phase::TlsPending => {
                Err(Error::BadFormat("an element before the stream header"))
            }
            Phase::Features if el.is("features", NS_STREAMS) => self.features(core, &el),
            Phase::StartTls if el.ns() == NS_TLS => {
                if el.name() == "proceed" {
                    self.phase = Phase::TlsPending;
                    core.event(Event::StartTls);
                    Ok(())
                } else {
                    Err(stream_err(
                        StreamErrorCondition::UndefinedCondition,
                        "STARTTLS failed",
                    ))
                }
            }
            Phase::Sasl(s) if el.ns() == NS_SASL => self.sasl(core, s, &el),
            Phase::Resuming if el.ns() == NS_SM => self.resumed(core, &el),
            Phase::Binding(id) if el.name() == "iq" && el.attr("id") == Some(id.as_str()) => {
                let jid = bind::result_jid(&Iq::from_element(&el)?)?;
                core.jid = Some(jid);
                if self.features.session == Some(true) {
                    let id = core.next_id("s");
                    core.send(&bind::session(id.clone(), &core.content_ns));
                    self.phase = Phase::Session(id);
                } else {
                    self.online(core);
                }
                Ok(())
            }
            Phase::Session(id) if el.name() == "iq" && el.attr("id") == Some(id.as_str()) => {
                if el.attr("type") != Some("result") {
                    return Err(stream_err(
                        StreamErrorCondition::UndefinedCondition,
                        "session refused",
                    ));
                }
                self.online(core);
                Ok(())
            }
            Phase::Online => self.online_element(core, el),
            other => {
                self.phase = other;
                Err(stream_err(
                    StreamErrorCondition::UnsupportedStanzaType,
                    "an element the negotiation does not expect",
                ))
            }
        }
    }

    fn features(&mut self, core: &mut Core, el: &Element) -> Result<(), Error> {
        let f = StreamFeatures::from_element(el);
        let policy = self.config.tls;
        if !self.tls_done && f.starttls.is_some() && policy != TlsPolicy::Disabled {
            core.send(&Element::new("starttls", NS_TLS));
            self.phase = Phase::StartTls;
            return Ok(());
        }
        if !self.tls_done && policy == TlsPolicy::Required {
            return Err(stream_err(
                StreamErrorCondition::PolicyViolation,
                "the server does not offer STARTTLS",
            ));
        }
        if f.starttls == Some(true) && !self.tls_done {
            return Err(stream_err(
                StreamErrorCondition::PolicyViolation,
                "the server requires TLS",
            ));
        }
        if !self.authenticated {
            let username = self
                .config
                .jid
                .local()
                .ok_or(Error::InvalidState("the JID has no localpart"))?;
            let nonce = core.common.random.next_nonce();
            let (s, auth) = ClientSasl::start(
                &self.config.mechanisms,
                &f.mechanisms,
                username,
                &self.config.password,
                &nonce,
                &self.config.scram_iterations,
            )?;
            core.send(&auth);
            self.phase = Phase::Sasl(s);
        } else if let Some(state) = self.config.resume.as_ref().filter(|_| f.sm) {
            core.send(
                &Element::new("resume", NS_SM)
                    .with_attr("previd", state.id.clone())
                    .with_attr("h", state.inbound.to_string()),
            );
            self.phase = Phase::Resuming;
        } else if f.bind {
            self.bind(core);
        } else {
            return Err(stream_err(
                StreamErrorCondition::UnsupportedFeature,
                "the server offers no resource binding",
            ));
        }
        self.features = f;
        Ok(())
    }

    fn bind(&mut self, core: &mut Core) {
        let id = core.next_id("b");
        let req = bind::request(id.clone(), self.config.jid.resource(), &core.content_ns);
        core.send(&req);
        self.phase = Phase::Binding(id);
    }

    fn sasl(&mut self, core: &mut Core, mut s: ClientSasl, el: &Element) -> Result<(), Error> {
        match el.name() {
            "challenge" => {
                core.send(&s.challenge(el)?);
                self.phase = Phase::Sasl(s);
                Ok(())
            }
            "success" => {
                s.success(el)?;
                self.authenticated = true;
                core.event(Event::Authenticated {
                    identity: self.config.jid.local().unwrap_or_default().to_owned(),
                });
                self.restart(core);
                Ok(())
            }
            "failure" => {
                let condition = sasl::failure_condition(el);
                core.event(Event::AuthFailed { condition });
                Err(Error::Sasl {
                    condition,
                    reason: "the server refused the login",
                })
            }
            _ => Err(stream_err(
                StreamErrorCondition::UnsupportedStanzaType,
                "unexpected SASL element",
            )),
        }
    }

    fn resumed(&mut self, core: &mut Core, el: &Element) -> Result<(), Error> {
        let state = self.config.resume.take().unwrap_or_default();
        match el.name() {
            "resumed" => {
                core.sm.import(&state);
                core.sm.ack(sm::h_of(el)?)?;
                core.jid.clone_from(&state.jid);
                let resent = core.resend_unacked();
                core.online = true;
                self.phase = Phase::Online;
                core.event(Event::Resumed {
                    jid: state.jid,
                    resent,
                });
                Ok(())
            }
            "failed" => {
                core.event(Event::ResumeFailed {
                    unacked: state.unacked,
                });
                self.bind(core);
                Ok(())
            }
            _ => Err(stream_err(
                StreamErrorCondition::UnsupportedStanzaType,
                "unexpected answer to <resume/>",
            )),
        }
    }

    fn online(&mut self, core: &mut Core) {
        self.phase = Phase::Online;
        core.online = true;
        if self.config.stream_management && self.features.sm {
            core.send(&sm::enable(self.config.sm_resume));
            core.sm.outbound_on = true;
        }
        if let Some(jid) = core.jid.clone() {
            core.event(Event::Online { jid });
        }
    }

    fn online_element(&mut self, core: &mut Core, el: Element) -> Result<(), Error> {
        if el.ns() == core.content_ns.as_str() && matches!(el.name(), "message" | "presence" | "iq")
        {
            core.deliver(el);
            return Ok(());
        }
        if el.ns() == NS_SM {
            match el.name() {
                "enabled" => {
                    core.sm.inbound_on = true;
                    let resume = matches!(el.attr("resume"), Some("true" | "1"));
                    let id = el.attr("id").filter(|_| resume).map(str::to_owned);
                    core.sm.id.clone_from(&id);
                    let max = el.attr("max").and_then(|m| m.parse().ok());
                    core.event(Event::SmEnabled { id, max });
                }
                "failed" => {
                    core.sm = sm::Sm::default();
                    core.event(Event::SmFailed);
                }
                _ => {}
            }
            return Ok(());
        }
        Err(stream_err(
            StreamErrorCondition::UnsupportedStanzaType,
            "an unknown top-level element",
        ))
    }
}
