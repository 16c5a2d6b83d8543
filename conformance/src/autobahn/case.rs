//! What a case is: the bytes the fuzzer sends (a [`Script`] of writes and
//! checkpoints, built per run because masking and compression depend on the
//! role and the negotiation) and what the peer under test must answer.

use super::wire::{self, Compressor, Ev};

/// How the connection must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Once every expected event arrived, the fuzzer sends close 1000 and
    /// the peer must echo it (Autobahn's `closedByMe`).
    FuzzerCloses,
    /// The script ended with the fuzzer's close frame; the peer must answer
    /// with this code (`None`: a close frame without a code).
    Echo(Option<u16>),
    /// The peer must fail the connection with a close frame with this code
    /// (strict: Autobahn's NON-STRICT alternatives are not accepted).
    Fail(u16),
}

impl Ending {
    /// The code the peer's `Event::Closed` must carry.
    pub(crate) const fn event_code(self) -> u16 {
        match self {
            Self::FuzzerCloses => 1000,
            Self::Echo(Some(c)) | Self::Fail(c) => c,
            Self::Echo(None) => 1005,
        }
    }

    /// The code the peer's close frame must carry (`None`: no code).
    pub(crate) const fn wire_code(self) -> Option<u16> {
        match self {
            Self::FuzzerCloses => Some(1000),
            Self::Echo(c) => c,
            Self::Fail(c) => Some(c),
        }
    }
}

/// One step of the fuzzer's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// One write to the socket (one `handle_input` chunk in memory).
    Write(Vec<u8>),
    /// Let what was written reach the peer first (Autobahn's `sync` and
    /// `continueLater`); a few milliseconds on a socket, nothing in memory.
    Pause,
    /// The peer must not have failed the connection yet.
    ExpectOpen,
    /// The peer must have failed the connection by now (fail fast); on a
    /// socket nothing after this is sent.
    ExpectFailed,
}

/// The fuzzer's side of one case run.
pub(crate) struct Script {
    /// The fuzzer is the client, so it masks.
    masked: bool,
    /// Frames go into the last write until a pause, checkpoint or explicit
    /// write: what Autobahn writes in one reactor turn leaves in one send.
    coalesce: bool,
    key: u32,
    deflate: Option<Compressor>,
    /// What to do, in order.
    pub(crate) ops: Vec<Op>,
    /// What the fuzzer must receive, in order: echoed messages and pongs.
    pub(crate) expect: Vec<Ev>,
    /// How it ends.
    pub(crate) ending: Ending,
}

impl Script {
    /// An empty script for a fuzzer that masks iff `masked`, compressing
    /// messages with `deflate` if negotiated.
    pub(crate) fn new(masked: bool, deflate: Option<Compressor>) -> Self {
        Self {
            masked,
            coalesce: false,
            key: 0x3779_21a5,
            deflate,
            ops: Vec::new(),
            expect: Vec::new(),
            ending: Ending::FuzzerCloses,
        }
    }

    fn next_mask(&mut self) -> Option<[u8; 4]> {
        if !self.masked {
            return None;
        }
        // A cheap LCG: masks vary per frame and runs stay reproducible.
        self.key = self.key.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        Some(self.key.to_be_bytes())
    }

    /// A frame's bytes, masked as the role requires.
    pub(crate) fn encode(&mut self, fin: bool, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = self.next_mask();
        wire::encode(fin, rsv, opcode, payload, mask)
    }

    /// Header length of a frame this script encodes.
    pub(crate) const fn header_len(&self, len: usize) -> usize {
        wire::header_len(len, self.masked)
    }

    /// Writes raw bytes in a write of their own.
    pub(crate) fn write(&mut self, bytes: Vec<u8>) {
        self.ops.push(Op::Write(bytes));
        self.coalesce = false;
    }

    /// Appends bytes to the current write (a new one after a pause,
    /// checkpoint or explicit write).
    fn append(&mut self, bytes: Vec<u8>) {
        if self.coalesce {
            if let Some(Op::Write(last)) = self.ops.last_mut() {
                last.extend_from_slice(&bytes);
                return;
            }
        }
        self.ops.push(Op::Write(bytes));
        self.coalesce = true;
    }

    /// Sends one frame (with the frames around it, as Autobahn's
    /// `sendFrame` does).
    pub(crate) fn frame(&mut self, opcode: u8, fin: bool, payload: &[u8]) {
        self.frame_rsv(0, opcode, fin, payload);
    }

    /// Sends one frame with RSV bits `rsv`.
    pub(crate) fn frame_rsv(&mut self, rsv: u8, opcode: u8, fin: bool, payload: &[u8]) {
        let b = self.encode(fin, rsv, opcode, payload);
        self.append(b);
    }

    /// Writes one frame in writes of `chop` bytes (Autobahn's `chopsize`).
    pub(crate) fn frame_chopped(&mut self, opcode: u8, fin: bool, payload: &[u8], chop: usize) {
        let b = self.encode(fin, 0, opcode, payload);
        for c in b.chunks(chop.max(1)) {
            self.write(c.to_vec());
        }
    }

    /// Writes one frame on its own and pauses (Autobahn's `sync = True`).
    pub(crate) fn frame_sync(&mut self, opcode: u8, fin: bool, payload: &[u8]) {
        let b = self.encode(fin, 0, opcode, payload);
        self.write(b);
        self.pause();
    }

