#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| xmpp_codec::fuzzing::sasl_scram(data));
