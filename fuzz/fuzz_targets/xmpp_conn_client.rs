#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| xmpp_codec::fuzzing::conn_client(data));
