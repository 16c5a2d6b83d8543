//! h2spec `hpack`: header blocks the decoder must refuse (RFC 7541), each
//! a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3).

use grpc_codec::ErrorCode;

use crate::harness::*;

/// A GET head whose block ends with `tail`; the verdict on it.
fn bad_block(tail: &[u8]) -> Verdict {
    let mut p = Peer::new();
    p.handshake()?;
    let mut block = vec![0x82, 0x86, 0x84, 0x41, 0x09];
    block.extend_from_slice(b"127.0.0.1");
    block.extend_from_slice(tail);
    p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block);
    p.connection_error(&[ErrorCode::COMPRESSION_ERROR])
}

cases! { "hpack";
    "2.3.3" {
        indexed_invalid_index: "Sends a indexed header field representation with invalid index" => {
            // Index 70: past the 61 static entries and the one dynamic one.
            bad_block(&[0x80 | 70])
        }
        literal_invalid_index: "Sends a literal header field representation with invalid index" => {
            // Literal with incremental indexing, name index 70.
            bad_block(&[0x40 | 0x3f, 70 - 63, 0x01, b'x'])
        }
    }
    "4.2" {
        size_update_at_end: "Sends a dynamic table size update at the end of header block" => {
            bad_block(&[0x3f, 0xe1, 0x1f])
        }
    }
    "5.2" {
        huffman_padding_too_long: "Sends a Huffman-encoded string literal representation with padding longer than 7 bits" => {
            // `x-a: a` where `a` (00011) is followed by 3 + 8 bits of ones.
            bad_block(&[0x00, 0x03, b'x', b'-', b'a', 0x82, 0x1f, 0xff])
        }
        huffman_padded_by_zero: "Sends a Huffman-encoded string literal representation padded by zero" => {
            // `a` (00011) padded with 000.
            bad_block(&[0x00, 0x03, b'x', b'-', b'a', 0x81, 0x18])
        }
        huffman_eos: "Sends a Huffman-encoded string literal representation containing the EOS symbol" => {
            // 32 ones: the 30-bit EOS code and two bits more.
            bad_block(&[0x00, 0x03, b'x', b'-', b'a', 0x84, 0xff, 0xff, 0xff, 0xff])
        }
    }
    "6.1" {
        indexed_zero: "Sends a indexed header field representation with index 0" => {
            bad_block(&[0x80])
        }
    }
    "6.3" {
        size_update_too_large: "Sends a dynamic table size update larger than the value of SETTINGS_HEADER_TABLE_SIZE" => {
            // 4097 at the start of the block, above our 4096.
            let mut p = Peer::new();
            p.handshake()?;
            let mut block = vec![0x3f, 0xe2, 0x1f, 0x82, 0x86, 0x84, 0x41, 0x09];
            block.extend_from_slice(b"127.0.0.1");
            p.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block);
            p.connection_error(&[ErrorCode::COMPRESSION_ERROR])
        }
    }
}
