//! Messaging scenarios: large bodies across small and large frames,
//! publisher confirms (ack, nack, `multiple`, returns), transactions,
//! `basic.get`, reject with requeue, prefetch, the server's consumer
//! cancel, and exchange-to-exchange bindings.

use std::time::{Duration, Instant};

use amqp_codec::method::{
    BasicPublish, BasicQos, BasicReject, ConfirmSelect, ExchangeBind, ExchangeDeclare,
    ExchangeUnbind, Method, QueueBind, TxCommit, TxRollback, TxSelect,
};
use amqp_codec::{BasicProperties, Event, FieldTable, FieldValue};

use super::{
    Ctx, Outcome, WAIT, ack, confirms, consume, declare_queue, delete_queue, delivery, ensure, get,
    make_body, publish, publish_with, same_body, short, tag_of,
};
use crate::amqp_driver::{AmqpStream, DriverError};

/// How long a 16 MiB message may take each way.
const LARGE_WAIT: Duration = Duration::from_secs(60);
/// How long to watch for messages that must not come.
const QUIET: Duration = Duration::from_millis(500);

fn select_confirms(s: &mut AmqpStream, ch: u16) -> Result<(), DriverError> {
    s.rpc(ch, &Method::from(ConfirmSelect::default()), WAIT)
        .map(drop)
}

/// Deliveries on `ch` that came in the last `d`, without acking them.
fn deliveries_within(
    s: &mut AmqpStream,
    ch: u16,
    d: Duration,
) -> Result<Vec<amqp_codec::Delivery>, DriverError> {
    s.idle(d)?;
    Ok(s.take_kept(|e| match e {
        Event::Delivery(d) if d.channel == ch => Some((**d).clone()),
        _ => None,
    }))
}

/// `large`: 1 MiB and 16 MiB messages published and consumed at a
/// frame-max of 4096 and of 131072.
pub(super) fn large(ctx: &Ctx) -> Outcome {
    let mut notes = Vec::new();
    for frame_max in [4096, 131_072] {
        match large_at(ctx, frame_max) {
            Ok(n) => notes.push(n),
            Err(e) => return Outcome::Fail(format!("frame-max {frame_max}: {e}")),
        }
    }
    Outcome::Pass(notes.join("; "))
}

fn large_at(ctx: &Ctx, frame_max: u32) -> Result<String, String> {
    let mut s = ctx.connect_with(|c| c.tune.frame_max = frame_max)?;
    let agreed = s.tune().map(|t| t.frame_max);
    ensure(agreed == Some(frame_max), || {
        format!("asked for frame-max {frame_max}, agreed {agreed:?}")
    })?;
    s.open_channel(1, WAIT)?;
    select_confirms(&mut s, 1)?;
    let q = ctx.queue(&format!("large-{frame_max}"));
    declare_queue(&mut s, 1, &q, FieldTable::new())?;
    let sizes = [1 << 20, 16 << 20];
    let started = Instant::now();
    let bodies: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| make_body(i + 1, *n))
        .collect();
    for b in &bodies {
        publish(&mut s, 1, "", &q, &BasicProperties::default(), b)?;
    }
    let acks = confirms(&mut s, 1, bodies.len(), LARGE_WAIT)?;
    ensure(acks.iter().all(|c| c.1), || format!("nacked: {acks:?}"))?;
    let published = started.elapsed();
    consume(&mut s, 1, &q, false)?;
    for (i, b) in bodies.iter().enumerate() {
        let d = delivery(&mut s, 1, LARGE_WAIT)?;
        same_body(&format!("message {i} ({} bytes)", b.len()), b, &d.body)?;
        ack(&mut s, 1, tag_of(&d).0, false)?;
    }
    delete_queue(&mut s, 1, &q)?;
    s.close(WAIT)?;
    Ok(format!(
        "frame-max {frame_max}: 1 MiB + 16 MiB out in {:.2} s, back in {:.2} s",
        published.as_secs_f64(),
        (started.elapsed() - published).as_secs_f64()
    ))
}

