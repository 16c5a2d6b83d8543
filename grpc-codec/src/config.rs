//! The six standard HTTP/2 settings (RFC 9113 §6.5.2) as one value, the
//! size limits this endpoint enforces on what the peer sends, and the
//! [`Config`] of a [`Connection`](crate::conn::Connection).

use std::time::Duration;

use crate::error::Error;
use crate::frame::{
    DEFAULT_MAX_FRAME_SIZE, MAX_PAYLOAD_LEN, MAX_WINDOW_SIZE, Setting, SettingId, SettingsFrame,
};

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

/// Sizes and rates this endpoint accepts from the peer, and the memory it
/// spends on the peer's behalf. Exceeding one is an error with the right
/// HTTP/2 code (ENHANCE_YOUR_CALM for floods, §10.5), never an allocation.
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
    /// Largest decoded field section (RFC 7541 §4.1 sizes), our
    /// SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2); a larger one resets its
    /// stream (§10.5.1). Default 64 KiB.
    pub max_header_list_size: u32,
    /// Bytes of frames the connection queues for `poll_transmit` before it
    /// stops answering the peer's SETTINGS, PINGs and errors (the peer is
    /// not reading) and fails with ENHANCE_YOUR_CALM. Default 1 MiB.
    pub max_queued_output: usize,
    /// Answers (SETTINGS and PING ACKs, RST_STREAMs) queued but not yet
    /// taken by `poll_transmit` before the same failure. Default 1000.
    pub max_pending_control: usize,
    /// Bytes of DATA the application may queue beyond what the peer's
    /// flow-control windows let out, over all streams; `send_data` refuses
    /// more with [`Error::SendBufferFull`](crate::Error). Default 4 MiB.
    pub max_send_buffer: usize,
    /// Streams the peer may reset (or make us reset with stream errors)
    /// within [`Limits::reset_window`] before GOAWAY ENHANCE_YOUR_CALM
    /// (rapid reset, CVE-2023-44487). Default 1000.
    pub max_resets: u32,
    /// The window [`Limits::max_resets`] counts in. Default 30 s.
    pub reset_window: Duration,
    /// Consecutive empty DATA frames without END_STREAM tolerated
    /// (CVE-2019-9518). Default 100.
    pub max_empty_frames: u32,
    /// Closed and reset streams whose ending is remembered, so late frames
    /// on them get the right answer (§5.1), and as many ranges of ids the
    /// peer skipped (§5.1.1). That an id is closed is always known; a
    /// HEADERS on a forgotten one is a stream error STREAM_CLOSED.
    /// Default 256.
    pub max_closed_streams: usize,
    /// Our PINGs awaiting an ACK. Default 16.
    pub max_pings_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_block_size: 64 * 1024,
            max_continuation_frames: 32,
            max_header_list_size: 64 * 1024,
            max_queued_output: 1 << 20,
            max_pending_control: 1000,
            max_send_buffer: 4 << 20,
            max_resets: 1000,
            reset_window: Duration::from_secs(30),
            max_empty_frames: 100,
            max_closed_streams: 256,
            max_pings_in_flight: 16,
        }
    }
}

/// How received DATA returns to the flow-control windows (§5.2, §6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowControl {
    /// DATA counts as consumed as soon as it is reported: the peer may send
    /// as fast as the application takes events.
    #[default]
    Auto,
    /// DATA stays counted against the windows until the application calls
    /// [`Connection::release_capacity`](crate::conn::Connection::release_capacity),
    /// so a slow consumer slows the peer (back-pressure end to end).
    Manual,
}

