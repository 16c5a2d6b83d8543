//! Plain entry points for the fuzz targets in `fuzz/`, so an ordinary
//! `cargo test` can replay their corpora on stable Rust.
