//! Server-to-server streams (RFC 6120 §4 with `jabber:server`): dialback
//! (XEP-0220) as Originating, Receiving and Authoritative Server, and SASL
//! EXTERNAL (RFC 6120 §13.8.2) with the TLS certificate check left to the
//! caller.

use crate::conn::Role;
use crate::conn::config::S2sConfig;
use crate::conn::core::Core;
use crate::conn::dialback::{self, NS_DIALBACK};
use crate::conn::features::StreamFeatures;
use crate::conn::sasl::{self, EXTERNAL};
use crate::element::Element;
use crate::error::Error;
use crate::event::{AuthRequest, Event};
use crate::frame::StreamHeader;
use crate::sasl::{NS_SASL, SaslCondition, decode_payload};
use crate::stanza::jid::Jid;
use crate::stanza::stream_error::{NS_STREAMS, StreamErrorCondition};
use crate::str::Str;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Header,
    Features,
    /// Originating: `<auth mechanism='EXTERNAL'/>` sent.
    External,
    /// Receiving: waiting for the verdict on EXTERNAL for this identity.
    ExternalPending(String),
    Open,
}

#[derive(Debug)]
pub(crate) struct S2s {
    config: S2sConfig,
    originating: bool,
    phase: Phase,
    /// The stream id: the receiving server's (ours when receiving).
    stream_id: String,
    /// The peer's domain (receiving: from its header).
    peer: String,
    /// Receiving: domains allowed to send; originating: whether ours was
    /// accepted (it is then the one entry).
    authenticated: Vec<String>,
    /// `db:verify` requests waiting for the stream to open.
    pending_verify: Vec<Element>,
    /// SASL EXTERNAL done: the restarted stream is authenticated.
    sasl_done: bool,
}

const fn stream_err(condition: StreamErrorCondition, reason: &'static str) -> Error {
    Error::Stream { condition, reason }
}

fn header(core: &Core, from: &str, to: &str) -> StreamHeader {
    let mut h = core.header();
    h.namespaces
        .bind(Str::from_static("db"), Str::from_static(NS_DIALBACK));
    h.from = Some(Str::from(from.to_owned()));
    h.to = Some(Str::from(to.to_owned()));
    h
}

impl S2s {
    fn new(config: S2sConfig, originating: bool) -> Self {
        Self {
            peer: if originating {
                config.remote_domain.clone()
            } else {
                String::new()
            },
            config,
            originating,
            phase: Phase::Header,
            stream_id: String::new(),
            authenticated: Vec::new(),
            pending_verify: Vec::new(),
            sasl_done: false,
        }
    }

    pub(crate) fn originating(config: S2sConfig, core: &mut Core) -> Self {
        let s = Self::new(config, true);
        s.open(core);
        s
    }

    pub(crate) fn receiving(config: S2sConfig) -> Self {
        Self::new(config, false)
    }

    fn open(&self, core: &mut Core) {
        let _ = core.open(&header(
            core,
            &self.config.local_domain,
            &self.config.remote_domain,
        ));
    }

    pub(crate) const fn role(&self) -> Role {
        if self.originating {
            Role::S2sOriginating
        } else {
            Role::S2sReceiving
        }
    }

    pub(crate) fn paused(&self) -> bool {
        matches!(self.phase, Phase::ExternalPending(_))
    }

    pub(crate) fn fallback_header(&self, core: &Core) -> StreamHeader {
        let mut h = header(core, &self.config.local_domain, &self.peer);
        h.to = None;
        h
    }

    pub(crate) fn handle_header(&mut self, core: &mut Core, h: &StreamHeader) -> Result<(), Error> {
        if self.phase != Phase::Header {
            return Err(Error::BadFormat("a second stream header"));
        }
        let dialback = h.namespaces.lookup(b"db").is_some_and(|n| n == NS_DIALBACK);
        if self.originating {
            if h.namespaces.default_ns() != core.content_ns.as_str() {
                return Err(Error::InvalidNamespace);
            }
            self.stream_id =
                h.id.as_ref()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default();
            self.phase = Phase::Features;
            if h.version.is_none() {
                // A pre-1.0 peer sends no features (RFC 3920 era dialback).
                return self.features(
                    core,
                    &StreamFeatures {
                        dialback: true,
                        ..StreamFeatures::default()
                    },
                );
            }
            return Ok(());
        }
        self.peer = h
            .from
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        let mut ours = self.fallback_header(core);
        self.stream_id = core.common.random.next_nonce();
        ours.id = Some(Str::from(self.stream_id.clone()));
        ours.to.clone_from(&h.from);
        core.open(&ours)?;
        if h.namespaces.default_ns() != core.content_ns.as_str() {
            return Err(Error::InvalidNamespace);
        }
        if h.to
            .as_ref()
            .is_some_and(|to| to.as_str() != self.config.local_domain)
        {
            return Err(stream_err(
                StreamErrorCondition::HostUnknown,
                "a domain we do not serve",
            ));
        }
        let mut f = StreamFeatures {
            dialback,
            ..StreamFeatures::default()
        };
        if self.config.offer_external && !self.sasl_done {
            f.mechanisms = vec![EXTERNAL.to_owned()];
        }
        core.send(&f.to_element());
        self.phase = Phase::Open;
        Ok(())
    }

