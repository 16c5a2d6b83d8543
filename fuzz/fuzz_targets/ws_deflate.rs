#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_codec::fuzzing::deflate(data));
