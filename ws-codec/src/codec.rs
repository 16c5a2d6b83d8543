//! Frame codec (RFC 6455 §5.2): bytes to [`Frame`]s and back.
//!
//! [`Decoder::decode`] takes exactly one frame off the front of the buffer or
//! nothing. It unmasks payload bytes in place as they arrive, so a large
//! frame's bytes are touched while still in cache and a connection can
//! inspect the unmasked prefix of an incomplete frame
//! ([`Decoder::partial_payload`]) to fail fast on bad UTF-8. The buffer's
//! front must therefore only be changed by the decoder; appending is fine.

use bytes::{Buf as _, BufMut as _, BytesMut};

use crate::config::Role;
use crate::error::Error;
use crate::frame::{Frame, FrameHeader, OpCode};
use crate::mask::apply_mask;

/// Largest control frame payload (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Streaming frame decoder for one direction of one connection.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Our role: a server requires masked frames, a client unmasked ones.
    role: Role,
    max_frame_size: usize,
    rsv1_allowed: bool,
    /// Header of the incomplete frame at the front of the buffer, and how
    /// many of its payload bytes are already unmasked.
    pending: Option<(FrameHeader, usize)>,
}

impl Decoder {
    /// A decoder for the frames a `role` endpoint receives, rejecting
    /// payloads over `max_frame_size`.
    #[must_use]
    pub const fn new(role: Role, max_frame_size: usize) -> Self {
        Self {
            role,
            max_frame_size,
            rsv1_allowed: false,
            pending: None,
        }
    }

    /// Lets RSV1 through on the first frame of a data message, once
    /// permessage-deflate is negotiated (RFC 7692 §6).
    pub const fn set_rsv1_allowed(&mut self, allowed: bool) {
        self.rsv1_allowed = allowed;
    }

    /// Takes one whole frame off the front of `buf`, or returns `Ok(None)`
    /// when more bytes are needed (having unmasked what is there).
    #[inline]
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
        let (header, done) = match self.pending {
            Some(p) => p,
            None => match self.parse_header(buf)? {
                Some(h) => (h, 0),
                None => return Ok(None),
            },
        };
        // parse_header bounded payload_len by max_frame_size, a usize.
        let len = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
        let total = header.header_len.saturating_add(len);
        let have = buf.len().min(total);
        if let Some(key) = header.mask {
            let start = header.header_len + done;
            if let Some(fresh) = buf.get_mut(start..have) {
                apply_mask(fresh, key, done);
            }
        }
        if buf.len() < total {
            self.pending = Some((header, have - header.header_len));
            return Ok(None);
        }
        self.pending = None;
        buf.advance(header.header_len);
        let payload = buf.split_to(len).freeze();
        Ok(Some(Frame {
            fin: header.fin,
            rsv1: header.rsv1,
            opcode: header.opcode,
            payload,
        }))
    }

    /// The header and already-unmasked payload prefix of the incomplete
    /// frame at the front of `buf`, after a `decode` that returned `None`.
    #[must_use]
    pub fn partial_payload<'a>(&self, buf: &'a [u8]) -> Option<(FrameHeader, &'a [u8])> {
        let (h, done) = self.pending?;
        let p = buf.get(h.header_len..h.header_len + done)?;
        Some((h, p))
    }

    /// Parses and checks the header at the front of `buf`, failing as soon
    /// as the bytes present show a violation.
    #[inline]
    fn parse_header(&self, buf: &[u8]) -> Result<Option<FrameHeader>, Error> {
        let Some(&b0) = buf.first() else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let rsv1 = b0 & 0x40 != 0;
        let rsv23 = b0 & 0x30;
        let raw_op = b0 & 0x0f;
        let opcode = OpCode::from_u8(raw_op).ok_or(Error::ReservedOpcode(raw_op))?;
        if rsv23 != 0 || (rsv1 && !self.rsv1_allowed) {
            return Err(Error::ReservedBits((b0 >> 4) & 0x7));
        }
        if rsv1 && (opcode.is_control() || opcode == OpCode::Continuation) {
            return Err(Error::CompressedControlOrContinuation);
        }
        if opcode.is_control() && !fin {
            return Err(Error::FragmentedControlFrame);
        }
        let Some(&b1) = buf.get(1) else {
            return Ok(None);
        };
        let masked = b1 & 0x80 != 0;
        match (self.role, masked) {
            (Role::Server, false) => return Err(Error::UnmaskedFrame),
            (Role::Client, true) => return Err(Error::MaskedFrame),
            _ => {}
        }
        let len7 = b1 & 0x7f;
        if opcode.is_control() && usize::from(len7) > MAX_CONTROL_PAYLOAD {
            // 126/127 announce an extended length: always too long.
            return Err(Error::ControlFrameTooLong(u64::from(len7)));
        }
        let (payload_len, mut pos) = match len7 {
            126 => {
                let Some(&[b2, b3]) = buf.get(2..4) else {
                    return Ok(None);
                };
                let n = u16::from_be_bytes([b2, b3]);
                if n < 126 {
                    return Err(Error::NonMinimalLength);
                }
                (u64::from(n), 4)
            }
            127 => {
                let Some(b) = buf.get(2..10) else {
                    return Ok(None);
                };
                let mut w = [0u8; 8];
                w.copy_from_slice(b);
                let n = u64::from_be_bytes(w);
                if n >> 63 != 0 {
                    return Err(Error::LengthMsbSet);
                }
                if n <= u64::from(u16::MAX) {
                    return Err(Error::NonMinimalLength);
                }
                (n, 10)
            }
            n => (u64::from(n), 2),
        };
        if payload_len > self.max_frame_size as u64 {
            return Err(Error::FrameTooLarge {
                size: payload_len,
                limit: self.max_frame_size,
            });
        }
        let mask = if masked {
            let Some(&[k0, k1, k2, k3]) = buf.get(pos..pos + 4) else {
                return Ok(None);
            };
            pos += 4;
            Some([k0, k1, k2, k3])
        } else {
            None
        };
        Ok(Some(FrameHeader {
            fin,
            rsv1,
            opcode,
            mask,
            payload_len,
            header_len: pos,
        }))
    }
}

