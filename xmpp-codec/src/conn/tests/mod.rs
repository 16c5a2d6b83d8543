//! Connection tests.
