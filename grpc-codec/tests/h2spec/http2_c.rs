//! h2spec `http2` §6.7-§8.2: PING, GOAWAY, flow control, CONTINUATION,
//! error codes, HTTP message rules and server push; plus the request
//! pseudo-header and content-length cases of h2spec's §8.1.2.3 and
//! §8.1.2.6, which the case list leaves out.

use grpc_codec::hpack::Header;
use grpc_codec::{ErrorCode, Frame, FrameType};

use crate::harness::*;

const PROTOCOL: ErrorCode = ErrorCode::PROTOCOL_ERROR;
const FLOW: ErrorCode = ErrorCode::FLOW_CONTROL_ERROR;

fn open_post(p: &mut Peer, stream: u32) {
    let b = p.post_block();
    p.send_frame(HEADERS, END_HEADERS, stream, &b);
}

fn settings_ack(p: &mut Peer) -> Verdict {
    match p.wait_frame(FrameType::SETTINGS)? {
        Frame::Settings(s) if s.ack => Ok(()),
        other => Err(format!("{other:?}, expected SETTINGS ACK")),
    }
}

fn data_of_len(p: &mut Peer, len: usize) -> Verdict {
    match p.wait_frame(FrameType::DATA)? {
        Frame::Data(d) if d.data.len() == len => Ok(()),
        other => Err(format!("{other:?}, expected DATA of length {len}")),
    }
}

/// A request on stream 1 with `fields` (raw, as given) and END_STREAM;
/// the server must reset it with PROTOCOL_ERROR.
fn malformed(fields: &[(&str, &str)]) -> Verdict {
    let mut p = Peer::new();
    p.handshake()?;
    let fields: Vec<Header> = fields
        .iter()
        .map(|(n, v)| Header::new(n.to_string(), v.to_string()))
        .collect();
    let b = p.encode(&fields);
    p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &b);
    p.stream_error(&[PROTOCOL])
}

const M: (&str, &str) = (":method", "GET");
const S: (&str, &str) = (":scheme", "http");
const P: (&str, &str) = (":path", "/");
const A: (&str, &str) = (":authority", "127.0.0.1");

/// A POST with `content-length: 4` on stream 1 whose DATA frames carry
/// `bodies`; the server must reset it with PROTOCOL_ERROR (§8.1.1).
fn content_length_mismatch(bodies: &[&[u8]]) -> Verdict {
    let mut p = Peer::new();
    p.handshake()?;
    let mut fields = Peer::common_headers("POST");
    fields.push(Header::new("content-length", "4"));
    let b = p.encode(&fields);
    p.send_frame(HEADERS, END_HEADERS, 1, &b);
    for (i, body) in bodies.iter().enumerate() {
        let flags = if i + 1 == bodies.len() { END_STREAM } else { 0 };
        p.send_frame(DATA, flags, 1, body);
    }
    p.stream_error(&[PROTOCOL])
}

