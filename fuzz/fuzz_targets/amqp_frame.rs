#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| amqp_codec::fuzzing::frame(data));
