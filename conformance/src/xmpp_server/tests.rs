//! Our client scenarios against our server, in-process over loopback TCP.

use std::cell::RefCell;
use std::net::TcpListener;
use std::rc::Rc;

use crate::xmpp_scenarios::{self, Account, Ctx};

fn users() -> Vec<(String, String)> {
    vec![
        ("alice".to_owned(), "pw-a".to_owned()),
        ("bob".to_owned(), "pw-b".to_owned()),
    ]
}

fn account(jid: &str, password: &str) -> Account {
    Account {
        jid: jid.parse().unwrap(),
        password: password.to_owned(),
        server: None,
    }
}

#[test]
fn client_scenarios_pass_against_our_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ws_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let h = super::spawn_with_websocket(listener, ws_listener, "localhost", &users()).unwrap();
    let lines = Rc::new(RefCell::new(Vec::<String>::new()));
    let out = Rc::clone(&lines);
    let mut ctx = Ctx::new(h.addr.to_string(), account("alice@localhost", "pw-a"))
        .with_output(move |l| out.borrow_mut().push(l.to_owned()));
    ctx.peer = Some(account("bob@localhost", "pw-b"));
    ctx.smoke_time = std::time::Duration::from_millis(300);
    let ws_url = format!("ws://{}{}", h.ws_addr.unwrap(), super::ws::PATH);
    ctx.ws_url = Some(crate::ws_driver::WsUrl::parse(&ws_url).unwrap());
    let report = xmpp_scenarios::run(&ctx, &["all".to_owned()]).unwrap();
    let text = lines.borrow().join("\n");
    assert_eq!(report.failed, 0, "{text}");
    // Only the two slixmpp scenarios (no Python given) skip.
    assert_eq!((report.passed, report.skipped), (12, 2), "{text}");
    assert!(text.contains("PASS websocket"), "{text}");
}

#[test]
fn unknown_user_and_bad_password_are_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let h = super::spawn(listener, "localhost", &users()).unwrap();
    for (jid, pw) in [("alice@localhost", "nope"), ("mallory@localhost", "pw-a")] {
        let lines = Rc::new(RefCell::new(Vec::<String>::new()));
        let out = Rc::clone(&lines);
        let ctx = Ctx::new(h.addr.to_string(), account(jid, pw))
            .with_output(move |l| out.borrow_mut().push(l.to_owned()));
        let report = xmpp_scenarios::run(&ctx, &["login-scram-sha-1".to_owned()]).unwrap();
        let text = lines.borrow().join("\n");
        assert_eq!(report.failed, 1, "{jid}: {text}");
        assert!(text.contains("not-authorized"), "{jid}: {text}");
    }
}

#[test]
fn hostile_input_gets_a_stream_error_not_a_hang() {
    use std::io::{Read, Write};
    use std::time::Duration;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let h = super::spawn(listener, "localhost", &users()).unwrap();
    let mut tcp = std::net::TcpStream::connect(h.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(
        b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
          xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>\
          <message><body>before auth</body></message>",
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no close within 10 s: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains("not-authorized"), "{text}");
    assert!(text.ends_with("</stream:stream>"), "{text}");
}

#[test]
fn renamespace_moves_only_the_content_namespace() {
    use xmpp_codec::Element;
    let el = Element::parse(
        "<message xmlns='jabber:client' to='a@b'><body>hi</body>\
         <x xmlns='urn:example'><y/></x></message>",
    )
    .unwrap();
    let s = super::s2s::renamespace(&el, "jabber:client", "jabber:server");
    assert!(s.is("message", "jabber:server"));
    assert!(s.child("body", "jabber:server").is_some());
    assert!(
        s.child("x", "urn:example")
            .unwrap()
            .child("y", "urn:example")
            .is_some()
    );
    assert_eq!(s.attr("to"), Some("a@b"));
}

/// Pings from alice: the answer's type and stanza error condition.
fn ping_answer(
    s: &mut crate::xmpp_driver::XmppStream,
    to: &str,
) -> (Option<String>, Option<String>) {
    let to: xmpp_codec::stanza::jid::Jid = to.parse().unwrap();
    let id = s.conn().send_ping(Some(&to)).unwrap();
    let res = s
        .wait(
            std::time::Duration::from_secs(10),
            "the pong",
            |e| match e {
                xmpp_codec::Event::IqResponse { id: got, element } if *got == id => {
                    Some(element.clone())
                }
                _ => None,
            },
        )
        .unwrap();
    let condition = res
        .children()
        .find(|c| c.name() == "error")
        .and_then(|e| e.children().next().map(|c| c.name().to_owned()));
    (res.attr("type").map(str::to_owned), condition)
}

#[test]
fn iqs_to_other_jids_are_routed_or_refused() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use crate::xmpp_driver::{XmppStream, client_config};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let h = super::spawn(listener, "localhost", &users()).unwrap();
    let addr = h.addr.to_string();
    let t = Duration::from_secs(10);
    let connect = |jid: &str, pw: &str| {
        XmppStream::connect(&addr, client_config(jid.parse().unwrap(), pw), t).unwrap()
    };
    let mut alice = connect("alice@localhost/a", "pw-a");
    // Bob's client answers pings itself, on its own thread.
    let mut bob = connect("bob@localhost/b", "pw-b");
    let stop = Arc::new(AtomicBool::new(false));
    let bob_stop = Arc::clone(&stop);
    let bob_thread = std::thread::spawn(move || {
        while !bob_stop.load(Ordering::Relaxed) {
            match bob.next_event(Duration::from_millis(50)) {
                Ok(_) | Err(crate::xmpp_driver::XmppError::Timeout(_)) => {}
                Err(e) => panic!("bob: {e}"),
            }
        }
    });
    let result = (Some("result".to_owned()), None);
    let refused = (
        Some("error".to_owned()),
        Some("service-unavailable".to_owned()),
    );
    // Routed to bob's session, answered by bob's client.
    assert_eq!(ping_answer(&mut alice, "bob@localhost/b"), result);
    // Answered by the server itself, for itself or alice's account.
    assert_eq!(ping_answer(&mut alice, "localhost"), result);
    assert_eq!(ping_answer(&mut alice, "alice@localhost"), result);
    // No such user, no such resource, another account's bare JID
    // (RFC 6121 §8.5.1, §8.5.3.2.2, §8.5.2.1.1): service-unavailable.
    assert_eq!(ping_answer(&mut alice, "nobody@localhost"), refused);
    assert_eq!(ping_answer(&mut alice, "bob@localhost/gone"), refused);
    assert_eq!(ping_answer(&mut alice, "bob@localhost"), refused);
    stop.store(true, Ordering::Relaxed);
    bob_thread.join().unwrap();
}
