//! Connection-level scenarios: the any-broker `smoke` run, heartbeats,
//! a refused login, `connection.blocked`, direct reply-to and the
//! publisher-confirm throughput figure.

use std::process::Command;
use std::time::{Duration, Instant};

use amqp_codec::method::{BasicCancel, ConfirmSelect, Method, QueueDeclare};
use amqp_codec::{BasicProperties, Event, FieldTable, Sasl};

use super::props::pika_url;
use super::{
    Ctx, Outcome, WAIT, consume, declare_queue, delete_queue, delivery, ensure, get, make_body,
    publish, same_body, short, tag_of,
};
use crate::amqp_driver::{AmqpStream, DriverError};
use crate::child::Proc;

/// How long a `--blocked-cmd`/`--unblocked-cmd` may run.
const CMD_LIMIT: Duration = Duration::from_secs(60);

/// `smoke`: what any broker must serve. A queue, three messages (one of
/// 20,000 bytes, split at frame-max 4096), consumed and acked, a clean
/// close. A channel the broker closes (or a consumer it cancels) is
/// reopened once; the connection is always closed with 200.
pub(super) fn smoke(ctx: &Ctx) -> Outcome {
    let mut s = match ctx.connect_with(|c| c.tune.frame_max = 4096) {
        Ok(s) => s,
        Err(e) => return Outcome::Fail(format!("connect: {e}")),
    };
    let tune = s.tune();
    let mut retried = String::new();
    let mut result = Err(String::new());
    for attempt in 0..2 {
        result = smoke_once(ctx, &mut s, attempt);
        match &result {
            Err(e) if attempt == 0 && e.starts_with("retry:") => {
                retried = format!(" after {}", e.trim_start_matches("retry: "));
            }
            _ => break,
        }
    }
    let closed = s.close(WAIT);
    match (result, closed) {
        (Ok(()), Ok(c)) if c.reply_code == 200 => Outcome::Pass(format!(
            "3 messages through, closed 200{retried}; tune {:?}",
            tune.map(|t| (t.channel_max, t.frame_max, t.heartbeat))
        )),
        (Ok(()), Ok(c)) => Outcome::Fail(format!("connection ended with {c}")),
        (Ok(()), Err(e)) => Outcome::Fail(format!("close: {e}")),
        (Err(e), _) => Outcome::Fail(e),
    }
}

/// One pass over channel 1; `Err("retry: ...")` when the broker closed
/// the channel or cancelled the consumer (the channel is then reopened
/// by the next pass).
fn smoke_once(ctx: &Ctx, s: &mut AmqpStream, attempt: u32) -> Result<(), String> {
    let retry = |e: DriverError| match e {
        DriverError::ChannelClosed { .. } => format!("retry: {e}"),
        e => e.to_string(),
    };
    if !s.conn().is_channel_open(1) {
        if attempt > 0 && s.conn().free_channel() != Some(1) {
            // Our close of channel 1 (after a cancelled consumer) is
            // still under way.
            s.wait(WAIT, "channel.close-ok", |e| {
                matches!(e, Event::ChannelClosed { channel: 1, .. }).then_some(())
            })
            .map_err(|e| e.to_string())?;
        }
        s.open_channel(1, WAIT).map_err(retry)?;
    }
    let q = ctx.queue("smoke");
    declare_queue(s, 1, &q, FieldTable::new()).map_err(retry)?;
    let bodies = [make_body(0, 16), make_body(1, 20_000), make_body(2, 100)];
    for b in &bodies {
        publish(s, 1, "", &q, &BasicProperties::default(), b).map_err(retry)?;
    }
    let tag = consume(s, 1, &q, false).map_err(retry)?;
    for (i, b) in bodies.iter().enumerate() {
        let got = s
            .wait_on(1, WAIT, "basic.deliver", |e| match e {
                Event::Delivery(d) if d.channel == 1 => Some(Ok(d.clone())),
                Event::Method {
                    channel: 1,
                    method: Method::BasicCancel(c),
                } => Some(Err(c.consumer_tag.as_str().to_owned())),
                _ => None,
            })
            .map_err(retry)?;
        let d = got.map_err(|t| {
            // The channel stays open; close it so the retry starts clean.
            let _ = s.conn().close_channel(1, 200, "consumer cancelled");
            format!("retry: the broker cancelled consumer {t}")
        })?;
        same_body(&format!("message {i}"), b, &d.body)?;
        super::ack(s, 1, tag_of(&d).0, false).map_err(retry)?;
    }
    let cancel = BasicCancel {
        consumer_tag: short(&tag),
        nowait: false,
    };
    s.rpc(1, &Method::from(cancel), WAIT).map_err(retry)?;
    delete_queue(s, 1, &q).map_err(retry)?;
    s.close_channel(1, WAIT).map_err(|e| e.to_string())
}

