//! Message and stream-state rules (§5.1, §6.2, §6.3, §6.6, §8.1).

use bytes::Bytes;
use grpc_codec::frame::{Headers, PrioritySpec, PushPromise, RstStream, WindowUpdate};
use grpc_codec::hpack::Header;
use grpc_codec::{Config, Connection, ErrorCode, Event, Frame, SettingId};

use crate::conn_support::*;

#[test]
fn malformed_requests_reset_the_stream() {
    let cases: Vec<Vec<Header>> = vec![
        vec![h(":method", "GET"), h(":path", "/")],
        [request_fields(), vec![h("connection", "close")]].concat(),
        [request_fields(), vec![h("te", "gzip")]].concat(),
        [vec![h("x", "1")], request_fields()].concat(),
        [request_fields(), vec![h(":unknown", "1")]].concat(),
        [request_fields(), vec![h("Upper", "1")]].concat(),
    ];
    for fields in cases {
        let mut p = RawPeer::client();
        p.headers(1, &fields, true);
        let (r, ev, out) = server_after(Config::default(), &p.take());
        r.unwrap();
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Request { .. })),
            "{fields:?}"
        );
        assert_eq!(
            resets(&out),
            vec![(1, ErrorCode::PROTOCOL_ERROR)],
            "{fields:?}"
        );
    }
}

#[test]
fn content_length_is_checked() {
    let mut fields = request_fields();
    fields[0] = h(":method", "POST");
    fields.push(h("content-length", "5"));
    for (body, ok) in [(&b"12345"[..], true), (b"1234", false), (b"123456", false)] {
        let mut p = RawPeer::client();
        p.headers(1, &fields, false)
            .frame(Frame::Data(grpc_codec::frame::Data::new(
                sid(1),
                Bytes::from_static(body),
                true,
            )));
        let (r, ev, out) = server_after(Config::default(), &p.take());
        r.unwrap();
        assert_eq!(resets(&out).is_empty(), ok, "{body:?}");
        assert_eq!(
            ev.iter().any(|e| matches!(
                e,
                Event::Data {
                    end_stream: true,
                    ..
                }
            )),
            ok
        );
    }
}

#[test]
fn trailers_must_end_the_stream_and_have_no_pseudo_headers() {
    for (fields, end) in [
        (vec![h("x", "1")], false),
        (vec![h(":status", "200")], true),
    ] {
        let mut p = RawPeer::client();
        p.request(1, false).headers(1, &fields, end);
        let (r, _, out) = server_after(Config::default(), &p.take());
        r.unwrap();
        assert_eq!(resets(&out), vec![(1, ErrorCode::PROTOCOL_ERROR)]);
    }
}

#[test]
fn stream_state_rules() {
    // DATA on an idle stream: connection error.
    let mut p = RawPeer::client();
    p.data(1, b"x", false);
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    // DATA after the peer's END_STREAM: stream error STREAM_CLOSED.
    let mut p = RawPeer::client();
    p.request(1, true).data(1, b"x", false);
    let (r, _, out) = server_after(Config::default(), &p.take());
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::STREAM_CLOSED)]);
    // A stream id lower than the last: connection error.
    let mut p = RawPeer::client();
    p.request(5, true).request(3, true);
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    // An even stream from a client.
    let mut p = RawPeer::client();
    p.request(2, true);
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
    // HEADERS after the peer reset the stream: a stream error
    // STREAM_CLOSED (§5.1 "closed").
    let mut p = RawPeer::client();
    p.request(1, false)
        .frame(Frame::RstStream(RstStream {
            stream_id: sid(1),
            code: ErrorCode::CANCEL,
        }))
        .request(1, true);
    let (r, ev, out) = server_after(Config::default(), &p.take());
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::STREAM_CLOSED)]);
    assert!(ev.contains(&Event::Reset {
        stream: sid(1),
        code: ErrorCode::CANCEL,
        by_peer: true
    }));
    // WINDOW_UPDATE and RST_STREAM on a closed stream are fine; on an idle
    // one they are not.
    let mut p = RawPeer::client();
    p.request(1, true)
        .frame(Frame::RstStream(RstStream {
            stream_id: sid(1),
            code: ErrorCode::CANCEL,
        }))
        .frame(Frame::WindowUpdate(WindowUpdate {
            stream_id: sid(1),
            increment: 5,
        }))
        .frame(Frame::RstStream(RstStream {
            stream_id: sid(1),
            code: ErrorCode::CANCEL,
        }));
    server_after(Config::default(), &p.take()).0.unwrap();
    let mut p = RawPeer::client();
    p.frame(Frame::RstStream(RstStream {
        stream_id: sid(1),
        code: ErrorCode::CANCEL,
    }));
    let (r, _, _) = server_after(Config::default(), &p.take());
    assert_conn_error(&r.unwrap_err(), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn priority_is_ignored_but_self_dependency_is_a_stream_error() {
    let mut p = RawPeer::client();
    let block = p.block(&request_fields());
    let mut hd = Headers::new(sid(1), block, true);
    hd.priority = Some(PrioritySpec {
        exclusive: false,
        dependency: sid(1),
        weight: 0,
    });
    p.frame(Frame::Headers(hd)).request(3, true);
    let (r, ev, out) = server_after(Config::default(), &p.take());
    r.unwrap();
    assert_eq!(resets(&out), vec![(1, ErrorCode::PROTOCOL_ERROR)]);
    // The HPACK table stayed in step: stream 3 decodes.
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Request { stream, .. } if *stream == sid(3)))
    );
}

#[test]
fn push_promise_is_a_connection_error() {
    let mut p = RawPeer::server();
    let block = p.block(&request_fields());
    p.frame(Frame::PushPromise(PushPromise {
        stream_id: sid(1),
        promised_id: sid(2),
        fragment: block,
        end_headers: true,
        pad_len: None,
    }));
    let mut c = Connection::client(Config::default(), t0());
    c.send_request(&get("/"), true).unwrap();
    let e = c.handle_input(&p.take(), t0()).unwrap_err();
    assert_conn_error(&e, ErrorCode::PROTOCOL_ERROR);
    // Sticky: more input returns the same error; the Closed event once.
    assert_eq!(c.handle_input(b"", t0()), Err(e));
    let closed: Vec<_> = events(&mut c)
        .into_iter()
        .filter(|e| matches!(e, Event::Closed { .. }))
        .collect();
    assert_eq!(closed.len(), 1);
    // The client said ENABLE_PUSH = 0.
    let mut fresh = Connection::client(Config::default(), t0());
    let out = drain(&mut fresh);
    let Frame::Settings(s) = &frames(&out)[0] else {
        panic!()
    };
    assert_eq!(s.get(SettingId::ENABLE_PUSH), Some(0));
}
