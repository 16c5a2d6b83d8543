//! The incremental scanner: finds where each top-level element of an XMPP
//! stream ends, and checks the restricted XML profile of RFC 6120 §11 on
//! the way, in one pass over each byte.
//!
//! It keeps its state between calls, so a chunk boundary anywhere (inside
//! a name, a quoted value, an entity reference) only pauses it; each call
//! resumes at the byte where the previous one stopped, which makes the
//! total work linear in the input. Every token it reports starts at offset
//! 0 of the caller's buffer, so positions are plain indices into it.
//!
//! What it checks: tag syntax, quoting, matching end tags, the XML name
//! characters of ASCII, entity and character references (only the five
//! predefined entities, RFC 6120 §11.1), no comments, processing
//! instructions, DOCTYPE (§11.1), no control characters (XML 1.0 §2.2),
//! UTF-8 (§11.6, at the end of each token), and the [`Limits`] as the bytes
//! arrive. Namespace binding and duplicate attributes need the element's
//! whole start tag and are checked by the tree builder.
//!
//! When asked to, it also records the structure it passes through
//! ([`Events`]: start tags with their attribute spans, text and CDATA
//! spans, end tags), so the tree builder never tokenizes the bytes again.

use crate::config::{Framing, Limits};
use crate::error::{Error, Limit, Restricted};
use crate::xml::chars::{
    ATTR_WS, CR, NAME, NAME_START, TEXT_STOP, WS, check_declaration, class, find_stop, qname_ok,
    resolve_ref, skip_while,
};

/// A complete token at the front of the buffer; the value is its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// Whitespace between top-level elements: a keepalive (RFC 6120
    /// §4.6.1) once the stream is open.
    Whitespace(usize),
    /// The XML declaration.
    Declaration(usize),
    /// The stream header's start tag (TCP framing).
    Header(usize),
    /// A complete top-level element.
    Element(usize),
    /// The stream's end tag (TCP framing).
    Close(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between top-level elements.
    Level,
    /// After `<`.
    Lt,
    /// After `<!`, having matched this many bytes of `[CDATA[`.
    Bang(u8),
    /// Inside a CDATA section, after this many `]`.
    CData(u8),
    /// After `<?`, having matched this many bytes of `xml`.
    Pi(u8),
    /// Inside the XML declaration; `true` right after a `?`.
    Decl(bool),
    StartName,
    /// Inside a start tag; `true` after whitespace.
    Tag(bool),
    AttrName,
    AttrEq,
    AttrQuote,
    /// Inside an attribute value quoted by this byte.
    AttrValue(u8),
    /// Inside a reference; the quote of the attribute value it is in, or 0
    /// in text.
    Ref(u8),
    /// After `/` in a start tag.
    EmptyEnd,
    EndName,
    EndTail,
    /// Character data inside an element.
    Content,
}

/// A span of the token's bytes: `start..end`.
pub(crate) type Span = (usize, usize);

/// One piece of a recorded token's structure, in document order. Spans
/// are offsets into the token (which starts at offset 0 of the buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A start tag.
    Start {
        /// The qualified name.
        name: Span,
        /// Its attributes: a range of [`Events::attrs`].
        attrs: Span,
        /// Whether it is an empty-element tag (no `End` follows).
        empty: bool,
        /// How many child events (start tags, text and CDATA runs) it has:
        /// an upper bound on its child nodes.
        nodes: usize,
    },
    /// Character data; `escaped` when it holds a reference or a `\r` to
    /// resolve.
    Text { span: Span, escaped: bool },
    /// The content of a CDATA section.
    CData(Span),
    /// An end tag.
    End,
}

/// An attribute as written: qualified name, raw value, and whether the
/// value holds anything to resolve (references, whitespace to normalize).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AttrSpan {
    pub(crate) name: Span,
    pub(crate) value: Span,
    pub(crate) escaped: bool,
}

/// The recorded structure of the last token (see [`Scanner::record`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Events {
    pub(crate) events: Vec<Event>,
    pub(crate) attrs: Vec<AttrSpan>,
}

impl Events {
    fn clear(&mut self) {
        self.events.clear();
        self.attrs.clear();
    }

    /// Counts a child node of the open element whose start event is `at`.
    fn add_node(&mut self, at: Option<usize>) {
        if let Some(Event::Start { nodes, .. }) = at.and_then(|i| self.events.get_mut(i)) {
            *nodes += 1;
        }
    }
}

