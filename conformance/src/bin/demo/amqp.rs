//! The demo's AMQP 0-9-1 rows: our client against our in-memory broker
//! (`amqp-peer broker`, in process), and against RabbitMQ when Debian's
//! `rabbitmq-server` is installed (a private node on a free loopback port,
//! started and stopped with `conformance/peers/rabbitmq.sh`).

use std::cell::RefCell;
use std::net::TcpListener;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use conformance::amqp_broker;
use conformance::amqp_driver::AmqpUrl;
use conformance::amqp_scenarios::{self, Ctx as ScenarioCtx};

use conformance::child::free_port;

use super::peer_shell::PeerShell;
use super::{Ctx, Outcome, Row};

const AMQP: &str = "AMQP 0-9-1";
/// Messages the throughput row publishes (100 B each, pipelined confirms).
const COUNT: usize = 20_000;
const BODY: usize = 100;
const RABBITMQ_SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

pub(super) fn amqp_rows(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let peer = "amqp-codec broker";
    match our_broker() {
        Ok(url) => rows.extend(scenario_rows(ctx, peer, &url)),
        Err(e) => rows.push(Row::new(AMQP, peer, "start", Outcome::Fail(e))),
    }
    if !Path::new(RABBITMQ_SERVER).exists() {
        rows.push(Row::new(
            AMQP,
            "RabbitMQ",
            "smoke, confirmed publishes",
            Outcome::Skip("rabbitmq-server not installed (test.sh installs it)".to_owned()),
        ));
        return rows;
    }
    if let Some(skip) = ctx.out_of_time(Duration::from_secs(25)) {
        rows.push(Row::new(
            AMQP,
            "RabbitMQ",
            "smoke, confirmed publishes",
            skip,
        ));
        return rows;
    }
    let port = match free_port() {
        Ok(p) => p.to_string(),
        Err(e) => {
            rows.push(Row::new(AMQP, "RabbitMQ", "start", Outcome::Fail(e)));
            return rows;
        }
    };
    match rabbitmq_start(ctx, &port) {
        Ok((node, url)) => {
            match AmqpUrl::parse(&url) {
                Ok(url) => rows.extend(scenario_rows(ctx, "RabbitMQ", &url)),
                Err(e) => rows.push(Row::new(AMQP, "RabbitMQ", "start", Outcome::Fail(e))),
            }
            node.stop();
        }
        Err(e) => rows.push(Row::new(AMQP, "RabbitMQ", "start", Outcome::Fail(e))),
    }
    rows
}

/// Our broker on a free loopback port, serving for the rest of the run.
fn our_broker() -> Result<AmqpUrl, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let users = vec![("demo".to_owned(), "demo-pw".to_owned())];
    amqp_broker::spawn_vhost(listener, users, "demo");
    AmqpUrl::parse(&format!("amqp://demo:demo-pw@127.0.0.1:{port}/demo"))
}

/// A private RabbitMQ node on `port`; returns it and its URL.
fn rabbitmq_start(ctx: &Ctx, port: &str) -> Result<(PeerShell, String), String> {
    let script = ". conformance/peers/rabbitmq.sh || exit 1
        trap rabbitmq_stop EXIT
        rabbitmq_start \"$1\" >&2 || exit 1
        echo \"$RABBITMQ_URL\"
        read -r _";
    PeerShell::start(ctx, script, &[port.to_owned()])
        .map_err(|_| "rabbitmq_start failed (test.sh's rabbitmq-start log shows why)".to_owned())
}

/// The smoke scenario, then COUNT confirmed publishes, as two rows.
fn scenario_rows(ctx: &Ctx, peer: &str, url: &AmqpUrl) -> Vec<Row> {
    let mut rows = Vec::new();
    for (name, workload) in [
        (
            "smoke",
            "smoke: declare, 3 messages (20 KB split at frame-max 4096), ack, close",
        ),
        ("throughput", "100 B publishes, 1000 confirms in flight"),
    ] {
        if let Some(skip) = ctx.out_of_time(Duration::from_secs(10)) {
            rows.push(Row::new(AMQP, peer, workload, skip));
            continue;
        }
        let lines = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&lines);
        let mut sctx = ScenarioCtx::new(url.clone())
            .with_output(move |l| sink.borrow_mut().push(l.to_owned()));
        sctx.throughput_count = COUNT;
        let started = Instant::now();
        let report = amqp_scenarios::run(&sctx, &[name.to_owned()]);
        let took = started.elapsed();
        let said = lines.borrow().join("; ");
        let mut row = match report {
            Ok(r) if r.failed == 0 && r.passed > 0 => {
                Row::new(AMQP, peer, workload, Outcome::Pass(String::new()))
            }
            Ok(_) => Row::new(AMQP, peer, workload, Outcome::Fail(said.clone())),
            Err(e) => Row::new(AMQP, peer, workload, Outcome::Fail(e)),
        };
        if name == "throughput" && matches!(row.outcome, Outcome::Pass(_)) {
            row.measured = Some((COUNT as u64, (COUNT * BODY) as u64, took));
            let rate = said
                .split("; ")
                .find_map(|l| l.split_once("amqp-confirm-rate: "))
                .map(|(_, r)| r.to_owned());
            if let Some(rate) = rate {
                row.outcome = Outcome::Pass(format!("pipelined {rate}"));
            }
        }
        rows.push(row);
    }
    rows
}