/// `confirms`: acks, a nack from a full `reject-publish` queue (sent
/// with `multiple`), and `basic.return` 312 for a mandatory publish that
/// routes nowhere.
pub(super) fn confirms_scenario(ctx: &Ctx) -> Outcome {
    confirms_run(ctx).into()
}

fn confirms_run(ctx: &Ctx) -> Result<String, String> {
    let mut s = ctx.connect()?;
    select_confirms(&mut s, 1)?;
    let q = ctx.queue("confirms");
    declare_queue(&mut s, 1, &q, FieldTable::new())?;
    let n = 200;
    let body = make_body(0, 100);
    for i in 1..=n {
        let tag = publish(&mut s, 1, "", &q, &BasicProperties::default(), &body)?;
        ensure(tag == Some(i), || format!("publish {i} got tag {tag:?}"))?;
    }
    let got = confirms(&mut s, 1, n as usize, WAIT)?;
    let tags: Vec<u64> = got.iter().map(|c| c.0).collect();
    ensure(tags == (1..=n).collect::<Vec<_>>(), || {
        format!("acks out of order or missing: {tags:?}")
    })?;
    ensure(got.iter().all(|c| c.1), || {
        "a publish was nacked".to_owned()
    })?;
    let multiple = got.iter().filter(|c| c.2).count();

    // A queue that holds one message and refuses more.
    let full = ctx.queue("confirms-full");
    let args: FieldTable = [
        (short("x-max-length"), FieldValue::I64(1)),
        (short("x-overflow"), FieldValue::from("reject-publish")),
    ]
    .into_iter()
    .collect();
    declare_queue(&mut s, 1, &full, args)?;
    publish(&mut s, 1, "", &full, &BasicProperties::default(), b"fits")?;
    publish(
        &mut s,
        1,
        "",
        &full,
        &BasicProperties::default(),
        b"refused",
    )?;
    let got = confirms(&mut s, 1, 2, WAIT)?;
    let want = [(n + 1, true), (n + 2, false)];
    ensure(
        got.iter().map(|c| (c.0, c.1)).eq(want.iter().copied()),
        || format!("expected ack {} then nack {}, got {got:?}", n + 1, n + 2),
    )?;
    let nack_multiple = got.get(1).is_some_and(|c| c.2);

    // Mandatory, routed nowhere: basic.return before the ack.
    let nowhere = format!("amqp-peer.nowhere.{}", std::process::id());
    let m = BasicPublish {
        routing_key: short(&nowhere),
        mandatory: true,
        ..BasicPublish::default()
    };
    publish_with(&mut s, 1, &m, &BasicProperties::default(), b"returned")?;
    let first = s.wait_on(1, WAIT, "basic.return and its confirm", |e| match e {
        Event::Delivery(d) if d.channel == 1 => Some(Ok(d.clone())),
        Event::Confirm {
            channel: 1,
            delivery_tag,
            ack,
            ..
        } => Some(Err((*delivery_tag, *ack))),
        _ => None,
    })?;
    let d = first.map_err(|c| format!("confirm {c:?} came before any basic.return"))?;
    match &d.method {
        Method::BasicReturn(r) => ensure(
            r.reply_code == 312 && r.routing_key.as_str() == nowhere,
            || format!("basic.return {} {:?}", r.reply_code, r.reply_text.as_str()),
        )?,
        other => return Err(format!("expected basic.return, got {}", other.name())),
    }
    same_body("returned message", b"returned", &d.body)?;
    let last = confirms(&mut s, 1, 1, WAIT)?;
    ensure(
        last.first().map(|c| (c.0, c.1)) == Some((n + 3, true)),
        || format!("after the return expected ack {}, got {last:?}", n + 3),
    )?;
    let left = s.conn().unconfirmed(1);
    ensure(left == 0, || format!("{left} publishes still unconfirmed"))?;
    s.close(WAIT)?;
    Ok(format!(
        "{n} acks ({multiple} via multiple), nack {} (multiple={nack_multiple}), return 312",
        n + 2
    ))
}

