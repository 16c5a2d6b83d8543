//! In-memory tests: our client against our server, our two s2s ends, and
//! hostile input.

mod c2s;
mod hostile;
mod s2s;
mod sm;

use std::time::Instant;

use crate::config::Framing;
use crate::conn::{ClientConfig, Connection, ServerConfig, TlsPolicy};
use crate::element::Element;
use crate::event::{AuthRequest, Event};
use crate::sasl::scram::StoredCredentials;
use crate::sasl::{Mechanism, SaslCondition};

pub(super) const PASSWORD: &str = "pencil";

pub(super) fn client_config(jid: &str, framing: Framing) -> ClientConfig {
    let mut c = ClientConfig::new(jid.parse().unwrap(), PASSWORD);
    c.tls = TlsPolicy::Disabled;
    c.common.framing = framing;
    c
}

pub(super) fn server_config(framing: Framing) -> ServerConfig {
    let mut s = ServerConfig::new("example.com");
    s.common.framing = framing;
    s.common.random = crate::conn::RandomSource::Seed(7);
    s
}

/// Our client and server wired together in memory; the server
/// application checks logins against [`PASSWORD`].
pub(super) struct Pair {
    pub(super) c: Connection,
    pub(super) s: Connection,
    pub(super) cev: Vec<Event>,
    pub(super) sev: Vec<Event>,
    pub(super) framing: Framing,
    pub(super) password: String,
}

impl Pair {
    pub(super) fn new(client: ClientConfig, server: ServerConfig) -> Self {
        let framing = client.common.framing;
        let now = Instant::now();
        Self {
            c: Connection::client(client, now),
            s: Connection::server(server, now),
            cev: Vec::new(),
            sev: Vec::new(),
            framing,
            password: PASSWORD.to_owned(),
        }
    }

    pub(super) fn with_mechanisms(m: &[Mechanism]) -> Self {
        let mut c = client_config("juliet@example.com/balcony", Framing::Tcp);
        c.mechanisms = m.to_vec();
        Self::new(c, server_config(Framing::Tcp))
    }

    fn feed(framing: Framing, to: &mut Connection, data: &[u8]) {
        let r = match framing {
            Framing::Tcp => to.handle_input(data),
            Framing::WebSocket => to.handle_message(data),
        };
        // Errors show up as Closed events, which the tests check.
        let _ = r;
    }

    /// Moves bytes and answers server events until nothing moves.
    pub(super) fn run(&mut self) {
        for _ in 0..100 {
            let mut moved = false;
            while let Some(b) = self.c.poll_transmit() {
                moved = true;
                Self::feed(self.framing, &mut self.s, &b);
            }
            while let Some(b) = self.s.poll_transmit() {
                moved = true;
                Self::feed(self.framing, &mut self.c, &b);
            }
            while let Some(e) = self.s.poll_event() {
                moved = true;
                self.answer(&e);
                self.sev.push(e);
            }
            while let Some(e) = self.c.poll_event() {
                moved = true;
                self.cev.push(e);
            }
            if !moved {
                return;
            }
        }
        panic!("no quiescence");
    }

    fn answer(&mut self, e: &Event) {
        match e {
            Event::Authenticate(AuthRequest::Plain { password, .. }) => {
                if *password == self.password {
                    self.s.accept_auth().unwrap();
                } else {
                    self.s.reject_auth(SaslCondition::NotAuthorized).unwrap();
                }
            }
            Event::Authenticate(AuthRequest::Scram { hash, .. }) => {
                let creds =
                    StoredCredentials::derive(*hash, &self.password, b"NaCl", 4096).unwrap();
                self.s.accept_credentials(&creds).unwrap();
            }
            _ => {}
        }
    }

    pub(super) fn client_online(&self) -> bool {
        self.cev.iter().any(|e| matches!(e, Event::Online { .. }))
    }
}

pub(super) fn message(to: &str, body: &str) -> Element {
    Element::new("message", "jabber:client")
        .with_attr("to", to.to_owned())
        .with_attr("type", "chat")
        .with_child(Element::new("body", "jabber:client").with_text(body.to_owned()))
}

/// The bodies of the messages in `events`.
pub(super) fn bodies(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => m
                .child("body", "jabber:client")
                .map(|b| b.text().as_str().to_owned()),
            _ => None,
        })
        .collect()
}
