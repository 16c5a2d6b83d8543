//! `properties`: all 14 basic properties and a headers table with every
//! field type, nested, through the broker in both directions with pika on
//! the other end, compared exactly in `pika_peer.py`'s typed JSON form.

use std::process::Command;
use std::time::Duration;

use amqp_codec::method::{ConfirmSelect, Method};
use amqp_codec::{BasicProperties, Decimal, FieldArray, FieldTable, FieldValue, LongString};

use super::json::{Json, diff, properties_json};
use super::{
    Ctx, Outcome, WAIT, ack, confirms, consume, declare_queue, delivery, ensure, make_body,
    publish, same_body, short,
};
use crate::amqp_driver::AmqpStream;
use crate::child::Proc;
use sha2::{Digest as _, Sha256};

/// How long one pika_peer.py run may take.
const PIKA_LIMIT: Duration = Duration::from_secs(60);

fn table(entries: Vec<(&str, FieldValue)>) -> FieldTable {
    entries.into_iter().map(|(k, v)| (short(k), v)).collect()
}

fn array(values: Vec<FieldValue>) -> FieldValue {
    FieldValue::Array(FieldArray::from(values))
}

/// Headers with a value of every field type RabbitMQ accepts (extreme
/// integers, exactly representable floats, non-UTF-8 and astral text),
/// nested tables and arrays.
fn all_headers() -> FieldTable {
    let bytes = |b: &'static [u8]| FieldValue::ByteArray(bytes::Bytes::from_static(b));
    table(vec![
        ("bool-true", FieldValue::Bool(true)),
        ("bool-false", FieldValue::Bool(false)),
        ("int8", FieldValue::I8(i8::MIN)),
        ("uint8", FieldValue::U8(u8::MAX)),
        ("int16", FieldValue::I16(i16::MIN)),
        ("uint16", FieldValue::U16(u16::MAX)),
        ("int32", FieldValue::I32(i32::MIN)),
        ("uint32", FieldValue::U32(u32::MAX)),
        ("int64-max", FieldValue::I64(i64::MAX)),
        ("int64-min", FieldValue::I64(i64::MIN)),
        ("float", FieldValue::F32(1.5)),
        ("double", FieldValue::F64(-1_234.567_890_123)),
        (
            "decimal",
            FieldValue::Decimal(Decimal {
                scale: 3,
                value: 123_456,
            }),
        ),
        (
            "longstr",
            FieldValue::from("\u{fc}n\u{ef}c\u{f8}d\u{e9} \u{2713} \u{1f600}"),
        ),
        (
            "binary-longstr",
            FieldValue::LongString(LongString::from(&[0xff_u8, 0x00, 0xfe][..])),
        ),
        ("empty-longstr", FieldValue::from("")),
        ("bytes", bytes(&[0x00, 0x01, 0xfe, 0xff])),
        ("timestamp", FieldValue::Timestamp(1_700_000_001)),
        ("void", FieldValue::Void),
        (
            "array",
            array(vec![
                FieldValue::I32(1),
                FieldValue::from("two"),
                FieldValue::Bool(true),
                FieldValue::Table(table(vec![("k", FieldValue::from("v"))])),
                array(vec![FieldValue::I64(3), FieldValue::F64(-0.5)]),
                FieldValue::Void,
                bytes(b"\x7f"),
                FieldValue::Decimal(Decimal { scale: 0, value: 7 }),
            ]),
        ),
        (
            "table",
            FieldValue::Table(table(vec![
                (
                    "nested",
                    FieldValue::Table(table(vec![
                        (
                            "deeper",
                            FieldValue::Table(table(vec![("n", FieldValue::I32(42))])),
                        ),
                        ("s", FieldValue::from("value")),
                    ])),
                ),
                (
                    "list",
                    array(vec![FieldValue::from("a"), FieldValue::from("b")]),
                ),
                ("empty-table", FieldValue::Table(FieldTable::new())),
                ("empty-array", array(Vec::new())),
            ])),
        ),
    ])
}

/// Every one of the 14 properties set (`user_id` must be the login:
/// RabbitMQ checks it).
fn all_props(user: &str) -> BasicProperties {
    BasicProperties {
        content_type: Some(short("application/x-amqp-peer")),
        content_encoding: Some(short("utf-8")),
        headers: Some(all_headers()),
        delivery_mode: Some(2),
        priority: Some(9),
        correlation_id: Some(short("corr-\u{e9}-1")),
        reply_to: Some(short("amqp-peer.reply")),
        expiration: Some(short("600000")),
        message_id: Some(short("msg-amqp-peer-1")),
        timestamp: Some(1_700_000_002),
        kind: Some(short("amqp-peer.all-props")),
        user_id: Some(short(user)),
        app_id: Some(short("amqp-codec")),
        cluster_id: Some(short("cluster-9")),
    }
}

pub(super) fn pika(ctx: &Ctx, python: &str, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new(python);
    cmd.arg(&ctx.pika_script).args(args);
    let what = format!("pika_peer.py {}", args.first().copied().unwrap_or_default());
    let mut p = Proc::start(&what, cmd, None, Duration::ZERO, false)?;
    let ok = p.wait_success(PIKA_LIMIT)?;
    let out = p.output();
    if ok {
        Ok(out)
    } else {
        // pika's complaints, not the JSON lines it printed.
        let mut tail: Vec<&str> = out
            .lines()
            .rev()
            .filter(|l| !l.starts_with('{'))
            .take(8)
            .collect();
        tail.reverse();
        Err(format!("{what} failed: {}", tail.join(" | ")))
    }
}