/// Longest reference body this scanner accepts (`#x10FFFF` and
/// `#1114111` fit; longer ones are refused rather than buffered).
const MAX_REF: usize = 8;

/// The scanner state between calls. See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct Scanner {
    limits: Limits,
    /// Depth of the elements that are stream content: 1 under
    /// `<stream:stream>`, 0 for RFC 7395 framing.
    level: usize,
    state: State,
    /// Next byte to look at.
    pos: usize,
    /// Open elements, the stream element included.
    depth: usize,
    /// Name spans of the open elements inside the current token, with the
    /// index of their start event when recording.
    names: Vec<(usize, usize, usize)>,
    /// The stream element's qualified name, to match `</stream:stream>`.
    stream_name: Vec<u8>,
    /// Whether the stream header was seen (TCP).
    opened: bool,
    /// Whether the stream has ended (TCP).
    done: bool,
    /// Whether an XML declaration may come next.
    decl_allowed: bool,
    /// Start of the name being read.
    name_start: usize,
    /// Span of the current start tag's element name (attribute names
    /// reuse `name_start`).
    elem_start: usize,
    name_end: usize,
    /// Attributes on the current start tag.
    attrs: usize,
    /// Raw bytes of the current text node or attribute value.
    text: usize,
    /// Start of the reference being read (after `&`).
    ref_start: usize,
    /// Whether the caller wants the structure of elements recorded.
    record: bool,
    /// Whether the current token is being recorded: elements when
    /// `record` is set, and always the stream header, whose start tag the
    /// decoder reads.
    recording: bool,
    /// The recorded structure of the current token.
    events: Events,
    /// Start of the current text run, CDATA section or attribute value.
    run_start: usize,
    /// Whether the current text run or attribute value needs resolving.
    escaped: bool,
    /// End of the current attribute's name.
    attr_name_end: usize,
    /// Index of the current start tag's event.
    start_event: usize,
}

impl Scanner {
    pub(crate) fn new(limits: Limits, framing: Framing) -> Self {
        Self {
            limits,
            level: match framing {
                Framing::Tcp => 1,
                Framing::WebSocket => 0,
            },
            state: State::Level,
            pos: 0,
            depth: 0,
            names: Vec::new(),
            stream_name: Vec::new(),
            opened: false,
            done: false,
            decl_allowed: true,
            name_start: 0,
            elem_start: 0,
            name_end: 0,
            attrs: 0,
            text: 0,
            ref_start: 0,
            record: false,
            recording: false,
            events: Events::default(),
            run_start: 0,
            escaped: false,
            attr_name_end: 0,
            start_event: 0,
        }
    }

    /// Whether to record the structure of the elements it scans, from the
    /// next token on.
    pub(crate) fn record(&mut self, on: bool) {
        self.record = on;
    }

    /// Makes room to record an element of `len` bytes (up to the stanza
    /// size limit) without growing the vectors as it goes: for parsing a
    /// single element, where no earlier element sized them. A tag, text
    /// run or end tag takes at least three bytes, an attribute at least
    /// five; most take far more.
    pub(crate) fn reserve_for(&mut self, len: usize) {
        let len = len.min(self.limits.max_stanza_size);
        self.events.events.reserve(len / 12);
        self.events.attrs.reserve(len / 20);
        self.names.reserve(8);
    }

    /// The structure of the token last returned, if it was recorded (the
    /// stream header's always is; an element's is when recording was on
    /// as it began). Valid until the next call to [`Self::scan`].
    pub(crate) const fn events(&self) -> Option<&Events> {
        if self.recording {
            Some(&self.events)
        } else {
            None
        }
    }

    /// The limits it enforces.
    pub(crate) const fn limits(&self) -> Limits {
        self.limits
    }

    /// Back to the start of a new stream (RFC 6120 §4.3.3 restarts).
    pub(crate) fn reset(&mut self) {
        let framing = if self.level == 1 {
            Framing::Tcp
        } else {
            Framing::WebSocket
        };
        let names = std::mem::take(&mut self.names);
        let stream_name = std::mem::take(&mut self.stream_name);
        let events = std::mem::take(&mut self.events);
        let record = self.record;
        *self = Self::new(self.limits, framing);
        self.names = names;
        self.names.clear();
        self.stream_name = stream_name;
        self.stream_name.clear();
        self.events = events;
        self.events.clear();
        self.record = record;
    }

