//! The six standard HTTP/2 settings (RFC 9113 §6.5.2) as one value, and
//! the size limits this endpoint enforces on what the peer sends.

use crate::error::Error;
use crate::frame::{DEFAULT_MAX_FRAME_SIZE, MAX_PAYLOAD_LEN, Setting, SettingId, SettingsFrame};

/// One endpoint's settings (§6.5.2), each at its RFC default until a
/// SETTINGS frame changes it. Unknown settings are not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// SETTINGS_HEADER_TABLE_SIZE: largest HPACK dynamic table the sender
    /// lets its peer's encoder use. Default 4096.
    pub header_table_size: u32,
    /// SETTINGS_ENABLE_PUSH. Default `true`.
    pub enable_push: bool,
    /// SETTINGS_MAX_CONCURRENT_STREAMS: `None` (the default) is unlimited.
    pub max_concurrent_streams: Option<u32>,
    /// SETTINGS_INITIAL_WINDOW_SIZE: the sender's initial stream receive
    /// window. Default 65535.
    pub initial_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE: largest payload the sender accepts.
    /// Default 16384.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE (advisory): `None` (the default) is
    /// unlimited.
    pub max_header_list_size: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            header_table_size: 4096,
            enable_push: true,
            max_concurrent_streams: None,
            initial_window_size: 65_535,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: None,
        }
    }
}

impl Settings {
    /// Applies a SETTINGS frame's parameters in order (§6.5.3), ignoring
    /// unknown ids. Every value is checked first, so on error nothing has
    /// changed.
    pub fn apply(&mut self, params: &[Setting]) -> Result<(), Error> {
        for s in params {
            s.validate()?;
        }
        for s in params {
            let v = s.value;
            match s.id {
                SettingId::HEADER_TABLE_SIZE => self.header_table_size = v,
                SettingId::ENABLE_PUSH => self.enable_push = v == 1,
                SettingId::MAX_CONCURRENT_STREAMS => self.max_concurrent_streams = Some(v),
                SettingId::INITIAL_WINDOW_SIZE => self.initial_window_size = v,
                SettingId::MAX_FRAME_SIZE => self.max_frame_size = v,
                SettingId::MAX_HEADER_LIST_SIZE => self.max_header_list_size = Some(v),
                _ => {}
            }
        }
        Ok(())
    }

    /// The parameters that take a peer who knows `self` to `newer`, in id
    /// order. A limit going back to unlimited is sent as `u32::MAX`, the
    /// nearest the wire can say.
    #[must_use]
    pub fn diff(&self, newer: &Self) -> Vec<Setting> {
        let unlimited = |v: Option<u32>| v.unwrap_or(u32::MAX);
        let pairs = [
            (
                SettingId::HEADER_TABLE_SIZE,
                self.header_table_size,
                newer.header_table_size,
            ),
            (
                SettingId::ENABLE_PUSH,
                u32::from(self.enable_push),
                u32::from(newer.enable_push),
            ),
            (
                SettingId::MAX_CONCURRENT_STREAMS,
                unlimited(self.max_concurrent_streams),
                unlimited(newer.max_concurrent_streams),
            ),
            (
                SettingId::INITIAL_WINDOW_SIZE,
                self.initial_window_size,
                newer.initial_window_size,
            ),
            (
                SettingId::MAX_FRAME_SIZE,
                self.max_frame_size,
                newer.max_frame_size,
            ),
            (
                SettingId::MAX_HEADER_LIST_SIZE,
                unlimited(self.max_header_list_size),
                unlimited(newer.max_header_list_size),
            ),
        ];
        pairs
            .into_iter()
            .filter(|&(_, old, new)| old != new)
            .map(|(id, _, new)| Setting::new(id, new))
            .collect()
    }

    /// The SETTINGS frame that announces `self` to a peer that assumes the
    /// defaults, as the first frame of a connection does (§3.4): only the
    /// values that differ from the defaults.
    #[must_use]
    pub fn encode(&self) -> SettingsFrame {
        SettingsFrame::new(Self::default().diff(self))
    }
}

