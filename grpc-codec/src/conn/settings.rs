//! The SETTINGS exchange (RFC 9113 §6.5): applying the peer's settings and
//! acknowledging them; sending ours, and what the peer may use of them
//! before and after it acknowledges them (§6.5.3, §6.9.2).

use super::{Connection, Event, Phase, Role};
use crate::config::{Settings, clamp_frame_size};
use crate::error::{Error, ErrorCode, Reason};
use crate::frame::{Frame, MAX_WINDOW_SIZE, SettingId, SettingsFrame};

impl Connection {
    /// A SETTINGS frame: an ACK of ours, or the peer's parameters, applied
    /// all at once or not at all, then acknowledged.
    pub(super) fn on_settings(&mut self, f: &SettingsFrame) -> Result<(), Error> {
        if f.ack {
            return self.on_settings_ack();
        }
        let mut next = self.peer;
        next.apply(&f.params)?;
        if self.role == Role::Client && f.get(SettingId::ENABLE_PUSH) == Some(1) {
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::ServerEnabledPush,
            ));
        }
        // §6.9.2: a new initial window changes every stream's window by the
        // difference; one overflow fails the lot before any changes.
        let delta = i64::from(next.initial_window_size) - i64::from(self.peer.initial_window_size);
        if delta != 0
            && self
                .streams
                .map
                .values()
                .any(|s| s.send_window.checked_add(delta).is_none())
        {
            return Err(Error::connection(
                ErrorCode::FLOW_CONTROL_ERROR,
                Reason::WindowOverflow,
            ));
        }
        self.check_control_room(0)?;
        if delta != 0 {
            for s in self.streams.map.values_mut() {
                if let Some(w) = s.send_window.checked_add(delta) {
                    s.send_window = w;
                }
            }
        }
        if f.get(SettingId::HEADER_TABLE_SIZE).is_some() {
            self.hpack_encoder
                .set_max_table_size(usize::try_from(next.header_table_size).unwrap_or(usize::MAX));
        }
        self.peer = next;
        self.write_control(&Frame::Settings(SettingsFrame::ack()))?;
        let settings = self.peer;
        if self.phase == Phase::Settings {
            self.phase = Phase::Open;
            self.events.push_back(Event::Connected { settings });
        } else {
            self.events.push_back(Event::SettingsChanged { settings });
        }
        Ok(())
    }

    /// The peer acknowledged our oldest outstanding SETTINGS: its values
    /// are in force. A new initial window changes every stream's receive
    /// window by the difference, as the peer changed its send windows when
    /// it took the frame (§6.9.2); the HPACK table size and frame size
    /// limits follow.
    fn on_settings_ack(&mut self) -> Result<(), Error> {
        let Some((_, acked)) = self.unacked.pop_front() else {
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::UnexpectedSettingsAck,
            ));
        };
        let delta =
            i64::from(acked.initial_window_size) - i64::from(self.acked.initial_window_size);
        if delta != 0 {
            for s in self.streams.map.values_mut() {
                s.recv_window.resize(acked.initial_window_size, delta);
            }
        }
        self.acked = acked;
        self.apply_recv_limits();
        Ok(())
    }

    /// Sends new local settings (§6.5.3) after the first SETTINGS. They
    /// take effect for what we accept once the peer acknowledges them
    /// (each SETTINGS frame has its own [`Config::settings_timeout`]):
    /// until then the larger of the old and the new limits is accepted,
    /// since the peer may follow either (§6.9.2). Values are brought into
    /// range as [`Config::settings`] does: push stays disabled, the
    /// window within 2^31 - 1, the frame size within 2^14..=2^24-1, and
    /// the header list size at most
    /// [`Limits::max_header_list_size`](crate::Limits), which is what we
    /// enforce. Nothing is sent if nothing changed.
    ///
    /// [`Config::settings_timeout`]: crate::Config
    /// [`Config::settings`]: crate::Config::settings
    pub fn update_settings(&mut self, settings: Settings) -> Result<(), Error> {
        self.check_live()?;
        let limits = self.config.limits;
        let next = Settings {
            enable_push: false,
            initial_window_size: settings.initial_window_size.min(MAX_WINDOW_SIZE),
            max_frame_size: clamp_frame_size(settings.max_frame_size),
            max_header_list_size: Some(
                settings
                    .max_header_list_size
                    .map_or(limits.max_header_list_size, |v| {
                        v.min(limits.max_header_list_size)
                    }),
            ),
            ..settings
        };
        let params = self.local.diff(&next);
        if params.is_empty() {
            return Ok(());
        }
        self.write(&Frame::Settings(SettingsFrame::new(params)));
        self.local = next;
        self.unacked
            .push_back((self.now.checked_add(self.config.settings_timeout), next));
        self.apply_recv_limits();
        Ok(())
    }

    /// The most the peer may use of a local setting now: the acknowledged
    /// value, or a larger one it may already follow (§6.5.3).
    pub(super) fn recv_limit(&self, value: impl Fn(&Settings) -> u32) -> u32 {
        self.unacked
            .iter()
            .map(|(_, s)| value(s))
            .fold(value(&self.acked), u32::max)
    }

    /// The stream receive window the peer may use beyond what the
    /// acknowledged initial window gives, until it acknowledges a larger
    /// one (§6.9.2).
    pub(super) fn recv_window_slack(&self) -> i64 {
        let acked = self.acked.initial_window_size;
        i64::from(self.recv_limit(|s| s.initial_window_size) - acked)
    }

    /// Our SETTINGS_MAX_CONCURRENT_STREAMS as the peer may follow it.
    pub(super) fn recv_stream_limit(&self) -> u32 {
        self.recv_limit(|s| s.max_concurrent_streams.unwrap_or(u32::MAX))
    }

    /// Brings the frame decoder's and the HPACK decoder's limits to what
    /// the peer may use now. The HPACK decoder then wants a table size
    /// update from the peer if its table has become too large
    /// (RFC 7541 §4.2).
    pub(super) fn apply_recv_limits(&mut self) {
        let table = usize::try_from(self.recv_limit(|s| s.header_table_size)).unwrap_or(usize::MAX);
        if self.hpack_decoder.max_table_size() != table {
            self.hpack_decoder.set_max_table_size(table);
        }
        let frame = self.recv_limit(|s| s.max_frame_size);
        self.decoder.set_max_frame_size(frame);
    }
}
