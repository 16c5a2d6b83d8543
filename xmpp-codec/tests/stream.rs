//! Stream framing: hostile input (each with bounded buffering and the RFC
//! 6120 stream error condition it must produce), the restricted XML
//! profile (§11), restarts, keepalives, RFC 7395 framing, and chunk-split
//! invariance under proptest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use xmpp_codec::stanza::stream_error::StreamErrorCondition as C;
use xmpp_codec::{
    Decoder, Element, Encoder, Error, Frame, Framing, Limit, Limits, Restricted, StreamHeader,
};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

/// Feeds `chunks` in order; returns the frames (keepalives dropped), the
/// error, and the largest the buffer ever got.
fn feed<I: IntoIterator<Item = Vec<u8>>>(
    d: &mut Decoder,
    chunks: I,
) -> (Vec<Frame>, Option<Error>, usize) {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut peak = 0;
    for c in chunks {
        buf.extend_from_slice(&c);
        peak = peak.max(buf.len());
        loop {
            match d.decode(&mut buf) {
                Ok(Some(Frame::Keepalive)) => {}
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e), peak),
            }
        }
    }
    (frames, None, peak)
}

fn one(data: &[u8]) -> (Vec<Frame>, Option<Error>) {
    let (f, e, _) = feed(&mut Decoder::default(), [data.to_vec()]);
    (f, e)
}

fn stream_err(body: &str) -> Error {
    let (_, e) = one(format!("{HEADER}{body}").as_bytes());
    e.unwrap_or_else(|| panic!("no error for {body:?}"))
}

fn cond(e: &Error) -> C {
    e.stream_condition().unwrap()
}

/// A 10 MiB hostile stream in 64 KiB reads: it must fail before the
/// buffer holds more than the limit plus one read.
fn flood(prefix: &str, unit: &[u8]) -> (Error, usize) {
    let mut d = Decoder::default();
    let mut chunks = vec![format!("{HEADER}{prefix}").into_bytes()];
    let per = (64 << 10) / unit.len();
    for _ in 0..(10 << 20) / (per * unit.len()) {
        chunks.push(unit.repeat(per));
    }
    let (_, e, peak) = feed(&mut d, chunks);
    let e = e.expect("a 10 MiB flood must fail");
    assert!(
        peak <= (256 << 10) + (64 << 10) + HEADER.len() + prefix.len(),
        "buffered {peak}"
    );
    (e, peak)
}

#[test]
fn unclosed_tag_at_10_mib() {
    // An attribute value that never ends: the text limit stops it.
    let (e, _) = flood("<message to='", b"x");
    assert_eq!(
        e,
        Error::LimitExceeded {
            limit: Limit::TextSize,
            max: 128 << 10
        }
    );
    assert_eq!(cond(&e), C::PolicyViolation);
    // A start tag that never ends, made of attributes under the count
    // limit? No: of whitespace, which no other limit counts.
    let (e, _) = flood("<message", b" ");
    assert_eq!(
        e,
        Error::LimitExceeded {
            limit: Limit::StanzaSize,
            max: 256 << 10
        }
    );
    // A stanza that never ends, of small children.
    let (e, _) = flood("<message>", b"<x/>");
    assert_eq!(
        e,
        Error::LimitExceeded {
            limit: Limit::StanzaSize,
            max: 256 << 10
        }
    );
    // Text that never ends.
    let (e, _) = flood("<message><body>", b"lol ");
    assert_eq!(cond(&e), C::PolicyViolation);
}

#[test]
fn deep_nesting() {
    let (e, peak) = flood("", b"<a>");
    assert_eq!(
        e,
        Error::LimitExceeded {
            limit: Limit::Depth,
            max: 64
        }
    );
    assert!(peak < (64 << 10) + HEADER.len() + 1);
    let deep = "<a>".repeat(10_000);
    assert_eq!(cond(&stream_err(&deep)), C::PolicyViolation);
    // 64 levels are fine.
    let ok = format!("{}{}", "<a>".repeat(64), "</a>".repeat(64));
    let (f, e) = one(format!("{HEADER}{ok}").as_bytes());
    assert!(e.is_none(), "{e:?}");
    assert_eq!(f.len(), 2);
}

