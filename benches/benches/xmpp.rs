//! XMPP hot paths, ours beside the peers on the same bytes in one run.
//!
//! Input: a ~10 MiB c2s stream of mixed stanzas (chat messages with escaped
//! text, presences with caps, iq get/result with payloads), every stanza
//! carrying `xmlns='jabber:client'` so the same slices also parse as
//! standalone documents (as RFC 7395 framing sends them).
//!
//! * `xmpp_framing`: finding stanza boundaries with every RFC 6120 §11
//!   check (`Decoder::decode_raw`), beside a bare quick-xml event loop
//!   that only tokenizes and counts top-level elements (the floor: no
//!   checks, no UTF-8 validation, no limits).
//! * `xmpp_element`: full element trees: our `Decoder::decode` over the
//!   stream (and `Element::parse` per stanza), beside minidom parsing each
//!   stanza. Both do the same work: every stanza declares its namespace,
//!   so minidom resolves it as we resolve the stream's; both unescape text
//!   and attribute values and build every node. Nothing of ours is lazy:
//!   names, namespaces, attributes and text are all made at parse time
//!   (short strings copied inline, long ones as slices of the input). The
//!   `+walk` rows also visit every node, name, attribute value and text
//!   (ours through the public accessors, which re-check UTF-8 on
//!   `as_str`; minidom's namespace is left out since its accessor
//!   allocates a `String`).
//! * `xmpp_chunks`: our framing and decoding fed 4 KiB reads vs the whole
//!   buffer.
//! * `xmpp_serialize`: writing 100k messages (ours in the stream's scope;
//!   minidom's `write_to`).
//!
//! Ours copies the input into a `BytesMut` per iteration (what a read
//! costs); the peers read the slice in place.
//!
//! Run: `cargo bench -p benches --bench xmpp -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quick_xml::events::Event;
use xmpp_codec::{Decoder, Element, Encoder, Frame, Framing, Limits, Node, RawFrame, StreamHeader};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' version='1.0'>";

/// The stanzas of the bench stream, each a standalone document.
fn stanzas(total: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut size = 0;
    let mut i = 0u64;
    while size < total {
        let s = match i % 4 {
            0 | 1 => format!(
                "<message xmlns='jabber:client' from='juliet@example.com/balcony' \
                 to='romeo@example.net/orchard' type='chat' id='m{i}' xml:lang='en'>\
                 <body>Art thou not Romeo, and a Montague? &lt;{i}&gt; &amp; caf\u{e9} \
                 \u{1F339} wherefore</body><thread>t{}</thread>\
                 <active xmlns='http://jabber.org/protocol/chatstates'/></message>",
                i % 7
            ),
            2 => format!(
                "<presence xmlns='jabber:client' from='nurse@example.com/chamber{i}' \
                 to='juliet@example.com'><show>away</show><status>In the kitchen</status>\
                 <priority>5</priority><c xmlns='http://jabber.org/protocol/caps' \
                 hash='sha-1' node='https://example.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>\
                 </presence>"
            ),
            _ => format!(
                "<iq xmlns='jabber:client' type='result' id='roster{i}' to='juliet@example.com/balcony'>\
                 <query xmlns='jabber:iq:roster' ver='ver{i}'>\
                 <item jid='romeo@example.net' name='Romeo' subscription='both'><group>Friends</group></item>\
                 <item jid='mercutio@example.com' name='Mercutio' subscription='from'/>\
                 <item jid='benvolio@example.net' name='Benvolio' subscription='both'/>\
                 </query></iq>"
            ),
        };
        size += s.len() + 1;
        out.push(s);
        i += 1;
    }
    out
}

fn stream(stanzas: &[String]) -> Vec<u8> {
    let mut s = String::from(HEADER);
    for st in stanzas {
        s.push_str(st);
        s.push('\n');
    }
    s.push_str("</stream:stream>");
    s.into_bytes()
}

/// Our framing over `chunks`: how many elements.
fn ours_raw<'a>(chunks: impl Iterator<Item = &'a [u8]>, cap: usize) -> usize {
    let mut d = Decoder::new(Framing::Tcp, Limits::default());
    let mut buf = BytesMut::with_capacity(cap);
    let mut n = 0;
    for c in chunks {
        buf.extend_from_slice(c);
        while let Some(f) = d.decode_raw(&mut buf).unwrap_or(None) {
            if let RawFrame::Element(b) = f {
                n += 1;
                black_box(b);
            }
        }
    }
    n
}

/// Our full decode over `chunks`: how many elements (with `walk`, also
/// the sum of what [`walk`] saw).
fn ours_full<'a>(chunks: impl Iterator<Item = &'a [u8]>, cap: usize, walk: bool) -> usize {
    let mut d = Decoder::new(Framing::Tcp, Limits::default());
    let mut buf = BytesMut::with_capacity(cap);
    let mut n = 0;
    for c in chunks {
        buf.extend_from_slice(c);
        while let Some(f) = d.decode(&mut buf).unwrap_or(None) {
            if let Frame::Element(e) = f {
                n += 1;
                if walk {
                    n += self::walk(&e);
                }
                black_box(e);
            }
        }
    }
    n
}

/// Visits every node of our tree: name, namespace, attributes, text.
fn walk(e: &Element) -> usize {
    let mut n = e.name().len() + e.ns().as_str().len();
    for a in e.attrs() {
        n += a.name.as_str().len() + a.value.as_str().len();
    }
    for c in e.nodes() {
        n += match c {
            Node::Element(c) => walk(c),
            Node::Text(t) => t.as_str().len(),
        };
    }
    n
}