/// `heartbeat`: a 1 s heartbeat keeps an idle connection alive for 5 s,
/// and it still works afterwards.
pub(super) fn heartbeat(ctx: &Ctx) -> Outcome {
    let r = (|| -> Result<String, String> {
        let mut s = ctx.connect_with(|c| c.tune.heartbeat = 1)?;
        let hb = s.tune().map(|t| t.heartbeat);
        ensure(hb == Some(1), || {
            format!("heartbeat agreed {hb:?}, asked for 1")
        })?;
        s.open_channel(1, WAIT)?;
        let q = ctx.queue("heartbeat");
        declare_queue(&mut s, 1, &q, FieldTable::new())?;
        let before = s.bytes_read();
        s.idle(Duration::from_secs(5))?;
        let frames = (s.bytes_read() - before) / 8;
        // The server sends one every half interval; a few must have come.
        ensure(frames >= 4, || {
            format!("only {frames} heartbeat frames from the server in 5 s")
        })?;
        publish(&mut s, 1, "", &q, &BasicProperties::default(), b"alive")?;
        let d = get(&mut s, 1, &q, true)?.ok_or("get-empty after the idle time")?;
        same_body("message after idling", b"alive", &d.body)?;
        s.close(WAIT)?;
        Ok(format!(
            "5 s idle, {frames} server heartbeats, still usable"
        ))
    })();
    r.into()
}

/// `auth-failure`: a wrong password is refused with 403 ACCESS_REFUSED.
pub(super) fn auth_failure(ctx: &Ctx) -> Outcome {
    let wrong = format!("{}-wrong", ctx.url.password);
    let started = Instant::now();
    let r = ctx.connect_with(|c| c.credentials = Sasl::plain(&ctx.url.user, &wrong));
    let secs = started.elapsed().as_secs_f64();
    match r {
        Ok(s) => {
            let _ = s.close(WAIT);
            Outcome::Fail("a wrong password was accepted".to_owned())
        }
        Err(DriverError::Closed(c))
            if c.by_peer && c.reply_code == 403 && c.reply_text.contains("ACCESS_REFUSED") =>
        {
            Outcome::Pass(format!("403 {:?} after {secs:.2} s", c.reply_text))
        }
        Err(e) => Outcome::Fail(format!(
            "expected connection.close 403 ACCESS_REFUSED, got: {e}"
        )),
    }
}

/// Runs a shell command to completion.
fn run_shell(cmd: &str) -> Result<(), String> {
    let mut c = Command::new("sh");
    c.arg("-c").arg(cmd);
    let mut p = Proc::start("command", c, None, Duration::ZERO, true)?;
    if p.wait_success(CMD_LIMIT)? {
        Ok(())
    } else {
        Err(format!("`{cmd}` failed: {}", p.last_line()))
    }
}

/// `blocked`: `connection.blocked` while the broker's resource alarm is
/// up (raised by `--blocked-cmd`), `connection.unblocked` once it is
/// cleared (`--unblocked-cmd`).
pub(super) fn blocked(ctx: &Ctx) -> Outcome {
    let (Some(on), Some(off)) = (&ctx.blocked_cmd, &ctx.unblocked_cmd) else {
        return Outcome::Skip("needs --blocked-cmd and --unblocked-cmd".to_owned());
    };
    let r = blocked_run(ctx, on, off);
    r.into()
}

