//! A small in-memory XMPP server on [`xmpp_codec::Connection`] in the c2s
//! server role (and both s2s roles for federation), for the conformance
//! runs: `xmpp-peer server --listen ADDR --domain DOMAIN --user
//! NAME:PASSWORD... [--ws-listen ADDR] [--s2s-listen ADDR --s2s-secret S]`.
//!
//! Every connection gets a thread driving its machine and a reader thread
//! feeding it the socket's bytes through a channel, which other
//! connections also use to hand it stanzas, so delivery is prompt and
//! nothing polls. One [`Mutex`]-guarded [`router::State`] holds the routing
//! table (full JID → session), the rosters and the s2s streams.
//!
//! What it does:
//!
//! * login with SCRAM-SHA-256, SCRAM-SHA-1 (keys derived at startup, one
//!   salt per user) or PLAIN; resource binding; XEP-0198 with resumption
//!   (a dropped session waits [`HIBERNATION`] for its client, and stanzas
//!   sent to it meanwhile are delivered after resumption); XEP-0199 pings
//!   (answered by the machine);
//! * with `--ws-listen`, RFC 7395 clients at `ws://ADDR/xmpp-websocket`
//!   (subprotocol `xmpp` required), in the same sessions and routing as
//!   TCP clients;
//! * messages to a full JID, or to a bare JID (every session of the user);
//!   presence without `to` to the user's own sessions (there are no
//!   subscriptions), directed presence routed; iq routed to full JIDs;
//! * a minimal roster (`jabber:iq:roster` get and set, with pushes to the
//!   user's sessions); other iqs to the server or a bare JID:
//!   `service-unavailable`;
//! * stanza errors as RFC 6121 §8.5 says: `service-unavailable` for unknown
//!   users and (iq) resources, `remote-server-not-found` for domains we
//!   cannot reach;
//! * with `--s2s-listen`, federation over XEP-0220 dialback (no TLS):
//!   stanzas for another domain go over an outgoing stream to it (port
//!   5269 of its address, or `--s2s-peer DOMAIN=HOST:PORT`), and incoming
//!   streams are verified against their authoritative server.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use xmpp_codec::Element;
use xmpp_codec::sasl::scram::{ScramHash, StoredCredentials};

mod c2s;
mod link;
mod router;
mod s2s;
#[cfg(test)]
mod tests;
mod ws;
#[cfg(test)]
mod ws_tests;

pub use router::HIBERNATION;

const USAGE: &str =
    "usage: xmpp-peer server --listen ADDR --domain DOMAIN --user NAME:PASSWORD [--user ...]
                        [--ws-listen ADDR]
                        [--s2s-listen ADDR --s2s-secret S [--s2s-peer DOMAIN=HOST:PORT]...]";

/// SCRAM iteration count of the stored keys.
const ITERATIONS: u32 = 4096;

/// What a connection thread is handed through its channel.
#[derive(Debug)]
pub(crate) enum Input {
    /// Bytes from the socket.
    Data(Vec<u8>),
    /// The socket ended.
    Eof,
    /// A stanza routed to this connection.
    Stanza(Element),
    /// S2s outgoing: ask the peer to verify a dialback key for an incoming
    /// stream, and tell `reply` the verdict.
    Verify {
        /// The incoming stream's id.
        id: String,
        /// The key the peer presented.
        key: String,
        /// The incoming stream's channel.
        reply: Sender<Input>,
    },
    /// S2s incoming: the authoritative server's verdict on `from`.
    Verdict {
        /// The domain that asked to be accepted.
        from: String,
        /// Whether its key was valid.
        valid: bool,
    },
}

/// One account.
#[derive(Debug)]
pub(crate) struct User {
    password: String,
    sha1: StoredCredentials,
    sha256: StoredCredentials,
}

/// Federation settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct S2sSettings {
    secret: String,
    /// Where to reach a remote domain (default: the domain, port 5269).
    peers: HashMap<String, String>,
}

/// What the server's connections share.
#[derive(Debug)]
pub(crate) struct Hub {
    domain: String,
    users: HashMap<String, User>,
    s2s: Option<S2sSettings>,
    state: Mutex<router::State>,
    next_id: AtomicU64,
}

