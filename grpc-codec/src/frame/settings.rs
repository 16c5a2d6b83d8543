//! SETTINGS (RFC 9113 §6.5) and its parameters.

use bytes::{BufMut as _, BytesMut};

use super::{DEFAULT_MAX_FRAME_SIZE, FrameHeader, FrameType, MAX_PAYLOAD_LEN, StreamId, flags};
use crate::error::{Error, ErrorCode, Reason};

/// Largest flow-control window, and so the largest valid
/// SETTINGS_INITIAL_WINDOW_SIZE (§6.5.2, §6.9.1).
pub const MAX_WINDOW_SIZE: u32 = 0x7fff_ffff;

/// A 16-bit setting identifier (§6.5.1); values without a constant are
/// unknown and ignored (§6.5.2), but kept in [`SettingsFrame::params`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SettingId(pub u16);

impl SettingId {
    /// SETTINGS_HEADER_TABLE_SIZE (§6.5.2).
    pub const HEADER_TABLE_SIZE: Self = Self(0x1);
    /// SETTINGS_ENABLE_PUSH (§6.5.2): 0 or 1.
    pub const ENABLE_PUSH: Self = Self(0x2);
    /// SETTINGS_MAX_CONCURRENT_STREAMS (§6.5.2).
    pub const MAX_CONCURRENT_STREAMS: Self = Self(0x3);
    /// SETTINGS_INITIAL_WINDOW_SIZE (§6.5.2): at most 2^31 - 1.
    pub const INITIAL_WINDOW_SIZE: Self = Self(0x4);
    /// SETTINGS_MAX_FRAME_SIZE (§6.5.2): 2^14 to 2^24 - 1.
    pub const MAX_FRAME_SIZE: Self = Self(0x5);
    /// SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2).
    pub const MAX_HEADER_LIST_SIZE: Self = Self(0x6);
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3): 0 or 1.
    pub const ENABLE_CONNECT_PROTOCOL: Self = Self(0x8);
    /// SETTINGS_NO_RFC7540_PRIORITIES (RFC 9218 §2.1): 0 or 1.
    pub const NO_RFC7540_PRIORITIES: Self = Self(0x9);

    /// The registered name, `None` for ids this crate does not know.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x1 => "SETTINGS_HEADER_TABLE_SIZE",
            0x2 => "SETTINGS_ENABLE_PUSH",
            0x3 => "SETTINGS_MAX_CONCURRENT_STREAMS",
            0x4 => "SETTINGS_INITIAL_WINDOW_SIZE",
            0x5 => "SETTINGS_MAX_FRAME_SIZE",
            0x6 => "SETTINGS_MAX_HEADER_LIST_SIZE",
            0x8 => "SETTINGS_ENABLE_CONNECT_PROTOCOL",
            0x9 => "SETTINGS_NO_RFC7540_PRIORITIES",
            _ => return None,
        })
    }
}

impl std::fmt::Display for SettingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "unknown setting {:#06x}", self.0),
        }
    }
}

/// One setting: identifier and value (§6.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Setting {
    /// Which setting.
    pub id: SettingId,
    /// Its value.
    pub value: u32,
}

impl Setting {
    /// A setting.
    #[must_use]
    pub const fn new(id: SettingId, value: u32) -> Self {
        Self { id, value }
    }

    /// Checks the value against the range its id allows (§6.5.2; RFC 8441
    /// §3; RFC 9218 §2.1): a connection error, FLOW_CONTROL_ERROR for the
    /// initial window size and PROTOCOL_ERROR otherwise. Unknown ids pass.
    pub fn validate(self) -> Result<(), Error> {
        let code = match self.id {
            SettingId::ENABLE_PUSH
            | SettingId::ENABLE_CONNECT_PROTOCOL
            | SettingId::NO_RFC7540_PRIORITIES
                if self.value > 1 =>
            {
                ErrorCode::PROTOCOL_ERROR
            }
            SettingId::INITIAL_WINDOW_SIZE if self.value > MAX_WINDOW_SIZE => {
                ErrorCode::FLOW_CONTROL_ERROR
            }
            SettingId::MAX_FRAME_SIZE
                if !(DEFAULT_MAX_FRAME_SIZE..=MAX_PAYLOAD_LEN).contains(&self.value) =>
            {
                ErrorCode::PROTOCOL_ERROR
            }
            _ => return Ok(()),
        };
        Err(Error::connection(code, Reason::InvalidSetting(self)))
    }
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {}", self.id, self.value)
    }
}

