//! HPACK, header compression for HTTP/2 (RFC 7541).
//!
//! * [`Decoder`]: header blocks to [`Header`]s, to borrowed fields, or
//!   into a reusable [`HeaderList`] (one buffer per block), with the
//!   dynamic table, its size updates and the [`Limits`] a peer cannot
//!   exceed.
//! * [`Encoder`]: [`Header`]s to header blocks, choosing per field between
//!   the tables, incremental indexing and never-indexed literals, and
//!   Huffman coding only when it is shorter (or never: [`Huffman`]).
//! * [`huffman`]: the Huffman code alone.
//!
//! Both sides work on whole header blocks: the frame layer joins a HEADERS
//! or PUSH_PROMISE frame and its CONTINUATIONs before decoding, and splits
//! an encoded block across frames after encoding.
//!
//! ```
//! use bytes::BytesMut;
//! use grpc_codec::hpack::{Decoder, Encoder, Header, Limits};
//!
//! let mut encoder = Encoder::new();
//! let mut decoder = Decoder::new(4096, Limits::default());
//! let headers = [
//!     Header::new(":method", "POST"),
//!     Header::new(":path", "/grpc.testing.TestService/UnaryCall"),
//!     Header::new("content-type", "application/grpc"),
//!     Header::sensitive("authorization", "Bearer secret"),
//! ];
//! let mut block = BytesMut::new();
//! encoder.encode(&headers, &mut block);
//! let decoded = decoder.decode_to_vec(&block.freeze())?;
//! assert_eq!(decoded, headers);
//! # Ok::<(), grpc_codec::hpack::Error>(())
//! ```

use std::fmt;

use bytes::Bytes;

mod decoder;
mod encoder;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod huffman;
mod huffman_table;
mod integer;
mod list;
mod string;
mod table;
#[cfg(test)]
mod tests;

pub use decoder::Decoder;
pub use encoder::{Encoder, Huffman};
pub use list::{HeaderList, HeaderListIter};

/// The initial dynamic table size of both sides of a connection, the
/// default of SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// HTTP/2 COMPRESSION_ERROR (RFC 9113 §7).
pub const COMPRESSION_ERROR: u32 = 0x9;

/// HTTP/2 PROTOCOL_ERROR (RFC 9113 §7).
pub const PROTOCOL_ERROR: u32 = 0x1;

/// One header field.
///
/// Decoded names and values share memory with the decoded block (literal
/// strings), the decoder's table or a static string; cloning one is cheap.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// The field name, as sent (HTTP/2 requires lowercase; the frame layer
    /// checks it).
    pub name: Bytes,
    /// The field value.
    pub value: Bytes,
    /// Never indexed (RFC 7541 §6.2.3, §7.1.3): this field must not enter
    /// any compression table, here or at intermediaries that re-encode it.
    /// Set by the decoder for never-indexed literals; set it on fields such
    /// as credentials to make the encoder send them so.
    pub sensitive: bool,
}

impl Header {
    /// A field the encoder may index.
    pub fn new(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            sensitive: false,
        }
    }

    /// A never-indexed field.
    pub fn sensitive(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            sensitive: true,
        }
    }

    /// The field's size as the dynamic table and SETTINGS_MAX_HEADER_LIST_SIZE
    /// count it: name and value lengths plus 32 (RFC 7541 §4.1, RFC 9113
    /// §6.5.2).
    #[must_use]
    pub fn size(&self) -> usize {
        entry_size(self.name.len(), self.value.len())
    }
}

#[inline]
pub(crate) const fn entry_size(name: usize, value: usize) -> usize {
    name + value + 32
}

/// Limits on what a peer's header block may make the [`Decoder`] hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest decoded header list, counted as [`Header::size`] summed
    /// (our SETTINGS_MAX_HEADER_LIST_SIZE).
    pub max_header_list_size: usize,
    /// Longest string literal, before and after Huffman decoding.
    pub max_string_len: usize,
}