    /// The caller removed the last token from the front of its buffer.
    pub(crate) fn consumed(&mut self, n: usize) {
        self.pos = self.pos.saturating_sub(n);
    }

    fn tcp(&self) -> bool {
        self.level == 1
    }

    /// Scans on from where the last call stopped. `Ok(None)`: `buf` holds
    /// no complete token yet. After a token, the caller must remove its
    /// bytes and call [`Self::consumed`] before the next call; otherwise
    /// `buf` may only grow at its end.
    pub(crate) fn scan(&mut self, buf: &[u8]) -> Result<Option<Token>, Error> {
        let max = self.limits.max_stanza_size;
        let win = buf.get(..max.min(buf.len())).unwrap_or(buf);
        if let Some(t) = self.run(win)? {
            if let Token::Whitespace(_) = t {
                return Ok(Some(t));
            }
            let end = match t {
                Token::Whitespace(e)
                | Token::Declaration(e)
                | Token::Header(e)
                | Token::Element(e)
                | Token::Close(e) => e,
            };
            let bytes = win.get(..end).unwrap_or_default();
            if simdutf8::basic::from_utf8(bytes).is_err() {
                return Err(Error::UnsupportedEncoding);
            }
            return Ok(Some(t));
        }
        if self.state == State::Level && self.pos > 0 {
            return Ok(Some(Token::Whitespace(self.pos)));
        }
        if win.len() >= max && self.state != State::Level {
            return Err(Error::LimitExceeded {
                limit: Limit::StanzaSize,
                max,
            });
        }
        Ok(None)
    }

    fn add_text(&mut self, n: usize) -> Result<(), Error> {
        self.text = self.text.saturating_add(n);
        if self.text > self.limits.max_text_size {
            return Err(Error::LimitExceeded {
                limit: Limit::TextSize,
                max: self.limits.max_text_size,
            });
        }
        Ok(())
    }

    /// Whether we are inside a top-level element (not between them).
    fn inside(&self) -> bool {
        self.depth > self.level
    }

