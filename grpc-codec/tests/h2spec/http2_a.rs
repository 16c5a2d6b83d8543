//! h2spec `http2` §3.5-§5.5: preface, frame format and size, header
//! compression, stream identifiers, concurrency and states, dependencies,
//! connection error handling, extensions.

use grpc_codec::{ErrorCode, Frame, FrameType};

use crate::harness::*;

fn open_post(p: &mut Peer, stream: u32) {
    let b = p.post_block();
    p.send_frame(HEADERS, END_HEADERS, stream, &b);
}

/// A GET head on `stream` without END_HEADERS (a header block left open).
fn open_block(p: &mut Peer, stream: u32) {
    let b = p.get_block();
    p.send_frame(HEADERS, END_STREAM, stream, &b);
}

/// Stream 1 half-closed (remote): a GET the application does not answer.
fn half_closed_remote(p: &mut Peer) -> Verdict {
    p.hold = true;
    p.handshake()?;
    p.get(1);
    Ok(())
}

/// Stream 1 reset by the client after a POST head.
fn reset_by_client(p: &mut Peer) -> Verdict {
    p.handshake()?;
    open_post(p, 1);
    p.send_frame(RST_STREAM, 0, 1, &8u32.to_be_bytes());
    Ok(())
}

/// Stream 1 closed: a GET and its whole response.
fn closed(p: &mut Peer) -> Verdict {
    p.handshake()?;
    p.get(1);
    p.stream_close()
}

const STREAM_CLOSED: ErrorCode = ErrorCode::STREAM_CLOSED;
const PROTOCOL: ErrorCode = ErrorCode::PROTOCOL_ERROR;
const FRAME_SIZE: ErrorCode = ErrorCode::FRAME_SIZE_ERROR;

