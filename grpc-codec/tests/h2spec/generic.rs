//! h2spec `generic`: frames and exchanges any endpoint must accept.

use bytes::BytesMut;
use grpc_codec::FrameType;
use grpc_codec::hpack::huffman;

use crate::harness::*;

/// A request head on stream 1 with END_STREAM, then the response.
fn get_and_close(p: &mut Peer) -> Verdict {
    p.get(1);
    p.stream_close()
}

fn priority(dep: u32, exclusive: bool, weight: u8) -> Vec<u8> {
    let mut v = (dep | if exclusive { 1 << 31 } else { 0 })
        .to_be_bytes()
        .to_vec();
    v.push(weight);
    v
}

fn huff(s: &str) -> Vec<u8> {
    let mut b = BytesMut::new();
    huffman::encode(s.as_bytes(), &mut b);
    let mut v = vec![0x80 | u8::try_from(b.len()).unwrap()];
    v.extend_from_slice(&b);
    v
}

fn plain(s: &str) -> Vec<u8> {
    let mut v = vec![u8::try_from(s.len()).unwrap()];
    v.extend_from_slice(s.as_bytes());
    v
}

/// `:method GET`, `:scheme http`, `:path /` indexed, then `tail` (which
/// must carry `:authority` or another field).
fn hpack_request(p: &mut Peer, tail: &[u8]) -> Verdict {
    let mut block = vec![0x82, 0x86, 0x84];
    block.extend_from_slice(tail);
    p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block);
    p.stream_close()
}

/// `:authority` (static index 1) with `prefix` as the representation's
/// first byte and the value `127.0.0.1`.
fn indexed_name(prefix: u8, huffman: bool) -> Vec<u8> {
    let mut v = vec![prefix];
    v.extend(if huffman {
        huff("127.0.0.1")
    } else {
        plain("127.0.0.1")
    });
    v
}

/// `:authority` indexed-name literal, then a new-name field `x-test: ok`
/// with `first` as the representation byte.
fn new_name(first: u8, huffman: bool) -> Vec<u8> {
    let mut v = indexed_name(0x01, false);
    v.push(first);
    let enc = |s: &str| if huffman { huff(s) } else { plain(s) };
    v.extend(enc("x-test"));
    v.extend(enc("ok"));
    v
}