    /// Sends a close frame with `code` (if any) and `reason`.
    pub(crate) fn close(&mut self, code: Option<u16>, reason: &[u8]) {
        let p = wire::close_payload(code, reason);
        self.frame(wire::CLOSE, true, &p);
    }

    /// Writes a data message in frames of at most `frag` payload bytes
    /// (0: one frame), compressed if permessage-deflate was agreed, all in
    /// one write of its own (Autobahn sends the next message from the
    /// previous one's echo callback).
    pub(crate) fn message(&mut self, text: bool, data: &[u8], frag: usize) {
        let (payload, rsv) = match self.deflate.as_mut() {
            Some(d) => (d.message(data), 4),
            None => (data.to_vec(), 0),
        };
        let opcode = if text { wire::TEXT } else { wire::BINARY };
        let mut out = Vec::with_capacity(payload.len() + 16);
        if frag == 0 || payload.len() <= frag {
            out.extend(self.encode(true, rsv, opcode, &payload));
        } else {
            let n = payload.len().div_ceil(frag);
            for (i, chunk) in payload.chunks(frag).enumerate() {
                let (op, r) = if i == 0 {
                    (opcode, rsv)
                } else {
                    (wire::CONT, 0)
                };
                out.extend(self.encode(i + 1 == n, r, op, chunk));
            }
        }
        self.write(out);
    }

    /// Lets the bytes so far reach the peer.
    pub(crate) fn pause(&mut self) {
        self.ops.push(Op::Pause);
        self.coalesce = false;
    }

    /// The peer must still be open here.
    pub(crate) fn expect_open(&mut self) {
        self.ops.push(Op::ExpectOpen);
        self.coalesce = false;
    }

    /// The peer must have failed the connection here.
    pub(crate) fn expect_failed(&mut self) {
        self.ops.push(Op::ExpectFailed);
        self.coalesce = false;
    }

    /// The peer must echo this text message.
    pub(crate) fn echo_text(&mut self, data: &[u8]) {
        self.expect.push(Ev::Text(data.to_vec()));
    }

    /// The peer must echo this binary message.
    pub(crate) fn echo_binary(&mut self, data: &[u8]) {
        self.expect.push(Ev::Binary(data.to_vec()));
    }

    /// The peer must answer a ping with this payload.
    pub(crate) fn pong(&mut self, data: &[u8]) {
        self.expect.push(Ev::Pong(data.to_vec()));
    }

    /// The peer must fail the connection with `code`.
    pub(crate) fn fail(&mut self, code: u16) {
        self.ending = Ending::Fail(code);
    }

    /// The peer must answer the script's close frame with `code`.
    pub(crate) fn echo_close(&mut self, code: Option<u16>) {
        self.ending = Ending::Echo(code);
    }

    /// The bytes of the fuzzer's closing frame for [`Ending::FuzzerCloses`].
    pub(crate) fn closing_frame(&mut self) -> Vec<u8> {
        let p = wire::close_payload(Some(1000), b"");
        self.encode(true, 0, wire::CLOSE, &p)
    }
}

/// permessage-deflate negotiation of a category 12/13 case.
#[derive(Debug, Clone)]
pub(crate) struct DeflateSpec {
    /// What the fuzzing client offers our server (the header value).
    pub(crate) offer: String,
    /// How the fuzzing server answers our client, first applicable wins
    /// (Autobahn's `acceptN` functions).
    pub(crate) answers: Vec<Answer>,
}

/// One way a fuzzing server accepts a client's permessage-deflate offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Answer {
    /// Ask the client to reset its context after each message.
    pub(crate) client_nct: bool,
    /// Limit the client's window (0: no limit); needs the client to have
    /// offered `client_max_window_bits`.
    pub(crate) client_bits: u8,
    /// Reset the server's own context after each message.
    pub(crate) server_nct: bool,
    /// The server's own window (0: 15, unannounced).
    pub(crate) server_bits: u8,
}

/// One Autobahn case.
pub(crate) struct Case {
    /// Autobahn's id, e.g. `6.4.1`.
    pub(crate) id: String,
    /// What it sends, and what it expects.
    pub(crate) build: Box<dyn Fn(&mut Script) + Send + Sync>,
    /// permessage-deflate setup (categories 12 and 13).
    pub(crate) deflate: Option<DeflateSpec>,
    /// In-memory split runs: input bytes processed at most across all
    /// split points (every boundary while that fits, else a sample).
    pub(crate) split_budget: usize,
}

/// The default split budget: inputs under 1 KiB are split at every
/// boundary (the in-memory runner also caps the runs at 1024).
const SPLIT_BUDGET: usize = 16 << 20;

impl Case {
    /// A case with the default split budget.
    pub(crate) fn new(
        id: impl Into<String>,
        build: impl Fn(&mut Script) + Send + Sync + 'static,
    ) -> Self {
        Self {
            id: id.into(),
            build: Box::new(build),
            deflate: None,
            split_budget: SPLIT_BUDGET,
        }
    }

    /// The category number (the id's first component).
    pub(crate) fn category(&self) -> u32 {
        self.id
            .split('.')
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }
}
