//! The stream negotiation state machines (RFC 6120 §4–§7, RFC 6121) for
//! one endpoint: a c2s client, a c2s server, or either end of a
//! server-to-server stream (XEP-0220 dialback), over TCP or RFC 7395
//! WebSocket framing.
//!
//! Feed what the transport reads to [`Connection::handle_input`] (TCP) or
//! [`Connection::handle_message`] (one WebSocket message), act on
//! [`Connection::poll_event`], write out what [`Connection::poll_transmit`]
//! returns (one WebSocket message per call with RFC 7395 framing), and call
//! [`Connection::handle_timeout`] when [`Connection::poll_timeout`] says.
//!
//! The connection does the protocol's own duties: stream restarts, SASL
//! steps, resource binding, the legacy session, XEP-0198 acks and resends,
//! XEP-0199 pings, `feature-not-implemented` for iq requests nobody handles,
//! dialback `<db:verify/>` answers, and the close handshake. It reports what
//! the application must decide: TLS ([`Event::StartTls`]), logins to verify
//! ([`Event::Authenticate`], server), resumption ([`Event::ResumeRequest`]),
//! dialback keys ([`Event::DialbackResult`]).
//!
//! A peer error fails the stream: `<stream:error/>` with the RFC 6120
//! §4.9.3 condition and `</stream:stream>` are queued, [`Event::Closed`] is
//! reported once (after the events of everything that arrived complete
//! before the fault), and the error is sticky: later input returns it, and
//! `send_*` return [`Error::Closed`].
//!
//! ```
//! use std::time::Instant;
//! use xmpp_codec::conn::{ClientConfig, ServerConfig, TlsPolicy};
//! use xmpp_codec::event::AuthRequest;
//! use xmpp_codec::{Connection, Event};
//!
//! let now = Instant::now();
//! let mut cfg = ClientConfig::new("juliet@example.com/balcony".parse()?, "r0m30");
//! cfg.tls = TlsPolicy::Disabled;
//! let mut client = Connection::client(cfg, now);
//! let mut server = Connection::server(ServerConfig::new("example.com"), now);
//! let mut online = None;
//! for _ in 0..20 {
//!     while let Some(b) = client.poll_transmit() { server.handle_input(&b)?; }
//!     while let Some(b) = server.poll_transmit() { client.handle_input(&b)?; }
//!     while let Some(e) = server.poll_event() {
//!         if let Event::Authenticate(AuthRequest::Scram { hash, .. }) = e {
//!             let keys = xmpp_codec::sasl::scram::StoredCredentials::derive(
//!                 hash, "r0m30", b"salt", 4096)?;
//!             server.accept_credentials(&keys)?;
//!         }
//!     }
//!     while let Some(e) = client.poll_event() {
//!         if let Event::Online { jid } = e { online = Some(jid); }
//!     }
//! }
//! assert_eq!(online.unwrap().to_string(), "juliet@example.com/balcony");
//! # Ok::<(), xmpp_codec::Error>(())
//! ```

mod bind;
mod client;
pub mod config;
mod core;
pub mod dialback;
pub mod features;
mod iq;
mod s2s;
mod sasl;
mod server;
pub mod sm;
#[cfg(test)]
mod tests;

use std::time::Instant;

use bytes::Bytes;

pub use config::{
    ClientConfig, Common, RandomSource, S2sConfig, ServerConfig, TlsOffer, TlsPolicy,
};
pub use core::NS_PING;
pub use features::StreamFeatures;
pub use sm::SmState;

use crate::config::Framing;
use crate::element::Element;
use crate::error::Error;
use crate::event::{CloseReason, Event};
use crate::frame::Frame;
use crate::sasl::SaslCondition;
use crate::sasl::scram::StoredCredentials;
use crate::stanza::jid::Jid;
use crate::stanza::stream_error::{NS_STREAMS, StreamError};
use crate::str::Str;
use core::Core;

/// Which end of which kind of stream this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// c2s initiating entity.
    Client,
    /// c2s receiving entity.
    Server,
    /// s2s initiating entity (the Originating Server of XEP-0220).
    S2sOriginating,
    /// s2s receiving entity (the Receiving, and for `<db:verify/>` the
    /// Authoritative, Server).
    S2sReceiving,
}

#[derive(Debug)]
enum Machine {
    Client(Box<client::Client>),
    Server(Box<server::Server>),
    S2s(Box<s2s::S2s>),
}

/// One XMPP stream endpoint.
#[derive(Debug)]
pub struct Connection {
    core: Core,
    machine: Machine,
    close_deadline: Option<Instant>,
    finished: bool,
    error: Option<Error>,
}