cases! { "generic";
    "1" {
        client_preface: "Sends a client connection preface" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.ping_ack()
        }
    }
    "2" {
        priority_idle: "Sends a PRIORITY frame on idle stream" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PRIORITY, 0, 1, &priority(0, false, 255));
            get_and_close(&mut p)
        }
        window_update_half_closed_remote: "Sends a WINDOW_UPDATE frame on half-closed (remote) stream" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.get(1);
            p.send_frame(WINDOW_UPDATE, 0, 1, &1u32.to_be_bytes());
            p.stream_close()?;
            p.ping_ack()
        }
        priority_half_closed_remote: "Sends a PRIORITY frame on half-closed (remote) stream" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.get(1);
            p.send_frame(PRIORITY, 0, 1, &priority(0, false, 255));
            p.stream_close()?;
            p.ping_ack()
        }
        rst_stream_half_closed_remote: "Sends a RST_STREAM frame on half-closed (remote) stream" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.get(1);
            p.send_frame(RST_STREAM, 0, 1, &8u32.to_be_bytes());
            p.ping_ack()
        }
        priority_closed: "Sends a PRIORITY frame on closed stream" => {
            let mut p = Peer::new();
            p.handshake()?;
            get_and_close(&mut p)?;
            p.send_frame(PRIORITY, 0, 1, &priority(0, false, 255));
            p.ping_ack()
        }
    }
    "3.1" {
        data_frame: "Sends a DATA frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.post_block();
            p.send_frame(HEADERS, END_HEADERS, 1, &b);
            p.send_frame(DATA, END_STREAM, 1, b"test");
            p.stream_close()
        }
        multiple_data_frames: "Sends multiple DATA frames" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.post_block();
            p.send_frame(HEADERS, END_HEADERS, 1, &b);
            p.send_frame(DATA, 0, 1, b"test");
            p.send_frame(DATA, END_STREAM, 1, b"test");
            p.stream_close()
        }
        data_frame_with_padding: "Sends a DATA frame with padding" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.post_block();
            p.send_frame(HEADERS, END_HEADERS, 1, &b);
            let mut payload = vec![8];
            payload.extend_from_slice(b"test");
            payload.extend_from_slice(&[0; 8]);
            p.send_frame(DATA, END_STREAM | PADDED, 1, &payload);
            p.stream_close()
        }
    }
    "3.2" {
        headers_frame: "Sends a HEADERS frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            get_and_close(&mut p)
        }
        headers_frame_with_padding: "Sends a HEADERS frame with padding" => {
            let mut p = Peer::new();
            p.handshake()?;
            let mut payload = vec![8];
            payload.extend(p.get_block());
            payload.extend_from_slice(&[0; 8]);
            p.send_frame(HEADERS, END_STREAM | END_HEADERS | PADDED, 1, &payload);
            p.stream_close()
        }
        headers_frame_with_priority: "Sends a HEADERS frame with priority" => {
            let mut p = Peer::new();
            p.handshake()?;
            let mut payload = priority(0, false, 255);
            payload.extend(p.get_block());
            p.send_frame(HEADERS, END_STREAM | END_HEADERS | PRIO, 1, &payload);
            p.stream_close()
        }
    }
    "3.3" {
        priority_weight_1: "Sends a PRIORITY frame with priority 1" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PRIORITY, 0, 1, &priority(0, false, 0));
            get_and_close(&mut p)
        }
        priority_weight_256: "Sends a PRIORITY frame with priority 256" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PRIORITY, 0, 1, &priority(0, false, 255));
            get_and_close(&mut p)
        }
        priority_dependency: "Sends a PRIORITY frame with stream dependency" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PRIORITY, 0, 3, &priority(1, false, 15));
            get_and_close(&mut p)
        }
        priority_exclusive: "Sends a PRIORITY frame with exclusive" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PRIORITY, 0, 3, &priority(1, true, 15));
            get_and_close(&mut p)
        }
        priority_idle_then_lower_headers: "Sends a PRIORITY frame for an idle stream, then send a HEADER frame for a lower stream ID" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(PRIORITY, 0, 3, &priority(0, false, 255));
            get_and_close(&mut p)
        }
    }
    "3.4" {
        rst_stream_frame: "Sends a RST_STREAM frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.post_block();
            p.send_frame(HEADERS, END_HEADERS, 1, &b);
            p.send_frame(RST_STREAM, 0, 1, &8u32.to_be_bytes());
            p.ping_ack()?;
            p.no_errors()
        }
    }
    "3.5" {
        settings_frame: "Sends a SETTINGS frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(SETTINGS, 0, 0, &settings(&[(0x3, 100), (0x4, 65535)]));
            match p.wait_frame(FrameType::SETTINGS)? {
                grpc_codec::Frame::Settings(s) if s.ack => Ok(()),
                other => Err(format!("{other:?}, expected SETTINGS ACK")),
            }
        }
    }
    "3.7" {
        ping_frame: "Sends a PING frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.ping_ack()
        }
    }
    "3.8" {
        goaway_frame: "Sends a GOAWAY frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(GOAWAY, 0, 0, &[0, 0, 0, 0, 0, 0, 0, 0]);
            p.ping_or_close()
        }
    }
    "3.9" {
        window_update_stream_0: "Sends a WINDOW_UPDATE frame with stream ID 0" => {
            let mut p = Peer::new();
            p.handshake()?;
            p.send_frame(WINDOW_UPDATE, 0, 0, &1u32.to_be_bytes());
            p.ping_ack()
        }
        window_update_stream_1: "Sends a WINDOW_UPDATE frame with stream ID 1" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.post_block();
            p.send_frame(HEADERS, END_HEADERS, 1, &b);
            p.send_frame(WINDOW_UPDATE, 0, 1, &1u32.to_be_bytes());
            p.ping_ack()?;
            p.no_errors()
        }
    }
    "3.10" {
        continuation_frame: "Sends a CONTINUATION frame" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.get_block();
            p.send_frame(HEADERS, END_STREAM, 1, &b);
            let d = p.dummy_block(1);
            p.send_frame(CONTINUATION, END_HEADERS, 1, &d);
            p.stream_close()
        }
        multiple_continuation_frames: "Sends multiple CONTINUATION frames" => {
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
    }
    "4" {
        get_request: "Sends a GET request" => {
            let mut p = Peer::new();
            p.handshake()?;
            get_and_close(&mut p)
        }
        head_request: "Sends a HEAD request" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.encode(&Peer::common_headers("HEAD"));
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &b);
            match p.wait_frame(FrameType::HEADERS)? {
                grpc_codec::Frame::Headers(h) if h.end_stream => Ok(()),
                other => Err(format!("{other:?}, expected HEADERS with END_STREAM")),
            }
        }
        post_request: "Sends a POST request" => {
            let mut p = Peer::new();
            p.handshake()?;
            let mut fields = Peer::common_headers("POST");
            fields.push(grpc_codec::hpack::Header::new("content-length", "4"));
            let b = p.encode(&fields);
            p.send_frame(HEADERS, END_HEADERS, 1, &b);
            p.send_frame(DATA, END_STREAM, 1, b"test");
            p.stream_close()
        }
        post_request_with_trailers: "Sends a POST request with trailers" => {
            let mut p = Peer::new();
            p.handshake()?;
            let b = p.post_block();
            p.send_frame(HEADERS, END_HEADERS, 1, &b);
            p.send_frame(DATA, 0, 1, b"test");
            let t = p.encode(&[grpc_codec::hpack::Header::new("x-trailer", "done")]);
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &t);
            p.stream_close()
        }
    }
    "5" {
        hpack_indexed: "Sends a indexed header field representation" => {
            let mut p = Peer::new();
            p.handshake()?;
            // `x-test: ok` with indexing enters the table; index 62 repeats it.
            let mut tail = new_name(0x40, false);
            tail.push(0xbe);
            hpack_request(&mut p, &tail)
        }
        hpack_incremental_indexed_name: "Sends a literal header field with incremental indexing - indexed name" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &indexed_name(0x41, false))
        }
        hpack_incremental_indexed_name_huffman: "Sends a literal header field with incremental indexing - indexed name (with Huffman coding)" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &indexed_name(0x41, true))
        }
        hpack_incremental_new_name: "Sends a literal header field with incremental indexing - new name" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &new_name(0x40, false))
        }
        hpack_incremental_new_name_huffman: "Sends a literal header field with incremental indexing - new name (with Huffman coding)" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &new_name(0x40, true))
        }
        hpack_without_indexing_indexed_name: "Sends a literal header field without indexing - indexed name" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &indexed_name(0x01, false))
        }
        hpack_without_indexing_indexed_name_huffman: "Sends a literal header field without indexing - indexed name (with Huffman coding)" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &indexed_name(0x01, true))
        }
        hpack_without_indexing_new_name: "Sends a literal header field without indexing - new name" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &new_name(0x00, false))
        }
        hpack_without_indexing_new_name_huffman: "Sends a literal header field without indexing - new name (huffman encoded)" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &new_name(0x00, true))
        }
        hpack_never_indexed_indexed_name: "Sends a literal header field never indexed - indexed name" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &indexed_name(0x11, false))
        }
        hpack_never_indexed_indexed_name_huffman: "Sends a literal header field never indexed - indexed name (huffman encoded)" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &indexed_name(0x11, true))
        }
        hpack_never_indexed_new_name: "Sends a literal header field never indexed - new name" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &new_name(0x10, false))
        }
        hpack_never_indexed_new_name_huffman: "Sends a literal header field never indexed - new name (huffman encoded)" => {
            let mut p = Peer::new();
            p.handshake()?;
            hpack_request(&mut p, &new_name(0x10, true))
        }
        hpack_table_size_update: "Sends a dynamic table size update" => {
            let mut p = Peer::new();
            p.handshake()?;
            // Size update to 4096 (5-bit prefix: 31 + 4065) starts the block.
            let mut block = vec![0x3f, 0xe1, 0x1f, 0x82, 0x86, 0x84];
            block.extend(indexed_name(0x41, false));
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block);
            p.stream_close()
        }
        hpack_multiple_table_size_updates: "Sends multiple dynamic table size update" => {
            let mut p = Peer::new();
            p.handshake()?;
            let mut block = vec![0x20, 0x3f, 0xe1, 0x1f, 0x82, 0x86, 0x84];
            block.extend(indexed_name(0x41, false));
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block);
            p.stream_close()
        }
    }
}
