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
    let h = super::spawn(listener, "localhost", &users()).unwrap();
    let lines = Rc::new(RefCell::new(Vec::<String>::new()));
    let out = Rc::clone(&lines);
    let mut ctx = Ctx::new(h.addr.to_string(), account("alice@localhost", "pw-a"))
        .with_output(move |l| out.borrow_mut().push(l.to_owned()));
    ctx.peer = Some(account("bob@localhost", "pw-b"));
    ctx.smoke_time = std::time::Duration::from_millis(300);
    let report = xmpp_scenarios::run(&ctx, &["all".to_owned()]).unwrap();
    let text = lines.borrow().join("\n");
    assert_eq!(report.failed, 0, "{text}");
    // slixmpp (no Python given) and websocket (no endpoint) skip.
    assert_eq!((report.passed, report.skipped), (11, 3), "{text}");
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