/// Sizes this endpoint accepts from the peer. Exceeding one is a
/// connection error, never an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame payload accepted, the SETTINGS_MAX_FRAME_SIZE we
    /// advertise; kept within 2^14..=2^24-1 (§6.5.2). Default 16384.
    pub max_frame_size: u32,
    /// Largest field block, summed over a HEADERS or PUSH_PROMISE frame and
    /// its CONTINUATIONs, before HPACK decoding. Default 64 KiB.
    pub max_header_block_size: usize,
    /// Most CONTINUATION frames after one HEADERS or PUSH_PROMISE, which
    /// bounds the work of a flood of tiny (or empty) ones. Default 32.
    pub max_continuation_frames: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_block_size: 64 * 1024,
            max_continuation_frames: 32,
        }
    }
}

/// `size` brought into the range SETTINGS_MAX_FRAME_SIZE allows (§6.5.2).
pub(crate) const fn clamp_frame_size(size: u32) -> u32 {
    if size < DEFAULT_MAX_FRAME_SIZE {
        DEFAULT_MAX_FRAME_SIZE
    } else if size > MAX_PAYLOAD_LEN {
        MAX_PAYLOAD_LEN
    } else {
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, Reason};

    #[test]
    fn defaults_follow_the_rfc() {
        let s = Settings::default();
        assert_eq!(s.header_table_size, 4096);
        assert!(s.enable_push);
        assert_eq!(s.max_concurrent_streams, None);
        assert_eq!(s.initial_window_size, 65_535);
        assert_eq!(s.max_frame_size, 16_384);
        assert_eq!(s.max_header_list_size, None);
        assert!(s.encode().params.is_empty());
    }

    #[test]
    fn apply_in_order_and_ignore_unknown() {
        let mut s = Settings::default();
        s.apply(&[
            Setting::new(SettingId::INITIAL_WINDOW_SIZE, 1),
            Setting::new(SettingId(65027), 1),
            Setting::new(SettingId::INITIAL_WINDOW_SIZE, 4_194_304),
            Setting::new(SettingId::MAX_FRAME_SIZE, 4_194_304),
            Setting::new(SettingId::ENABLE_PUSH, 0),
            Setting::new(SettingId::MAX_CONCURRENT_STREAMS, 0),
            Setting::new(SettingId::MAX_HEADER_LIST_SIZE, 16_384),
            Setting::new(SettingId::HEADER_TABLE_SIZE, 0),
        ])
        .unwrap();
        assert_eq!(
            s,
            Settings {
                header_table_size: 0,
                enable_push: false,
                max_concurrent_streams: Some(0),
                initial_window_size: 4_194_304,
                max_frame_size: 4_194_304,
                max_header_list_size: Some(16_384),
            }
        );
    }

    #[test]
    fn apply_is_all_or_nothing() {
        let mut s = Settings::default();
        let bad = Setting::new(SettingId::INITIAL_WINDOW_SIZE, 1 << 31);
        let e = s
            .apply(&[Setting::new(SettingId::ENABLE_PUSH, 0), bad])
            .unwrap_err();
        assert_eq!(
            e,
            Error::connection(ErrorCode::FLOW_CONTROL_ERROR, Reason::InvalidSetting(bad))
        );
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn encode_then_apply_round_trips() {
        let s = Settings {
            header_table_size: 8192,
            enable_push: false,
            max_concurrent_streams: Some(100),
            initial_window_size: 1 << 20,
            max_frame_size: 1 << 20,
            max_header_list_size: Some(8192),
        };
        let mut peer = Settings::default();
        peer.apply(&s.encode().params).unwrap();
        assert_eq!(peer, s);
        assert!(s.diff(&s).is_empty());
        assert_eq!(
            s.diff(&Settings::default()),
            vec![
                Setting::new(SettingId::HEADER_TABLE_SIZE, 4096),
                Setting::new(SettingId::ENABLE_PUSH, 1),
                Setting::new(SettingId::MAX_CONCURRENT_STREAMS, u32::MAX),
                Setting::new(SettingId::INITIAL_WINDOW_SIZE, 65_535),
                Setting::new(SettingId::MAX_FRAME_SIZE, 16_384),
                Setting::new(SettingId::MAX_HEADER_LIST_SIZE, u32::MAX),
            ]
        );
    }

    #[test]
    fn clamp() {
        assert_eq!(clamp_frame_size(0), 16_384);
        assert_eq!(clamp_frame_size(1 << 22), 1 << 22);
        assert_eq!(clamp_frame_size(u32::MAX), (1 << 24) - 1);
    }
}
