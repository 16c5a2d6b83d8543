//! The fuzzer over a real socket, in Autobahn's two roles: the fuzzing
//! client against our server, and the fuzzing server against our client.
//! A reader thread consumes everything the peer sends while the script is
//! written, so neither side can block the other on a full buffer.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::case::{Case, Ending, Op, Script};
use super::cases_deflate::{answer_for, check_answer};
use super::check;
use super::endpoint;
use super::wire::{self, FrameReader, Head, Pmd};

/// Which of our endpoints is under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Our server; the fuzzer is the client.
    Server,
    /// Our client; the fuzzer is the server.
    Client,
}

/// Runs `case` over loopback against our endpoint on `side`; `server` is
/// our echo server's address.
pub(crate) fn run(case: &Case, side: Side, server: SocketAddr) -> Result<(), String> {
    match side {
        Side::Server => {
            let tcp = TcpStream::connect(server).map_err(|e| format!("connect: {e}"))?;
            fuzz(tcp, true, case)
        }
        Side::Client => {
            let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let spec = case.deflate.clone();
            let ours = std::thread::spawn(move || endpoint::run_client(addr, spec.as_ref()));
            let r = accept(&listener).and_then(|tcp| fuzz(tcp, false, case));
            let _ = ours.join();
            r
        }
    }
}

fn accept(listener: &TcpListener) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match listener.accept() {
            Ok((tcp, _)) => {
                tcp.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(tcp);
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => return Err(format!("our client did not connect: {e}")),
        }
    }
}

/// What the reader thread has seen.
struct Seen {
    reader: FrameReader,
    eof: bool,
}

impl Seen {
    fn ended(&self) -> bool {
        self.reader.close.is_some() || self.eof || !self.reader.violations.is_empty()
    }
}

struct Shared {
    seen: Mutex<Seen>,
    cv: Condvar,
}

impl Shared {
    /// Waits up to `t` for `done`; returns whether it became true.
    fn wait(&self, t: Duration, done: impl Fn(&Seen) -> bool) -> bool {
        let guard = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .cv
            .wait_timeout_while(guard, t, |s| !done(s))
            .unwrap_or_else(PoisonError::into_inner);
        done(&guard)
    }
}

fn read_head(tcp: &mut TcpStream) -> Result<(Head, Vec<u8>), String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((head, n)) = Head::parse(&buf) {
            return Ok((head, buf.get(n..).unwrap_or_default().to_vec()));
        }
        if buf.len() > 16 << 10 {
            return Err("handshake head over 16 KiB".to_owned());
        }
        match tcp.read(&mut chunk) {
            Ok(0) => return Err("connection closed during the handshake".to_owned()),
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) => return Err(format!("handshake read: {e}")),
        }
    }
}

/// The fuzzing client's handshake with our server: sends the case's offer
/// and checks the answer. Returns the agreed deflate parameters and any
/// bytes read past the head.
fn handshake_as_client(tcp: &mut TcpStream, case: &Case) -> Result<(Option<Pmd>, Vec<u8>), String> {
    let offer = case.deflate.as_ref().map(|d| d.offer.as_str());
    tcp.write_all(&wire::client_request("127.0.0.1", offer))
        .map_err(|e| format!("write: {e}"))?;
    let (head, rest) = read_head(tcp)?;
    Ok((negotiated(case, &head)?, rest))
}

/// Checks our server's handshake answer and returns what it agreed to.
pub(crate) fn negotiated(case: &Case, head: &Head) -> Result<Option<Pmd>, String> {
    let exts = wire::check_response(head)?;
    match &case.deflate {
        Some(d) => check_answer(&wire::parse_extensions(&d.offer), &exts).map(Some),
        None if exts.is_empty() => Ok(None),
        None => Err("server answered an extension nobody offered".to_owned()),
    }
}

/// The fuzzing server's handshake with our client: checks the request and
/// answers the case's way.
fn handshake_as_server(tcp: &mut TcpStream, case: &Case) -> Result<(Option<Pmd>, Vec<u8>), String> {
    let (head, rest) = read_head(tcp)?;
    let (response, pmd) = answer_request(case, &head)?;
    tcp.write_all(&response)
        .map_err(|e| format!("write: {e}"))?;
    Ok((pmd, rest))
}