#[test]
fn attribute_flood() {
    let attrs: String = (0..10_000).map(|i| format!(" a{i}=''")).collect();
    let e = stream_err(&format!("<message{attrs}/>"));
    assert_eq!(
        e,
        Error::LimitExceeded {
            limit: Limit::Attributes,
            max: 64
        }
    );
    assert_eq!(cond(&e), C::PolicyViolation);
}

#[test]
fn billion_laughs() {
    let lol = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"#;
    let (f, e) = one(lol.as_bytes());
    assert!(f.is_empty());
    assert_eq!(e, Some(Error::RestrictedXml(Restricted::Doctype)));
    assert_eq!(cond(&e.unwrap()), C::RestrictedXml);
    // The same after a stream header, and an undeclared entity in a stanza.
    assert_eq!(
        stream_err("<!DOCTYPE x>"),
        Error::RestrictedXml(Restricted::Doctype)
    );
    assert_eq!(
        stream_err("<message><body>&lol9;</body></message>"),
        Error::RestrictedXml(Restricted::EntityReference)
    );
    assert_eq!(
        stream_err("<message a='&lol;'/>"),
        Error::RestrictedXml(Restricted::EntityReference)
    );
}

#[test]
fn restricted_xml() {
    assert_eq!(
        stream_err("<!-- hi -->"),
        Error::RestrictedXml(Restricted::Comment)
    );
    assert_eq!(
        stream_err("<message><!-- hi --></message>"),
        Error::RestrictedXml(Restricted::Comment)
    );
    assert_eq!(
        stream_err("<?pi x?>"),
        Error::RestrictedXml(Restricted::ProcessingInstruction)
    );
    assert_eq!(
        stream_err("<message><?xml version='1.0'?></message>"),
        Error::RestrictedXml(Restricted::ProcessingInstruction)
    );
    // A second XML declaration inside the stream is a PI.
    assert_eq!(
        stream_err("<?xml version='1.0'?>"),
        Error::RestrictedXml(Restricted::ProcessingInstruction)
    );
    // CDATA sections are allowed; predefined and numeric references too.
    let (f, e) = one(format!(
        "{HEADER}<message><body>a<![CDATA[<b>&]]>c &#x1F600;&#65;&quot;</body></message>"
    )
    .as_bytes());
    assert!(e.is_none(), "{e:?}");
    let Frame::Element(m) = &f[1] else { panic!() };
    assert_eq!(
        m.child("body", "jabber:client").unwrap().text(),
        "a<b>&c \u{1F600}A\""
    );
}

#[test]
fn not_well_formed() {
    for bad in [
        "<message></presence>",
        "<message a='1' a='2'/>",
        "<message a='<'/>",
        "<message a=1/>",
        "<message a='1'b='2'/>",
        "<message><body>\u{1}</body></message>",
        "<message>&#0;</message>",
        "<message>&#xD800;</message>",
        "<message>&amp</message>",
        "<:a/>",
        "<a:/>",
        "<a:b:c xmlns:a='x'/>",
        "< message/>",
        "</stream:streamx>",
    ] {
        let e = stream_err(bad);
        assert_eq!(cond(&e), C::NotWellFormed, "{bad}: {e:?}");
    }
    // Not well-formed before any header.
    assert_eq!(cond(&one(b"hello").1.unwrap()), C::NotWellFormed);
}

