//! Bytes to [`Frame`]s and back.
//!
//! [`Decoder`] takes the bytes of a TCP stream (RFC 6120 §4) or the
//! payloads of WebSocket messages (RFC 7395) in whatever pieces they arrive
//! and yields the stream header, each top-level element, and the stream's
//! end. [`Encoder`] writes them, serializing stanzas in the scope of the
//! stream header so they carry no redundant namespace declarations.

use bytes::{BufMut, Bytes, BytesMut};

use crate::config::{Framing, Limits};
use crate::element::Element;
use crate::error::Error;
use crate::frame::{Frame, NS_FRAMING, RawFrame, StreamHeader};
use crate::stanza::stream_error::NS_STREAMS;
use crate::xml::ns::Namespaces;
use crate::xml::scan::{Scanner, Token};
use crate::xml::tree;

/// The incremental stream decoder. Errors are sticky: once `decode` has
/// failed it returns the same error until [`Self::reset`].
#[derive(Debug, Clone)]
pub struct Decoder {
    framing: Framing,
    scanner: Scanner,
    /// The scope top-level elements are parsed in: the stream header's.
    scope: Namespaces,
    /// Scratch space for building elements.
    stack: tree::Stack,
    /// A self-closing stream header still owes its `StreamClose`.
    close_pending: bool,
    /// Whether a stream is open (whitespace is then a keepalive).
    opened: bool,
    error: Option<Error>,
}

impl Decoder {
    /// A decoder for `framing` with `limits`.
    #[must_use]
    pub fn new(framing: Framing, limits: Limits) -> Self {
        Self {
            framing,
            scanner: Scanner::new(limits, framing),
            scope: Namespaces::default(),
            stack: tree::Stack::default(),
            close_pending: false,
            opened: framing == Framing::WebSocket,
            error: None,
        }
    }

    /// The framing this decoder reads.
    #[must_use]
    pub const fn framing(&self) -> Framing {
        self.framing
    }

    /// The namespace scope of the current stream header (what stanzas
    /// inherit).
    #[must_use]
    pub const fn scope(&self) -> &Namespaces {
        &self.scope
    }

    /// Starts over for a new stream on the same transport: after SASL
    /// success or STARTTLS the next bytes are a new stream header (RFC 6120
    /// §4.3.3, §5.4.3.3, §6.4.6). Call it between frames: bytes already in
    /// the buffer after the last frame belong to the new stream. Clears a
    /// sticky error.
    pub fn reset(&mut self) {
        self.scanner.reset();
        self.scope = Namespaces::default();
        self.close_pending = false;
        self.opened = self.framing == Framing::WebSocket;
        self.error = None;
    }

