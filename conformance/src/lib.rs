//! Conformance runners: blocking `std::net` drivers for the sans-IO codecs,
//! used by the `ws-peer` and `demo` binaries and by `test.sh`.

pub mod amqp_broker;
pub mod amqp_driver;
pub mod amqp_scenarios;
pub mod autobahn;
pub mod child;
pub mod cli;
pub mod fuzzingserver;
pub mod h2_peer;
pub mod scenario;
pub mod ws_driver;
pub mod ws_echo;
pub mod xmpp_driver;
pub mod xmpp_scenarios;
pub mod xmpp_server;