#[test]
fn invalid_utf8_and_encoding() {
    for bad in [
        &b"\xff"[..],
        b"\xc3",
        b"\xc0\xaf",
        b"\xed\xa0\x80",
        b"\xf8\x88\x80\x80\x80",
    ] {
        let mut data = format!("{HEADER}<message><body>").into_bytes();
        data.extend_from_slice(bad);
        data.extend_from_slice(b"</body></message>");
        let e = one(&data).1.unwrap();
        assert_eq!(e, Error::UnsupportedEncoding, "{bad:?}");
        assert_eq!(cond(&e), C::UnsupportedEncoding);
    }
    let e = one(b"<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream/>")
        .1
        .unwrap();
    assert_eq!(cond(&e), C::UnsupportedEncoding);
    assert!(one(b"<?xml version='1.0' encoding='utf-8'?>").1.is_none());
}

#[test]
fn bad_namespaces() {
    assert_eq!(stream_err("<foo:bar/>"), Error::BadNamespacePrefix);
    assert_eq!(
        stream_err("<message foo:a='1'/>"),
        Error::BadNamespacePrefix
    );
    assert_eq!(stream_err("<a xmlns:p=''/>"), Error::BadNamespacePrefix);
    assert_eq!(
        stream_err("<a xmlns:xml='urn:x'/>"),
        Error::BadNamespacePrefix
    );
    assert_eq!(cond(&Error::BadNamespacePrefix), C::BadNamespacePrefix);
    // Wrong stream namespace.
    let e = one(b"<stream:stream xmlns:stream='urn:wrong'>").1.unwrap();
    assert_eq!(cond(&e), C::InvalidNamespace);
    let e = one(b"<stream:stream>").1.unwrap();
    assert_eq!(cond(&e), C::BadNamespacePrefix);
    let e = one(b"<stream:features xmlns:stream='http://etherx.jabber.org/streams'>")
        .1
        .unwrap();
    assert_eq!(cond(&e), C::BadFormat);
}

#[test]
fn elements_before_an_error_are_delivered_and_the_error_sticks() {
    let mut d = Decoder::default();
    let mut buf = BytesMut::from(format!("{HEADER}<a/><b>x</b><!--").as_bytes());
    assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::StreamOpen(_)))));
    assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Element(e))) if e.name() == "a"));
    assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Element(e))) if e.name() == "b"));
    let e = d.decode(&mut buf).unwrap_err();
    assert_eq!(e, Error::RestrictedXml(Restricted::Comment));
    buf.extend_from_slice(b"<c/>");
    assert_eq!(d.decode(&mut buf).unwrap_err(), e);
}

#[test]
fn text_between_stanzas_is_bad_format_whitespace_is_keepalive() {
    assert_eq!(cond(&stream_err("<a/>hello")), C::BadFormat);
    let mut d = Decoder::default();
    let mut buf = BytesMut::from(format!("{HEADER} \n\t<a/> ").as_bytes());
    assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::StreamOpen(_)))));
    assert_eq!(d.decode(&mut buf), Ok(Some(Frame::Keepalive)));
    assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::Element(_)))));
    assert_eq!(d.decode(&mut buf), Ok(Some(Frame::Keepalive)));
    assert_eq!(d.decode(&mut buf), Ok(None));
    assert!(buf.is_empty());
}

#[test]
fn any_stream_prefix_and_restart() {
    let mut d = Decoder::default();
    let mut buf = BytesMut::from(
        &b"<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:server' \
           xmlns:db='jabber:server:dialback'><db:result from='a'>k</db:result><s:features/></s:stream>\
           <?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"[..],
    );
    let Some(Frame::StreamOpen(h)) = d.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(h.namespaces.default_ns(), "jabber:server");
    let Some(Frame::Element(r)) = d.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert!(r.is("result", "jabber:server:dialback"));
    let Some(Frame::Element(f)) = d.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert!(f.is("features", "http://etherx.jabber.org/streams"));
    assert_eq!(
        d.decode(&mut buf),
        Ok(Some(Frame::StreamClose {
            see_other_uri: None
        }))
    );
    // Without a reset, more data after the end is an error; with one, a new
    // stream (as after SASL success) begins.
    assert!(d.clone().decode(&mut buf.clone()).is_err());
    d.reset();
    assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::StreamOpen(_)))));
}