cases! { "http2";
    "3.5" {
        preface_then_settings: "Sends client connection preface" => {
            let mut p = Peer::new();
            p.handshake()?;
            match p.seen.first() {
                Some(Frame::Settings(s)) if !s.ack => Ok(()),
                other => Err(format!("first frame {other:?}, expected SETTINGS")),
            }
        }
        invalid_preface: "Sends invalid connection preface" => {
            let mut p = Peer::new();
            p.send(b"INVALID CONNECTION PREFACE\r\n\r\n");
            p.connection_close()
        }
    }
    "4.1" {
        unknown_frame_type: "Sends a frame with unknown type" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(0x16, 0, 0, b"unknown");
            p.ping_ack()
        }
        undefined_flag: "Sends a frame with undefined flag" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PING, 0x16, 0, b"h2specpg");
            match p.wait_frame(FrameType::PING)? {
                Frame::Ping(ping) if ping.ack && &ping.data == b"h2specpg" => Ok(()),
                other => Err(format!("{other:?}, expected PING ACK")),
            }
        }
        reserved_bit: "Sends a frame with reserved field bit" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send(&raw(PING, 0, 0x8000_0000, b"h2specpg"));
            match p.wait_frame(FrameType::PING)? {
                Frame::Ping(ping) if ping.ack && &ping.data == b"h2specpg" => Ok(()),
                other => Err(format!("{other:?}, expected PING ACK")),
            }
        }
    }
    "4.2" {
        data_2_14_octets: "Sends a DATA frame with 2^14 octets in length" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_post(&mut p, 1);
            p.send_frame(DATA, END_STREAM, 1, &[b'x'; 1 << 14]);
            p.stream_close()
        }
        data_too_large: "Sends a large size DATA frame that exceeds the SETTINGS_MAX_FRAME_SIZE" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_post(&mut p, 1);
            p.send_frame(DATA, END_STREAM, 1, &[b'x'; (1 << 14) + 1]);
            p.stream_error(&[FRAME_SIZE])
        }
        headers_too_large: "Sends a large size HEADERS frame that exceeds the SETTINGS_MAX_FRAME_SIZE" => {
            let mut p = Peer::new();
            p.handshake()?;
            let mut block = p.get_block();
            while block.len() <= 1 << 14 {
                block.extend(p.dummy_block(5));
            }
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block);
            p.connection_error(&[FRAME_SIZE])
        }
    }
    "4.3" {
        invalid_header_block: "Sends invalid header block fragment" => {
            let mut p = Peer::new();
            p.handshake()?;
            // A literal with incremental indexing and a new name, cut short.
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &[0x40]);
            p.connection_error(&[ErrorCode::COMPRESSION_ERROR])
        }
        priority_inside_header_block: "Sends a PRIORITY frame while sending the header blocks" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_block(&mut p, 1);
            p.send_frame(PRIORITY, 0, 1, &[0, 0, 0, 0, 255]);
            p.connection_error(&[PROTOCOL])
        }
        headers_other_stream_inside_block: "Sends a HEADERS frame to another stream while sending the header blocks" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_block(&mut p, 1);
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 3, &b);
            p.connection_error(&[PROTOCOL])
        }
    }
    "5.1.1" {
        even_stream_id: "Sends even-numbered stream identifier" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.get(2);
            p.connection_error(&[PROTOCOL])
        }
        smaller_stream_id: "Sends stream identifier that is numerically smaller than previous" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.get(5);
            p.stream_close()?;
            p.get(3);
            p.connection_error(&[PROTOCOL])
        }
    }
    "5.1.2" {
        concurrency_exceeded: "Sends HEADERS frames that causes their advertised concurrent stream limit to be exceeded" => {
            let mut p = Peer::new();
            p.handshake()?;
            let max = p.server_max_streams().ok_or("server sent no SETTINGS_MAX_CONCURRENT_STREAMS")?;
            for i in 0..=max {
                open_post(&mut p, 2 * i + 1);
            }
            p.stream_error(&[PROTOCOL, ErrorCode::REFUSED_STREAM])
        }
    }
    "5.1" {
        idle_data: "idle: Sends a DATA frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(DATA, END_STREAM, 1, b"test");
            p.connection_error(&[PROTOCOL])
        }
        idle_rst_stream: "idle: Sends a RST_STREAM frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(RST_STREAM, 0, 1, &8u32.to_be_bytes());
            p.connection_error(&[PROTOCOL])
        }
        idle_window_update: "idle: Sends a WINDOW_UPDATE frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(WINDOW_UPDATE, 0, 1, &100u32.to_be_bytes());
            p.connection_error(&[PROTOCOL])
        }
        idle_continuation: "idle: Sends a CONTINUATION frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            p.connection_error(&[PROTOCOL])
        }
        half_closed_remote_data: "half closed (remote): Sends a DATA frame" => {
            let mut p = Peer::new();
            half_closed_remote(&mut p)?;
            p.send_frame(DATA, END_STREAM, 1, b"test");
            p.stream_error(&[STREAM_CLOSED])
        }
        half_closed_remote_headers: "half closed (remote): Sends a HEADERS frame" => {
            let mut p = Peer::new();
            half_closed_remote(&mut p)?;
            p.get(1);
            p.stream_error(&[STREAM_CLOSED])
        }
        half_closed_remote_continuation: "half closed (remote): Sends a CONTINUATION frame" => {
            let mut p = Peer::new();
            half_closed_remote(&mut p)?;
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            p.stream_error(&[STREAM_CLOSED, PROTOCOL])
        }
        closed_after_rst_data: "closed: Sends a DATA frame after sending RST_STREAM frame" => {
            let mut p = Peer::new();
            reset_by_client(&mut p)?;
            p.send_frame(DATA, END_STREAM, 1, b"test");
            p.stream_error(&[STREAM_CLOSED])
        }
        closed_after_rst_headers: "closed: Sends a HEADERS frame after sending RST_STREAM frame" => {
            let mut p = Peer::new();
            reset_by_client(&mut p)?;
            p.get(1);
            p.stream_error(&[STREAM_CLOSED])
        }
        closed_after_rst_continuation: "closed: Sends a CONTINUATION frame after sending RST_STREAM frame" => {
            let mut p = Peer::new();
            reset_by_client(&mut p)?;
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            p.stream_error(&[STREAM_CLOSED, PROTOCOL])
        }
        closed_data: "closed: Sends a DATA frame" => {
            let mut p = Peer::new();
            closed(&mut p)?;
            p.send_frame(DATA, END_STREAM, 1, b"test");
            p.connection_error(&[STREAM_CLOSED])
        }
        closed_headers: "closed: Sends a HEADERS frame" => {
            let mut p = Peer::new();
            closed(&mut p)?;
            p.get(1);
            p.connection_error(&[STREAM_CLOSED])
        }
        closed_continuation: "closed: Sends a CONTINUATION frame" => {
            let mut p = Peer::new();
            closed(&mut p)?;
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            p.connection_error(&[STREAM_CLOSED, PROTOCOL])
        }
    }
    "5.3.1" {
        headers_self_dependency: "Sends HEADERS frame that depends on itself" => {
            let mut p = Peer::new();
            p.handshake()?;
            let mut payload = vec![0, 0, 0, 1, 255];
            payload.extend(p.get_block());
            p.send_frame(HEADERS, END_STREAM | END_HEADERS | PRIO, 1, &payload);
            p.stream_error(&[PROTOCOL])
        }
        priority_self_dependency: "Sends PRIORITY frame that depend on itself" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PRIORITY, 0, 3, &[0, 0, 0, 3, 255]);
            p.stream_error(&[PROTOCOL])
        }
    }
    "5.4.1" {
        invalid_ping_closes: "Sends an invalid PING frame for connection close" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PING, 0, 3, b"h2specpg");
            p.connection_close()
        }
        invalid_ping_goaway: "Sends an invalid PING frame to receive GOAWAY frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PING, 0, 3, b"h2specpg");
            p.wait_frame(FrameType::GOAWAY).map(|_| ())
        }
    }
    "5.5" {
        unknown_extension_frame: "Sends an unknown extension frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(0xff, 0, 0, b"unknown");
            p.ping_ack()
        }
        unknown_extension_inside_block: "Sends an unknown extension frame in the middle of a header block" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_block(&mut p, 1);
            p.send_frame(0xff, 0, 1, b"unknown");
            p.connection_error(&[PROTOCOL])
        }
    }
}
