//! Limits on every size the peer controls, and the framing in use.

/// How elements are framed on the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Framing {
    /// RFC 6120 §4: one `<stream:stream>` document over a TCP byte
    /// stream; top-level children are the stream's elements.
    #[default]
    Tcp,
    /// RFC 7395 §3.3: every WebSocket message is one complete element, the
    /// stream opens with `<open/>` and ends with `<close/>`. Feed each
    /// message's payload in order; elements inherit no namespaces.
    WebSocket,
}

/// Peer-controlled sizes. Each is enforced on the raw input while it
/// arrives, so exceeding one is an [`Error::LimitExceeded`](crate::Error)
/// (`policy-violation`) and never a larger buffer or allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest top-level element (stanza, nonza or stream header) in raw
    /// bytes, tags and all. Default 256 KiB, Prosody's `c2s_stanza_size_limit`.
    pub max_stanza_size: usize,
    /// Deepest element nesting within a stanza; the stanza itself is depth
    /// 1. Default 64.
    pub max_depth: usize,
    /// Most attributes (namespace declarations included) on one element.
    /// Default 64.
    pub max_attributes: usize,
    /// Largest single text node or attribute value in raw bytes. Default
    /// 128 KiB.
    pub max_text_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stanza_size: 256 << 10,
            max_depth: 64,
            max_attributes: 64,
            max_text_size: 128 << 10,
        }
    }
}
