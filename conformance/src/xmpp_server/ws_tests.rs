//! The RFC 7395 listener over loopback: refusals, TCP ↔ WebSocket
//! routing, and (when installed) Python's websockets as an independent
//! client.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use xmpp_codec::Event;

use crate::ws_driver::{WsStream, WsUrl};
use crate::xmpp_driver::{XmppStream, client_config};
use crate::xmpp_scenarios::{chat, presence, wait_message};

const T: Duration = Duration::from_secs(10);

fn server() -> super::Handle {
    let users = [
        ("alice".to_owned(), "pw-a".to_owned()),
        ("bob".to_owned(), "pw-b".to_owned()),
    ];
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ws_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    super::spawn_with_websocket(listener, ws_listener, "localhost", &users).unwrap()
}

fn url(addr: SocketAddr) -> String {
    format!("ws://{addr}{}", super::ws::PATH)
}

/// The status line the listener answers a raw opening request with.
fn status_line(addr: SocketAddr, path: &str, protocol: Option<&str>) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(T)).unwrap();
    let proto = protocol.map_or(String::new(), |p| {
        format!("Sec-WebSocket-Protocol: {p}\r\n")
    });
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{proto}\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 1024];
    while !got.windows(2).any(|w| w == b"\r\n") {
        match tcp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no answer: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&got);
    text.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn handshake_needs_the_path_and_the_xmpp_subprotocol() {
    let h = server();
    let addr = h.ws_addr.unwrap();
    let path = super::ws::PATH;
    assert_eq!(status_line(addr, path, None), "HTTP/1.1 400 Bad Request");
    assert_eq!(
        status_line(addr, path, Some("chat")),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(
        status_line(addr, "/", Some("xmpp")),
        "HTTP/1.1 404 Not Found"
    );
    assert_eq!(
        status_line(addr, path, Some("chat, xmpp")),
        "HTTP/1.1 101 Switching Protocols"
    );
}

#[test]
fn websocket_and_tcp_users_message_each_other() {
    let h = server();
    let ws_url = WsUrl::parse(&url(h.ws_addr.unwrap())).unwrap();
    let alice = client_config("alice@localhost/ws".parse().unwrap(), "pw-a");
    let mut alice = XmppStream::connect_ws(&ws_url, alice, T).unwrap();
    let bob = client_config("bob@localhost/tcp".parse().unwrap(), "pw-b");
    let mut bob = XmppStream::connect(&h.addr.to_string(), bob, T).unwrap();
    let (a, b) = (alice.jid().unwrap().clone(), bob.jid().unwrap().clone());

    alice.send(&chat(&b, "over WebSocket to TCP")).unwrap();
    let m = wait_message(&mut bob, "over WebSocket to TCP", T).unwrap();
    assert_eq!(m.attr("from"), Some(a.to_string().as_str()));

    bob.send(&chat(&a, "over TCP to WebSocket")).unwrap();
    let m = wait_message(&mut alice, "over TCP to WebSocket", T).unwrap();
    assert_eq!(m.attr("from"), Some(b.to_string().as_str()));

    // To the bare JID: every available session of the user, whatever its
    // transport. Alice's presence comes back to her once it is recorded.
    alice.send(&presence()).unwrap();
    alice
        .wait(T, "our own presence", |e| {
            matches!(e, Event::Presence(_)).then_some(())
        })
        .unwrap();
    bob.send(&chat(&a.bare(), "to the bare JID")).unwrap();
    wait_message(&mut alice, "to the bare JID", T).unwrap();

    alice.close(T).unwrap();
    bob.close(T).unwrap();
}

#[test]
fn binary_messages_close_the_websocket_with_1003() {
    let h = server();
    let ws_url = WsUrl::parse(&url(h.ws_addr.unwrap())).unwrap();
    let mut cfg = crate::ws_driver::config(false);
    cfg.protocols = vec!["xmpp".to_owned()];
    let (mut ws, _) = WsStream::connect(&ws_url, cfg).unwrap();
    ws.conn()
        .send_binary(
            b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
        )
        .unwrap();
    let code = loop {
        if let ws_codec::Event::Closed { code, .. } = ws.next_event().unwrap() {
            break code;
        }
    };
    assert_eq!(code, ws_codec::CloseCode::UNSUPPORTED_DATA);
}

#[test]
fn a_stanza_split_over_two_messages_is_a_stream_error() {
    let h = server();
    let ws_url = WsUrl::parse(&url(h.ws_addr.unwrap())).unwrap();
    let alice = client_config("alice@localhost/ws".parse().unwrap(), "pw-a");
    let mut alice = XmppStream::connect_ws(&ws_url, alice, T).unwrap();
    // Bypass the machine, which only ever sends whole elements.
    let mut cfg = crate::ws_driver::config(false);
    cfg.protocols = vec!["xmpp".to_owned()];
    let (mut raw, _) = WsStream::connect(&ws_url, cfg).unwrap();
    let open = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>";
    raw.conn().send_text(open).unwrap();
    raw.conn()
        .send_text("<message xmlns='jabber:client'>")
        .unwrap();
    let mut texts = String::new();
    let code = loop {
        match raw.next_event().unwrap() {
            ws_codec::Event::Message(m) => {
                texts.push_str(&String::from_utf8_lossy(m.as_bytes()));
            }
            ws_codec::Event::Closed { code, .. } => break code,
            _ => {}
        }
    };
    assert!(texts.contains("not-well-formed"), "{texts}");
    assert!(
        texts.ends_with("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"),
        "{texts}"
    );
    assert_eq!(code, ws_codec::CloseCode::NORMAL);
    // The other session is untouched.
    let id = alice.conn().send_ping(None).unwrap();
    alice
        .wait(T, "the pong", |e| {
            matches!(e, Event::IqResponse { id: got, .. } if *got == id).then_some(())
        })
        .unwrap();
    alice.close(T).unwrap();
}
