//! Just enough JSON for the `properties` scenario: parse the lines
//! `pika_peer.py` prints, write the expectations it reads, and the typed
//! "property JSON" form of [`BasicProperties`] that script defines
//! (`{"type": T, "value": V}` per field, the errata type letters).

use amqp_codec::{BasicProperties, FieldTable, FieldValue};

/// A JSON value. Objects keep their order; integers are exact.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number without fraction or exponent.
    Int(i128),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, entries in order.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// The value of `key` in an object.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Self> {
        match self {
            Self::Obj(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// An integer value.
    #[must_use]
    pub const fn as_int(&self) -> Option<i128> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A string value.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Parses one JSON text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing characters at offset {}", p.i));
        }
        Ok(v)
    }

    /// The compact JSON text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Int(i) => out.push_str(&i.to_string()),
            // Rust prints the shortest text that reads back as the same
            // double, as Python does; never an exponent, so valid JSON.
            Self::Float(f) => out.push_str(&format!("{f:?}")),
            Self::Str(s) => write_str(s, out),
            Self::Arr(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Self::Obj(o) => {
                out.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at offset {}", c as char, self.i))
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.s.get(self.i..self.i + word.len()) == Some(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(format!("bad literal at offset {}", self.i))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > 64 {
            return Err("nested too deep".to_owned());
        }
        self.ws();
        match self.s.get(self.i) {
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(items));
                        }
                        _ => return Err(format!("bad array at offset {}", self.i)),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut entries = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(entries));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    entries.push((k, self.value(depth + 1)?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(entries));
                        }
                        _ => return Err(format!("bad object at offset {}", self.i)),
                    }
                }
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number(),
            _ => Err(format!("unexpected character at offset {}", self.i)),
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(self.s.get(start..self.i).unwrap_or_default())
            .map_err(|e| e.to_string())?;
        if let Ok(i) = text.parse::<i128>() {
            return Ok(Json::Int(i));
        }
        text.parse::<f64>()
            .map(Json::Float)
            .map_err(|_| format!("bad number {text:?}"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("bad \\u escape at offset {}", self.i))?;
        self.i += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err("unterminated string".to_owned());
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.s.get(self.i).copied();
                    self.i += 1;
                    let ch = match e {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let mut u = self.hex4()?;
                            if (0xd800..0xdc00).contains(&u)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                u = 0x10000
                                    + ((u - 0xd800) << 10)
                                    + (lo.wrapping_sub(0xdc00) & 0x3ff);
                            }
                            char::from_u32(u).unwrap_or('\u{fffd}')
                        }
                        _ => return Err(format!("bad escape at offset {}", self.i)),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    }
}

