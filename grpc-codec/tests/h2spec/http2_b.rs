//! h2spec `http2` §6.1-§6.5: DATA, HEADERS, PRIORITY, RST_STREAM and
//! SETTINGS frame rules.

use grpc_codec::{ErrorCode, Frame, FrameType};

use crate::harness::*;

const PROTOCOL: ErrorCode = ErrorCode::PROTOCOL_ERROR;
const FRAME_SIZE: ErrorCode = ErrorCode::FRAME_SIZE_ERROR;

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

fn bad_setting(id: u16, value: u32, code: ErrorCode) -> Verdict {
    let mut p = Peer::new();
    p.handshake()?;
    p.send_frame(SETTINGS, 0, 0, &settings(&[(id, value)]));
    p.connection_error(&[code])
}

cases! { "http2";
    "6.1" {
        data_stream_0: "Sends a DATA frame with 0x0 stream identifier" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(DATA, END_STREAM, 0, b"test");
            p.connection_error(&[PROTOCOL])
        }
        data_invalid_pad_length: "Sends a DATA frame with invalid pad length" => {
            let mut p = Peer::new();
            p.handshake()?;
            open_post(&mut p, 1);
            // Pad Length 6 in a 5-octet payload.
            p.send_frame(DATA, END_STREAM | PADDED, 1, &[6, b'T', b'e', b's', b't']);
            p.connection_error(&[PROTOCOL])
        }
    }
    "6.2" {
        headers_then_priority: "Sends a HEADERS frame without the END_HEADERS flag, and a PRIORITY frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM, 1, &b);
            p.send_frame(PRIORITY, 0, 1, &[0, 0, 0, 0, 255]);
            p.connection_error(&[PROTOCOL])
        }
        headers_then_other_stream: "Sends a HEADERS frame to another stream while sending a HEADERS frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM, 1, &b);
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 3, &b);
            p.connection_error(&[PROTOCOL])
        }
        headers_stream_0: "Sends a HEADERS frame with 0x0 stream identifier" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 0, &b);
            p.connection_error(&[PROTOCOL])
        }
        headers_invalid_pad_length: "Sends a HEADERS frame with invalid pad length" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.get_block();
            let mut payload = vec![u8::try_from(b.len() + 1).unwrap()];
            payload.extend(b);
            p.send_frame(HEADERS, END_STREAM | END_HEADERS | PADDED, 1, &payload);
            p.connection_error(&[PROTOCOL])
        }
    }
    "6.3" {
        priority_stream_0: "Sends a PRIORITY frame with 0x0 stream identifier" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PRIORITY, 0, 0, &[0, 0, 0, 1, 255]);
            p.connection_error(&[PROTOCOL])
        }
        priority_bad_length: "Sends a PRIORITY frame with a length other than 5 octets" => {
            let mut p = Peer::new();
            p.hold = true;
            p.handshake()?;
            p.get(1);
            p.send_frame(PRIORITY, 0, 1, &[0, 0, 0, 0]);
            p.stream_error(&[FRAME_SIZE])
        }
    }
    "6.4" {
        rst_stream_stream_0: "Sends a RST_STREAM frame with 0x0 stream identifier" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(RST_STREAM, 0, 0, &8u32.to_be_bytes());
            p.connection_error(&[PROTOCOL])
        }
        rst_stream_idle: "Sends a RST_STREAM frame on a idle stream" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(RST_STREAM, 0, 1, &8u32.to_be_bytes());
            p.connection_error(&[PROTOCOL])
        }
        rst_stream_bad_length: "Sends a RST_STREAM frame with a length other than 4 octets" => {
            let mut p = Peer::new();
            p.hold = true;
            p.handshake()?;
            p.get(1);
            p.send_frame(RST_STREAM, 0, 1, &[0, 0, 8]);
            p.connection_error(&[FRAME_SIZE])
        }
    }
    "6.5.2" {
        enable_push_invalid: "SETTINGS_ENABLE_PUSH (0x2): Sends the value other than 0 or 1" => {
            bad_setting(0x2, 2, PROTOCOL)
        }
        initial_window_too_large: "SETTINGS_INITIAL_WINDOW_SIZE (0x4): Sends the value above the maximum flow control window size" => {
            bad_setting(0x4, 1 << 31, ErrorCode::FLOW_CONTROL_ERROR)
        }
        max_frame_size_too_small: "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value below the initial value" => {
            bad_setting(0x5, (1 << 14) - 1, PROTOCOL)
        }
        max_frame_size_too_large: "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value above the maximum allowed frame size" => {
            bad_setting(0x5, 1 << 24, PROTOCOL)
        }
        unknown_setting: "Sends a SETTINGS frame with unknown identifier" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, 0, 0, &settings(&[(0xff, 1)]));
            settings_ack(&mut p)?;
            p.ping_ack()
        }
    }
    "6.5.3" {
        initial_window_in_order: "Sends multiple values of SETTINGS_INITIAL_WINDOW_SIZE" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, 0, 0, &settings(&[(0x4, 100), (0x4, 1)]));
            settings_ack(&mut p)?;
            p.get(1);
            match p.wait_frame(FrameType::DATA)? {
                Frame::Data(d) if d.data.len() == 1 => Ok(()),
                other => Err(format!("{other:?}, expected DATA of length 1")),
            }
        }
        settings_acked: "Sends a SETTINGS frame without ACK flag" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, 0, 0, &settings(&[(0x3, 100)]));
            settings_ack(&mut p)
        }
    }
    "6.5" {
        settings_ack_with_payload: "Sends a SETTINGS frame with ACK flag and payload" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, ACK, 0, &settings(&[(0x3, 100)]));
            p.connection_error(&[FRAME_SIZE])
        }
        settings_nonzero_stream: "Sends a SETTINGS frame with a stream identifier other than 0x0" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, 0, 1, &settings(&[(0x3, 100)]));
            p.connection_error(&[PROTOCOL])
        }
        settings_bad_length: "Sends a SETTINGS frame with a length other than a multiple of 6 octets" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, 0, 0, &[0, 3, 0, 0]);
            p.connection_error(&[FRAME_SIZE])
        }
    }
}