/// A SETTINGS frame (§6.5): the sender's parameters in order, or the
/// acknowledgement of the receiver's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SettingsFrame {
    /// ACK: acknowledges the peer's SETTINGS; then `params` is empty.
    pub ack: bool,
    /// The parameters in wire order, unknown ids included; a later entry
    /// for the same id overrides an earlier one (§6.5.3).
    pub params: Vec<Setting>,
}

impl SettingsFrame {
    /// A SETTINGS frame carrying `params`.
    #[must_use]
    pub const fn new(params: Vec<Setting>) -> Self {
        Self { ack: false, params }
    }

    /// The SETTINGS acknowledgement.
    #[must_use]
    pub const fn ack() -> Self {
        Self {
            ack: true,
            params: Vec::new(),
        }
    }

    /// The value the frame gives `id`: the last one, if it appears more
    /// than once (§6.5.3).
    #[must_use]
    pub fn get(&self, id: SettingId) -> Option<u32> {
        self.params
            .iter()
            .rev()
            .find(|s| s.id == id)
            .map(|s| s.value)
    }

    /// Parses the parameters, validating each. `header` has passed
    /// [`FrameHeader::check`], so the length is a multiple of 6 and zero
    /// with ACK.
    pub(super) fn decode_payload(header: &FrameHeader, payload: &[u8]) -> Result<Self, Error> {
        let mut params = Vec::with_capacity(payload.len() / 6);
        for chunk in payload.chunks_exact(6) {
            let Ok([i0, i1, v0, v1, v2, v3]) = <[u8; 6]>::try_from(chunk) else {
                continue;
            };
            let s = Setting::new(
                SettingId(u16::from_be_bytes([i0, i1])),
                u32::from_be_bytes([v0, v1, v2, v3]),
            );
            s.validate()?;
            params.push(s);
        }
        Ok(Self {
            ack: header.has(flags::ACK),
            params,
        })
    }

    pub(super) fn encode(&self, len: u32, dst: &mut BytesMut) {
        let fl = if self.ack { flags::ACK } else { 0 };
        FrameHeader::encode(len, FrameType::SETTINGS, fl, StreamId::ZERO, dst);
        for s in &self.params {
            dst.put_u16(s.id.0);
            dst.put_u32(s.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let ok = |id, v| Setting::new(id, v).validate().is_ok();
        assert!(ok(SettingId::ENABLE_PUSH, 1));
        assert!(!ok(SettingId::ENABLE_PUSH, 2));
        assert!(ok(SettingId::INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE));
        assert!(!ok(SettingId::INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE + 1));
        assert!(ok(SettingId::MAX_FRAME_SIZE, 16_384));
        assert!(ok(SettingId::MAX_FRAME_SIZE, 16_777_215));
        assert!(!ok(SettingId::MAX_FRAME_SIZE, 16_383));
        assert!(!ok(SettingId::MAX_FRAME_SIZE, 16_777_216));
        assert!(ok(SettingId(65027), u32::MAX));
        assert!(ok(SettingId::HEADER_TABLE_SIZE, u32::MAX));
    }

    #[test]
    fn last_value_wins() {
        let f = SettingsFrame::new(vec![
            Setting::new(SettingId::INITIAL_WINDOW_SIZE, 1),
            Setting::new(SettingId::INITIAL_WINDOW_SIZE, 2),
        ]);
        assert_eq!(f.get(SettingId::INITIAL_WINDOW_SIZE), Some(2));
        assert_eq!(f.get(SettingId::MAX_FRAME_SIZE), None);
    }

    #[test]
    fn names() {
        assert_eq!(SettingId(65027).to_string(), "unknown setting 0xfe03");
        assert_eq!(
            Setting::new(SettingId::MAX_FRAME_SIZE, 16_384).to_string(),
            "SETTINGS_MAX_FRAME_SIZE = 16384"
        );
    }
}