cases! { "http2";
    "6.7" {
        ping_answered: "Sends a PING frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.ping_ack()
        }
        ping_ack_not_answered: "Sends a PING frame with ACK" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PING, ACK, 0, b"unsolici");
            p.send_frame(PING, 0, 0, b"h2specpg");
            match p.wait_frame(FrameType::PING)? {
                Frame::Ping(ping) if ping.ack && &ping.data == b"h2specpg" => Ok(()),
                other => Err(format!("{other:?}, expected only the ACK of the second PING")),
            }
        }
        ping_nonzero_stream: "Sends a PING frame with a stream identifier field value other than 0x0" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PING, 0, 1, b"h2specpg");
            p.connection_error(&[PROTOCOL])
        }
        ping_bad_length: "Sends a PING frame with a length field value other than 8" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PING, 0, 0, b"h2spec");
            p.connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
        }
    }
    "6.8" {
        goaway_nonzero_stream: "Sends a GOAWAY frame with a stream identifier other than 0x0" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(GOAWAY, 0, 1, &[0, 0, 0, 0, 0, 0, 0, 0]);
            p.connection_error(&[PROTOCOL])
        }
    }
    "6.9.1" {
        window_of_one: "Sends SETTINGS frame to set the initial window size to 1 and sends HEADERS frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, 0, 0, &settings(&[(0x4, 1)]));
            settings_ack(&mut p)?;
            p.get(1);
            data_of_len(&mut p, 1)
        }
        connection_window_overflow: "Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes());
            p.send_frame(WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes());
            match p.wait_frame(FrameType::GOAWAY)? {
                Frame::GoAway(g) if g.code == FLOW => Ok(()),
                other => Err(format!("{other:?}, expected GOAWAY FLOW_CONTROL_ERROR")),
            }
        }
        stream_window_overflow: "Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1 on a stream" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_post(&mut p, 1);
            p.send_frame(WINDOW_UPDATE, 0, 1, &0x7fff_ffffu32.to_be_bytes());
            p.send_frame(WINDOW_UPDATE, 0, 1, &0x7fff_ffffu32.to_be_bytes());
            match p.wait_frame(FrameType::RST_STREAM)? {
                Frame::RstStream(r) if r.code == FLOW && r.stream_id.value() == 1 => Ok(()),
                other => Err(format!("{other:?}, expected RST_STREAM FLOW_CONTROL_ERROR on 1")),
            }
        }
    }
    "6.9.2" {
        initial_window_change: "Changes SETTINGS_INITIAL_WINDOW_SIZE after sending HEADERS frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, 0, 0, &settings(&[(0x4, 0)]));
            settings_ack(&mut p)?;
            p.get(1);
            p.send_frame(SETTINGS, 0, 0, &settings(&[(0x4, 1)]));
            settings_ack(&mut p)?;
            data_of_len(&mut p, 1)
        }
        negative_window: "Sends a SETTINGS frame for window size to be negative" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, 0, 0, &settings(&[(0x4, 3)]));
            settings_ack(&mut p)?;
            p.get(1);
            data_of_len(&mut p, 3)?;
            p.send_frame(SETTINGS, 0, 0, &settings(&[(0x4, 2)]));
            settings_ack(&mut p)?;
            // The window is now -1; 2 more make it 1.
            p.send_frame(WINDOW_UPDATE, 0, 1, &2u32.to_be_bytes());
            data_of_len(&mut p, 1)
        }
        initial_window_too_large: "Sends a SETTINGS_INITIAL_WINDOW_SIZE settings with an exceeded maximum window size value" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send(&[0, 0, 6, 4, 0, 0, 0, 0, 0]);
            p.send(&[0, 4, 0x80, 0, 0, 0]);
            p.connection_error(&[FLOW])
        }
    }
    "6.9" {
        window_update_zero: "Sends a WINDOW_UPDATE frame with a flow control window increment of 0" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(WINDOW_UPDATE, 0, 0, &0u32.to_be_bytes());
            p.connection_error(&[PROTOCOL])
        }
        window_update_zero_stream: "Sends a WINDOW_UPDATE frame with a flow control window increment of 0 on a stream" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_post(&mut p, 1);
            p.send_frame(WINDOW_UPDATE, 0, 1, &0u32.to_be_bytes());
            p.stream_error(&[PROTOCOL])
        }
        window_update_bad_length: "Sends a WINDOW_UPDATE frame with a length other than 4 octets" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(WINDOW_UPDATE, 0, 0, &[0, 0, 1]);
            p.connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
        }
    }
    "6.10" {
        continuations_accepted: "Sends multiple CONTINUATION frames preceded by a HEADERS frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM, 1, &b);
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, 0, 1, &d);
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            p.stream_close()
        }
        continuation_then_other: "Sends a CONTINUATION frame followed by any frame other than CONTINUATION" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM, 1, &b);
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, 0, 1, &d);
            p.send_frame(DATA, END_STREAM, 1, b"test");
            p.connection_error(&[PROTOCOL])
        }
        continuation_stream_0: "Sends a CONTINUATION frame with 0x0 stream identifier" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM, 1, &b);
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 0, &d);
            p.connection_error(&[PROTOCOL])
        }
        continuation_after_end_headers: "Sends a CONTINUATION frame preceded by a HEADERS frame with END_HEADERS flag" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.get(1);
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            p.connection_error(&[PROTOCOL])
        }
        continuation_after_ended_continuation: "Sends a CONTINUATION frame preceded by a CONTINUATION frame with END_HEADERS flag" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM, 1, &b);
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            p.connection_error(&[PROTOCOL])
        }
        continuation_after_data: "Sends a CONTINUATION frame preceded by a DATA frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_post(&mut p, 1);
            p.send_frame(DATA, 0, 1, b"test");
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            p.connection_error(&[PROTOCOL])
        }
    }
    "7" {
        goaway_unknown_code: "Sends a GOAWAY frame with unknown error code" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(GOAWAY, 0, 0, &[0, 0, 0, 0, 0, 0, 0, 0xff]);
            p.ping_or_close()
        }
        rst_stream_unknown_code: "Sends a RST_STREAM frame with unknown error code" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_post(&mut p, 1);
            p.send_frame(RST_STREAM, 0, 1, &0xffu32.to_be_bytes());
            p.ping_ack()?;
            p.no_errors()
        }
    }
    "8.1.2.1" {
        unknown_pseudo_header: "Sends a HEADERS frame that contains a unknown pseudo-header field" => {
            malformed(&[M, S, P, A, (":test", "ok")])
        }
        response_pseudo_header: "Sends a HEADERS frame that contains the pseudo-header field defined for response" => {
            malformed(&[M, S, P, A, (":status", "200")])
        }
        pseudo_header_in_trailers: "Sends a HEADERS frame that contains a pseudo-header field as trailers" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_post(&mut p, 1);
            p.send_frame(DATA, 0, 1, b"test");
            let t = p.encode(&[Header::new(":method", "POST"), Header::new("x-trailer", "t")]);
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &t);
            p.stream_error(&[PROTOCOL])
        }
        pseudo_after_regular: "Sends a HEADERS frame that contains a pseudo-header field that appears in a header block after a regular header field" => {
            malformed(&[M, S, P, ("x-test", "ok"), A])
        }
    }
    "8.1.2.2" {
        connection_specific_header: "Sends a HEADERS frame that contains the connection-specific header field" => {
            malformed(&[M, S, P, A, ("connection", "keep-alive")])
        }
        te_not_trailers: "Sends a HEADERS frame that contains the TE header field with any value other than \"trailers\"" => {
            malformed(&[M, S, P, A, ("te", "trailers, deflate")])
        }
    }
    "8.1.2" {
        uppercase_field_name: "Sends a HEADERS frame that contains the header field name in uppercase letters" => {
            malformed(&[M, S, P, A, ("X-TEST", "ok")])
        }
    }
    "8.1.2.3" {
        empty_path: "Sends a HEADERS frame with empty \":path\" pseudo-header field" => {
            malformed(&[M, S, (":path", ""), A])
        }
        no_method: "Sends a HEADERS frame that omits \":method\" pseudo-header field" => {
            malformed(&[S, P, A])
        }
        no_scheme: "Sends a HEADERS frame that omits \":scheme\" pseudo-header field" => {
            malformed(&[M, P, A])
        }
        no_path: "Sends a HEADERS frame that omits \":path\" pseudo-header field" => {
            malformed(&[M, S, A])
        }
        duplicate_method: "Sends a HEADERS frame with duplicated \":method\" pseudo-header field" => {
            malformed(&[M, M, S, P, A])
        }
        duplicate_scheme: "Sends a HEADERS frame with duplicated \":scheme\" pseudo-header field" => {
            malformed(&[M, S, S, P, A])
        }
        duplicate_path: "Sends a HEADERS frame with duplicated \":path\" pseudo-header field" => {
            malformed(&[M, S, P, P, A])
        }
    }
    "8.1.2.6" {
        content_length_one_data: "Sends a HEADERS frame with the \"content-length\" header field which does not equal the DATA frame payload length" => {
            content_length_mismatch(&[b"test!"])
        }
        content_length_many_data: "Sends a HEADERS frame with the \"content-length\" header field which does not equal the sum of the multiple DATA frames payload length" => {
            content_length_mismatch(&[b"te", b"st", b"!"])
        }
    }
    "8.1" {
        second_headers_without_end_stream: "Sends a second HEADERS frame without the END_STREAM flag" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_post(&mut p, 1);
            p.send_frame(DATA, 0, 1, b"test");
            let t = p.encode(&[Header::new("x-trailer", "t")]);
            p.send_frame(HEADERS, END_HEADERS, 1, &t);
            p.stream_error(&[PROTOCOL])
        }
    }
    "8.2" {
        push_promise_from_client: "Sends a PUSH_PROMISE frame" => {
            let mut p = Peer::new();
            p.hold = true;
            p.handshake()?;
            p.get(1);
            let mut payload = 2u32.to_be_bytes().to_vec();
            payload.extend(p.get_block());
            p.send_frame(PUSH_PROMISE, END_HEADERS, 1, &payload);
            p.connection_error(&[PROTOCOL])
        }
    }
}