fn blocked_run(ctx: &Ctx, on: &str, off: &str) -> Result<String, String> {
    let mut s = ctx.connect()?;
    let q = ctx.queue("blocked");
    declare_queue(&mut s, 1, &q, FieldTable::new())?;
    run_shell(on).inspect_err(|_| {
        let _ = run_shell(off);
    })?;
    // The broker blocks a connection once it publishes.
    let raised = Instant::now();
    let blocked = publish(
        &mut s,
        1,
        "",
        &q,
        &BasicProperties::default(),
        b"while blocked",
    )
    .map_err(String::from)
    .and_then(|_| {
        s.wait(WAIT, "connection.blocked", |e| match e {
            Event::Blocked { reason } => Some(reason.clone()),
            _ => None,
        })
        .map_err(String::from)
    });
    let blocked_after = raised.elapsed().as_secs_f64();
    // Always clear the alarm: later runs need the broker.
    run_shell(off)?;
    let reason = blocked?;
    ensure(!reason.is_empty(), || {
        "connection.blocked without a reason".to_owned()
    })?;
    ensure(s.conn().blocked() == Some(reason.as_str()), || {
        "the connection does not report itself blocked".to_owned()
    })?;
    let cleared = Instant::now();
    s.wait(WAIT, "connection.unblocked", |e| {
        matches!(e, Event::Unblocked).then_some(())
    })?;
    let unblocked_after = cleared.elapsed().as_secs_f64();
    let d = get(&mut s, 1, &q, true)?.ok_or("the publish made while blocked was lost")?;
    same_body("message published while blocked", b"while blocked", &d.body)?;
    s.close(WAIT)?;
    Ok(format!(
        "blocked {reason:?} {blocked_after:.2} s after the alarm, unblocked {unblocked_after:.2} s after clearing it"
    ))
}

/// `reply-to`: direct reply-to (`amq.rabbitmq.reply-to`) with pika's
/// `rpc-server` answering, or a second connection of ours without pika.
pub(super) fn reply_to(ctx: &Ctx) -> Outcome {
    reply_to_run(ctx).into()
}

fn reply_to_run(ctx: &Ctx) -> Result<String, String> {
    let q = ctx.queue("rpc");
    let n = 3;
    let mut server = None;
    let mut pika_server = None;
    match &ctx.python {
        Some(python) => {
            let mut cmd = Command::new(python);
            cmd.arg(&ctx.pika_script).args([
                "rpc-server",
                "--url",
                &pika_url(ctx),
                "--queue",
                &q,
                "--count",
                &n.to_string(),
            ]);
            let ready = Some("rpc-server: ready");
            pika_server = Some(Proc::start("pika rpc-server", cmd, ready, WAIT * 3, false)?);
        }
        None => {
            let mut srv = ctx.connect()?;
            declare_queue(&mut srv, 1, &q, FieldTable::new())?;
            consume(&mut srv, 1, &q, false)?;
            server = Some(srv);
        }
    }
    let mut c = ctx.connect()?;
    declare_queue(&mut c, 1, &q, FieldTable::new())?;
    let reply_to = "amq.rabbitmq.reply-to";
    consume(&mut c, 1, reply_to, true)?;
    for i in 0..n {
        let body = make_body(i, 100 + 1000 * i);
        let cid = format!("rpc-{i}");
        let props = BasicProperties {
            reply_to: Some(short(reply_to)),
            correlation_id: Some(short(&cid)),
            ..BasicProperties::default()
        };
        publish(&mut c, 1, "", &q, &props, &body)?;
        if let Some(srv) = server.as_mut() {
            serve_one(srv)?;
        }
        let d = delivery(&mut c, 1, WAIT)?;
        let got = d.properties.correlation_id.as_ref().map(|c| c.as_str());
        ensure(got == Some(cid.as_str()), || {
            format!("reply {i} has correlation_id {got:?}")
        })?;
        same_body(&format!("reply {i}"), &body, &d.body)?;
        if let Method::BasicDeliver(m) = &d.method {
            ensure(m.routing_key.as_str().starts_with(reply_to), || {
                format!("reply {i} routed as {:?}", m.routing_key.as_str())
            })?;
        }
    }
    c.close(WAIT)?;
    let who = match (server, pika_server) {
        (Some(srv), _) => {
            srv.close(WAIT)?;
            "our second connection"
        }
        (None, Some(mut p)) => {
            let ok = p.wait_success(WAIT)?;
            let out = p.output();
            ensure(
                ok && out.contains(&format!("rpc-server: {n} replies")),
                || format!("pika rpc-server: {}", p.last_line()),
            )?;
            "pika rpc-server"
        }
        (None, None) => "nobody",
    };
    Ok(format!("{n} calls answered by {who}"))
}