    /// Decodes one frame from the front of `buf`: stream header, element
    /// (namespaces resolved in the header's scope), stream end, or a
    /// keepalive. `Ok(None)` when `buf` holds no complete frame; then
    /// nothing was consumed and the next call resumes scanning where this
    /// one stopped, so `buf` must only grow at its end in between.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
        self.scanner.record(true);
        let raw = self.decode_raw(buf);
        self.scanner.record(false);
        let Some(raw) = raw? else {
            return Ok(None);
        };
        let frame = match raw {
            RawFrame::StreamOpen(h) => Frame::StreamOpen(*h),
            RawFrame::StreamClose => Frame::StreamClose {
                see_other_uri: None,
            },
            RawFrame::Keepalive => Frame::Keepalive,
            RawFrame::Element(bytes) => {
                // An element begun by `decode_raw` was not recorded: parse
                // it on its own.
                let el = match self.scanner.events() {
                    Some(ev) => tree::build(&bytes, ev, &self.scope, &mut self.stack),
                    None => Element::parse_in(bytes, &self.scope, self.scanner.limits()),
                }
                .map_err(|e| self.fail(e))?;
                match self.framing {
                    Framing::WebSocket => self.framed(el)?,
                    Framing::Tcp => Frame::Element(el),
                }
            }
        };
        Ok(Some(frame))
    }

    /// An RFC 7395 `<open/>` or `<close/>` to its frame.
    fn framed(&mut self, el: Element) -> Result<Frame, Error> {
        let (name, ns) = (el.name(), el.ns());
        if name == "open" || name == "close" {
            if ns != NS_FRAMING {
                return Err(self.fail(Error::InvalidNamespace));
            }
            if name == "open" {
                return Ok(Frame::StreamOpen(StreamHeader::from_element(
                    &el,
                    Namespaces::default(),
                )));
            }
            return Ok(Frame::StreamClose {
                see_other_uri: el.attr_str("see-other-uri").cloned(),
            });
        }
        Ok(Frame::Element(el))
    }

    fn fail(&mut self, e: Error) -> Error {
        self.error = Some(e.clone());
        e
    }

    /// Like [`Self::decode`], but yields top-level elements as their
    /// bytes, checked by the scanner but not parsed into an [`Element`]:
    /// the fast path for relaying. (Namespace binding is then not
    /// checked.)
    pub fn decode_raw(&mut self, buf: &mut BytesMut) -> Result<Option<RawFrame>, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.close_pending {
            self.close_pending = false;
            return Ok(Some(RawFrame::StreamClose));
        }
        loop {
            let token = match self.scanner.scan(buf) {
                Ok(Some(t)) => t,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.fail(e)),
            };
            let end = match token {
                Token::Whitespace(e)
                | Token::Declaration(e)
                | Token::Header(e)
                | Token::Element(e)
                | Token::Close(e) => e,
            };
            let bytes = buf.split_to(end.min(buf.len())).freeze();
            self.scanner.consumed(end);
            match token {
                Token::Declaration(_) => {}
                Token::Whitespace(_) => {
                    if self.opened {
                        return Ok(Some(RawFrame::Keepalive));
                    }
                }
                Token::Element(_) => return Ok(Some(RawFrame::Element(bytes))),
                Token::Close(_) => {
                    self.opened = false;
                    return Ok(Some(RawFrame::StreamClose));
                }
                Token::Header(_) => {
                    let header = self.header(&bytes).map_err(|e| self.fail(e))?;
                    self.opened = true;
                    if bytes.ends_with(b"/>") {
                        self.close_pending = true;
                        self.opened = false;
                    }
                    return Ok(Some(RawFrame::StreamOpen(Box::new(header))));
                }
            }
        }
    }

    /// Parses the stream header's start tag and takes its declarations as
    /// the scope of the stream's elements.
    fn header(&mut self, bytes: &Bytes) -> Result<StreamHeader, Error> {
        let ev = self
            .scanner
            .events()
            .ok_or(Error::NotWellFormed("stream header not recorded"))?;
        let (el, scope) = tree::header(bytes, ev)?;
        if el.name() != "stream" {
            return Err(Error::BadFormat("the stream header is not <stream>"));
        }
        if el.ns() != NS_STREAMS {
            return Err(Error::InvalidNamespace);
        }
        self.scope = scope.clone();
        Ok(StreamHeader::from_element(&el, scope))
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(Framing::Tcp, Limits::default())
    }
}

/// Writes frames, serializing elements in the scope of the stream header
/// it last wrote.
#[derive(Debug, Clone, Default)]
pub struct Encoder {
    framing: Framing,
    scope: Namespaces,
}

impl Encoder {
    /// An encoder for `framing`.
    #[must_use]
    pub fn new(framing: Framing) -> Self {
        Self {
            framing,
            scope: Namespaces::default(),
        }
    }

    /// Writes a stream header and, for TCP framing, takes its declarations
    /// as the scope of the elements that follow.
    pub fn open(&mut self, header: &StreamHeader, out: &mut BytesMut) -> Result<(), Error> {
        header.write(self.framing, out)?;
        if self.framing == Framing::Tcp {
            self.scope = header.namespaces.clone();
            if self.scope.lookup(b"stream").is_none() {
                self.scope.bind("stream".into(), NS_STREAMS.into());
            }
        }
        Ok(())
    }

    /// Writes a top-level element.
    pub fn element(&self, el: &Element, out: &mut BytesMut) {
        el.write_in(&self.scope, out);
    }

    /// Writes the end of the stream: `</stream:stream>` or RFC 7395's
    /// `<close/>`.
    pub fn close(&self, out: &mut BytesMut) {
        match self.framing {
            Framing::Tcp => out.put_slice(b"</stream:stream>"),
            Framing::WebSocket => {
                out.put_slice(b"<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
            }
        }
    }
}

/// The RFC 7395 `<close/>` element, with a `see-other-uri` if given.
#[must_use]
pub fn ws_close(see_other_uri: Option<&str>) -> Element {
    let el = Element::new("close", NS_FRAMING);
    match see_other_uri {
        Some(uri) => el.with_attr("see-other-uri", crate::Str::copy_from(uri)),
        None => el,
    }
}
