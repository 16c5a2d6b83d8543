//! Client scenarios of `xmpp-peer client`: each one drives the c2s client
//! role of [`xmpp_codec::Connection`] against a server (Prosody, ejabberd,
//! or our own `xmpp-peer server`) over [`XmppStream`] and ends in an
//! [`Outcome`]: pass, fail with the reason, or skip (a peer, an account or
//! a server feature it needs is missing).
//!
//! Every connection gets its own resource (`xmpp-peer-PID-N`), and what a
//! scenario adds to a roster it removes again, so runs can be repeated
//! against the same server.

use std::cell::{Cell, OnceCell};
use std::path::PathBuf;
use std::time::Duration;

use xmpp_codec::conn::{ClientConfig, StreamFeatures};
use xmpp_codec::stanza::NS_CLIENT;
use xmpp_codec::stanza::error::{NS_STANZA_ERRORS, StanzaError};
use xmpp_codec::stanza::jid::Jid;
use xmpp_codec::{Element, Event};

use crate::scenario;
pub(crate) use crate::scenario::ensure;
pub use crate::scenario::{Outcome, Report};
use crate::ws_driver::WsUrl;
use crate::xmpp_driver::{self, XmppError, XmppStream};

mod login;
mod messaging;
mod session;
mod slix;
#[cfg(test)]
mod tests;

/// How long one login, response or message may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// A scenario: runs against the server in `ctx`.
pub type Scenario = scenario::Scenario<Ctx>;

/// Every scenario, in the order `all` runs them.
pub const SCENARIOS: &[(&str, Scenario)] = &[
    ("smoke", session::smoke),
    ("login-plain", login::plain),
    ("login-scram-sha-1", login::scram_sha1),
    ("login-scram-sha-256", login::scram_sha256),
    ("wrong-password", login::wrong_password),
    ("message", messaging::message),
    ("slixmpp-recv", slix::slixmpp_recv),
    ("slixmpp-send", slix::slixmpp_send),
    ("presence-roster", messaging::presence_roster),
    ("ping", session::ping),
    ("iq-errors", messaging::iq_errors),
    ("sm", session::sm),
    ("resume", session::resume),
    ("websocket", session::websocket),
];

/// An account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its bare JID.
    pub jid: Jid,
    /// Its password.
    pub password: String,
    /// Its server's c2s listener, when not [`Ctx::server`] (a peer on
    /// another, federated, server).
    pub server: Option<String>,
}

impl Account {
    /// The c2s listener to log in at.
    #[must_use]
    pub fn server<'a>(&'a self, ctx: &'a Ctx) -> &'a str {
        self.server.as_deref().unwrap_or(&ctx.server)
    }
}

/// What the scenarios run against.
pub struct Ctx {
    /// The c2s listener, `HOST:PORT`.
    pub server: String,
    /// The main account.
    pub account: Account,
    /// A second account, for the scenarios with two users.
    pub peer: Option<Account>,
    /// A Python with slixmpp, for the slixmpp scenarios.
    pub python: Option<String>,
    /// `slixmpp_peer.py`.
    pub slixmpp_script: PathBuf,
    /// The server's RFC 7395 endpoint.
    pub ws_url: Option<WsUrl>,
    /// How long `smoke` stays online.
    pub smoke_time: Duration,
    run: String,
    resources: Cell<u32>,
    features: OnceCell<Result<StreamFeatures, String>>,
    say: Box<dyn Fn(&str)>,
}