/// Everything a [`Connection`](crate::conn::Connection) is told at
/// creation: the settings it advertises (§6.5.2), its flow-control policy,
/// timeouts and [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Our SETTINGS_HEADER_TABLE_SIZE: the most HPACK dynamic table the
    /// peer's encoder may make us keep (bounds HPACK memory). Default 4096.
    pub header_table_size: u32,
    /// Our SETTINGS_MAX_CONCURRENT_STREAMS: streams the peer may have open
    /// at once; more are refused with REFUSED_STREAM. Default 100.
    pub max_concurrent_streams: u32,
    /// Our SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window,
    /// at most 2^31 - 1, in force once the peer acknowledges our SETTINGS
    /// (until then the larger of it and 65535 is accepted, §6.9.2).
    /// Default 65535.
    pub initial_window_size: u32,
    /// The connection's receive window, raised from 65535 by a
    /// WINDOW_UPDATE after our SETTINGS (§6.9.2). Default 1 MiB.
    pub connection_window_size: u32,
    /// When received DATA is given back to the peer.
    pub flow_control: FlowControl,
    /// A WINDOW_UPDATE goes out once this percentage of a window is
    /// consumed and released (1-100). Default 50.
    pub window_update_percent: u8,
    /// How long the peer has to acknowledge our SETTINGS before
    /// SETTINGS_TIMEOUT (§6.5.3). Default 10 s.
    pub settings_timeout: Duration,
    /// How long frames on a stream we reset are silently dropped (§5.1:
    /// they may have been in flight) before they count as errors.
    /// Default 30 s.
    pub reset_stream_duration: Duration,
    /// The first stream id this endpoint opens, if not 1 (client) or 2
    /// (server); a value of the wrong parity is moved up to the next of
    /// the right one. For tests and for resuming numbering (as h2's
    /// `initial_stream_id`).
    pub initial_stream_id: Option<u32>,
    /// Server: once a response has ended while the request is still
    /// arriving, send RST_STREAM(NO_ERROR) so the client stops sending
    /// its body (§8.1), as nghttp2 and grpc-go do; the application sees
    /// [`Event::Reset`](crate::Event) with NO_ERROR and no more DATA.
    /// Clients keep the complete response (§8.1 forbids discarding it).
    /// Default on.
    pub reset_after_response: bool,
    /// Advertise and accept gRPC "true binary" metadata (grpc-core's
    /// setting 0xfe03 = 1): values of `-bin` fields that start with 0x00
    /// are raw bytes, exempt from the value rules of §8.2.1. Default off.
    pub grpc_true_binary: bool,
    /// Sizes and rates accepted from the peer.
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            header_table_size: 4096,
            max_concurrent_streams: 100,
            initial_window_size: 65_535,
            connection_window_size: 1 << 20,
            flow_control: FlowControl::Auto,
            window_update_percent: 50,
            settings_timeout: Duration::from_secs(10),
            reset_stream_duration: Duration::from_secs(30),
            initial_stream_id: None,
            reset_after_response: true,
            grpc_true_binary: false,
            limits: Limits::default(),
        }
    }
}

impl Config {
    /// The settings this configuration advertises (§6.5.2): push disabled
    /// (a client must say so; a server never pushes), sizes and stream
    /// limits from the fields above, the window within 2^31 - 1.
    #[must_use]
    pub fn settings(&self) -> Settings {
        Settings {
            header_table_size: self.header_table_size,
            enable_push: false,
            max_concurrent_streams: Some(self.max_concurrent_streams),
            initial_window_size: self.initial_window_size.min(MAX_WINDOW_SIZE),
            max_frame_size: clamp_frame_size(self.limits.max_frame_size),
            max_header_list_size: Some(self.limits.max_header_list_size),
        }
    }

    /// Our first SETTINGS frame (§3.4): [`Config::settings`] where they
    /// differ from the defaults, and grpc-core's 0xfe03 if
    /// [`Config::grpc_true_binary`].
    #[must_use]
    pub fn settings_frame(&self) -> SettingsFrame {
        let mut f = self.settings().encode();
        if self.grpc_true_binary {
            f.params.push(Setting::new(GRPC_TRUE_BINARY, 1));
        }
        f
    }
}

/// grpc-core's setting that allows raw binary metadata values.
pub const GRPC_TRUE_BINARY: SettingId = SettingId(0xfe03);

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