    fn features(&mut self, core: &mut Core, f: &StreamFeatures) -> Result<(), Error> {
        self.phase = Phase::Open;
        if self.sasl_done {
            self.authenticated(core, self.config.local_domain.clone());
        } else if self.config.use_external && f.mechanisms.iter().any(|m| m == EXTERNAL) {
            core.send(&sasl::auth(EXTERNAL, self.config.local_domain.as_bytes()));
            self.phase = Phase::External;
            return Ok(());
        } else if self.config.authenticate {
            let key = dialback::key(
                &self.config.dialback_secret,
                &self.config.remote_domain,
                &self.config.local_domain,
                &self.stream_id,
            );
            core.send(
                &dialback::element(
                    "result",
                    &self.config.local_domain,
                    &self.config.remote_domain,
                )
                .with_text(key),
            );
        }
        for v in std::mem::take(&mut self.pending_verify) {
            core.send(&v);
        }
        Ok(())
    }

    fn authenticated(&mut self, core: &mut Core, domain: String) {
        if !self.authenticated.contains(&domain) {
            self.authenticated.push(domain.clone());
        }
        core.online = true;
        core.event(Event::DomainAuthenticated { domain });
    }

    pub(crate) fn handle_element(&mut self, core: &mut Core, el: Element) -> Result<(), Error> {
        if self.phase == Phase::Header {
            return Err(Error::BadFormat("an element before the stream header"));
        }
        if self.phase == Phase::Features && el.is("features", NS_STREAMS) {
            return self.features(core, &StreamFeatures::from_element(&el));
        }
        if el.ns() == NS_DIALBACK {
            return self.dialback(core, &el);
        }
        if el.ns() == NS_SASL {
            return self.sasl(core, &el);
        }
        let is_stanza = el.ns() == core.content_ns.as_str()
            && matches!(el.name(), "message" | "presence" | "iq");
        if !is_stanza {
            return Err(stream_err(
                StreamErrorCondition::UnsupportedStanzaType,
                "an unknown top-level element",
            ));
        }
        if !self.originating {
            let from = el.attr("from").and_then(|f| f.parse::<Jid>().ok());
            let Some(from) = from else {
                return Err(stream_err(
                    StreamErrorCondition::ImproperAddressing,
                    "a stanza without a valid from",
                ));
            };
            if self.authenticated.is_empty() {
                return Err(stream_err(
                    StreamErrorCondition::NotAuthorized,
                    "a stanza before dialback",
                ));
            }
            if !self.authenticated.iter().any(|d| d == from.domain()) {
                return Err(stream_err(
                    StreamErrorCondition::InvalidFrom,
                    "a stanza from an unauthenticated domain",
                ));
            }
        }
        core.deliver(el);
        Ok(())
    }

    fn dialback(&mut self, core: &mut Core, el: &Element) -> Result<(), Error> {
        let from = el.attr("from").unwrap_or_default().to_owned();
        let to = el.attr("to").unwrap_or_default().to_owned();
        let valid = el.attr("type") == Some("valid");
        match (el.name(), el.attr("type")) {
            ("result", None) if !self.originating => {
                if to != self.config.local_domain {
                    return Err(stream_err(
                        StreamErrorCondition::HostUnknown,
                        "dialback for a domain we do not serve",
                    ));
                }
                let key = el.text().as_str().trim().to_owned();
                core.event(Event::DialbackResult {
                    from,
                    to,
                    key,
                    stream_id: self.stream_id.clone(),
                });
            }
            ("result", Some(_)) if self.originating => {
                if valid {
                    self.authenticated(core, to);
                } else {
                    core.event(Event::DomainRejected { domain: to });
                }
            }
            ("verify", None) => {
                // We are the Authoritative Server for `to`: the key was made
                // for Receiving Server `from`, Originating Server `to`.
                let id = el.attr("id").unwrap_or_default();
                let expected = dialback::key(&self.config.dialback_secret, &from, &to, id);
                let ok = to == self.config.local_domain
                    && dialback::same_key(&expected, el.text().as_str().trim());
                core.send(
                    &dialback::element("verify", &to, &from)
                        .with_attr("id", id.to_owned())
                        .with_attr("type", if ok { "valid" } else { "invalid" }),
                );
            }
            ("verify", Some(_)) => {
                let id = el.attr("id").unwrap_or_default().to_owned();
                core.event(Event::DialbackVerified {
                    from,
                    to,
                    id,
                    valid,
                });
            }
            _ => {
                return Err(stream_err(
                    StreamErrorCondition::UnsupportedStanzaType,
                    "an unexpected dialback element",
                ));
            }
        }
        Ok(())
    }

