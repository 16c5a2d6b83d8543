//! The SETTINGS exchange (RFC 9113 §6.5): applying the peer's settings and
//! acknowledging them, and the acknowledgement of ours (§6.5.3).

use super::{Connection, Event, Phase, Role};
use crate::error::{Error, ErrorCode, Reason};
use crate::frame::{Frame, SettingId, SettingsFrame};

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
    /// are in force, so the HPACK decoder may follow our table size.
    fn on_settings_ack(&mut self) -> Result<(), Error> {
        if self.unacked.pop_front().is_none() {
            return Err(Error::connection(
                ErrorCode::PROTOCOL_ERROR,
                Reason::UnexpectedSettingsAck,
            ));
        }
        if !self.local_acked {
            self.local_acked = true;
            let size = usize::try_from(self.local.header_table_size).unwrap_or(usize::MAX);
            self.hpack_decoder.set_max_table_size(size);
        }
        Ok(())
    }
}
