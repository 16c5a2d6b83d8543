#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| grpc_codec::fuzzing::h2_conn_server(data));