impl Ctx {
    /// A context for `account` at `server`: no peer account, no slixmpp,
    /// no WebSocket, lines said on stdout.
    #[must_use]
    pub fn new(server: impl Into<String>, account: Account) -> Self {
        Self {
            server: server.into(),
            account,
            peer: None,
            python: None,
            slixmpp_script: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/peers/slixmpp_peer.py"
            )),
            ws_url: None,
            smoke_time: Duration::from_secs(3),
            run: std::process::id().to_string(),
            resources: Cell::new(0),
            features: OnceCell::new(),
            say: Box::new(|l| println!("{l}")),
        }
    }

    /// Sends the scenarios' detail lines to `say` instead of stdout.
    #[must_use]
    pub fn with_output(mut self, say: impl Fn(&str) + 'static) -> Self {
        self.say = Box::new(say);
        self
    }

    /// Prints a detail line.
    pub fn say(&self, line: &str) {
        (self.say)(line);
    }

    /// A resource unique to this run.
    pub fn resource(&self) -> String {
        let n = self.resources.get() + 1;
        self.resources.set(n);
        format!("xmpp-peer-{}-{n}", self.run)
    }

    /// A text unique to this run (message bodies).
    pub fn token(&self, what: &str) -> String {
        format!("{what} {} <&>'\" \u{e9}\u{1F600}", self.resource())
    }

    /// The features the server offers before authentication (cached).
    pub fn features(&self) -> Result<&StreamFeatures, String> {
        self.features
            .get_or_init(|| {
                xmpp_driver::probe_features(&self.server, self.account.jid.domain(), WAIT)
                    .map_err(|e| format!("probing the stream features: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A client configuration for `account` with a fresh resource.
    pub fn config(&self, account: &Account) -> Result<ClientConfig, String> {
        let jid = account
            .jid
            .with_resource(&self.resource())
            .map_err(|e| format!("bad JID {}: {e}", account.jid))?;
        let mut cfg = xmpp_driver::client_config(jid, &account.password);
        cfg.common.iq_namespaces.push(NS_ROSTER.to_owned());
        Ok(cfg)
    }

    /// Logs `account` in (any mechanism) and waits for the session.
    pub fn connect(&self, account: &Account) -> Result<XmppStream, String> {
        self.connect_with(account, |_| {})
    }

    /// [`Self::connect`] with the configuration changed by `tweak`.
    pub fn connect_with(
        &self,
        account: &Account,
        tweak: impl FnOnce(&mut ClientConfig),
    ) -> Result<XmppStream, String> {
        let mut cfg = self.config(account)?;
        tweak(&mut cfg);
        XmppStream::connect(account.server(self), cfg, WAIT)
            .map_err(|e| format!("{} logging in: {e}", account.jid))
    }

    /// The peer account, or why a scenario is skipped without it.
    pub fn peer(&self) -> Result<&Account, Outcome> {
        self.peer
            .as_ref()
            .ok_or_else(|| Outcome::Skip("needs --peer-jid and --peer-password".to_owned()))
    }
}

/// The roster namespace (RFC 6121 §2).
pub const NS_ROSTER: &str = "jabber:iq:roster";
/// The software version namespace (XEP-0092).
pub const NS_VERSION: &str = "jabber:iq:version";

/// Fails for a name that is neither a scenario nor `all`.
pub fn check_names(names: &[String]) -> Result<(), String> {
    scenario::check_names(SCENARIOS, names)
}

/// Runs the scenarios named (`all` for every one) in `SCENARIOS` order,
/// printing `PASS name`, `FAIL name: why` or `SKIP name: why` for each
/// through `ctx`.
pub fn run(ctx: &Ctx, names: &[String]) -> Result<Report, String> {
    scenario::run(ctx, SCENARIOS, names, |l| ctx.say(l))
}

// ---- helpers shared by the scenarios ------------------------------------

/// A `<message type='chat'>` to `to` with `body`.
#[must_use]
pub fn chat(to: &Jid, body: &str) -> Element {
    Element::new("message", NS_CLIENT)
        .with_attr("to", to.to_string())
        .with_attr("type", "chat")
        .with_child(Element::new("body", NS_CLIENT).with_text(body.to_owned()))
}

/// Available presence (no `to`: a broadcast).
#[must_use]
pub fn presence() -> Element {
    Element::new("presence", NS_CLIENT)
}

/// An iq request of `kind` (`get`/`set`) with `id`, to `to` (the server
/// when `None`), carrying `payload`.
#[must_use]
pub fn iq(kind: &str, id: &str, to: Option<&Jid>, payload: Element) -> Element {
    let mut el = Element::new("iq", NS_CLIENT)
        .with_attr("type", kind.to_owned())
        .with_attr("id", id.to_owned())
        .with_child(payload);
    if let Some(to) = to {
        el.set_attr("to", to.to_string());
    }
    el
}

/// The stanza error condition of an error stanza, if it is one.
#[must_use]
pub fn error_condition(el: &Element) -> Option<String> {
    if el.attr("type") != Some("error") {
        return None;
    }
    let err = el.children().find(|c| c.name() == "error")?;
    let known = StanzaError::from_element(err)
        .ok()
        .map(|e| e.condition.as_str().to_owned());
    known.or_else(|| {
        err.children()
            .find(|c| c.ns() == NS_STANZA_ERRORS)
            .map(|c| c.name().to_owned())
    })
}

/// The body of a `<message/>`.
#[must_use]
pub fn body(el: &Element) -> Option<String> {
    el.children()
        .find(|c| c.name() == "body")
        .map(|b| b.text().as_str().to_owned())
}

/// Waits on `s` for a message whose body is `text`; returns the message.
pub fn wait_message(s: &mut XmppStream, text: &str, timeout: Duration) -> Result<Element, String> {
    s.wait(timeout, &format!("the message {text:?}"), |e| match e {
        Event::Message(m) if body(m).as_deref() == Some(text) => Some(m.clone()),
        _ => None,
    })
    .map_err(|e| e.to_string())
}

/// Closes `s`, turning a failure into the scenario's text.
pub fn close(s: XmppStream) -> Result<(), String> {
    s.close(WAIT)
        .map_err(|e: XmppError| format!("closing: {e}"))
}