    #[allow(clippy::too_many_lines)]
    fn run(&mut self, win: &[u8]) -> Result<Option<Token>, Error> {
        loop {
            let Some(&b) = win.get(self.pos) else {
                return Ok(None);
            };
            match self.state {
                State::Level => {
                    if class(b) & WS != 0 {
                        self.pos = skip_while(win, self.pos, WS);
                        continue;
                    }
                    if b != b'<' {
                        return Err(if self.tcp() && (!self.opened || self.done) {
                            Error::NotWellFormed("text outside the stream element")
                        } else {
                            Error::BadFormat("text between top-level elements")
                        });
                    }
                    if self.pos > 0 {
                        return Ok(Some(Token::Whitespace(self.pos)));
                    }
                    if self.done {
                        return Err(Error::NotWellFormed("data after the end of the stream"));
                    }
                    self.events.clear();
                    self.recording = self.record || (self.tcp() && !self.opened);
                    self.state = State::Lt;
                    self.pos += 1;
                }
                State::Lt => {
                    let inside = self.inside();
                    match b {
                        b'/' => {
                            self.state = State::EndName;
                            self.name_start = self.pos + 1;
                        }
                        b'!' => self.state = State::Bang(0),
                        b'?' => {
                            if inside || !self.decl_allowed {
                                return Err(Error::RestrictedXml(
                                    Restricted::ProcessingInstruction,
                                ));
                            }
                            self.state = State::Pi(0);
                        }
                        _ if class(b) & NAME_START != 0 => {
                            if self.depth + 1 > self.level + self.limits.max_depth {
                                return Err(Error::LimitExceeded {
                                    limit: Limit::Depth,
                                    max: self.limits.max_depth,
                                });
                            }
                            self.state = State::StartName;
                            self.name_start = self.pos;
                            self.elem_start = self.pos;
                            self.attrs = 0;
                            self.pos += 1;
                            // Straight on with the name, as for attributes.
                            if !self.start_name(win)? {
                                return Ok(None);
                            }
                            continue;
                        }
                        _ => return Err(Error::NotWellFormed("bad character after '<'")),
                    }
                    self.pos += 1;
                }
                State::Bang(n) => {
                    if n == 0 {
                        match b {
                            b'-' => return Err(Error::RestrictedXml(Restricted::Comment)),
                            b'D' => return Err(Error::RestrictedXml(Restricted::Doctype)),
                            b'[' if self.inside() => {}
                            _ => return Err(Error::NotWellFormed("bad markup after '<!'")),
                        }
                    }
                    let lit = b"[CDATA[";
                    if lit.get(usize::from(n)) != Some(&b) {
                        return Err(Error::NotWellFormed("bad CDATA section start"));
                    }
                    self.pos += 1;
                    self.state = if usize::from(n) + 1 == lit.len() {
                        self.run_start = self.pos;
                        State::CData(0)
                    } else {
                        State::Bang(n + 1)
                    };
                }
                State::CData(n) => {
                    self.state = match b {
                        b']' => State::CData(n.saturating_add(1).min(2)),
                        b'>' if n == 2 => {
                            if self.recording {
                                let parent = self.names.last().map(|n| n.2);
                                self.events.add_node(parent);
                                let span = (self.run_start, self.pos - 2);
                                self.events.events.push(Event::CData(span));
                            }
                            self.run_start = self.pos + 1;
                            self.escaped = false;
                            State::Content
                        }
                        _ if class(b) & TEXT_STOP != 0 && b != b'<' && b != b'&' => {
                            return Err(Error::NotWellFormed("control character"));
                        }
                        _ => State::CData(0),
                    };
                    self.pos += 1;
                    self.add_text(1)?;
                }
                State::Pi(n) => {
                    if n < 3 {
                        if b"xml".get(usize::from(n)) != Some(&b) {
                            return Err(Error::RestrictedXml(Restricted::ProcessingInstruction));
                        }
                        self.state = State::Pi(n + 1);
                    } else if class(b) & WS != 0 {
                        self.state = State::Decl(false);
                    } else {
                        return Err(Error::RestrictedXml(Restricted::ProcessingInstruction));
                    }
                    self.pos += 1;
                }
                State::Decl(q) => {
                    self.pos += 1;
                    if q && b == b'>' {
                        let decl = win.get(..self.pos).unwrap_or_default();
                        check_declaration(decl)?;
                        self.state = State::Level;
                        self.decl_allowed = false;
                        return Ok(Some(Token::Declaration(self.pos)));
                    }
                    if class(b) & TEXT_STOP != 0 {
                        return Err(Error::NotWellFormed("bad XML declaration"));
                    }
                    self.state = State::Decl(b == b'?');
                }
                State::StartName => {
                    if !self.start_name(win)? {
                        return Ok(None);
                    }
                }
                State::Tag(spaced) => {
                    let (mut b, mut spaced) = (b, spaced);
                    if class(b) & WS != 0 {
                        self.pos = skip_while(win, self.pos, WS);
                        self.state = State::Tag(true);
                        let Some(&c) = win.get(self.pos) else {
                            return Ok(None);
                        };
                        (b, spaced) = (c, true);
                    }
                    match b {
                        b'>' => {
                            self.pos += 1;
                            if let Some(t) = self.start_tag_done(false, win) {
                                return Ok(Some(t));
                            }
                        }
                        b'/' => {
                            self.pos += 1;
                            self.state = State::EmptyEnd;
                        }
                        _ if class(b) & NAME_START != 0 && spaced => {
                            self.attrs += 1;
                            if self.attrs > self.limits.max_attributes {
                                return Err(Error::LimitExceeded {
                                    limit: Limit::Attributes,
                                    max: self.limits.max_attributes,
                                });
                            }
                            self.name_start = self.pos;
                            self.state = State::AttrName;
                            // Straight on with the name: a trip through
                            // the dispatch per state costs more than the
                            // name's bytes.
                            if !self.attr_name(win)? {
                                return Ok(None);
                            }
                        }
                        _ => return Err(Error::NotWellFormed("bad character in start tag")),
                    }
                }
                State::AttrName => {
                    if !self.attr_name(win)? {
                        return Ok(None);
                    }
                }
                State::AttrEq | State::AttrQuote => {
                    if class(b) & WS != 0 {
                        self.pos += 1;
                        continue;
                    }
                    self.pos += 1;
                    self.state = match (self.state, b) {
                        (State::AttrEq, b'=') => State::AttrQuote,
                        (State::AttrQuote, b'"' | b'\'') => {
                            self.text = 0;
                            self.run_start = self.pos;
                            self.escaped = false;
                            State::AttrValue(b)
                        }
                        _ => return Err(Error::NotWellFormed("bad attribute syntax")),
                    };
                }
                State::AttrValue(quote) => {
                    if !self.attr_value(win, quote)? {
                        return Ok(None);
                    }
                }
                State::Ref(quote) => {
                    // The whole body in one step when `win` holds it.
                    let limit = self.ref_start + MAX_REF;
                    let mut at = self.pos;
                    while at < limit
                        && win
                            .get(at)
                            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'#')
                    {
                        at += 1;
                    }
                    self.pos = at;
                    let body = win.get(self.ref_start..at).unwrap_or_default();
                    match win.get(at) {
                        None => return Ok(None),
                        Some(b';') => {
                            resolve_ref(body)?;
                            self.add_text(body.len() + 2)?;
                            self.pos += 1;
                            self.state = if quote == 0 {
                                State::Content
                            } else {
                                State::AttrValue(quote)
                            };
                        }
                        Some(_) => {
                            let predefined =
                                matches!(body, b"amp" | b"lt" | b"gt" | b"apos" | b"quot");
                            return Err(match body.first() {
                                Some(&f) if class(f) & NAME_START != 0 && !predefined => {
                                    Error::RestrictedXml(Restricted::EntityReference)
                                }
                                _ => Error::NotWellFormed("bad reference"),
                            });
                        }
                    }
                }
                State::EmptyEnd => {
                    if b != b'>' {
                        return Err(Error::NotWellFormed("'/' not followed by '>'"));
                    }
                    self.pos += 1;
                    if let Some(t) = self.start_tag_done(true, win) {
                        return Ok(Some(t));
                    }
                }
                State::EndName => {
                    if self.pos == self.name_start && class(b) & NAME_START == 0 {
                        return Err(Error::NotWellFormed("bad end tag"));
                    }
                    self.pos = skip_while(win, self.pos, NAME);
                    if self.pos == win.len() {
                        return Ok(None);
                    }
                    let name = win.get(self.name_start..self.pos).unwrap_or_default();
                    let expected = if self.depth > self.level {
                        self.names
                            .last()
                            .and_then(|&(s, e, _)| win.get(s..e))
                            .unwrap_or_default()
                    } else if self.tcp() && self.depth == 1 {
                        &self.stream_name
                    } else {
                        return Err(Error::NotWellFormed("end tag without a start tag"));
                    };
                    if name != expected {
                        return Err(Error::NotWellFormed("end tag does not match start tag"));
                    }
                    self.state = State::EndTail;
                }
                State::EndTail => {
                    if class(b) & WS != 0 {
                        self.pos += 1;
                        continue;
                    }
                    if b != b'>' {
                        return Err(Error::NotWellFormed("bad end tag"));
                    }
                    self.pos += 1;
                    if self.depth == self.level {
                        // `</stream:stream>` (only reachable with TCP).
                        self.depth = 0;
                        self.done = true;
                        self.state = State::Level;
                        return Ok(Some(Token::Close(self.pos)));
                    }
                    self.names.pop();
                    self.depth -= 1;
                    if self.recording {
                        self.events.events.push(Event::End);
                    }
                    if self.depth == self.level {
                        self.state = State::Level;
                        return Ok(Some(Token::Element(self.pos)));
                    }
                    self.state = State::Content;
                    self.text = 0;
                    self.run_start = self.pos;
                    self.escaped = false;
                }
                State::Content => {
                    let start = self.pos;
                    let at = find_stop(win, start, TEXT_STOP | CR, b'<');
                    self.add_text(at - start)?;
                    self.pos = at;
                    match win.get(at) {
                        None => return Ok(None),
                        Some(b'<') => {
                            if self.recording && at > self.run_start {
                                let parent = self.names.last().map(|n| n.2);
                                self.events.add_node(parent);
                                self.events.events.push(Event::Text {
                                    span: (self.run_start, at),
                                    escaped: self.escaped,
                                });
                            }
                            self.pos += 1;
                            self.state = State::Lt;
                            self.text = 0;
                        }
                        Some(b'&') => {
                            self.pos += 1;
                            self.ref_start = self.pos;
                            self.escaped = true;
                            self.state = State::Ref(0);
                        }
                        Some(b'\r') => {
                            self.add_text(1)?;
                            self.pos += 1;
                            self.escaped = true;
                        }
                        Some(_) => return Err(Error::NotWellFormed("control character")),
                    }
                }
            }
        }
    }

    /// Reads on in an element name (state `StartName`); `false` when `win`
    /// ends inside it.
    fn start_name(&mut self, win: &[u8]) -> Result<bool, Error> {
        self.pos = skip_while(win, self.pos, NAME);
        if self.pos == win.len() {
            return Ok(false);
        }
        let name = win.get(self.name_start..self.pos).unwrap_or_default();
        if !qname_ok(name) {
            return Err(Error::NotWellFormed("bad element name"));
        }
        self.name_end = self.pos;
        if self.recording {
            let parent = self.names.last().map(|n| n.2);
            self.events.add_node(parent);
            self.start_event = self.events.events.len();
            let at = self.events.attrs.len();
            self.events.events.push(Event::Start {
                name: (self.elem_start, self.pos),
                attrs: (at, at),
                empty: false,
                nodes: 0,
            });
        }
        self.state = State::Tag(false);
        Ok(true)
    }

    /// Reads on in an attribute name (state `AttrName`); `false` when
    /// `win` ends inside it. Takes `='` or `="` right after the name in
    /// the same step, as nearly every writer puts it.
    fn attr_name(&mut self, win: &[u8]) -> Result<bool, Error> {
        self.pos = skip_while(win, self.pos, NAME);
        if self.pos == win.len() {
            return Ok(false);
        }
        let name = win.get(self.name_start..self.pos).unwrap_or_default();
        if !qname_ok(name) {
            return Err(Error::NotWellFormed("bad attribute name"));
        }
        self.attr_name_end = self.pos;
        self.state = match win.get(self.pos..).and_then(<[u8]>::first_chunk::<2>) {
            Some(&[b'=', q @ (b'"' | b'\'')]) => {
                self.pos += 2;
                self.text = 0;
                self.run_start = self.pos;
                self.escaped = false;
                State::AttrValue(q)
            }
            _ => State::AttrEq,
        };
        Ok(true)
    }

    /// Reads on in an attribute value quoted by `quote` (state
    /// `AttrValue`); `false` when `win` ends inside it.
    fn attr_value(&mut self, win: &[u8], quote: u8) -> Result<bool, Error> {
        let start = self.pos;
        let mut at = find_stop(win, start, TEXT_STOP | ATTR_WS, quote);
        while win.get(at).is_some_and(|&c| class(c) & ATTR_WS != 0) {
            self.escaped = true;
            at = find_stop(win, at + 1, TEXT_STOP | ATTR_WS, quote);
        }
        self.add_text(at - start)?;
        self.pos = at;
        match win.get(at) {
            None => return Ok(false),
            Some(&c) if c == quote => {
                if self.recording {
                    self.events.attrs.push(AttrSpan {
                        name: (self.name_start, self.attr_name_end),
                        value: (self.run_start, at),
                        escaped: self.escaped,
                    });
                }
                self.pos += 1;
                self.state = State::Tag(false);
            }
            Some(b'&') => {
                self.pos += 1;
                self.ref_start = self.pos;
                self.escaped = true;
                self.state = State::Ref(quote);
            }
            Some(b'<') => return Err(Error::NotWellFormed("'<' in attribute value")),
            Some(_) => return Err(Error::NotWellFormed("control character")),
        }
        Ok(true)
    }

    /// A start tag ended at `self.pos` (after its `>`).
    fn start_tag_done(&mut self, empty: bool, win: &[u8]) -> Option<Token> {
        self.text = 0;
        self.run_start = self.pos;
        self.escaped = false;
        if self.recording {
            let end = self.events.attrs.len();
            if let Some(Event::Start {
                attrs, empty: e, ..
            }) = self.events.events.get_mut(self.start_event)
            {
                attrs.1 = end;
                *e = empty;
            }
        }
        if self.tcp() && self.depth == 0 {
            // The stream header.
            self.stream_name.clear();
            self.stream_name
                .extend_from_slice(win.get(self.elem_start..self.name_end).unwrap_or_default());
            self.opened = true;
            self.decl_allowed = false;
            self.state = State::Level;
            if empty {
                self.done = true;
            } else {
                self.depth = 1;
            }
            return Some(Token::Header(self.pos));
        }
        self.decl_allowed = !self.tcp();
        if empty {
            if self.depth == self.level {
                self.state = State::Level;
                return Some(Token::Element(self.pos));
            }
        } else {
            self.names
                .push((self.elem_start, self.name_end, self.start_event));
            self.depth += 1;
        }
        self.state = State::Content;
        None
    }
}