#[test]
fn self_closing_header_opens_and_closes() {
    let mut d = Decoder::default();
    let mut buf =
        BytesMut::from(&b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>"[..]);
    assert!(matches!(d.decode(&mut buf), Ok(Some(Frame::StreamOpen(_)))));
    assert!(matches!(
        d.decode(&mut buf),
        Ok(Some(Frame::StreamClose { .. }))
    ));
}

#[test]
fn websocket_framing() {
    let mut d = Decoder::new(Framing::WebSocket, Limits::default());
    let mut buf = BytesMut::new();
    buf.extend_from_slice(
        b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>",
    );
    let Some(Frame::StreamOpen(h)) = d.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(h.to.unwrap(), "example.com");
    buf.extend_from_slice(b"<message xmlns='jabber:client'><body>x</body></message>");
    let Some(Frame::Element(m)) = d.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert!(m.is("message", "jabber:client"));
    buf.extend_from_slice(
        b"<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://b/'/>",
    );
    assert_eq!(
        d.decode(&mut buf),
        Ok(Some(Frame::StreamClose {
            see_other_uri: Some("wss://b/".into())
        }))
    );
    let e = d
        .clone()
        .decode(&mut BytesMut::from(&b"<open xmlns='urn:x'/>"[..]))
        .unwrap_err();
    assert_eq!(cond(&e), C::InvalidNamespace);
    // Encoder side.
    let mut enc = Encoder::new(Framing::WebSocket);
    let mut out = BytesMut::new();
    let h = StreamHeader {
        to: Some("example.com".into()),
        version: Some("1.0".into()),
        ..StreamHeader::default()
    };
    enc.open(&h, &mut out).unwrap();
    assert_eq!(
        &out[..],
        b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>"
    );
}

#[test]
fn encoder_writes_stanzas_in_the_stream_scope() {
    let mut enc = Encoder::new(Framing::Tcp);
    let mut out = BytesMut::new();
    let mut h = StreamHeader::new("jabber:client");
    h.to = Some("example.com".into());
    enc.open(&h, &mut out).unwrap();
    let msg = Element::new("message", "jabber:client")
        .with_attr("to", "a@b")
        .with_child(Element::new("body", "jabber:client").with_text("<&>'\""))
        .with_child(Element::new("x", "urn:x").with_attr("v", "a\tb\nc'"));
    let start = out.len();
    enc.element(&msg, &mut out);
    assert_eq!(
        &out[start..],
        &b"<message to='a@b'><body>&lt;&amp;&gt;'\"</body><x xmlns='urn:x' v='a&#9;b&#10;c&apos;'/></message>"[..]
    );
    enc.close(&mut out);
    let (f, e) = one(&out);
    assert!(e.is_none(), "{e:?}");
    assert_eq!(f.len(), 3);
    assert_eq!(f[1], Frame::Element(msg));
}

#[test]
fn raw_line_ends_and_whitespace_are_normalized() {
    // XML 1.0 §2.11 and §3.3.3: the scanner marks these runs for
    // resolving; text and attribute values without them stay slices.
    let el = Element::parse(Bytes::from_static(
        b"<a xmlns='u' b='x\ty\r\nz' c='p\nq\rr' d='plain'>l1\r\nl2\rl3<![CDATA[&]]>t</a>",
    ))
    .unwrap();
    assert_eq!(el.attr("b"), Some("x y z"));
    assert_eq!(el.attr("c"), Some("p q r"));
    assert_eq!(el.attr("d"), Some("plain"));
    assert_eq!(el.text(), "l1\nl2\nl3&t");
    assert_eq!(el.nodes().len(), 1);
}

#[test]
fn decode_after_decode_raw_stopped_inside_an_element() {
    // `decode_raw` does not record an element's structure; `decode`
    // picking up that element must still build it.
    let mut d = Decoder::default();
    let mut buf = BytesMut::from(format!("{HEADER}<message to='a@b'><body>h&amp;").as_bytes());
    assert!(matches!(d.decode_raw(&mut buf), Ok(Some(_))));
    assert!(matches!(d.decode_raw(&mut buf), Ok(None)));
    buf.extend_from_slice(b"i</body></message>");
    let Ok(Some(Frame::Element(m))) = d.decode(&mut buf) else {
        panic!()
    };
    assert_eq!(m.attr("to"), Some("a@b"));
    assert_eq!(m.child("body", "jabber:client").unwrap().text(), "h&i");
}

#[test]
fn standalone_parse() {
    let el = Element::parse(Bytes::from_static(b" <a xmlns='u'><b/>t</a> ")).unwrap();
    assert!(el.is("a", "u"));
    assert!(Element::parse(Bytes::from_static(b"<a/><b/>")).is_err());
    assert!(Element::parse(Bytes::from_static(b"<a>")).is_err());
    assert!(Element::parse(Bytes::from_static(b"")).is_err());
}

// --- proptest: chunk-split invariance and round trips ---

fn name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "body", "x-y", "q.z", "n1"])
}