/// Differences between two JSON values as `path: expected X, got Y`
/// lines; empty when they match. Numbers compare by value (an integer
/// equals the same float), everything else by type and value, as
/// `pika_peer.py`'s own comparison.
#[must_use]
pub fn diff(expected: &Json, actual: &Json, path: &str) -> Vec<String> {
    match (expected, actual) {
        (Json::Obj(e), Json::Obj(a)) => {
            let mut keys: Vec<&String> = e.iter().chain(a.iter()).map(|(k, _)| k).collect();
            keys.sort();
            keys.dedup();
            let mut out = Vec::new();
            for k in keys {
                let p = format!("{path}.{k}");
                match (expected.get(k), actual.get(k)) {
                    (Some(ev), Some(av)) => out.extend(diff(ev, av, &p)),
                    (Some(ev), None) => {
                        out.push(format!("{p}: missing, expected {}", ev.to_text()))
                    }
                    (None, Some(av)) => out.push(format!("{p}: unexpected {}", av.to_text())),
                    (None, None) => {}
                }
            }
            out
        }
        (Json::Arr(e), Json::Arr(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .flat_map(|(i, (ev, av))| diff(ev, av, &format!("{path}[{i}]")))
            .collect(),
        (Json::Int(e), Json::Float(a)) | (Json::Float(a), Json::Int(e)) if *e as f64 == *a => {
            Vec::new()
        }
        (e, a) if e == a => Vec::new(),
        (e, a) => vec![format!(
            "{path}: expected {}, got {}",
            e.to_text(),
            a.to_text()
        )],
    }
}

fn obj(entries: Vec<(&str, Json)>) -> Json {
    Json::Obj(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

fn text_or_hex(b: &[u8]) -> Json {
    match std::str::from_utf8(b) {
        Ok(s) => Json::Str(s.to_owned()),
        Err(_) => obj(vec![("hex", Json::Str(hex(b)))]),
    }
}

/// Lower-case hex of `b`.
#[must_use]
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A field value in typed form: `{"type": letter, "value": ...}`.
#[must_use]
pub fn field_json(v: &FieldValue) -> Json {
    let value = match v {
        FieldValue::Bool(b) => Json::Bool(*b),
        FieldValue::I8(x) => Json::Int((*x).into()),
        FieldValue::U8(x) => Json::Int((*x).into()),
        FieldValue::I16(x) => Json::Int((*x).into()),
        FieldValue::U16(x) => Json::Int((*x).into()),
        FieldValue::I32(x) => Json::Int((*x).into()),
        FieldValue::U32(x) => Json::Int((*x).into()),
        FieldValue::I64(x) => Json::Int((*x).into()),
        FieldValue::F32(x) => Json::Float(f64::from(*x)),
        FieldValue::F64(x) => Json::Float(*x),
        FieldValue::Decimal(d) => obj(vec![
            ("scale", Json::Int(d.scale.into())),
            ("value", Json::Int(d.value.into())),
        ]),
        FieldValue::LongString(s) => text_or_hex(s.as_bytes()),
        FieldValue::ByteArray(b) => Json::Str(hex(b)),
        FieldValue::Timestamp(t) => Json::Int((*t).into()),
        FieldValue::Table(t) => table_json(t),
        FieldValue::Array(a) => Json::Arr(a.values().iter().map(field_json).collect()),
        FieldValue::Void => Json::Null,
    };
    obj(vec![
        ("type", Json::Str((v.type_letter() as char).to_string())),
        ("value", value),
    ])
}

/// A field table in typed form: `{name: typed, ...}`.
#[must_use]
pub fn table_json(t: &FieldTable) -> Json {
    Json::Obj(
        t.iter()
            .map(|(k, v)| (k.as_str().to_owned(), field_json(v)))
            .collect(),
    )
}

/// The present properties under their AMQP names with `_`, as
/// `pika_peer.py` prints them.
#[must_use]
pub fn properties_json(p: &BasicProperties) -> Json {
    let s = |name: &str, v: &Option<amqp_codec::ShortString>| {
        v.as_ref()
            .map(|v| (name.to_owned(), Json::Str(v.as_str().to_owned())))
    };
    let n = |name: &str, v: Option<u64>| v.map(|v| (name.to_owned(), Json::Int(v.into())));
    let entries = [
        s("content_type", &p.content_type),
        s("content_encoding", &p.content_encoding),
        p.headers
            .as_ref()
            .map(|h| ("headers".to_owned(), table_json(h))),
        n("delivery_mode", p.delivery_mode.map(u64::from)),
        n("priority", p.priority.map(u64::from)),
        s("correlation_id", &p.correlation_id),
        s("reply_to", &p.reply_to),
        s("expiration", &p.expiration),
        s("message_id", &p.message_id),
        n("timestamp", p.timestamp),
        s("type", &p.kind),
        s("user_id", &p.user_id),
        s("app_id", &p.app_id),
        s("cluster_id", &p.cluster_id),
    ];
    Json::Obj(entries.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::{Json, diff};

    #[test]
    fn parses_and_writes() {
        let text = r#"{"a": [1, -2.5, true, null, "h\u00e9 \ud83d\ude00"], "b": {"x": -9223372036854775808}}"#;
        let v = Json::parse(text).unwrap();
        assert_eq!(
            v.to_text(),
            "{\"a\":[1,-2.5,true,null,\"h\u{e9} \u{1f600}\"],\"b\":{\"x\":-9223372036854775808}}"
        );
        assert_eq!(Json::parse(&v.to_text()).unwrap(), v);
        assert!(Json::parse("{\"a\":1,}").is_err());
        assert!(Json::parse("[1] x").is_err());
    }

    #[test]
    fn diffs() {
        let a = Json::parse(r#"{"n": 2, "f": 2.0, "s": "x", "l": [1]}"#).unwrap();
        let b = Json::parse(r#"{"n": 2.0, "f": 2, "s": "y", "m": 1, "l": [1]}"#).unwrap();
        assert_eq!(
            diff(&a, &b, "p"),
            vec!["p.m: unexpected 1", "p.s: expected \"x\", got \"y\""]
        );
        let t = Json::parse("true").unwrap();
        assert_eq!(diff(&t, &Json::Int(1), "p").len(), 1);
    }
}
