//! Limits and settings (every peer-controlled size has a limit here).

#[cfg(feature = "deflate")]
pub use crate::deflate::DeflateConfig;

/// Which end of the connection this endpoint is (RFC 6455 §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends the opening request and masks every frame.
    Client,
    /// Answers the opening request and never masks.
    Server,
}

/// Peer-controlled sizes. Exceeding one fails the connection with close code
/// 1009 (or HTTP 431 during the handshake), never with an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame payload accepted. Default 16 MiB.
    pub max_frame_size: usize,
    /// Largest message accepted, after reassembly and inflation.
    /// Default 64 MiB.
    pub max_message_size: usize,
    /// Largest opening handshake head (request or response). Default 16 KiB.
    pub max_handshake_size: usize,
    /// Most bytes `send_*` may queue before `poll_transmit` drains them;
    /// past it `send_*` returns [`Error::OutputFull`](crate::Error).
    /// Control replies (pong, close) are always accepted. Default 64 MiB.
    pub max_queued_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_handshake_size: 16 << 10,
            max_queued_output: 64 << 20,
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Size limits.
    pub limits: Limits,
    /// Answer pings with pongs automatically (§5.5.2). Default on. When off,
    /// the application answers [`Event::Ping`](crate::Event) itself.
    pub auto_pong: bool,
    /// Subprotocols (`Sec-WebSocket-Protocol`, §1.9): the client offers them
    /// in order; a server picks the first of the client's offers it lists
    /// here unless the application picks one when accepting.
    pub protocols: Vec<String>,
    /// permessage-deflate: what a client offers, what a server accepts.
    /// `None` disables compression (and allocates no deflate state).
    #[cfg(feature = "deflate")]
    pub deflate: Option<DeflateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            auto_pong: true,
            protocols: Vec::new(),
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }
}

/// Where a client's masking keys come from (§5.3 wants them unpredictable;
/// the caller owns the randomness so runs can be reproduced).
pub enum MaskSource {
    /// A xorshift64* stream from this seed: reproducible, for tests and
    /// fuzzing. Seed it from the OS for production use.
    Seed(u64),
    /// A caller-supplied generator, e.g. one backed by a CSPRNG.
    Fn(Box<dyn FnMut() -> [u8; 4] + Send>),
}

impl MaskSource {
    /// The next masking key.
    pub fn next_key(&mut self) -> [u8; 4] {
        match self {
            Self::Seed(s) => {
                // xorshift64*: any non-zero state works; map 0 to a constant.
                let mut x = if *s == 0 { 0x9E37_79B9_7F4A_7C15 } else { *s };
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                *s = x;
                let out = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
                let [a, b, c, d, ..] = out.to_be_bytes();
                [a, b, c, d]
            }
            Self::Fn(f) => f(),
        }
    }

    /// 16 bytes for a `Sec-WebSocket-Key` nonce (§4.1).
    pub fn nonce(&mut self) -> [u8; 16] {
        let mut n = [0u8; 16];
        for chunk in n.chunks_exact_mut(4) {
            chunk.copy_from_slice(&self.next_key());
        }
        n
    }
}

impl std::fmt::Debug for MaskSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Seed(_) => f.write_str("MaskSource::Seed(..)"),
            Self::Fn(_) => f.write_str("MaskSource::Fn(..)"),
        }
    }
}
