//! Connection negotiation (AMQP 0-9-1 §1.4.2, §2.2.4): start/start-ok with
//! SASL, secure/secure-ok, tune/tune-ok, open/open-ok, for both roles.
//!
//! The server role stops twice for the application: a login to verify
//! ([`Event::Authenticate`]) and a virtual host to open
//! ([`Event::OpenVhost`]). Input waits meanwhile.

use crate::config::Tune;
use crate::constants::FRAME_MIN_SIZE;
use crate::error::Error;
use crate::event::Event;
use crate::method::{
    ConnectionOpen, ConnectionOpenOk, ConnectionSecure, ConnectionSecureOk, ConnectionStart,
    ConnectionStartOk, ConnectionTune, ConnectionTuneOk, Method,
};
use crate::sasl::Credentials;
use crate::string::{LongString, ShortString};

use super::{CloseReport, Connection, Phase, Role, Side};

impl Connection {
    /// A connection method during negotiation.
    pub(super) fn on_negotiation_method(&mut self, m: Method) -> Result<(), Error> {
        match (self.role(), self.phase, m) {
            (Role::Client, Phase::Start, Method::ConnectionStart(s)) => self.on_start(s),
            (Role::Client, Phase::Tune, Method::ConnectionSecure(s)) => {
                self.phase = Phase::AuthPending;
                self.events.push_back(Event::Challenge {
                    challenge: s.challenge.into_bytes(),
                });
                Ok(())
            }
            (Role::Client, Phase::Tune, Method::ConnectionTune(t)) => self.on_tune(&t),
            (Role::Client, Phase::Open, Method::ConnectionOpenOk(_)) => {
                self.connected();
                Ok(())
            }
            (Role::Server, Phase::Start, Method::ConnectionStartOk(s)) => self.on_start_ok(*s),
            (Role::Server, Phase::Secure, Method::ConnectionSecureOk(s)) => {
                self.authenticate(s.response);
                Ok(())
            }
            (Role::Server, Phase::Tune, Method::ConnectionTuneOk(t)) => self.on_tune_ok(&t),
            (Role::Server, Phase::Open, Method::ConnectionOpen(o)) => {
                self.vhost = o.virtual_host.into_string();
                self.phase = Phase::VhostPending;
                self.events.push_back(Event::OpenVhost {
                    vhost: self.vhost.clone(),
                });
                Ok(())
            }
            (_, _, m) => Err(Error::CommandInvalid {
                channel: 0,
                class_id: m.class_id(),
                method_id: m.method_id(),
                reason: "out of order in the connection negotiation",
            }),
        }
    }

    // ---- client ----

    /// `connection.start`: answered with start-ok and our credentials.
    fn on_start(&mut self, s: ConnectionStart) -> Result<(), Error> {
        let Side::Client(cfg) = &self.side else {
            return Ok(());
        };
        if (s.version_major, s.version_minor) != (0, 9) {
            return Err(Error::CommandInvalid {
                channel: 0,
                class_id: ConnectionStart::CLASS_ID,
                method_id: ConnectionStart::METHOD_ID,
                reason: "server speaks another protocol version",
            });
        }
        let mechanism = cfg.credentials.mechanism().name();
        let offered = String::from_utf8_lossy(&s.mechanisms);
        if !offered.split_ascii_whitespace().any(|m| m == mechanism) {
            return Err(Error::NoCommonMechanism {
                offered: offered.into_owned(),
            });
        }
        let locales = String::from_utf8_lossy(&s.locales);
        let locale = if locales.split_ascii_whitespace().any(|l| l == cfg.locale) {
            cfg.locale.as_str()
        } else {
            locales.split_ascii_whitespace().next().unwrap_or("en_US")
        };
        let start_ok = ConnectionStartOk {
            client_properties: cfg.capabilities.add_to(&cfg.client_properties),
            mechanism: ShortString::try_new(mechanism)?,
            response: cfg.credentials.response()?,
            locale: super::close::short_string(locale),
        };
        self.write_method(0, &Method::from(start_ok))?;
        self.peer_properties = s.server_properties;
        self.phase = Phase::Tune;
        Ok(())
    }