/// `tx`: a committed publish is delivered, a rolled-back one is not, and
/// nothing is visible before the commit.
pub(super) fn tx(ctx: &Ctx) -> Outcome {
    let r = (|| -> Result<String, String> {
        let mut s = ctx.connect()?;
        s.open_channel(2, WAIT)?;
        let q = ctx.queue("tx");
        declare_queue(&mut s, 2, &q, FieldTable::new())?;
        s.rpc(1, &Method::from(TxSelect), WAIT)?;
        let p = BasicProperties::default();
        publish(&mut s, 1, "", &q, &p, b"committed-1")?;
        ensure(get(&mut s, 2, &q, true)?.is_none(), || {
            "an uncommitted publish was visible".to_owned()
        })?;
        s.rpc(1, &Method::from(TxCommit), WAIT)?;
        publish(&mut s, 1, "", &q, &p, b"rolled-back")?;
        s.rpc(1, &Method::from(TxRollback), WAIT)?;
        publish(&mut s, 1, "", &q, &p, b"committed-2")?;
        s.rpc(1, &Method::from(TxCommit), WAIT)?;
        let mut got = Vec::new();
        while let Some(d) = get(&mut s, 2, &q, true)? {
            got.push(String::from_utf8_lossy(&d.body.to_vec()).into_owned());
            ensure(got.len() <= 3, || format!("too many messages: {got:?}"))?;
        }
        ensure(got == ["committed-1", "committed-2"], || {
            format!("expected the two committed messages, got {got:?}")
        })?;
        s.close(WAIT)?;
        Ok("commit delivered, rollback discarded".to_owned())
    })();
    r.into()
}

/// `get`: get-empty on an empty queue, then get-ok with the right
/// message counts.
pub(super) fn get_scenario(ctx: &Ctx) -> Outcome {
    let r = (|| -> Result<String, String> {
        let mut s = ctx.connect()?;
        let q = ctx.queue("get");
        declare_queue(&mut s, 1, &q, FieldTable::new())?;
        ensure(get(&mut s, 1, &q, false)?.is_none(), || {
            "basic.get on an empty queue did not answer get-empty".to_owned()
        })?;
        let n = 3;
        for i in 0..n {
            publish(
                &mut s,
                1,
                "",
                &q,
                &BasicProperties::default(),
                &make_body(i, 10 + i),
            )?;
        }
        for i in 0..n {
            let d = get(&mut s, 1, &q, false)?.ok_or_else(|| format!("get {i}: get-empty"))?;
            let Method::BasicGetOk(ok) = &d.method else {
                return Err("not a get-ok".to_owned());
            };
            let left = (n - 1 - i) as u32;
            ensure(ok.message_count == left && !ok.redelivered, || {
                format!(
                    "get {i}: message_count {} (expected {left}), redelivered {}",
                    ok.message_count, ok.redelivered
                )
            })?;
            same_body(&format!("get {i}"), &make_body(i, 10 + i), &d.body)?;
            ack(&mut s, 1, ok.delivery_tag, false)?;
        }
        ensure(get(&mut s, 1, &q, false)?.is_none(), || {
            "the queue was not empty after getting every message".to_owned()
        })?;
        s.close(WAIT)?;
        Ok(format!("get-empty, {n} get-ok with counts, get-empty"))
    })();
    r.into()
}

