//! Plain entry points for the fuzz targets in `fuzz/`, so an ordinary
//! `cargo test` can replay their corpora on stable Rust. Each must hold for
//! any input: no panic, bounded work and memory.

use bytes::BytesMut;

/// The HPACK target's entry point, beside the frame one, so every target
/// of this crate is `grpc_codec::fuzzing::<target>`.
pub use crate::hpack::fuzzing::hpack_decode;

use crate::codec::{Decoder, decode_preface, encode};
use crate::config::{Limits, Settings};
use crate::error::Error;
use crate::frame::{Frame, MAX_PAYLOAD_LEN, SettingId};

/// Splits `data` into chunks whose sizes come from its first byte, so one
/// input covers both content and read boundaries.
fn chunks(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (step, rest) = match data.split_first() {
        Some((s, r)) => (usize::from(*s % 64) + 1, r),
        None => (1, data),
    };
    rest.chunks(step)
}

/// What decoding a byte stream gave: frames and stream errors in order,
/// then the connection error that stopped it, if any.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    items: Vec<Result<Frame, Error>>,
    fatal: Option<Error>,
}

/// Decodes `pieces` fed one after another, the preface first if
/// `preface`, raising the frame size limit as SETTINGS frames ask, the way
/// the capture replay does.
fn decode_stream<'a>(pieces: impl Iterator<Item = &'a [u8]>, preface: bool) -> Outcome {
    let mut d = Decoder::default();
    let mut settings = Settings::default();
    let mut buf = BytesMut::new();
    let mut out = Outcome {
        items: Vec::new(),
        fatal: None,
    };
    let mut need_preface = preface;
    for piece in pieces {
        buf.extend_from_slice(piece);
        if need_preface {
            match decode_preface(&mut buf) {
                Ok(true) => need_preface = false,
                Ok(false) => continue,
                Err(e) => {
                    out.fatal = Some(e);
                    return out;
                }
            }
        }
        loop {
            match d.decode(&mut buf) {
                Ok(Some(f)) => {
                    if let Frame::Settings(s) = &f {
                        let applied = settings.apply(&s.params);
                        assert!(applied.is_ok(), "decoder let through {s:?}");
                        if s.get(SettingId::MAX_FRAME_SIZE).is_some() {
                            d.set_max_frame_size(settings.max_frame_size);
                        }
                    }
                    out.items.push(Ok(f));
                }
                Ok(None) => break,
                Err(e) if e.is_connection_error() => {
                    out.fatal = Some(e);
                    return out;
                }
                Err(e) => out.items.push(Err(e)),
            }
        }
    }
    out
}

/// The frame decoder, with and without the client preface: chunked input
/// decodes as the whole input does, and the frames it gives re-encode to
/// bytes that decode to the same frames.
pub fn h2_frame(data: &[u8]) {
    let body = data.get(1..).unwrap_or_default();
    for preface in [false, true] {
        let chunked = decode_stream(chunks(data), preface);
        let whole = decode_stream(std::iter::once(body), preface);
        assert!(
            chunked == whole,
            "chunking changed {whole:?} to {chunked:?}"
        );

        let frames: Vec<&Frame> = whole.items.iter().filter_map(|r| r.as_ref().ok()).collect();
        let mut wire = BytesMut::new();
        for f in &frames {
            let r = encode(f, &mut wire);
            assert!(r.is_ok(), "decoded {f:?} does not encode: {r:?}");
        }
        let mut d = Decoder::new(Limits {
            max_frame_size: MAX_PAYLOAD_LEN,
            ..Limits::default()
        });
        for f in frames {
            let again = d.decode(&mut wire);
            assert!(
                again.as_ref() == Ok(&Some(f.clone())),
                "{f:?} re-decoded as {again:?}"
            );
        }
        assert!(wire.is_empty(), "re-encoding left {} bytes", wire.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_odd_inputs() {
        h2_frame(b"");
        h2_frame(b"\x00");
        h2_frame(b"\x03PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0");
        h2_frame(&[0xff; 64]);
        h2_frame(b"\x01\0\0\x05\x02\0\0\0\0\x01\0\0\0\x01\x07");
    }
}
