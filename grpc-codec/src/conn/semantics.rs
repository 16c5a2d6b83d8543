//! HTTP semantics of HTTP/2 messages (RFC 9113 §8): field names and
//! values (§8.2), pseudo-header fields (§8.3), connection-specific fields
//! (§8.2.2), trailers (§8.1) and content-length (§8.1.1). A message that
//! breaks them is malformed: a stream error PROTOCOL_ERROR (§8.1.1).

use bytes::Bytes;

use crate::event::{Request, Response};
use crate::hpack::Header;

/// Fields that only HTTP/1.1 connections use (§8.2.2).
const CONNECTION_SPECIFIC: [&[u8]; 5] = [
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"upgrade",
];

/// A received field section split into pseudo-headers and regular fields,
/// with its content-length.
#[derive(Debug, Default)]
struct Section {
    method: Option<Bytes>,
    scheme: Option<Bytes>,
    authority: Option<Bytes>,
    path: Option<Bytes>,
    status: Option<Bytes>,
    regular: Vec<Header>,
    content_length: Option<u64>,
}

/// §8.2.1: no uppercase, no controls, SP, DEL or non-ASCII in a name; a
/// colon only leading a pseudo-header.
fn check_name(name: &[u8]) -> Result<(), &'static str> {
    let body = name.strip_prefix(b":").unwrap_or(name);
    if body.is_empty() {
        return Err("empty field name (§8.2.1)");
    }
    if body
        .iter()
        .any(|&b| b <= 0x20 || b.is_ascii_uppercase() || b >= 0x7f || b == b':')
    {
        return Err("field name with uppercase or invalid characters (§8.2.1)");
    }
    Ok(())
}

/// §8.2.1: no NUL, CR or LF in a value, nor leading or trailing SP/HTAB.
fn check_value(value: &[u8]) -> Result<(), &'static str> {
    if value.iter().any(|&b| matches!(b, 0 | b'\r' | b'\n')) {
        return Err("field value with NUL, CR or LF (§8.2.1)");
    }
    let ws = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    if ws(value.first()) || ws(value.last()) {
        return Err("field value with leading or trailing whitespace (§8.2.1)");
    }
    Ok(())
}

/// Whether `h` is gRPC "true binary" metadata (a `-bin` field whose value
/// starts with 0x00, allowed once we advertise setting 0xfe03): its value
/// is raw bytes, exempt from §8.2.1's value rules.
fn is_true_binary(h: &Header) -> bool {
    h.name.ends_with(b"-bin") && h.value.first() == Some(&0)
}

/// The rules every regular field follows, in both directions.
fn check_regular(h: &Header, true_binary: bool) -> Result<(), &'static str> {
    check_name(&h.name)?;
    if !(true_binary && is_true_binary(h)) {
        check_value(&h.value)?;
    }
    if CONNECTION_SPECIFIC.contains(&&h.name[..]) {
        return Err("connection-specific header field (§8.2.2)");
    }
    if &h.name[..] == b"te" && &h.value[..] != b"trailers" {
        return Err("TE with a value other than \"trailers\" (§8.2.2)");
    }
    Ok(())
}

/// A content-length value: digits only, one value (§8.1.1; RFC 9110 §8.6).
fn parse_content_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn split(fields: Vec<Header>, true_binary: bool) -> Result<Section, &'static str> {
    let mut s = Section::default();
    let mut regular_seen = false;
    for h in fields {
        if h.name.first() == Some(&b':') {
            if regular_seen {
                return Err("pseudo-header field after a regular field (§8.3)");
            }
            check_name(&h.name)?;
            check_value(&h.value)?;
            let slot = match &h.name[..] {
                b":method" => &mut s.method,
                b":scheme" => &mut s.scheme,
                b":authority" => &mut s.authority,
                b":path" => &mut s.path,
                b":status" => &mut s.status,
                _ => return Err("unknown pseudo-header field (§8.3)"),
            };
            if slot.replace(h.value).is_some() {
                return Err("repeated pseudo-header field (§8.3)");
            }
            continue;
        }
        regular_seen = true;
        check_regular(&h, true_binary)?;
        if &h.name[..] == b"content-length" {
            let n = parse_content_length(&h.value).ok_or("invalid content-length (§8.1.1)")?;
            if s.content_length.is_some_and(|c| c != n) {
                return Err("conflicting content-length values (§8.1.1)");
            }
            s.content_length = Some(n);
        }
        s.regular.push(h);
    }
    Ok(s)
}