/// Checks our client's opening request (§4.1) and builds the fuzzing
/// server's `101` answer for the case.
pub(crate) fn answer_request(case: &Case, head: &Head) -> Result<(Vec<u8>, Option<Pmd>), String> {
    if !head.start.starts_with("GET ") || !head.start.ends_with(" HTTP/1.1") {
        return Err(format!("request line {:?}", head.start));
    }
    let token = |h: &str, t: &str| {
        head.header(h)
            .is_some_and(|v| v.split(',').any(|x| x.trim().eq_ignore_ascii_case(t)))
    };
    if !token("upgrade", "websocket") || !token("connection", "upgrade") {
        return Err("request lacks Upgrade/Connection".to_owned());
    }
    if head.header("sec-websocket-version").as_deref() != Some("13") {
        return Err("request lacks Sec-WebSocket-Version: 13".to_owned());
    }
    let key = head
        .header("sec-websocket-key")
        .ok_or_else(|| "request lacks Sec-WebSocket-Key".to_owned())?;
    let offers = head
        .header("sec-websocket-extensions")
        .map(|v| wire::parse_extensions(&v))
        .unwrap_or_default();
    let (answer, pmd) = match &case.deflate {
        Some(d) => {
            let (a, p) = answer_for(&offers, &d.answers).ok_or_else(|| {
                format!("client offered no usable permessage-deflate: {offers:?}")
            })?;
            (Some(a), Some(p))
        }
        None => (None, None),
    };
    Ok((wire::server_response(&key, answer.as_deref()), pmd))
}

/// Plays the fuzzer's role over `tcp` (`client`: the fuzzer is the client).
fn fuzz(mut tcp: TcpStream, client: bool, case: &Case) -> Result<(), String> {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let (pmd, rest) = if client {
        handshake_as_client(&mut tcp, case)?
    } else {
        handshake_as_server(&mut tcp, case)?
    };
    let mut script = Script::new(client, pmd.map(|p| p.compressor(client)));
    (case.build)(&mut script);
    let mut reader = FrameReader::new(!client, pmd.map(|p| p.inflater(client)));
    reader.push(&rest);
    let shared = Arc::new(Shared {
        seen: Mutex::new(Seen { reader, eof: false }),
        cv: Condvar::new(),
    });
    let mut rd = tcp.try_clone().map_err(|e| e.to_string())?;
    let sh = Arc::clone(&shared);
    let reader_thread = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = rd.read(&mut buf).unwrap_or(0);
            let mut s = sh.seen.lock().unwrap_or_else(PoisonError::into_inner);
            match buf.get(..n) {
                Some(data) if n > 0 => s.reader.push(data),
                _ => s.eof = true,
            }
            drop(s);
            sh.cv.notify_all();
            if n == 0 {
                return;
            }
        }
    });
    let outcome = play(&mut tcp, &mut script, &shared, client);
    let _ = tcp.shutdown(Shutdown::Both);
    let _ = reader_thread.join();
    let seen = shared.seen.lock().unwrap_or_else(PoisonError::into_inner);
    outcome?;
    check::wire(&script, &seen.reader, true)?;
    if client && !seen.eof {
        return Err("our server did not close the TCP connection".to_owned());
    }
    Ok(())
}

/// Writes the script, honouring its checkpoints, then closes the way the
/// case says.
fn play(
    tcp: &mut TcpStream,
    script: &mut Script,
    shared: &Shared,
    client: bool,
) -> Result<(), String> {
    let mut writable = true;
    for op in &script.ops {
        match op {
            Op::Write(b) => writable = writable && tcp.write_all(b).is_ok(),
            Op::Pause => std::thread::sleep(Duration::from_millis(2)),
            Op::ExpectOpen => {
                if shared.wait(Duration::from_millis(20), Seen::ended) {
                    return Err("peer failed the connection before the checkpoint".to_owned());
                }
            }
            Op::ExpectFailed => {
                if !shared.wait(Duration::from_secs(1), Seen::ended) {
                    return Err("peer did not fail fast on the bad part".to_owned());
                }
                break;
            }
        }
    }
    if script.ending == Ending::FuzzerCloses {
        let want = script.expect.len();
        let bytes: usize = script
            .expect
            .iter()
            .map(|e| match e {
                wire::Ev::Text(d) | wire::Ev::Binary(d) | wire::Ev::Ping(d) | wire::Ev::Pong(d) => {
                    d.len()
                }
            })
            .sum();
        // Two seconds, plus one per 4 MiB to echo for slow (debug) builds.
        let t =
            Duration::from_secs(2) + Duration::from_millis(u64::try_from(bytes >> 12).unwrap_or(0));
        shared.wait(t, |s| s.reader.events.len() >= want || s.ended());
        let close = script.closing_frame();
        let _ = tcp.write_all(&close);
    }
    shared.wait(Duration::from_secs(2), Seen::ended);
    if client {
        // Our server closes the TCP connection once the close handshake
        // is done (§7.1.1).
        shared.wait(Duration::from_secs(1), |s| s.eof);
    }
    Ok(())
}