impl Connection {
    fn new(core: Core, machine: Machine) -> Self {
        Self {
            core,
            machine,
            close_deadline: None,
            finished: false,
            error: None,
        }
    }

    /// A c2s client; its stream header is queued at once.
    #[must_use]
    pub fn client(mut config: ClientConfig, now: Instant) -> Self {
        let common = std::mem::take(&mut config.common);
        let mut core = Core::new(common, crate::stanza::NS_CLIENT, now);
        let machine = client::Client::new(config, &mut core);
        Self::new(core, Machine::Client(Box::new(machine)))
    }

    /// A c2s server for one accepted connection.
    #[must_use]
    pub fn server(mut config: ServerConfig, now: Instant) -> Self {
        let common = std::mem::take(&mut config.common);
        let mut core = Core::new(common, crate::stanza::NS_CLIENT, now);
        core.local_domain = Some(config.domain.clone());
        Self::new(core, Machine::Server(Box::new(server::Server::new(config))))
    }

    /// An s2s stream we open to `config.remote_domain`; its header is
    /// queued at once.
    #[must_use]
    pub fn s2s_originating(mut config: S2sConfig, now: Instant) -> Self {
        let common = std::mem::take(&mut config.common);
        let mut core = Core::new(common, crate::stanza::NS_SERVER, now);
        core.local_domain = Some(config.local_domain.clone());
        let machine = s2s::S2s::originating(config, &mut core);
        Self::new(core, Machine::S2s(Box::new(machine)))
    }

    /// An s2s stream a peer opened to us (`config.remote_domain` is
    /// unused: the peer names itself).
    #[must_use]
    pub fn s2s_receiving(mut config: S2sConfig, now: Instant) -> Self {
        let common = std::mem::take(&mut config.common);
        let mut core = Core::new(common, crate::stanza::NS_SERVER, now);
        core.local_domain = Some(config.local_domain.clone());
        Self::new(core, Machine::S2s(Box::new(s2s::S2s::receiving(config))))
    }

    /// This endpoint's role.
    #[must_use]
    pub fn role(&self) -> Role {
        match &self.machine {
            Machine::Client(_) => Role::Client,
            Machine::Server(_) => Role::Server,
            Machine::S2s(s) => s.role(),
        }
    }

    /// Whether stanzas may be sent: bound (c2s), resumed, or a domain
    /// authenticated (s2s).
    #[must_use]
    pub const fn is_online(&self) -> bool {
        self.core.online && !self.finished
    }

    /// Whether the connection is over ([`Event::Closed`] is queued).
    #[must_use]
    pub const fn is_closed(&self) -> bool {
        self.finished
    }

    /// The bound full JID (client: ours; server: the client's).
    #[must_use]
    pub const fn jid(&self) -> Option<&Jid> {
        self.core.jid.as_ref()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.core.events.pop_front()
    }