/// `reject`: a message rejected with requeue comes back redelivered; one
/// rejected without requeue is gone.
pub(super) fn reject(ctx: &Ctx) -> Outcome {
    let r = (|| -> Result<String, String> {
        let mut s = ctx.connect()?;
        let q = ctx.queue("reject");
        declare_queue(&mut s, 1, &q, FieldTable::new())?;
        publish(&mut s, 1, "", &q, &BasicProperties::default(), b"reject me")?;
        consume(&mut s, 1, &q, false)?;
        let d = delivery(&mut s, 1, WAIT)?;
        let (tag, redelivered) = tag_of(&d);
        ensure(!redelivered, || {
            "first delivery flagged redelivered".to_owned()
        })?;
        let reject = |delivery_tag, requeue| {
            Method::from(BasicReject {
                delivery_tag,
                requeue,
            })
        };
        s.conn()
            .send_method(1, &reject(tag, true))
            .map_err(DriverError::from)?;
        let d = delivery(&mut s, 1, WAIT)?;
        let (tag2, redelivered) = tag_of(&d);
        ensure(redelivered, || {
            "requeued message not flagged redelivered".to_owned()
        })?;
        same_body("redelivered message", b"reject me", &d.body)?;
        s.conn()
            .send_method(1, &reject(tag2, false))
            .map_err(DriverError::from)?;
        let more = deliveries_within(&mut s, 1, QUIET)?;
        ensure(more.is_empty(), || {
            "a message rejected without requeue came back".to_owned()
        })?;
        // The queue is empty: nothing ready, nothing unacked.
        let left = match s.rpc(1, &Method::from(super::queue_delete(&q)), WAIT)? {
            Method::QueueDeleteOk(ok) => ok.message_count,
            _ => u32::MAX,
        };
        ensure(left == 0, || format!("{left} messages left in the queue"))?;
        s.close(WAIT)?;
        Ok("requeued once (redelivered=true), then dropped".to_owned())
    })();
    r.into()
}

/// `qos`: with prefetch 2 and no acks exactly two deliveries arrive; each
/// ack lets more through.
pub(super) fn qos(ctx: &Ctx) -> Outcome {
    let r = (|| -> Result<String, String> {
        let mut s = ctx.connect()?;
        let q = ctx.queue("qos");
        declare_queue(&mut s, 1, &q, FieldTable::new())?;
        let n = 5;
        for i in 0..n {
            publish(
                &mut s,
                1,
                "",
                &q,
                &BasicProperties::default(),
                &make_body(i, 8),
            )?;
        }
        let qos = BasicQos {
            prefetch_count: 2,
            ..BasicQos::default()
        };
        s.rpc(1, &Method::from(qos), WAIT)?;
        consume(&mut s, 1, &q, false)?;
        let mut tags = Vec::new();
        for _ in 0..2 {
            let d = delivery(&mut s, 1, WAIT)?;
            tags.push(tag_of(&d).0);
        }
        let extra = deliveries_within(&mut s, 1, QUIET)?;
        ensure(extra.is_empty(), || {
            format!("{} deliveries beyond prefetch 2", extra.len())
        })?;
        ack(&mut s, 1, tags[0], false)?;
        let d = delivery(&mut s, 1, WAIT)?;
        tags.push(tag_of(&d).0);
        let extra = deliveries_within(&mut s, 1, QUIET)?;
        ensure(extra.is_empty(), || {
            format!("{} deliveries beyond prefetch after one ack", extra.len())
        })?;
        // One multiple ack frees both remaining slots.
        ack(&mut s, 1, tags[2], true)?;
        for _ in 0..2 {
            let d = delivery(&mut s, 1, WAIT)?;
            tags.push(tag_of(&d).0);
        }
        ack(&mut s, 1, tags[4], true)?;
        let extra = deliveries_within(&mut s, 1, QUIET)?;
        ensure(extra.is_empty() && tags.len() == n, || {
            format!("{} deliveries for {n} messages", tags.len() + extra.len())
        })?;
        s.close(WAIT)?;
        Ok("2 in flight, +1 per ack, +2 after a multiple ack".to_owned())
    })();
    r.into()
}

