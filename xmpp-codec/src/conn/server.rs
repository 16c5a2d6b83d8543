//! The c2s server (RFC 6120 §4–§7): header validation, features, STARTTLS
//! as a signal, SASL with the application's verdict, binding, the legacy
//! session, XEP-0198 enable and resume; stanzas to the application.

use crate::config::Framing;
use crate::conn::bind;
use crate::conn::config::{ServerConfig, TlsOffer};
use crate::conn::core::Core;
use crate::conn::features::{NS_BIND, NS_SESSION, NS_TLS, StreamFeatures};
use crate::conn::sasl::{self, AuthStart, ServerSasl};
use crate::conn::sm::{self, NS_SM, SmState};
use crate::element::Element;
use crate::error::Error;
use crate::event::Event;
use crate::frame::StreamHeader;
use crate::sasl::scram::StoredCredentials;
use crate::sasl::{NS_SASL, SaslCondition};
use crate::stanza::iq::{Iq, IqPayload};
use crate::stanza::jid::Jid;
use crate::stanza::stream_error::StreamErrorCondition;
use crate::str::Str;

#[derive(Debug)]
enum Phase {
    /// Waiting for the client's header.
    Header,
    /// Features sent; negotiating.
    Negotiating,
    /// `<proceed/>` sent; the caller does TLS, input waits.
    TlsPending,
    /// A SASL exchange: pending the application or the client.
    Sasl(ServerSasl),
    /// Waiting for the application's answer to `<resume/>`.
    ResumePending { previd: String, h: u32 },
}

#[derive(Debug)]
pub(crate) struct Server {
    config: ServerConfig,
    phase: Phase,
    tls_done: bool,
    /// The authenticated username.
    user: Option<String>,
    failures: u32,
}

const fn stream_err(condition: StreamErrorCondition, reason: &'static str) -> Error {
    Error::Stream { condition, reason }
}

impl Server {
    pub(crate) const fn new(config: ServerConfig) -> Self {
        Self {
            config,
            phase: Phase::Header,
            tls_done: false,
            user: None,
            failures: 0,
        }
    }

    pub(crate) const fn paused(&self) -> bool {
        matches!(
            self.phase,
            Phase::TlsPending
                | Phase::ResumePending { .. }
                | Phase::Sasl(ServerSasl::Plain { .. } | ServerSasl::ScramLookup { .. })
        )
    }

    pub(crate) fn fallback_header(&self, core: &Core) -> StreamHeader {
        let mut h = core.header();
        h.from = Some(Str::from(self.config.domain.clone()));
        h
    }