/// A received request head (§8.3.1), with its content-length.
pub(super) fn request(
    fields: Vec<Header>,
    true_binary: bool,
) -> Result<(Request, Option<u64>), &'static str> {
    let s = split(fields, true_binary)?;
    if s.status.is_some() {
        return Err(":status in a request (§8.3)");
    }
    let method = s.method.ok_or("request without :method (§8.3.1)")?;
    check_request_target(
        &method,
        s.scheme.as_ref(),
        s.authority.as_ref(),
        s.path.as_ref(),
    )?;
    let request = Request {
        method,
        scheme: s.scheme,
        authority: s.authority,
        path: s.path,
        headers: s.regular,
    };
    Ok((request, s.content_length))
}

/// §8.3.1 and §8.5: what a request's pseudo-headers must hold.
fn check_request_target(
    method: &[u8],
    scheme: Option<&Bytes>,
    authority: Option<&Bytes>,
    path: Option<&Bytes>,
) -> Result<(), &'static str> {
    if method.is_empty() {
        return Err("empty :method (§8.3.1)");
    }
    if method == b"CONNECT" {
        if scheme.is_some() || path.is_some() {
            return Err("CONNECT with :scheme or :path (§8.5)");
        }
        if authority.is_none_or(|a| a.is_empty()) {
            return Err("CONNECT without :authority (§8.5)");
        }
        return Ok(());
    }
    let scheme = scheme.ok_or("request without :scheme (§8.3.1)")?;
    let path = path.ok_or("request without :path (§8.3.1)")?;
    if scheme.is_empty() {
        return Err("empty :scheme (§8.3.1)");
    }
    if path.is_empty() {
        return Err("empty :path (§8.3.1)");
    }
    let http = &scheme[..] == b"http" || &scheme[..] == b"https";
    let asterisk = &path[..] == b"*" && method == b"OPTIONS";
    if http && path.first() != Some(&b'/') && !asterisk {
        return Err(":path neither absolute nor \"*\" for OPTIONS (§8.3.1)");
    }
    Ok(())
}

/// A received response head (§8.3.2), with its content-length.
pub(super) fn response(
    fields: Vec<Header>,
    true_binary: bool,
) -> Result<(Response, Option<u64>), &'static str> {
    let s = split(fields, true_binary)?;
    if s.method.is_some() || s.scheme.is_some() || s.authority.is_some() || s.path.is_some() {
        return Err("request pseudo-header field in a response (§8.3)");
    }
    let status = s.status.ok_or("response without :status (§8.3.2)")?;
    let status = parse_status(&status).ok_or("invalid :status (§8.3.2)")?;
    if status == 101 {
        return Err("101 Switching Protocols (§8.6)");
    }
    Ok((
        Response {
            status,
            headers: s.regular,
        },
        s.content_length,
    ))
}

/// Three digits, 100-999 (RFC 9110 §15).
fn parse_status(v: &[u8]) -> Option<u16> {
    let [a, b, c] = *v else { return None };
    if !(b'1'..=b'9').contains(&a) || !b.is_ascii_digit() || !c.is_ascii_digit() {
        return None;
    }
    Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
}

/// A received trailer section (§8.1): no pseudo-headers.
pub(super) fn trailers(
    fields: Vec<Header>,
    true_binary: bool,
) -> Result<Vec<Header>, &'static str> {
    let s = split(fields, true_binary)?;
    if s.method.is_some()
        || s.scheme.is_some()
        || s.authority.is_some()
        || s.path.is_some()
        || s.status.is_some()
    {
        return Err("pseudo-header field in trailers (§8.1)");
    }
    Ok(s.regular)
}

/// The field list of a request we send, pseudo-headers first (§8.3).
pub(super) fn encode_request(r: &Request) -> Result<Vec<Header>, &'static str> {
    check_request_target(
        &r.method,
        r.scheme.as_ref(),
        r.authority.as_ref(),
        r.path.as_ref(),
    )?;
    let mut v = vec![Header::new(":method", r.method.clone())];
    let pseudo = [
        (":scheme", &r.scheme),
        (":authority", &r.authority),
        (":path", &r.path),
    ];
    for (name, value) in pseudo {
        if let Some(value) = value {
            check_value(value)?;
            v.push(Header::new(name, value.clone()));
        }
    }
    push_regular(&mut v, &r.headers)?;
    Ok(v)
}

/// The field list of a response we send (§8.3.2).
pub(super) fn encode_response(r: &Response) -> Result<Vec<Header>, &'static str> {
    if !(100..=999).contains(&r.status) || r.status == 101 {
        return Err("status outside 100-999, or 101 (§8.3.2, §8.6)");
    }
    let mut v = vec![Header::new(":status", r.status.to_string())];
    push_regular(&mut v, &r.headers)?;
    Ok(v)
}

/// The fields of a trailer section we send (§8.1).
pub(super) fn encode_trailers(headers: &[Header]) -> Result<Vec<Header>, &'static str> {
    let mut v = Vec::with_capacity(headers.len());
    push_regular(&mut v, headers)?;
    Ok(v)
}