/// `cancel-notify`: deleting a queue we consume from makes the server
/// send `basic.cancel`; the channel stays usable.
pub(super) fn cancel_notify(ctx: &Ctx) -> Outcome {
    let r = (|| -> Result<String, String> {
        let mut s = ctx.connect()?;
        s.open_channel(2, WAIT)?;
        let q = ctx.queue("cancel-notify");
        declare_queue(&mut s, 1, &q, FieldTable::new())?;
        let tag = consume(&mut s, 1, &q, false)?;
        delete_queue(&mut s, 2, &q)?;
        let nowait = s.wait_on(1, WAIT, "basic.cancel from the server", |e| match e {
            Event::Method {
                channel: 1,
                method: Method::BasicCancel(c),
            } if c.consumer_tag.as_str() == tag => Some(c.nowait),
            _ => None,
        })?;
        // Still usable: a queue declared and read on the same channel.
        let q2 = ctx.queue("cancel-notify-after");
        declare_queue(&mut s, 1, &q2, FieldTable::new())?;
        ensure(get(&mut s, 1, &q2, true)?.is_none(), || {
            "fresh queue not empty".to_owned()
        })?;
        s.close(WAIT)?;
        Ok(format!("basic.cancel for {tag} (nowait={nowait})"))
    })();
    r.into()
}

/// `e2e-binding`: a message routed through two exchanges bound to each
/// other, and not once the binding is gone.
pub(super) fn e2e_binding(ctx: &Ctx) -> Outcome {
    let r = (|| -> Result<String, String> {
        let mut s = ctx.connect()?;
        let src = ctx.exchange("e2e-src");
        let dst = ctx.exchange("e2e-dst");
        for (name, kind) in [(&src, "direct"), (&dst, "fanout")] {
            let m = ExchangeDeclare {
                exchange: short(name),
                kind: short(kind),
                ..ExchangeDeclare::default()
            };
            s.rpc(1, &Method::from(m), WAIT)?;
        }
        let bind = ExchangeBind {
            destination: short(&dst),
            source: short(&src),
            routing_key: short("route"),
            ..ExchangeBind::default()
        };
        s.rpc(1, &Method::from(bind), WAIT)?;
        let q = ctx.queue("e2e");
        declare_queue(&mut s, 1, &q, FieldTable::new())?;
        let qb = QueueBind {
            queue: short(&q),
            exchange: short(&dst),
            ..QueueBind::default()
        };
        s.rpc(1, &Method::from(qb), WAIT)?;
        let p = BasicProperties::default();
        publish(&mut s, 1, &src, "route", &p, b"through two exchanges")?;
        publish(&mut s, 1, &src, "elsewhere", &p, b"unrouted")?;
        let d = get(&mut s, 1, &q, true)?.ok_or("nothing routed through the binding")?;
        same_body("routed message", b"through two exchanges", &d.body)?;
        if let Method::BasicGetOk(ok) = &d.method {
            ensure(
                ok.exchange.as_str() == src && ok.routing_key.as_str() == "route",
                || {
                    format!(
                        "delivered as {}/{}",
                        ok.exchange.as_str(),
                        ok.routing_key.as_str()
                    )
                },
            )?;
        }
        ensure(get(&mut s, 1, &q, true)?.is_none(), || {
            "a message with another routing key got through".to_owned()
        })?;
        let unbind = ExchangeUnbind {
            destination: short(&dst),
            source: short(&src),
            routing_key: short("route"),
            ..ExchangeUnbind::default()
        };
        s.rpc(1, &Method::from(unbind), WAIT)?;
        publish(&mut s, 1, &src, "route", &p, b"after unbind")?;
        ensure(get(&mut s, 1, &q, true)?.is_none(), || {
            "routed after exchange.unbind".to_owned()
        })?;
        s.close(WAIT)?;
        Ok("direct -> fanout -> queue; unbind stops it".to_owned())
    })();
    r.into()
}