    pub(crate) fn tls_established(&mut self, core: &mut Core) -> Result<(), Error> {
        match self.phase {
            Phase::TlsPending => {
                core.inbuf.clear();
                core.decoder.reset();
                self.phase = Phase::Header;
                self.tls_done = true;
                Ok(())
            }
            Phase::Header if !core.header_sent => {
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
        let mut ours = self.fallback_header(core);
        ours.id = Some(Str::from(core.common.random.next_nonce()));
        ours.to.clone_from(&h.from);
        ours.lang.clone_from(&h.lang);
        core.open(&ours)?;
        if core.framing() == Framing::Tcp && h.namespaces.default_ns() != core.content_ns.as_str() {
            return Err(Error::InvalidNamespace);
        }
        if h.to
            .as_ref()
            .is_some_and(|to| to.as_str() != self.config.domain)
        {
            return Err(stream_err(
                StreamErrorCondition::HostUnknown,
                "a domain we do not serve",
            ));
        }
        if h.version.as_ref().is_none_or(|v| v.as_str() != "1.0") {
            return Err(stream_err(
                StreamErrorCondition::UnsupportedVersion,
                "not an XMPP 1.0 stream",
            ));
        }
        let mut f = StreamFeatures::default();
        if self.user.is_none() {
            if !self.tls_done && self.config.tls != TlsOffer::None {
                f.starttls = Some(self.config.tls == TlsOffer::Required);
            }
            if self.tls_done || self.config.tls != TlsOffer::Required {
                f.mechanisms = self
                    .config
                    .mechanisms
                    .iter()
                    .map(|m| m.name().to_owned())
                    .collect();
            }
        } else {
            f.bind = true;
            f.session = Some(false);
            f.sm = self.config.stream_management;
        }
        core.send(&f.to_element());
        self.phase = Phase::Negotiating;
        Ok(())
    }

    pub(crate) fn handle_element(&mut self, core: &mut Core, el: Element) -> Result<(), Error> {
        if matches!(self.phase, Phase::Header) {
            return Err(Error::BadFormat("an element before the stream header"));
        }
        if el.ns() == NS_TLS && el.name() == "starttls" {
            if self.tls_done || self.user.is_some() || self.config.tls == TlsOffer::None {
                core.send(&Element::new("failure", NS_TLS));
                return Err(stream_err(
                    StreamErrorCondition::PolicyViolation,
                    "STARTTLS not offered",
                ));
            }
            core.send(&Element::new("proceed", NS_TLS));
            self.phase = Phase::TlsPending;
            core.event(Event::StartTls);
            return Ok(());
        }
        if el.ns() == NS_SASL {
            return self.sasl(core, &el);
        }
        let Some(user) = self.user.clone() else {
            return Err(stream_err(
                StreamErrorCondition::NotAuthorized,
                "data before authentication",
            ));
        };
        if el.ns() == NS_SM {
            return self.sm(core, &el);
        }
        let is_stanza = el.ns() == core.content_ns.as_str()
            && matches!(el.name(), "message" | "presence" | "iq");
        if !is_stanza {
            return Err(stream_err(
                StreamErrorCondition::UnsupportedStanzaType,
                "an unknown top-level element",
            ));
        }
        if el.name() == "iq" && el.attr("type") == Some("set") {
            let iq = Iq::from_element(&el).ok();
            if let Some((iq, IqPayload::Set(child))) = iq.as_ref().map(|i| (i, &i.payload)) {
                if child.is("bind", NS_BIND) && core.jid.is_none() {
                    return self.bind(core, iq, child, &user);
                }
                if child.is("session", NS_SESSION) && core.jid.is_some() {
                    core.send(&iq.result(None).to_element(&core.content_ns));
                    return Ok(());
                }
            }
        }
        let Some(jid) = core.jid.clone() else {
            return Err(stream_err(
                StreamErrorCondition::NotAuthorized,
                "a stanza before resource binding",
            ));
        };
        let mut el = el;
        el.set_attr("from", jid.to_string());
        core.deliver(el);
        Ok(())
    }

    fn bind(&mut self, core: &mut Core, iq: &Iq, child: &Element, user: &str) -> Result<(), Error> {
        let resource = bind::requested_resource(child)
            .unwrap_or_else(|| core.common.random.next_nonce().replace(['+', '/', '='], ""));
        let jid = Jid::new(Some(user), &self.config.domain, Some(&resource)).or_else(|_| {
            Jid::new(
                Some(user),
                &self.config.domain,
                Some(&core.common.random.next_nonce()),
            )
        })?;
        core.send(&bind::result(iq, &jid, &core.content_ns));
        core.jid = Some(jid.clone());
        core.online = true;
        core.event(Event::Online { jid });
        Ok(())
    }

    fn sasl(&mut self, core: &mut Core, el: &Element) -> Result<(), Error> {
        match (
            std::mem::replace(&mut self.phase, Phase::Negotiating),
            el.name(),
        ) {
            (Phase::Negotiating, "auth") if self.user.is_none() => {
                let offered = if self.tls_done || self.config.tls != TlsOffer::Required {
                    self.config.mechanisms.as_slice()
                } else {
                    &[]
                };
                let nonce = core.common.random.next_nonce();
                match sasl::server_start(el, offered, &nonce) {
                    AuthStart::Pending(state, req) => {
                        self.phase = Phase::Sasl(state);
                        core.event(Event::Authenticate(req));
                        Ok(())
                    }
                    AuthStart::Fail(c) => self.reject_auth(core, c),
                }
            }
            (
                Phase::Sasl(ServerSasl::ScramFinal {
                    mut server,
                    username,
                }),
                "response",
            ) => {
                let data = crate::sasl::decode_payload(el.text().as_str());
                match data.and_then(|d| server.handle_client_final(&d)) {
                    Ok(v) => {
                        self.succeed(core, username, Some(&v));
                        Ok(())
                    }
                    Err(e) => self.reject_auth(
                        core,
                        e.sasl_condition().unwrap_or(SaslCondition::NotAuthorized),
                    ),
                }
            }
            (Phase::Sasl(_), "abort") => self.reject_auth(core, SaslCondition::Aborted),
            _ => Err(stream_err(
                StreamErrorCondition::PolicyViolation,
                "a SASL element out of order",
            )),
        }
    }

    fn succeed(&mut self, core: &mut Core, username: String, data: Option<&[u8]>) {
        core.send(&sasl::element("success", data));
        core.event(Event::Authenticated {
            identity: username.clone(),
        });
        self.user = Some(username);
        core.decoder.reset();
        self.phase = Phase::Header;
    }

    pub(crate) fn accept_auth(&mut self, core: &mut Core) -> Result<(), Error> {
        match std::mem::replace(&mut self.phase, Phase::Negotiating) {
            Phase::Sasl(ServerSasl::Plain { username }) => {
                self.succeed(core, username, None);
                Ok(())
            }
            other => {
                self.phase = other;
                Err(Error::InvalidState(
                    "no PLAIN login is waiting for a verdict",
                ))
            }
        }
    }

    pub(crate) fn accept_credentials(
        &mut self,
        core: &mut Core,
        creds: &StoredCredentials,
    ) -> Result<(), Error> {
        match std::mem::replace(&mut self.phase, Phase::Negotiating) {
            Phase::Sasl(ServerSasl::ScramLookup {
                mut server,
                username,
            }) => {
                let first = server.server_first(creds)?;
                core.send(&sasl::element("challenge", Some(&first)));
                self.phase = Phase::Sasl(ServerSasl::ScramFinal { server, username });
                Ok(())
            }
            other => {
                self.phase = other;
                Err(Error::InvalidState(
                    "no SCRAM login is waiting for credentials",
                ))
            }
        }
    }

    /// Sends `<failure/>`; too many failures end the stream.
    pub(crate) fn reject_auth(
        &mut self,
        core: &mut Core,
        condition: SaslCondition,
    ) -> Result<(), Error> {
        if !matches!(self.phase, Phase::Sasl(_) | Phase::Negotiating) {
            return Err(Error::InvalidState("no login is waiting for a verdict"));
        }
        self.phase = Phase::Negotiating;
        core.send(&sasl::failure(condition));
        self.failures = self.failures.saturating_add(1);
        if self.failures >= self.config.max_auth_attempts {
            return Err(stream_err(
                StreamErrorCondition::NotAuthorized,
                "too many failed logins",
            ));
        }
        Ok(())
    }

    fn sm(&mut self, core: &mut Core, el: &Element) -> Result<(), Error> {
        if core.handle_sm(el)? {
            return Ok(());
        }
        match el.name() {
            "enable"
                if self.config.stream_management && core.jid.is_some() && !core.sm.outbound_on =>
            {
                let resume = matches!(el.attr("resume"), Some("true" | "1"));
                let mut enabled = Element::new("enabled", NS_SM);
                let id = resume.then(|| core.common.random.next_nonce());
                if let Some(id) = &id {
                    enabled = enabled
                        .with_attr("id", id.clone())
                        .with_attr("resume", "true");
                }
                core.send(&enabled);
                core.sm.id.clone_from(&id);
                core.sm.outbound_on = true;
                core.sm.inbound_on = true;
                core.event(Event::SmEnabled { id, max: None });
            }
            "resume" if self.config.stream_management && core.jid.is_none() => {
                let previd = el.attr("previd").unwrap_or_default().to_owned();
                let h = sm::h_of(el)?;
                self.phase = Phase::ResumePending {
                    previd: previd.clone(),
                    h,
                };
                core.event(Event::ResumeRequest { previd, h });
            }
            "enable" | "resume" => core.send(&sm::failed("unexpected-request")),
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn accept_resume(&mut self, core: &mut Core, state: &SmState) -> Result<(), Error> {
        let Phase::ResumePending { previd, h } =
            std::mem::replace(&mut self.phase, Phase::Negotiating)
        else {
            return Err(Error::InvalidState(
                "no resumption is waiting for a verdict",
            ));
        };
        core.sm.import(state);
        core.sm.ack(h)?;
        core.send(
            &Element::new("resumed", NS_SM)
                .with_attr("previd", previd)
                .with_attr("h", core.sm.inbound.to_string()),
        );
        core.jid.clone_from(&state.jid);
        let resent = core.resend_unacked();
        core.online = true;
        core.event(Event::Resumed {
            jid: state.jid.clone(),
            resent,
        });
        Ok(())
    }

    pub(crate) fn reject_resume(&mut self, core: &mut Core) -> Result<(), Error> {
        if !matches!(self.phase, Phase::ResumePending { .. }) {
            return Err(Error::InvalidState(
                "no resumption is waiting for a verdict",
            ));
        }
        self.phase = Phase::Negotiating;
        core.send(&sm::failed("item-not-found"));
        Ok(())
    }
}