    fn sasl(&mut self, core: &mut Core, el: &Element) -> Result<(), Error> {
        match (&self.phase, el.name()) {
            (Phase::External, "success") => {
                self.sasl_done = true;
                core.event(Event::Authenticated {
                    identity: self.config.local_domain.clone(),
                });
                core.decoder.reset();
                self.phase = Phase::Header;
                self.open(core);
                Ok(())
            }
            (Phase::External, "failure") => {
                let condition = sasl::failure_condition(el);
                Err(Error::Sasl {
                    condition,
                    reason: "the peer refused SASL EXTERNAL",
                })
            }
            (Phase::Open, "auth")
                if !self.originating && self.config.offer_external && !self.sasl_done =>
            {
                if el.attr("mechanism") != Some(EXTERNAL) {
                    core.send(&sasl::failure(SaslCondition::InvalidMechanism));
                    return Ok(());
                }
                let authzid = decode_payload(el.text().as_str())
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .filter(|s| !s.is_empty());
                self.phase =
                    Phase::ExternalPending(authzid.clone().unwrap_or_else(|| self.peer.clone()));
                core.event(Event::Authenticate(AuthRequest::External { authzid }));
                Ok(())
            }
            _ => Err(stream_err(
                StreamErrorCondition::PolicyViolation,
                "a SASL element out of order",
            )),
        }
    }

    pub(crate) fn accept_external(&mut self, core: &mut Core) -> Result<(), Error> {
        let Phase::ExternalPending(identity) = self.phase.clone() else {
            return Err(Error::InvalidState(
                "no EXTERNAL login is waiting for a verdict",
            ));
        };
        core.send(&sasl::element("success", None));
        core.event(Event::Authenticated {
            identity: identity.clone(),
        });
        self.authenticated.push(identity);
        self.sasl_done = true;
        core.online = true;
        core.decoder.reset();
        self.phase = Phase::Header;
        Ok(())
    }

    pub(crate) fn reject_external(
        &mut self,
        core: &mut Core,
        condition: SaslCondition,
    ) -> Result<(), Error> {
        if !matches!(self.phase, Phase::ExternalPending(_)) {
            return Err(Error::InvalidState(
                "no EXTERNAL login is waiting for a verdict",
            ));
        }
        self.phase = Phase::Open;
        core.send(&sasl::failure(condition));
        Ok(())
    }

    pub(crate) fn verdict(
        &mut self,
        core: &mut Core,
        from: &str,
        valid: bool,
    ) -> Result<(), Error> {
        if self.originating {
            return Err(Error::InvalidState(
                "dialback verdicts are the receiving server's",
            ));
        }
        core.send(
            &dialback::element("result", &self.config.local_domain, from)
                .with_attr("type", if valid { "valid" } else { "invalid" }),
        );
        if valid {
            self.authenticated(core, from.to_owned());
        } else {
            core.event(Event::DomainRejected {
                domain: from.to_owned(),
            });
        }
        Ok(())
    }

    pub(crate) fn send_verify(
        &mut self,
        core: &mut Core,
        id: &str,
        key: &str,
    ) -> Result<(), Error> {
        if !self.originating {
            return Err(Error::InvalidState(
                "db:verify is sent on an originating stream",
            ));
        }
        let el = dialback::element(
            "verify",
            &self.config.local_domain,
            &self.config.remote_domain,
        )
        .with_attr("id", id.to_owned())
        .with_text(key.to_owned());
        if self.phase == Phase::Open {
            core.send(&el);
        } else {
            self.pending_verify.push(el);
        }
        Ok(())
    }
}
