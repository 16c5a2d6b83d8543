//! The opening handshake (RFC 6455 §4): HTTP/1.1 Upgrade request and the
//! `101 Switching Protocols` answer, for both roles.
//!
//! Parsing uses `httparse`; the accept key is SHA-1 + base64 (§4.2.2 item
//! 5.4). Policy (Origin checks, auth, which subprotocol) stays with the
//! application: the parsed [`Request`] exposes Host, Origin and every header.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha1::{Digest as _, Sha1};

use crate::error::HandshakeError;

/// The GUID appended to the key before hashing (§1.3).
const WS_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Most header lines parsed in one handshake head; more is answered 431.
const MAX_HEADERS: usize = 64;

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (§4.2.2 item 5.4).
#[must_use]
pub fn accept_key(key: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(key);
    h.update(WS_GUID);
    B64.encode(h.finalize())
}

/// One extension offered or accepted in `Sec-WebSocket-Extensions`
/// (§9.1): a name and its `;`-separated parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// Extension token, e.g. `permessage-deflate`.
    pub name: String,
    /// Parameters in order; a valueless parameter has `None`.
    pub params: Vec<(String, Option<String>)>,
}

impl std::fmt::Display for Extension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        for (k, v) in &self.params {
            match v {
                Some(v) => write!(f, "; {k}={v}")?,
                None => write!(f, "; {k}")?,
            }
        }
        Ok(())
    }
}

/// Parses a `Sec-WebSocket-Extensions` value (§9.1 grammar, with quoted
/// parameter values allowed as RFC 7230 permits).
pub fn parse_extensions(value: &str) -> Result<Vec<Extension>, HandshakeError> {
    let bad = || HandshakeError::Header("Sec-WebSocket-Extensions");
    let mut out = Vec::new();
    for item in split_outside_quotes(value, ',') {
        let mut parts = split_outside_quotes(item, ';').into_iter();
        let name = parts.next().map(str::trim).unwrap_or_default();
        if name.is_empty() {
            // Empty list elements are allowed by RFC 7230 §7.
            continue;
        }
        if !is_token(name) {
            return Err(bad());
        }
        let mut params = Vec::new();
        for p in parts {
            let p = p.trim();
            let (k, v) = match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(unquote(v.trim()).ok_or_else(bad)?)),
                None => (p, None),
            };
            if !is_token(k) {
                return Err(bad());
            }
            params.push((k.to_ascii_lowercase(), v));
        }
        out.push(Extension {
            name: name.to_ascii_lowercase(),
            params,
        });
    }
    Ok(out)
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                out.push(s.get(start..i).unwrap_or_default());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out
}

fn unquote(v: &str) -> Option<String> {
    match v.strip_prefix('"') {
        Some(rest) => {
            let inner = rest.strip_suffix('"')?;
            is_token(inner).then(|| inner.to_owned())
        }
        None => is_token(v).then(|| v.to_owned()),
    }
}

/// RFC 7230 `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a comma-separated header value contains `token`
/// (case-insensitive), as `Connection: keep-alive, Upgrade` must.
fn has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// A parsed opening request (§4.2.1), as a server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Request target, e.g. `/chat?room=1`.
    pub path: String,
    /// `Host` header (§4.2.1 item 2); check it against your names.
    pub host: String,
    /// `Origin` header, sent by browsers (§10.2); check it for CSRF.
    pub origin: Option<String>,
    /// Offered subprotocols in the client's order of preference.
    pub protocols: Vec<String>,
    /// Offered extensions in the client's order of preference.
    pub extensions: Vec<Extension>,
    /// The `Sec-WebSocket-Key` value, hashed into the accept key.
    pub key: String,
    /// Every header in order, names as sent.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Request {
    /// The first header named `name` (case-insensitive), as text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .map(str::trim)
}

/// All values of the headers named `name`, joined with `,` (RFC 7230 §3.2.2).
fn header_list(headers: &[(String, Vec<u8>)], name: &str) -> String {
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .filter_map(|(_, v)| std::str::from_utf8(v).ok())
        .collect::<Vec<_>>()
        .join(",")
}

fn collect_headers(hs: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    hs.iter()
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect()
}

fn http_error(e: httparse::Error, limit: usize) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeError::TooLarge { limit },
        e => HandshakeError::Http(e.to_string()),
    }
}