fn text() -> impl Strategy<Value = String> {
    "[a-z <>&'\"\t\n\r\u{e9}\u{1F600}]{0,12}"
}

fn element() -> impl Strategy<Value = Element> {
    let ns = prop::sample::select(vec!["jabber:client", "urn:x", ""]);
    let leaf = (
        name(),
        ns.clone(),
        prop::collection::vec((name(), text()), 0..3),
        text(),
    )
        .prop_map(|(n, ns, attrs, t)| {
            let mut e = Element::new(n, ns);
            for (k, v) in attrs {
                e.set_attr(k, v);
            }
            e.with_text(t)
        });
    leaf.prop_recursive(4, 24, 4, move |inner| {
        (
            name(),
            prop::sample::select(vec!["jabber:client", "urn:y"]),
            prop::collection::vec(inner, 0..4),
            text(),
        )
            .prop_map(|(n, ns, kids, t)| {
                let mut e = Element::new(n, ns);
                for k in kids {
                    e.push_child(k);
                    e.push_text(t.clone());
                }
                e
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_split_yields_the_same_elements(
        els in prop::collection::vec(element(), 1..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut enc = Encoder::new(Framing::Tcp);
        let mut wire = BytesMut::new();
        enc.open(&StreamHeader::new("jabber:client"), &mut wire).unwrap();
        for e in &els {
            enc.element(e, &mut wire);
            wire.extend_from_slice(b" ");
        }
        enc.close(&mut wire);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len())).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut at = 0;
        for p in points.into_iter().chain([wire.len()]) {
            chunks.push(wire[at..p].to_vec());
            at = p;
        }
        let (whole, e1, _) = feed(&mut Decoder::default(), [wire.to_vec()]);
        let (split, e2, _) = feed(&mut Decoder::default(), chunks);
        prop_assert!(e1.is_none() && e2.is_none(), "{e1:?} {e2:?}");
        prop_assert_eq!(&whole, &split);
        let got: Vec<&Element> = whole.iter().filter_map(|f| match f {
            Frame::Element(e) => Some(e),
            _ => None,
        }).collect();
        prop_assert_eq!(got, els.iter().collect::<Vec<_>>());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_split_alike(data in prop::collection::vec(any::<u8>(), 0..300), step in 1usize..17) {
        let mut input = HEADER.as_bytes().to_vec();
        input.extend_from_slice(&data);
        let (a, ea, _) = feed(&mut Decoder::default(), [input.clone()]);
        let (b, eb, _) = feed(&mut Decoder::default(), input.chunks(step).map(<[u8]>::to_vec));
        prop_assert_eq!(a, b);
        prop_assert_eq!(ea.is_some(), eb.is_some());
    }
}