/// Our stand-in RPC server: answers one request to its reply_to.
fn serve_one(srv: &mut AmqpStream) -> Result<(), String> {
    let req = delivery(srv, 1, WAIT)?;
    let to = req
        .properties
        .reply_to
        .clone()
        .ok_or("request without reply_to")?;
    let props = BasicProperties {
        correlation_id: req.properties.correlation_id.clone(),
        ..BasicProperties::default()
    };
    publish(srv, 1, "", to.as_str(), &props, &req.body.to_vec())?;
    super::ack(srv, 1, tag_of(&req).0, false)?;
    Ok(())
}

/// `throughput`: N 100-byte messages with pipelined confirms (at most
/// [`WINDOW`] outstanding); prints `amqp-confirm-rate: X msg/s`.
pub(super) fn throughput(ctx: &Ctx) -> Outcome {
    throughput_run(ctx).into()
}

/// Publishes in flight at most.
const WINDOW: usize = 1000;

fn throughput_run(ctx: &Ctx) -> Result<String, String> {
    let n = ctx.throughput_count;
    let mut s = ctx.connect()?;
    s.rpc(1, &Method::from(ConfirmSelect::default()), WAIT)?;
    let declare = QueueDeclare {
        exclusive: true,
        auto_delete: true,
        ..QueueDeclare::default()
    };
    let q = match s.rpc(1, &Method::from(declare), WAIT)? {
        Method::QueueDeclareOk(ok) => ok.queue.into_string(),
        other => return Err(format!("queue.declare answered {}", other.name())),
    };
    let body = make_body(0, 100);
    let props = BasicProperties::default();
    let publish_m = amqp_codec::method::BasicPublish {
        routing_key: short(&q),
        ..amqp_codec::method::BasicPublish::default()
    };
    let confirm = |e: &Event| match e {
        Event::Confirm {
            channel: 1, ack, ..
        } => Some(*ack),
        _ => None,
    };
    let started = Instant::now();
    let (mut sent, mut acked, mut nacked) = (0usize, 0usize, 0usize);
    while acked + nacked < n {
        while sent < n && sent - acked - nacked < WINDOW {
            s.conn()
                .publish(1, &publish_m, &props, &body)
                .map_err(DriverError::from)?;
            sent += 1;
        }
        s.flush()?;
        let mut record = |ack: bool| {
            if ack {
                acked += 1;
            } else {
                nacked += 1;
            }
        };
        record(s.wait_on(1, WAIT, "a publisher confirm", confirm)?);
        while let Some(ack) = s.try_take(confirm) {
            record(ack);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    ensure(nacked == 0, || format!("{nacked} of {n} publishes nacked"))?;
    let rate = n as f64 / secs.max(1e-9);
    ctx.say(&format!(
        "amqp-confirm: {n} messages in {secs:.3} s (window {WINDOW})"
    ));
    ctx.say(&format!("amqp-confirm-rate: {rate:.0} msg/s"));
    // One publish in flight, as pika's BlockingChannel publishes: the
    // figure to hold beside pika's confirm-publish rate.
    let serial = n.min(SERIAL_MAX);
    let started = Instant::now();
    for _ in 0..serial {
        s.conn()
            .publish(1, &publish_m, &props, &body)
            .map_err(DriverError::from)?;
        let ack = s.wait_on(1, WAIT, "a publisher confirm", confirm)?;
        ensure(ack, || "a publish was nacked".to_owned())?;
    }
    let secs = started.elapsed().as_secs_f64();
    let serial_rate = serial as f64 / secs.max(1e-9);
    ctx.say(&format!(
        "amqp-confirm-rate-serial: {serial_rate:.0} msg/s ({serial} messages, one in flight)"
    ));
    s.close(WAIT)?;
    Ok(format!(
        "{rate:.0} msg/s pipelined, {serial_rate:.0} msg/s one at a time"
    ))
}

/// Messages of the one-in-flight measurement.
const SERIAL_MAX: usize = 5000;