/// Parses an opening request from the front of `buf`. `Ok(None)` means the
/// head is not complete yet; `Ok(Some((req, n)))` means the head took `n`
/// bytes and anything after it is already WebSocket frames.
pub fn parse_request(
    buf: &[u8],
    max_size: usize,
) -> Result<Option<(Request, usize)>, HandshakeError> {
    let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut hs);
    let n = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= max_size => n,
        Ok(httparse::Status::Partial) if buf.len() <= max_size => return Ok(None),
        Ok(_) => return Err(HandshakeError::TooLarge { limit: max_size }),
        Err(e) => return Err(http_error(e, max_size)),
    };
    let method = req.method.unwrap_or_default();
    if method != "GET" {
        return Err(HandshakeError::Method(method.to_owned()));
    }
    if req.version != Some(1) {
        return Err(HandshakeError::Version);
    }
    let headers = collect_headers(req.headers);
    let host = header(&headers, "host")
        .filter(|h| !h.is_empty())
        .ok_or(HandshakeError::Header("Host"))?
        .to_owned();
    if !has_token(&header_list(&headers, "upgrade"), "websocket") {
        return Err(HandshakeError::Header("Upgrade"));
    }
    if !has_token(&header_list(&headers, "connection"), "upgrade") {
        return Err(HandshakeError::Header("Connection"));
    }
    let version = header(&headers, "sec-websocket-version").unwrap_or_default();
    if version != "13" {
        return Err(HandshakeError::UnsupportedVersion(version.to_owned()));
    }
    let key = header(&headers, "sec-websocket-key").ok_or(HandshakeError::BadKey)?;
    if B64.decode(key).map(|k| k.len()) != Ok(16) {
        return Err(HandshakeError::BadKey);
    }
    let protocols = header_list(&headers, "sec-websocket-protocol")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let extensions = parse_extensions(&header_list(&headers, "sec-websocket-extensions"))?;
    Ok(Some((
        Request {
            path: req.path.unwrap_or("/").to_owned(),
            host,
            origin: header(&headers, "origin").map(str::to_owned),
            protocols,
            extensions,
            key: key.to_owned(),
            headers,
        },
        n,
    )))
}

/// The `101 Switching Protocols` answer to `key` (§4.2.2 item 5), with the
/// chosen subprotocol and accepted extensions, if any.
#[must_use]
pub fn accept_response(key: &str, protocol: Option<&str>, extensions: &[Extension]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(key.as_bytes())
    );
    if let Some(p) = protocol {
        r.push_str("Sec-WebSocket-Protocol: ");
        r.push_str(p);
        r.push_str("\r\n");
    }
    for e in extensions {
        r.push_str("Sec-WebSocket-Extensions: ");
        r.push_str(&e.to_string());
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// An HTTP error answer to a bad opening request: the status from
/// [`HandshakeError::status`], the reason as a plain-text body, and
/// `Sec-WebSocket-Version: 13` on 426 (§4.2.2 item 4).
#[must_use]
pub fn error_response(err: &HandshakeError) -> Vec<u8> {
    let status = err.status();
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    let body = format!("{err}\n");
    let mut r = format!("HTTP/1.1 {status} {reason}\r\n");
    if status == 426 {
        r.push_str("Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n");
    }
    if status == 405 {
        r.push_str("Allow: GET\r\n");
    }
    r.push_str(&format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    r.into_bytes()
}

/// What a client puts in its opening request (§4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    /// `Host` header value, e.g. `example.com:8080`.
    pub host: String,
    /// Request target, e.g. `/chat`.
    pub path: String,
    /// `Origin`, if this client plays a browser's part.
    pub origin: Option<String>,
    /// Extra headers (auth, cookies), sent as given.
    pub headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// A request for `path` on `host` with no extra headers.
    #[must_use]
    pub fn new(host: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            path: path.into(),
            origin: None,
            headers: Vec::new(),
        }
    }
}