impl Hub {
    fn new(
        domain: &str,
        users: &[(String, String)],
        s2s: Option<S2sSettings>,
    ) -> Result<Self, String> {
        let mut map = HashMap::new();
        for (n, (name, password)) in users.iter().enumerate() {
            let salt = format!("xmpp-peer-salt-{n}-{name}");
            let derive = |hash| {
                StoredCredentials::derive(hash, password, salt.as_bytes(), ITERATIONS)
                    .map_err(|e| format!("user {name}: {e}"))
            };
            let user = User {
                password: password.clone(),
                sha1: derive(ScramHash::Sha1)?,
                sha256: derive(ScramHash::Sha256)?,
            };
            map.insert(name.clone(), user);
        }
        Ok(Self {
            domain: domain.to_owned(),
            users: map,
            s2s,
            state: Mutex::new(router::State::default()),
            next_id: AtomicU64::new(1),
        })
    }

    /// The state; a thread that panicked holding it leaves it usable.
    fn lock(&self) -> MutexGuard<'_, router::State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// A running server, for tests and the demo.
#[derive(Debug)]
pub struct Handle {
    /// The c2s address bound.
    pub addr: std::net::SocketAddr,
    /// The c2s accept thread.
    pub thread: JoinHandle<()>,
    /// The RFC 7395 address bound (clients open
    /// `ws://ADDR/xmpp-websocket`), with [`spawn_with_websocket`].
    pub ws_addr: Option<std::net::SocketAddr>,
}

/// Serves c2s for `domain` on `listener` for `users` (name, password) on
/// a new thread, one more thread per connection, until the process ends.
pub fn spawn(
    listener: TcpListener,
    domain: &str,
    users: &[(String, String)],
) -> Result<Handle, String> {
    start(listener, None, domain, users)
}

/// [`spawn`], and RFC 7395 clients on `ws_listener` (one more thread),
/// sharing the TCP clients' sessions.
pub fn spawn_with_websocket(
    listener: TcpListener,
    ws_listener: TcpListener,
    domain: &str,
    users: &[(String, String)],
) -> Result<Handle, String> {
    start(listener, Some(ws_listener), domain, users)
}

fn start(
    listener: TcpListener,
    ws_listener: Option<TcpListener>,
    domain: &str,
    users: &[(String, String)],
) -> Result<Handle, String> {
    let hub = Arc::new(Hub::new(domain, users, None)?);
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let ws_addr = match ws_listener {
        Some(l) => {
            let a = l.local_addr().map_err(|e| e.to_string())?;
            let hub = Arc::clone(&hub);
            std::thread::spawn(move || accept_loop(&l, &hub, Kind::Ws));
            Some(a)
        }
        None => None,
    };
    let thread = std::thread::spawn(move || accept_loop(&listener, &hub, Kind::C2s));
    Ok(Handle {
        addr,
        thread,
        ws_addr,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    C2s,
    /// C2s over RFC 7395.
    Ws,
    S2s,
}

fn accept_loop(listener: &TcpListener, hub: &Arc<Hub>, kind: Kind) {
    for stream in listener.incoming() {
        match stream {
            Ok(tcp) => {
                let hub = Arc::clone(hub);
                let id = hub.next_id();
                let name = match kind {
                    Kind::C2s => format!("xmpp-c2s-{id}"),
                    Kind::Ws => format!("xmpp-ws-{id}"),
                    Kind::S2s => format!("xmpp-s2s-in-{id}"),
                };
                let spawned = std::thread::Builder::new()
                    .name(name)
                    .spawn(move || match kind {
                        Kind::C2s => c2s::run(tcp, id, &hub),
                        Kind::Ws => ws::run(tcp, id, &hub),
                        Kind::S2s => s2s::run_incoming(tcp, id, &hub),
                    });
                if let Err(e) = spawned {
                    eprintln!("xmpp server: cannot start a connection thread: {e}");
                }
            }
            Err(e) => {
                eprintln!("xmpp server: accept: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// The server's command line (the words after `server`).
#[derive(Debug, PartialEq, Eq)]
struct Args {
    listen: String,
    domain: String,
    users: Vec<(String, String)>,
    ws_listen: Option<String>,
    s2s_listen: Option<String>,
    s2s_secret: Option<String>,
    s2s_peers: Vec<(String, String)>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        listen: String::new(),
        domain: String::new(),
        users: Vec::new(),
        ws_listen: None,
        s2s_listen: None,
        s2s_secret: None,
        s2s_peers: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--listen" => out.listen.clone_from(value()?),
            "--domain" => out.domain.clone_from(value()?),
            "--ws-listen" => out.ws_listen = Some(value()?.clone()),
            "--s2s-listen" => out.s2s_listen = Some(value()?.clone()),
            "--s2s-secret" => out.s2s_secret = Some(value()?.clone()),
            "--s2s-peer" => {
                let v = value()?;
                let (d, addr) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--s2s-peer {v}: expected DOMAIN=HOST:PORT"))?;
                out.s2s_peers.push((d.to_owned(), addr.to_owned()));
            }
            "--user" => {
                let v = value()?;
                let (name, password) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--user {v}: expected NAME:PASSWORD"))?;
                out.users.push((name.to_owned(), password.to_owned()));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if out.listen.is_empty() || out.domain.is_empty() {
        return Err("--listen ADDR and --domain DOMAIN are required".to_owned());
    }
    if out.users.is_empty() {
        return Err("at least one --user NAME:PASSWORD is required".to_owned());
    }
    if out.s2s_listen.is_some() != out.s2s_secret.is_some() {
        return Err("--s2s-listen and --s2s-secret go together".to_owned());
    }
    Ok(out)
}

/// `xmpp-peer server ARGS`: prints `listening on ADDR` (and `websocket
/// listening on ws://ADDR/xmpp-websocket`, `s2s listening on ADDR`) and
/// serves until killed. Returns 2 for bad arguments, 1 when
/// it cannot listen.
pub fn main(args: &[String]) -> i32 {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return 0;
    }
    let args = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("xmpp-peer server: {e}\n{USAGE}");
            return 2;
        }
    };
    let s2s = args.s2s_secret.as_ref().map(|secret| S2sSettings {
        secret: secret.clone(),
        peers: args.s2s_peers.iter().cloned().collect(),
    });
    let hub = match Hub::new(&args.domain, &args.users, s2s) {
        Ok(h) => Arc::new(h),
        Err(e) => {
            eprintln!("xmpp-peer server: {e}");
            return 2;
        }
    };
    let bind = |addr: &str| {
        TcpListener::bind(addr)
            .map_err(|e| eprintln!("xmpp-peer server: cannot listen on {addr}: {e}"))
    };
    let Ok(listener) = bind(&args.listen) else {
        return 1;
    };
    let ws_listener = match &args.ws_listen {
        Some(a) => match bind(a) {
            Ok(l) => Some(l),
            Err(()) => return 1,
        },
        None => None,
    };
    let s2s_listener = match &args.s2s_listen {
        Some(a) => match bind(a) {
            Ok(l) => Some(l),
            Err(()) => return 1,
        },
        None => None,
    };
    let shown = |l: &TcpListener, fallback: &str| {
        l.local_addr()
            .map_or_else(|_| fallback.to_owned(), |a| a.to_string())
    };
    println!(
        "listening on {} for {} ({} user(s))",
        shown(&listener, &args.listen),
        args.domain,
        args.users.len()
    );
    if let Some(l) = ws_listener {
        println!("websocket listening on ws://{}{}", shown(&l, ""), ws::PATH);
        let hub = Arc::clone(&hub);
        std::thread::spawn(move || accept_loop(&l, &hub, Kind::Ws));
    }
    if let Some(l) = s2s_listener {
        println!("s2s listening on {}", shown(&l, ""));
        let hub = Arc::clone(&hub);
        std::thread::spawn(move || accept_loop(&l, &hub, Kind::S2s));
    }
    let _ = std::io::stdout().flush();
    accept_loop(&listener, &hub, Kind::C2s);
    0
}

/// Starts the reader thread of a connection: socket bytes go to `tx`.
pub(crate) fn spawn_reader(
    tcp: &TcpStream,
    name: String,
    tx: Sender<Input>,
) -> Option<JoinHandle<()>> {
    let mut read_half = tcp.try_clone().ok()?;
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            use std::io::Read as _;
            let mut buf = vec![0; 64 << 10];
            loop {
                match read_half.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let data = buf.get(..n).unwrap_or_default().to_vec();
                        if tx.send(Input::Data(data)).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(Input::Eof);
        })
        .ok()
}
