//! The connection state machine, client and server wired in memory, and
//! against hand-written peers for the rules of RFC 9113 §3-§8.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

#[path = "../conn_support/mod.rs"]
mod conn_support;

mod closed_ids;
mod early_response;
mod eof;
mod exchange;
mod rules;
mod settings_flow;
mod settings_update;
mod shutdown;

use bytes::Bytes;
use grpc_codec::{Connection, Event, StreamId};

use crate::conn_support::{events, h, ok_response};

/// Serves every request on `s`: 200, then `body` and a grpc-status
/// trailer. Returns the requests' bodies by stream.
pub(crate) fn serve(s: &mut Connection, body: &'static [u8]) -> Vec<(u32, Vec<u8>)> {
    let mut bodies: Vec<(u32, Vec<u8>)> = Vec::new();
    for ev in events(s) {
        match ev {
            Event::Request {
                stream, end_stream, ..
            } => {
                bodies.push((stream.value(), Vec::new()));
                if end_stream {
                    respond(s, stream, body);
                }
            }
            Event::Data {
                stream,
                data,
                end_stream,
            } => {
                let b = bodies
                    .iter_mut()
                    .find(|(i, _)| *i == stream.value())
                    .unwrap();
                b.1.extend_from_slice(&data);
                if end_stream {
                    respond(s, stream, body);
                }
            }
            _ => {}
        }
    }
    bodies
}

pub(crate) fn respond(s: &mut Connection, stream: StreamId, body: &'static [u8]) {
    s.send_response(stream, &ok_response(), false).unwrap();
    s.send_data(stream, Bytes::from_static(body), false)
        .unwrap();
    s.send_trailers(stream, &[h("grpc-status", "0")]).unwrap();
}