fn push_regular(v: &mut Vec<Header>, headers: &[Header]) -> Result<(), &'static str> {
    for h in headers {
        if h.name.first() == Some(&b':') {
            return Err("pseudo-header field among regular fields (§8.3)");
        }
        check_regular(h, true)?;
        v.push(h.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: &'static str, v: &'static str) -> Header {
        Header::new(n, v)
    }

    fn get() -> Vec<Header> {
        vec![
            h(":method", "GET"),
            h(":scheme", "https"),
            h(":authority", "example.com"),
            h(":path", "/"),
        ]
    }

    #[test]
    fn valid_request() {
        let mut f = get();
        f.push(h("te", "trailers"));
        f.push(h("content-length", "0"));
        let (r, cl) = request(f, false).unwrap();
        assert_eq!(&r.method[..], b"GET");
        assert_eq!(r.headers.len(), 2);
        assert_eq!(cl, Some(0));
    }

    #[test]
    fn malformed_requests() {
        let cases: Vec<(Vec<Header>, &str)> = vec![
            (get().into_iter().skip(1).collect(), "without :method"),
            (
                vec![h(":method", "GET"), h(":scheme", "https")],
                "without :path",
            ),
            ([get(), vec![h(":path", "/x")]].concat(), "repeated pseudo"),
            (
                [vec![h("x", "1")], get()].concat(),
                "pseudo-header field after",
            ),
            ([get(), vec![h(":foo", "1")]].concat(), "unknown pseudo"),
            ([get(), vec![h(":status", "200")]].concat(), ":status in"),
            ([get(), vec![h("Upper", "1")]].concat(), "uppercase"),
            (
                [get(), vec![h("connection", "close")]].concat(),
                "connection-specific",
            ),
            (
                [get(), vec![h("upgrade", "h2c")]].concat(),
                "connection-specific",
            ),
            ([get(), vec![h("te", "gzip")]].concat(), "TE"),
            ([get(), vec![h("x", "a\nb")]].concat(), "NUL, CR or LF"),
            ([get(), vec![h("x", " a")]].concat(), "whitespace"),
            (
                [get(), vec![h("content-length", "1x")]].concat(),
                "content-length",
            ),
            (
                [
                    get(),
                    vec![h("content-length", "1"), h("content-length", "2")],
                ]
                .concat(),
                "conflicting",
            ),
            (
                vec![h(":method", "GET"), h(":scheme", "https"), h(":path", "")],
                "empty :path",
            ),
            (
                vec![h(":method", "GET"), h(":scheme", "https"), h(":path", "x")],
                "absolute",
            ),
            (
                vec![
                    h(":method", "CONNECT"),
                    h(":authority", "a:1"),
                    h(":path", "/"),
                ],
                "CONNECT with",
            ),
            (vec![h(":method", "CONNECT")], "CONNECT without"),
        ];
        for (fields, want) in cases {
            let e = request(fields.clone(), false).unwrap_err();
            assert!(e.contains(want), "{fields:?}: {e} lacks {want}");
        }
        let connect = vec![h(":method", "CONNECT"), h(":authority", "a:443")];
        assert!(request(connect, false).is_ok());
        let options = vec![
            h(":method", "OPTIONS"),
            h(":scheme", "http"),
            h(":path", "*"),
        ];
        assert!(request(options, false).is_ok());
    }

    #[test]
    fn responses_and_trailers() {
        let (r, cl) = response(vec![h(":status", "204"), h("content-length", "0")], false).unwrap();
        assert_eq!((r.status, cl), (204, Some(0)));
        assert!(response(vec![h(":status", "20")], false).is_err());
        assert!(response(vec![h(":status", "101")], false).is_err());
        assert!(response(vec![h("x", "1")], false).is_err());
        assert!(response(vec![h(":status", "200"), h(":path", "/")], false).is_err());
        assert!(trailers(vec![h("grpc-status", "0")], false).is_ok());
        assert!(trailers(vec![h(":status", "200")], false).is_err());
    }

    #[test]
    fn true_binary_metadata_only_when_allowed() {
        let bin = Header::new("x-bin", &b"\0\xab\r\n"[..]);
        assert!(trailers(vec![bin.clone()], false).is_err());
        assert!(trailers(vec![bin], true).is_ok());
        let text = Header::new("x", &b"\0"[..]);
        assert!(trailers(vec![text], true).is_err());
    }

    #[test]
    fn what_we_send_is_checked() {
        let r = Request::new("GET", "https", "a", "/").header("x", "1");
        let v = encode_request(&r).unwrap();
        assert_eq!(v.len(), 5);
        assert!(encode_request(&r.header("Bad", "1")).is_err());
        assert!(encode_response(&Response::new(99)).is_err());
        assert!(encode_trailers(&[h(":status", "1")]).is_err());
        assert!(encode_trailers(&[h("keep-alive", "1")]).is_err());
    }
}
