//! The plain function behind the `hpack_decode` fuzz target in `fuzz/`, so
//! `cargo test` replays its corpus on stable Rust.

use bytes::{Bytes, BytesMut};

use super::{Decoder, Encoder, Header, HeaderList, Huffman, Limits};

/// Table sizes the first input octet picks from.
const TABLE_SIZES: [usize; 4] = [4096, 256, 0, 65536];

/// Decodes `data` as a connection's header blocks, one decoder throughout,
/// under small limits.
///
/// `data` is one configuration octet (its low 2 bits pick the table size
/// from 4096, 256, 0 and 65536; bit 2 makes the re-encoding encoder never
/// Huffman-code, [`Huffman::Never`]), then blocks, each preceded by its length
/// as 2 octets big-endian (a short last block takes what is left).
///
/// Each block is decoded with [`Decoder::decode`] and, by twin decoders,
/// with [`Decoder::decode_borrowed`] and [`Decoder::decode_list`] (into
/// one list reused across blocks): all must agree. Whatever decodes is
/// re-encoded by an [`Encoder`] (and the list by a twin's
/// [`Encoder::encode_list`], which must write the same) and decoded again
/// by a third decoder: the fields must come back equal (those the
/// encoder's policy sends never indexed now marked sensitive), and the
/// encoder's and third decoder's tables must agree. A connection error ends the input.
///
/// # Panics
///
/// If any of that fails: that is the bug the fuzzer looks for.
#[allow(clippy::panic)]
pub fn hpack_decode(data: &[u8]) {
    let Some((&config, mut rest)) = data.split_first() else {
        return;
    };
    let table_size = TABLE_SIZES
        .get(usize::from(config & 3))
        .copied()
        .unwrap_or(0);
    let limits = Limits {
        max_header_list_size: 8192,
        max_string_len: 2048,
    };
    let mut decoder = Decoder::new(table_size, limits);
    let mut twin = Decoder::new(table_size, limits);
    let mut listed = Decoder::new(table_size, limits);
    let mut list = HeaderList::new();
    let huffman = if config & 4 != 0 {
        Huffman::Never
    } else {
        Huffman::WhenShorter
    };
    let mut encoder = Encoder::new();
    encoder.set_max_table_size(table_size);
    encoder.set_huffman(huffman);
    let mut list_encoder = Encoder::new();
    list_encoder.set_max_table_size(table_size);
    list_encoder.set_huffman(huffman);
    let mut check = Decoder::new(table_size, Limits::default());
    while !rest.is_empty() {
        let len = match rest.split_first_chunk::<2>() {
            Some((len, tail)) => {
                rest = tail;
                usize::from(u16::from_be_bytes(*len))
            }
            None => rest.len(),
        };
        let (block, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;
        let block = Bytes::copy_from_slice(block);

        let result = decoder.decode_to_vec(&block);
        let mut borrowed = Vec::new();
        let twin_result = twin.decode_borrowed(&block, |n, v, s| {
            borrowed.push(Header {
                name: Bytes::copy_from_slice(n),
                value: Bytes::copy_from_slice(v),
                sensitive: s,
            });
        });
        let list_result = listed.decode_list(&block, &mut list);
        let fields = match (result, twin_result, list_result) {
            (Ok(fields), Ok(()), Ok(())) => {
                if fields != borrowed {
                    panic!("decode and decode_borrowed differ: {fields:?} vs {borrowed:?}");
                }
                if fields != list.to_headers() {
                    panic!("decode and decode_list differ: {fields:?} vs {list:?}");
                }
                fields
            }
            (Err(a), Err(b), Err(c)) if a == b && a == c => {
                if !a.is_connection_error() && borrowed != list.to_headers() {
                    panic!("fields within the limit differ: {borrowed:?} vs {list:?}");
                }
                if a.is_connection_error() {
                    return;
                }
                continue;
            }
            (a, b, c) => {
                panic!("decode gave {a:?}, decode_borrowed {b:?}, decode_list {c:?}")
            }
        };

        let mut reencoded = BytesMut::new();
        encoder.encode(&fields, &mut reencoded);
        let mut from_list = BytesMut::new();
        list_encoder.encode_list(&list, &mut from_list);
        if from_list != reencoded {
            panic!("encode_list and encode differ");
        }
        let again = match check.decode_to_vec(&reencoded.freeze()) {
            Ok(v) => v,
            Err(e) => panic!("re-encoded block fails to decode: {e}"),
        };
        let sent: Vec<Header> = fields
            .iter()
            .map(|f| Header {
                sensitive: Encoder::never_indexed(f),
                ..f.clone()
            })
            .collect();
        if again != sent {
            panic!("re-encoded fields differ: {sent:?} became {again:?}");
        }
        if !encoder.table_entries().eq(check.table_entries()) {
            panic!("encoder and decoder tables differ");
        }
    }
}