impl Default for Limits {
    /// 64 KiB for the list and for one string.
    fn default() -> Self {
        Self {
            max_header_list_size: 64 << 10,
            max_string_len: 64 << 10,
        }
    }
}

/// What was wrong with a header block.
///
/// All but [`Error::HeaderListTooLarge`] leave the decoder's table out of
/// step with the peer's: they are connection errors of type
/// COMPRESSION_ERROR (RFC 9113 §4.3), and the decoder must not be used
/// again.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The block ends inside a representation.
    Truncated,
    /// An integer is larger than 2^32 - 1 or padded past five octets.
    IntegerOverflow,
    /// A string literal is longer than [`Limits::max_string_len`].
    StringTooLong {
        /// Its length (after Huffman decoding, if the encoded form passed).
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// An index is 0 or past the end of the dynamic table.
    InvalidIndex(usize),
    /// A Huffman-coded string holds the EOS symbol (RFC 7541 §5.2).
    HuffmanEos,
    /// A Huffman-coded string ends in more than 7 bits of padding, or in
    /// padding that is not the start of EOS (RFC 7541 §5.2).
    HuffmanPadding,
    /// A dynamic table size update after the first field of a block
    /// (RFC 7541 §4.2).
    SizeUpdateNotAtStart,
    /// A dynamic table size update above our SETTINGS_HEADER_TABLE_SIZE
    /// (RFC 7541 §6.3).
    SizeUpdateTooLarge {
        /// The size asked for.
        size: usize,
        /// Our current maximum.
        max: usize,
    },
    /// We lowered SETTINGS_HEADER_TABLE_SIZE below the table's size, and
    /// the next block did not start with a size update that fits
    /// (RFC 7541 §4.2).
    SizeUpdateMissing,
    /// The decoded list is larger than [`Limits::max_header_list_size`].
    /// The whole block was still decoded, so the table is in step and the
    /// connection can go on: refuse this one stream (RFC 9113 §10.5.1;
    /// a server may answer 431).
    HeaderListTooLarge {
        /// The list's size as far as it was counted.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl Error {
    /// The HTTP/2 error code to close with: COMPRESSION_ERROR (0x9), or
    /// PROTOCOL_ERROR (0x1) to reset the one stream for
    /// [`Error::HeaderListTooLarge`].
    #[must_use]
    pub fn code(&self) -> u32 {
        if self.is_connection_error() {
            COMPRESSION_ERROR
        } else {
            PROTOCOL_ERROR
        }
    }

    /// Whether the connection must close (the decoder's table state is
    /// lost), as opposed to refusing one stream.
    #[must_use]
    pub fn is_connection_error(&self) -> bool {
        !matches!(self, Self::HeaderListTooLarge { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("header block ends inside a field"),
            Self::IntegerOverflow => f.write_str("HPACK integer overflows"),
            Self::StringTooLong { len, limit } => {
                write!(
                    f,
                    "string literal of {len} octets exceeds the limit of {limit}"
                )
            }
            Self::InvalidIndex(i) => write!(f, "invalid table index {i}"),
            Self::HuffmanEos => f.write_str("EOS symbol inside a Huffman-coded string"),
            Self::HuffmanPadding => f.write_str("invalid Huffman padding"),
            Self::SizeUpdateNotAtStart => {
                f.write_str("dynamic table size update after the start of the block")
            }
            Self::SizeUpdateTooLarge { size, max } => {
                write!(
                    f,
                    "dynamic table size update to {size} exceeds the maximum {max}"
                )
            }
            Self::SizeUpdateMissing => {
                f.write_str("header block lacks the required dynamic table size update")
            }
            Self::HeaderListTooLarge { size, limit } => {
                write!(
                    f,
                    "header list of {size} octets exceeds the limit of {limit}"
                )
            }
        }
    }
}

impl std::error::Error for Error {}