/// Visits every node of a minidom tree: name, attributes, text.
fn walk_minidom(e: &minidom::Element) -> usize {
    let mut n = e.name().len();
    for ((_, k), v) in e.attrs().iter() {
        n += k.len() + v.len();
    }
    for c in e.nodes() {
        n += match c {
            minidom::Node::Element(c) => walk_minidom(c),
            minidom::Node::Text(t) => t.len(),
        };
    }
    n
}

/// A bare quick-xml event loop: tokenizes, counts top-level elements.
fn quick_xml_loop(data: &[u8]) -> usize {
    let mut r = quick_xml::Reader::from_reader(data);
    let mut depth = 0usize;
    let mut n = 0;
    loop {
        match r.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => {
                depth -= 1;
                if depth == 1 {
                    n += 1;
                }
            }
            Ok(Event::Empty(_)) if depth == 1 => n += 1,
            Ok(Event::Eof) | Err(_) => return n,
            Ok(_) => {}
        }
    }
}

fn bench(c: &mut Criterion) {
    let st = stanzas(10 << 20);
    let data = stream(&st);
    let count = st.len();
    assert_eq!(ours_raw(std::iter::once(&data[..]), data.len()), count);
    assert_eq!(
        ours_full(std::iter::once(&data[..]), data.len(), false),
        count
    );
    assert_eq!(ours_full(data.chunks(4096), 8192, false), count);
    assert_eq!(quick_xml_loop(&data), count);
    let bytes = u64::try_from(data.len()).unwrap_or(u64::MAX);

    let mut g = c.benchmark_group("xmpp_framing");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.bench_function("xmpp-codec/decode_raw", |b| {
        b.iter(|| ours_raw(std::iter::once(&data[..]), data.len()));
    });
    g.bench_function("quick-xml/event-loop", |b| {
        b.iter(|| quick_xml_loop(black_box(&data)))
    });
    g.finish();

    let mut g = c.benchmark_group("xmpp_element");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.bench_function("xmpp-codec/decode", |b| {
        b.iter(|| ours_full(std::iter::once(&data[..]), data.len(), false));
    });
    g.bench_function("xmpp-codec/Element::parse", |b| {
        b.iter(|| {
            st.iter()
                .map(|s| Element::parse(Bytes::copy_from_slice(s.as_bytes())).map_or(0, |_| 1))
                .sum::<usize>()
        });
    });
    g.bench_function("minidom/parse", |b| {
        b.iter(|| {
            st.iter()
                .map(|s| {
                    s.parse::<minidom::Element>()
                        .map_or(0, |e| usize::from(black_box(e).children().next().is_some()))
                })
                .sum::<usize>()
        });
    });
    g.bench_function("xmpp-codec/decode+walk", |b| {
        b.iter(|| ours_full(std::iter::once(&data[..]), data.len(), true));
    });
    g.bench_function("minidom/parse+walk", |b| {
        b.iter(|| {
            st.iter()
                .map(|s| {
                    s.parse::<minidom::Element>()
                        .map_or(0, |e| walk_minidom(black_box(&e)))
                })
                .sum::<usize>()
        });
    });
    g.finish();

    let mut g = c.benchmark_group("xmpp_chunks");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.bench_function("decode_raw/whole", |b| {
        b.iter(|| ours_raw(std::iter::once(&data[..]), data.len()));
    });
    g.bench_function("decode_raw/4KiB", |b| {
        b.iter(|| ours_raw(data.chunks(4096), 8192))
    });
    g.bench_function("decode/whole", |b| {
        b.iter(|| ours_full(std::iter::once(&data[..]), data.len(), false));
    });
    g.bench_function("decode/4KiB", |b| {
        b.iter(|| ours_full(data.chunks(4096), 8192, false))
    });
    g.finish();

    let msgs: Vec<&String> = st
        .iter()
        .filter(|s| s.starts_with("<message"))
        .cycle()
        .take(100_000)
        .collect();
    let ours: Vec<Element> = msgs
        .iter()
        .filter_map(|m| Element::parse(Bytes::copy_from_slice(m.as_bytes())).ok())
        .collect();
    let theirs: Vec<minidom::Element> = msgs.iter().filter_map(|m| m.parse().ok()).collect();
    assert_eq!(ours.len(), 100_000);
    assert_eq!(theirs.len(), 100_000);
    let mut enc = Encoder::new(Framing::Tcp);
    let mut scratch = BytesMut::new();
    let _ = enc.open(&StreamHeader::new("jabber:client"), &mut scratch);
    let mut g = c.benchmark_group("xmpp_serialize");
    g.throughput(Throughput::Elements(100_000));
    g.sample_size(10);
    g.bench_function("xmpp-codec/100k-messages", |b| {
        let mut out = BytesMut::with_capacity(32 << 20);
        b.iter(|| {
            out.clear();
            for m in &ours {
                enc.element(m, &mut out);
            }
            out.len()
        });
    });
    g.bench_function("minidom/100k-messages", |b| {
        let mut out = Vec::with_capacity(32 << 20);
        b.iter(|| {
            out.clear();
            for m in &theirs {
                let _ = m.write_to(&mut out);
            }
            out.len()
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