/// The scenario.
pub(super) fn properties(ctx: &Ctx) -> Outcome {
    let Some(python) = ctx.python.clone() else {
        return Outcome::Skip("needs pika (--pika PYTHON)".to_owned());
    };
    run(ctx, &python).into()
}

fn run(ctx: &Ctx, python: &str) -> Result<String, String> {
    let mut s = ctx.connect()?;
    let own = ours_to_ours(ctx, &mut s)?;
    let a = ours_to_pika(ctx, &mut s, python)?;
    let b = pika_to_ours(ctx, &mut s, python)?;
    s.close(WAIT)?;
    Ok(format!("{own}; {a}; {b}"))
}

/// Our message back to us: the decoded properties equal the sent ones.
fn ours_to_ours(ctx: &Ctx, s: &mut AmqpStream) -> Result<String, String> {
    let q = ctx.queue("props-self");
    declare_queue(s, 1, &q, FieldTable::new())?;
    let props = all_props(&ctx.url.user);
    let body = make_body(3, 777);
    publish(s, 1, "", &q, &props, &body)?;
    consume(s, 1, &q, false)?;
    let d = delivery(s, 1, WAIT)?;
    ack(s, 1, super::tag_of(&d).0, false)?;
    same_body("own message", &body, &d.body)?;
    let lines = diff(
        &properties_json(&props),
        &properties_json(&d.properties),
        "properties",
    );
    ensure(lines.is_empty(), || {
        format!("own message came back changed: {}", lines.join("; "))
    })?;
    ensure(d.properties == props, || {
        "own message: properties differ (not in their JSON form)".to_owned()
    })?;
    Ok("ours->ours exact".to_owned())
}

/// Ours published, pika consumes and compares with our expectations.
fn ours_to_pika(ctx: &Ctx, s: &mut AmqpStream, python: &str) -> Result<String, String> {
    let q = ctx.queue("props-to-pika");
    s.open_channel(2, WAIT)?;
    s.rpc(2, &Method::from(ConfirmSelect::default()), WAIT)?;
    declare_queue(s, 2, &q, FieldTable::new())?;
    let props = all_props(&ctx.url.user);
    let mut expect = String::new();
    let sizes = [300, 70_000];
    for (i, size) in sizes.iter().enumerate() {
        let body = make_body(i, *size);
        publish(s, 2, "", &q, &props, &body)?;
        let line = Json::Obj(vec![
            ("properties".to_owned(), properties_json(&props)),
            ("body_len".to_owned(), Json::Int(body.len() as i128)),
            ("body_sha256".to_owned(), Json::Str(sha256_hex(&body))),
        ]);
        expect.push_str(&line.to_text());
        expect.push('\n');
    }
    let acks = confirms(s, 2, sizes.len(), WAIT)?;
    ensure(acks.iter().all(|c| c.1), || {
        format!("publishes nacked: {acks:?}")
    })?;
    let file = std::env::temp_dir().join(format!("amqp-peer-{}-expect.json", std::process::id()));
    std::fs::write(&file, expect).map_err(|e| format!("{}: {e}", file.display()))?;
    let file_arg = file.display().to_string();
    let count = sizes.len().to_string();
    let url = pika_url(ctx);
    let r = pika(
        ctx,
        python,
        &[
            "consume",
            "--url",
            &url,
            "--queue",
            &q,
            "--count",
            &count,
            "--timeout",
            "20",
            "--expect-json",
            &file_arg,
        ],
    );
    let _ = std::fs::remove_file(&file);
    r.map_err(|e| format!("pika did not read our properties as sent: {e}"))?;
    Ok(format!("ours->pika exact ({} messages)", sizes.len()))
}

/// pika publishes its all-properties messages; we decode them and compare
/// with the JSON pika printed for them.
fn pika_to_ours(ctx: &Ctx, s: &mut AmqpStream, python: &str) -> Result<String, String> {
    let q = ctx.queue("props-from-pika");
    declare_queue(s, 1, &q, FieldTable::new())?;
    let url = pika_url(ctx);
    let n = 2;
    let size = 5_000;
    let out = pika(
        ctx,
        python,
        &[
            "publish",
            "--url",
            &url,
            "--queue",
            &q,
            "--count",
            &n.to_string(),
            "--size",
            &size.to_string(),
            "--all-props",
        ],
    )?;
    let printed: Vec<Json> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(Json::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("pika's output is not JSON: {e}"))?;
    ensure(printed.len() == n, || {
        format!("pika printed {} messages, expected {n}", printed.len())
    })?;
    consume(s, 1, &q, false)?;
    let mut problems = Vec::new();
    for (i, line) in printed.iter().enumerate() {
        let d = super::delivery(s, 1, WAIT)?;
        ack(s, 1, super::tag_of(&d).0, false)?;
        let expected = line
            .get("properties")
            .ok_or_else(|| format!("pika's line {i} has no properties"))?;
        problems.extend(
            diff(expected, &properties_json(&d.properties), "properties")
                .into_iter()
                .map(|p| format!("message {i}: {p}")),
        );
        if let Err(e) = same_body(&format!("message {i}"), &make_body(i, size), &d.body) {
            problems.push(e);
        }
        let sha = line.get("body_sha256").and_then(Json::as_str);
        if sha != Some(sha256_hex(&d.body.to_vec()).as_str()) {
            problems.push(format!("message {i}: sha256 differs from pika's {sha:?}"));
        }
    }
    ensure(problems.is_empty(), || problems.join("; "))?;
    Ok(format!("pika->ours exact ({n} messages)"))
}

/// The broker URL for pika, password included.
pub(super) fn pika_url(ctx: &Ctx) -> String {
    ctx.url.to_uri(true)
}

/// Lowercase hex SHA-256 of `data`, the form pika_peer.py prints.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