    /// `connection.tune`: the smaller non-zero value of each wins; answered
    /// with tune-ok and `connection.open`.
    fn on_tune(&mut self, t: &ConnectionTune) -> Result<(), Error> {
        let Side::Client(cfg) = &self.side else {
            return Ok(());
        };
        if t.frame_max != 0 && t.frame_max < FRAME_MIN_SIZE {
            return Err(Error::NotAllowed {
                reason: format!("frame_max={} < {FRAME_MIN_SIZE} min size", t.frame_max),
            });
        }
        let mut tune = cfg.tune.negotiate(Tune {
            channel_max: t.channel_max,
            frame_max: t.frame_max,
            heartbeat: t.heartbeat,
        });
        if tune.frame_max != 0 {
            tune.frame_max = tune.frame_max.max(FRAME_MIN_SIZE);
        }
        let open = ConnectionOpen {
            virtual_host: ShortString::try_new(cfg.vhost.as_str())?,
            ..ConnectionOpen::default()
        };
        let tune_ok = ConnectionTuneOk {
            channel_max: tune.channel_max,
            frame_max: tune.frame_max,
            heartbeat: tune.heartbeat,
        };
        self.write_method(0, &Method::ConnectionTuneOk(tune_ok))?;
        self.write_method(0, &Method::ConnectionOpen(open))?;
        self.tuned(tune);
        Ok(())
    }

    /// Client: answers the pending [`Event::Challenge`] with
    /// `connection.secure-ok`.
    pub fn answer_challenge(&mut self, response: &[u8]) -> Result<(), Error> {
        if self.role() != Role::Client || self.phase != Phase::AuthPending {
            return Err(Error::InvalidState("no challenge to answer"));
        }
        let ok = ConnectionSecureOk {
            response: LongString::from(response),
        };
        self.write_method(0, &Method::ConnectionSecureOk(ok))?;
        self.phase = Phase::Tune;
        self.process()
    }

    // ---- server ----

    /// The client's protocol header arrived: offer our mechanisms.
    pub(super) fn send_start(&mut self) -> Result<(), Error> {
        let Side::Server(cfg) = &self.side else {
            return Ok(());
        };
        let mechanisms: Vec<&str> = cfg.mechanisms.iter().map(|m| m.name()).collect();
        let start = ConnectionStart {
            server_properties: cfg.capabilities.add_to(&cfg.server_properties),
            mechanisms: LongString::from(mechanisms.join(" ")),
            ..ConnectionStart::default()
        };
        self.write_method(0, &Method::ConnectionStart(start))?;
        self.phase = Phase::Start;
        Ok(())
    }

    /// `connection.start-ok`: the login goes to the application.
    fn on_start_ok(&mut self, s: ConnectionStartOk) -> Result<(), Error> {
        let Side::Server(cfg) = &self.side else {
            return Ok(());
        };
        if !cfg
            .mechanisms
            .iter()
            .any(|m| m.name() == s.mechanism.as_str())
        {
            return Err(Error::CommandInvalid {
                channel: 0,
                class_id: ConnectionStartOk::CLASS_ID,
                method_id: ConnectionStartOk::METHOD_ID,
                reason: "SASL mechanism not offered",
            });
        }
        self.mechanism = s.mechanism.into_string();
        self.peer_properties = s.client_properties;
        self.authenticate(s.response);
        Ok(())
    }

    fn authenticate(&mut self, response: LongString) {
        let credentials = crate::sasl::Mechanism::from_name(&self.mechanism)
            .and_then(|m| Credentials::decode(m, &response, self.decoder.limits()));
        self.phase = Phase::AuthPending;
        self.events.push_back(Event::Authenticate {
            mechanism: self.mechanism.clone(),
            response: response.into_bytes(),
            credentials,
        });
    }

    fn pending_login(&self) -> Result<(), Error> {
        if self.role() == Role::Server && self.phase == Phase::AuthPending {
            Ok(())
        } else {
            Err(Error::InvalidState("no login awaits a verdict"))
        }
    }

    /// Server: accepts the login of [`Event::Authenticate`] and sends
    /// `connection.tune` with the configured values; input that waited is
    /// processed.
    pub fn accept_auth(&mut self) -> Result<(), Error> {
        self.pending_login()?;
        let Side::Server(cfg) = &self.side else {
            return Ok(());
        };
        let tune = ConnectionTune {
            channel_max: cfg.tune.channel_max,
            frame_max: cfg.tune.frame_max,
            heartbeat: cfg.tune.heartbeat,
        };
        self.write_method(0, &Method::ConnectionTune(tune))?;
        self.phase = Phase::Tune;
        self.process()
    }