/// Appends a frame header for a `len`-byte payload (§5.2), with the
/// shortest length encoding.
pub fn encode_header(
    fin: bool,
    rsv1: bool,
    opcode: OpCode,
    len: usize,
    mask: Option<[u8; 4]>,
    dst: &mut BytesMut,
) {
    let b0 = (u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode.as_u8();
    let m = if mask.is_some() { 0x80 } else { 0 };
    dst.reserve(14 + len);
    dst.put_u8(b0);
    match len {
        // The arms bound `len`, so the narrowing casts are exact.
        #[allow(clippy::cast_possible_truncation)]
        0..=125 => dst.put_u8(m | len as u8),
        #[allow(clippy::cast_possible_truncation)]
        126..=0xffff => {
            dst.put_u8(m | 126);
            dst.put_u16(len as u16);
        }
        _ => {
            dst.put_u8(m | 127);
            dst.put_u64(len as u64);
        }
    }
    if let Some(k) = mask {
        dst.put_slice(&k);
    }
}

/// Appends one frame to `dst`, masked with `mask` if given (clients must
/// mask, servers must not: §5.1).
pub fn encode_frame(frame: &Frame, mask: Option<[u8; 4]>, dst: &mut BytesMut) {
    encode_parts(
        frame.fin,
        frame.rsv1,
        frame.opcode,
        &frame.payload,
        mask,
        dst,
    );
}

/// [`encode_frame`] from parts, without building a [`Frame`].
pub fn encode_parts(
    fin: bool,
    rsv1: bool,
    opcode: OpCode,
    payload: &[u8],
    mask: Option<[u8; 4]>,
    dst: &mut BytesMut,
) {
    encode_header(fin, rsv1, opcode, payload.len(), mask, dst);
    let start = dst.len();
    dst.extend_from_slice(payload);
    if let (Some(key), Some(tail)) = (mask, dst.get_mut(start..)) {
        apply_mask(tail, key, 0);
    }
}

#[cfg(test)]
mod tests;