/// Serializes the opening request with base64 `key`, offered `protocols` and
/// offered `extensions`.
#[must_use]
pub fn build_request(
    req: &ClientRequest,
    key: &str,
    protocols: &[String],
    extensions: &[Extension],
) -> Vec<u8> {
    let mut r = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
        req.path, req.host
    );
    if let Some(o) = &req.origin {
        r.push_str(&format!("Origin: {o}\r\n"));
    }
    if !protocols.is_empty() {
        r.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            protocols.join(", ")
        ));
    }
    if !extensions.is_empty() {
        let list: Vec<String> = extensions.iter().map(ToString::to_string).collect();
        r.push_str(&format!(
            "Sec-WebSocket-Extensions: {}\r\n",
            list.join(", ")
        ));
    }
    for (k, v) in &req.headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// A server's answer as a client sees it (§4.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status: 101 once [`parse_response`] returned it.
    pub status: u16,
    /// The subprotocol the server chose, if any.
    pub protocol: Option<String>,
    /// The extensions the server accepted, with its parameters.
    pub extensions: Vec<Extension>,
    /// Every header in order.
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Parses and checks the server's answer from the front of `buf` against
/// the request's `key` and offered `protocols` (§4.1, client requirements
/// 1–6). Extension parameters are checked by the extension itself.
pub fn parse_response(
    buf: &[u8],
    key: &str,
    protocols: &[String],
    max_size: usize,
) -> Result<Option<(Response, usize)>, HandshakeError> {
    let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut hs);
    let n = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= max_size => n,
        Ok(httparse::Status::Partial) if buf.len() <= max_size => return Ok(None),
        Ok(_) => return Err(HandshakeError::TooLarge { limit: max_size }),
        Err(e) => return Err(http_error(e, max_size)),
    };
    let status = resp.code.unwrap_or_default();
    if status != 101 {
        return Err(HandshakeError::Status(status));
    }
    let headers = collect_headers(resp.headers);
    if !has_token(&header_list(&headers, "upgrade"), "websocket") {
        return Err(HandshakeError::Header("Upgrade"));
    }
    if !has_token(&header_list(&headers, "connection"), "upgrade") {
        return Err(HandshakeError::Header("Connection"));
    }
    if header(&headers, "sec-websocket-accept") != Some(accept_key(key.as_bytes()).as_str()) {
        return Err(HandshakeError::BadAccept);
    }
    let protocol = header(&headers, "sec-websocket-protocol")
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    if let Some(p) = &protocol {
        if !protocols.iter().any(|o| o == p) {
            return Err(HandshakeError::UnofferedProtocol(p.clone()));
        }
    }
    let extensions = parse_extensions(&header_list(&headers, "sec-websocket-extensions"))?;
    Ok(Some((
        Response {
            status,
            protocol,
            extensions,
            headers,
        },
        n,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6455 §1.3 worked example.
    #[test]
    fn rfc_accept_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /// RFC 6455 §1.2 example request, then the §1.3 response.
    #[test]
    fn rfc_request_parses_and_answers() {
        let mut buf = RFC_REQUEST.to_vec();
        buf.extend_from_slice(b"\x81\x00");
        let (req, n) = parse_request(&buf, 4096).unwrap().unwrap();
        assert_eq!(n, RFC_REQUEST.len());
        assert_eq!(req.path, "/chat");
        assert_eq!(req.host, "server.example.com");
        assert_eq!(req.origin.as_deref(), Some("http://example.com"));
        assert_eq!(req.protocols, ["chat", "superchat"]);
        let resp = accept_response(&req.key, Some("chat"), &[]);
        let text = String::from_utf8(resp.clone()).unwrap();
        assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        let offered = vec!["chat".to_owned(), "superchat".to_owned()];
        let (r, m) = parse_response(&resp, &req.key, &offered, 4096)
            .unwrap()
            .unwrap();
        assert_eq!(m, resp.len());
        assert_eq!(r.protocol.as_deref(), Some("chat"));
    }

    #[test]
    fn every_prefix_is_partial() {
        for i in 0..RFC_REQUEST.len() {
            assert_eq!(
                parse_request(&RFC_REQUEST[..i], 4096),
                Ok(None),
                "prefix {i}"
            );
        }
    }

    #[test]
    fn bad_requests_get_the_right_status() {
        let swap = |from: &str, to: &str| {
            let s = std::str::from_utf8(RFC_REQUEST).unwrap().replace(from, to);
            parse_request(s.as_bytes(), 4096).unwrap_err()
        };
        assert_eq!(swap("GET", "POST").status(), 405);
        assert_eq!(swap("Version: 13", "Version: 8").status(), 426);
        assert_eq!(swap("Upgrade: websocket", "Upgrade: h2c").status(), 400);
        assert_eq!(
            swap("Connection: Upgrade", "Connection: close").status(),
            400
        );
        assert_eq!(swap("dGhlIHNhbXBsZSBub25jZQ==", "short").status(), 400);
        assert_eq!(swap("HTTP/1.1", "HTTP/1.0").status(), 400);
        assert!(parse_request(RFC_REQUEST, 20).unwrap_err().status() == 431);
        let r426 = String::from_utf8(error_response(&swap("Version: 13", "Version: 8"))).unwrap();
        assert!(r426.starts_with("HTTP/1.1 426 "));
        assert!(r426.contains("Sec-WebSocket-Version: 13\r\n"));
    }

    #[test]
    fn connection_header_token_list() {
        let s = std::str::from_utf8(RFC_REQUEST)
            .unwrap()
            .replace("Connection: Upgrade", "Connection: keep-alive, Upgrade");
        assert!(parse_request(s.as_bytes(), 4096).unwrap().is_some());
    }

    #[test]
    fn response_checks() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let good = accept_response(key, None, &[]);
        assert!(parse_response(&good, "AAAAAAAAAAAAAAAAAAAAAA==", &[], 4096).is_err());
        let p = accept_response(key, Some("x"), &[]);
        assert_eq!(
            parse_response(&p, key, &[], 4096),
            Err(HandshakeError::UnofferedProtocol("x".into()))
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 403 Forbidden\r\n\r\n", key, &[], 4096),
            Err(HandshakeError::Status(403))
        );
    }

    #[test]
    fn extension_grammar() {
        let e = parse_extensions(
            "permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\" ,x-foo",
        )
        .unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].params, [("client_max_window_bits".into(), None)]);
        assert_eq!(
            e[1].params,
            [("server_max_window_bits".into(), Some("10".into()))]
        );
        assert_eq!(e[2].name, "x-foo");
        assert!(parse_extensions("permessage-deflate; a=\"b").is_err());
        assert!(parse_extensions("bad name").is_err());
        assert_eq!(parse_extensions("").unwrap(), []);
    }
}