    /// Server: refuses the login with `connection.close` 403
    /// ACCESS_REFUSED, as RabbitMQ does; [`Event::Closed`] (with
    /// [`Error::AccessRefused`]) follows the client's close-ok.
    pub fn reject_auth(&mut self, reason: &str) -> Result<(), Error> {
        self.pending_login()?;
        let reason = format!(
            "Login was refused using authentication mechanism {}. {reason}",
            self.mechanism
        );
        let e = Error::AccessRefused {
            reason: reason.clone(),
        };
        self.begin_close(CloseReport {
            reply_code: e.reply_code(),
            // RabbitMQ's text: the code's name and the reason, without the
            // error's own prefix.
            reply_text: format!("{} - {reason}", e.reply().name()),
            class_id: 0,
            method_id: 0,
            error: Some(e),
        })
    }

    /// Server: answers the login of [`Event::Authenticate`] with a
    /// `connection.secure` challenge; the client's secure-ok comes as
    /// another [`Event::Authenticate`].
    pub fn send_challenge(&mut self, challenge: &[u8]) -> Result<(), Error> {
        self.pending_login()?;
        let secure = ConnectionSecure {
            challenge: LongString::from(challenge),
        };
        self.write_method(0, &Method::ConnectionSecure(secure))?;
        self.phase = Phase::Secure;
        Ok(())
    }

    /// `connection.tune-ok`: the client may lower our limits, not raise
    /// them, and must not lift one we set (RabbitMQ's rules; 530).
    fn on_tune_ok(&mut self, t: &ConnectionTuneOk) -> Result<(), Error> {
        let Side::Server(cfg) = &self.side else {
            return Ok(());
        };
        let ours = cfg.tune;
        let over = |theirs: u32, ours: u32| ours != 0 && (theirs == 0 || theirs > ours);
        let reason = if t.frame_max != 0 && t.frame_max < FRAME_MIN_SIZE {
            Some(format!(
                "frame_max={} < {FRAME_MIN_SIZE} min size",
                t.frame_max
            ))
        } else if over(t.frame_max, ours.frame_max) {
            Some(format!(
                "frame_max={} > {} max size",
                t.frame_max, ours.frame_max
            ))
        } else if over(t.channel_max.into(), ours.channel_max.into()) {
            Some(format!(
                "channel_max={} > {} max size",
                t.channel_max, ours.channel_max
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::NotAllowed { reason });
        }
        self.tuned(Tune {
            channel_max: t.channel_max,
            frame_max: t.frame_max,
            heartbeat: t.heartbeat,
        });
        Ok(())
    }

    fn pending_vhost(&self) -> Result<(), Error> {
        if self.role() == Role::Server && self.phase == Phase::VhostPending {
            Ok(())
        } else {
            Err(Error::InvalidState("no virtual host awaits a verdict"))
        }
    }

    /// Server: opens the virtual host of [`Event::OpenVhost`]:
    /// `connection.open-ok`, then [`Event::Connected`]; input that waited
    /// is processed.
    pub fn accept_vhost(&mut self) -> Result<(), Error> {
        self.pending_vhost()?;
        self.write_method(0, &Method::ConnectionOpenOk(ConnectionOpenOk::default()))?;
        self.connected();
        self.process()
    }

    /// Server: refuses the virtual host with `connection.close` 530
    /// NOT_ALLOWED; [`Event::Closed`] (with [`Error::NotAllowed`]) follows
    /// the client's close-ok.
    pub fn reject_vhost(&mut self, reason: &str) -> Result<(), Error> {
        self.pending_vhost()?;
        let e = Error::NotAllowed {
            reason: reason.to_owned(),
        };
        self.begin_close(CloseReport {
            reply_code: e.reply_code(),
            reply_text: format!("{} - {reason}", e.reply().name()),
            class_id: ConnectionOpen::CLASS_ID,
            method_id: ConnectionOpen::METHOD_ID,
            error: Some(e),
        })
    }

    // ---- both ----

    /// Tuning is agreed: frame-max applies to input, heartbeats start.
    fn tuned(&mut self, tune: Tune) {
        self.tune = Some(tune);
        self.decoder.set_frame_max(tune.frame_max);
        self.heartbeat.start(tune.heartbeat, self.now);
        self.phase = Phase::Open;
    }

    fn connected(&mut self) {
        self.phase = Phase::Connected;
        self.events.push_back(Event::Connected {
            peer_properties: self.peer_properties.clone(),
            tune: self.tune.unwrap_or_default(),
            vhost: self.vhost.clone(),
        });
    }
}