    /// Bytes to write: everything queued (TCP), or the next WebSocket
    /// message (RFC 7395).
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.core.poll_transmit()
    }

    /// When to call [`Self::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        [self.close_deadline, self.core.iq.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Time has passed: expires iq requests ([`Event::IqTimeout`]) and a
    /// close the peer did not answer.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.core.now = now;
        if self.finished {
            return;
        }
        for id in self.core.iq.expire(now) {
            self.core.event(Event::IqTimeout { id });
        }
        if self.close_deadline.is_some_and(|d| d <= now) {
            self.finish(CloseReason::Timeout);
        }
    }

    /// Bytes read from a TCP stream, any chunking. With RFC 7395 framing
    /// this works too, but [`Self::handle_message`] also checks that each
    /// message is one whole element.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.finished {
            return Ok(());
        }
        self.core.inbuf.extend_from_slice(data);
        self.process()
    }

    /// One WebSocket message (RFC 7395 §3.3.3: exactly one complete
    /// element, `<open/>` and `<close/>` included).
    pub fn handle_message(&mut self, message: &[u8]) -> Result<(), Error> {
        self.handle_input(message)?;
        if self.core.framing() == Framing::WebSocket
            && !self.finished
            && !self.paused()
            && !self.core.inbuf.iter().all(u8::is_ascii_whitespace)
        {
            return Err(self.fail(Error::NotWellFormed(
                "a WebSocket message is not one complete element",
            )));
        }
        Ok(())
    }

    fn paused(&self) -> bool {
        match &self.machine {
            Machine::Client(c) => c.paused(),
            Machine::Server(s) => s.paused(),
            Machine::S2s(s) => s.paused(),
        }
    }

    fn process(&mut self) -> Result<(), Error> {
        while !self.finished && !self.paused() {
            let frame = match self.core.decoder.decode(&mut self.core.inbuf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(self.fail(e)),
            };
            if let Err(e) = self.handle_frame(frame) {
                return Err(self.fail(e));
            }
        }
        if self.paused() && self.core.inbuf.len() > self.core.common.limits.max_stanza_size {
            return Err(self.fail(Error::LimitExceeded {
                limit: crate::Limit::StanzaSize,
                max: self.core.common.limits.max_stanza_size,
            }));
        }
        Ok(())
    }

    fn handle_frame(&mut self, frame: Frame) -> Result<(), Error> {
        match frame {
            Frame::Keepalive => Ok(()),
            Frame::StreamClose { .. } => {
                self.core.send_close();
                self.finish(CloseReason::Normal);
                Ok(())
            }
            Frame::StreamOpen(h) => match &mut self.machine {
                Machine::Client(c) => c.handle_header(&mut self.core, &h),
                Machine::Server(s) => s.handle_header(&mut self.core, &h),
                Machine::S2s(s) => s.handle_header(&mut self.core, &h),
            },
            Frame::Element(el) => {
                if el.is("error", NS_STREAMS) {
                    let err = StreamError::from_element(&el)?;
                    self.core.send_close();
                    self.finish(CloseReason::PeerError(err));
                    return Ok(());
                }
                match &mut self.machine {
                    Machine::Client(c) => c.handle_element(&mut self.core, el),
                    Machine::Server(s) => s.handle_element(&mut self.core, el),
                    Machine::S2s(s) => s.handle_element(&mut self.core, el),
                }
            }
        }
    }

    /// Fails the stream with `e`: stream error (our header first if none
    /// was sent), close, [`Event::Closed`]. Returns `e`.
    fn fail(&mut self, e: Error) -> Error {
        if let Some(prev) = &self.error {
            return prev.clone();
        }
        if !self.finished {
            if !self.core.header_sent {
                let header = match &self.machine {
                    Machine::Server(s) => s.fallback_header(&self.core),
                    Machine::S2s(s) => s.fallback_header(&self.core),
                    Machine::Client(_) => self.core.header(),
                };
                let _ = self.core.open(&header);
            }
            if !self.core.close_sent {
                if let Some(condition) = e.stream_condition() {
                    self.core.send(&StreamError::new(condition).to_element());
                }
            }
            self.core.send_close();
            self.finish(CloseReason::LocalError(e.clone()));
        }
        self.error = Some(e.clone());
        e
    }

    fn finish(&mut self, reason: CloseReason) {
        if !self.finished {
            self.finished = true;
            self.core.online = false;
            self.close_deadline = None;
            self.core.event(Event::Closed { reason });
        }
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.finished || self.core.close_sent {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// After [`Event::StartTls`] (or, before the first stream, for direct
    /// TLS): the TLS handshake is done; the stream restarts over it (RFC
    /// 6120 §5.4.3.3). Bytes from now on are those TLS decrypted.
    pub fn tls_established(&mut self) -> Result<(), Error> {
        self.check_open()?;
        let r = match &mut self.machine {
            Machine::Client(c) => c.tls_established(&mut self.core),
            Machine::Server(s) => s.tls_established(&mut self.core),
            Machine::S2s(_) => Err(Error::InvalidState(
                "STARTTLS is not negotiated on s2s here",
            )),
        };
        r?;
        self.process()
    }

    fn with_server<T>(
        &mut self,
        f: impl FnOnce(&mut server::Server, &mut Core) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.check_open()?;
        match &mut self.machine {
            Machine::Server(s) => f(s, &mut self.core),
            _ => Err(Error::InvalidState("not a c2s server")),
        }
    }

    /// Server, after [`Event::Authenticate`] for PLAIN or EXTERNAL: the
    /// credentials are right.
    pub fn accept_auth(&mut self) -> Result<(), Error> {
        self.check_open()?;
        match &mut self.machine {
            Machine::Server(s) => s.accept_auth(&mut self.core)?,
            Machine::S2s(s) => s.accept_external(&mut self.core)?,
            Machine::Client(_) => return Err(Error::InvalidState("not a server")),
        }
        self.process()
    }

    /// Server, after [`Event::Authenticate`] for SCRAM: the user's stored
    /// keys; the proof is checked against them.
    pub fn accept_credentials(&mut self, credentials: &StoredCredentials) -> Result<(), Error> {
        self.with_server(|s, core| s.accept_credentials(core, credentials))?;
        self.process()
    }

    /// Server, after [`Event::Authenticate`]: the login fails with
    /// `condition` (`not-authorized` for wrong credentials). The client may
    /// retry up to [`ServerConfig::max_auth_attempts`].
    pub fn reject_auth(&mut self, condition: SaslCondition) -> Result<(), Error> {
        self.check_open()?;
        let r = match &mut self.machine {
            Machine::Server(s) => s.reject_auth(&mut self.core, condition),
            Machine::S2s(s) => s.reject_external(&mut self.core, condition),
            Machine::Client(_) => return Err(Error::InvalidState("not a server")),
        };
        r.map_err(|e| self.fail_unless_misuse(e))?;
        self.process()
    }

    /// API misuse leaves the connection as it was; anything else fails it.
    fn fail_unless_misuse(&mut self, e: Error) -> Error {
        match e {
            Error::InvalidState(_) | Error::Closed => e,
            e => self.fail(e),
        }
    }

    /// Server, after [`Event::ResumeRequest`]: resume the session whose
    /// exported state this is.
    pub fn accept_resume(&mut self, state: &SmState) -> Result<(), Error> {
        self.with_server(|s, core| s.accept_resume(core, state))
            .map_err(|e| self.fail_unless_misuse(e))?;
        self.process()
    }

    /// Server, after [`Event::ResumeRequest`]: no such session
    /// (`<failed/>` with `item-not-found`); the client binds anew.
    pub fn reject_resume(&mut self) -> Result<(), Error> {
        self.with_server(server::Server::reject_resume)?;
        self.process()
    }

    /// S2s receiving role, after [`Event::DialbackResult`]: whether the
    /// authoritative server confirmed the key for domain `from`.
    pub fn dialback_verdict(&mut self, from: &str, valid: bool) -> Result<(), Error> {
        self.check_open()?;
        match &mut self.machine {
            Machine::S2s(s) => s.verdict(&mut self.core, from, valid),
            _ => Err(Error::InvalidState("not an s2s stream")),
        }
    }

    /// S2s originating role: asks the peer (as Authoritative Server)
    /// whether `key` is right for stream `id` (XEP-0220 §2.3); the answer
    /// comes as [`Event::DialbackVerified`]. Queued until the stream is
    /// open.
    pub fn send_dialback_verify(&mut self, id: &str, key: &str) -> Result<(), Error> {
        self.check_open()?;
        match &mut self.machine {
            Machine::S2s(s) => s.send_verify(&mut self.core, id, key),
            _ => Err(Error::InvalidState("not an s2s stream")),
        }
    }

    /// Sends a stanza (`<message/>`, `<presence/>`, `<iq/>` in the
    /// stream's content namespace). An iq `get`/`set` is tracked: its
    /// response comes as [`Event::IqResponse`].
    pub fn send_stanza(&mut self, stanza: &Element) -> Result<(), Error> {
        self.check_open()?;
        if !self.core.online {
            return Err(Error::InvalidState("the session is not established"));
        }
        self.core.send_stanza(stanza)
    }

    /// Sends an XEP-0199 ping to `to` (our server when `None`); returns the
    /// id its [`Event::IqResponse`] will carry.
    pub fn send_ping(&mut self, to: Option<&Jid>) -> Result<Str, Error> {
        self.check_open()?;
        if !self.core.online {
            return Err(Error::InvalidState("the session is not established"));
        }
        let id = self.core.next_id("p");
        let el = iq::ping(id.clone(), to, &self.core.content_ns);
        self.core.send_stanza(&el)?;
        Ok(id)
    }

    /// Sends an XEP-0198 `<r/>`.
    pub fn request_ack(&mut self) -> Result<(), Error> {
        self.check_open()?;
        if !self.core.sm.outbound_on {
            return Err(Error::InvalidState("XEP-0198 is not enabled"));
        }
        self.core.sm.since_request = 0;
        self.core.send(&sm::request());
        Ok(())
    }

    /// The XEP-0198 state to resume this session elsewhere, when
    /// resumption was enabled.
    #[must_use]
    pub fn sm_state(&self) -> Option<SmState> {
        self.core.sm.export(self.core.jid.clone())
    }

    /// Stanzas sent and not yet acknowledged (XEP-0198), oldest first.
    pub fn unacked(&self) -> impl Iterator<Item = &Element> {
        self.core.sm.unacked.iter()
    }

    /// Iq requests still waiting for a response.
    #[must_use]
    pub fn pending_iqs(&self) -> usize {
        self.core.iq.len()
    }

    /// Closes the stream (`</stream:stream>` or `<close/>`, RFC 6120 §4.4);
    /// [`Event::Closed`] comes when the peer closes too, or at the close
    /// timeout.
    pub fn close(&mut self) -> Result<(), Error> {
        self.check_open()?;
        self.core.send_close();
        self.close_deadline = self.core.now.checked_add(self.core.common.close_timeout);
        Ok(())
    }
}
