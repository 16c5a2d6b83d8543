#!/usr/bin/env bash
# The project's single test entry point (CI runs it through .ci/run).
#
# Runs formatting and lint checks, unit tests, the fuzz-corpus replay, the
# release build, the conformance runs against real peers (Python websockets,
# Node ws, Chromium, RabbitMQ with pika), a bench smoke run and the demo.
# Every command is a "step" whose output goes to target/test-logs/NAME.log.
#
# On a Debian 12 machine as root it first installs whatever peer is missing
# (Chromium and rabbitmq-server from apt, a Python venv with websockets,
# wsproto and pika, and npm packages under target/peers/). RabbitMQ runs as a
# private node on a free loopback port, only for the AMQP steps.
# SKIP_PEERS=1 installs nothing and skips the real-peer runs. A peer that
# cannot be installed makes its runs SKIPPED, never PASSED. Re-running is
# safe: installed peers are reused and the logs are recreated.
#
# The last line is `N passed, N failed, N skipped`. Each N adds two tallies:
# steps (one per command below) and cases (the tests those commands report:
# the sum of cargo's `test result:` lines, or else the last line of the form
# `[name: ]N passed, N failed[, N skipped]`, the runner's total).
# Any failure, of either kind, makes the exit status non-zero.
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
if [ ! -d ../shared ]; then
    echo "error: $ROOT/../shared is missing (spec files and test vectors live there)" >&2
    exit 1
fi
# rustup installs cargo here; a CI login shell may not have it on PATH.
if [ -d "$HOME/.cargo/bin" ]; then PATH=$HOME/.cargo/bin:$PATH; fi

LOGS=target/test-logs
PEERS=target/peers
rm -rf "$LOGS"
mkdir -p "$LOGS" "$PEERS"

PASS=0 FAIL=0 SKIP=0                # steps
CASE_PASS=0 CASE_FAIL=0 CASE_SKIP=0 # cases reported by the steps

# peer_free_port, shared with the peer scripts.
# shellcheck source=conformance/peers/common.sh
. conformance/peers/common.sh

# --- background processes -------------------------------------------------
# Every server this script starts is recorded here and stopped by PID; the
# EXIT trap stops whatever a failed step left behind.
PIDS=()
start_bg() { # start_bg LOG cmd... : sets BG_PID
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    BG_PID=$!
    PIDS+=("$BG_PID")
}
stop_bg() { # stop_bg PID
    local pid keep=()
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
    PIDS=("${keep[@]}")
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    # The RabbitMQ node and the XMPP servers, if a failed step left them
    # running (no-ops otherwise).
    rabbitmq_stop >/dev/null 2>&1
    prosody_stop >/dev/null 2>&1
    ejabberd_stop >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# wait_port PORT PID: succeeds once something listens on PORT, fails after
# 15 s or when PID dies. It reads /proc/net/tcp instead of connecting, because
# `ws-peer server --verdict` serves exactly one connection and a probe would
# use it up.
wait_port() {
    local hex _
    hex=$(printf '%04X' "$1")
    for _ in $(seq 150); do
        grep -qE "^ *[0-9]+: [0-9A-F]{8}:$hex [0-9A-F]{8}:0000 0A " /proc/net/tcp && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Appends a background process's log to the step's log, prefixed so its
# lines are never mistaken for the step's own summary line.
show_log() { # show_log PREFIX FILE
    [ -f "$2" ] && sed "s/^/  $1| /" "$2"
}

# --- steps and tallies -------------------------------------------------------
# tally NAME LOG: adds the case counts a step printed to the case tally.
tally() {
    local name=$1 log=$2 p f s line
    if grep -q '^test result: ' "$log"; then
        # cargo test prints one line per test binary; ignored tests are skipped.
        read -r p f s < <(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed; ([0-9]+) ignored.*/\1 \2 \3/p' "$log" |
            awk '{p += $1; f += $2; s += $3} END {print p + 0, f + 0, s + 0}')
    else
        # Runners may print per-group counts before their total, which comes
        # last: only the last matching line is counted.
        line=$(grep -E '^([A-Za-z0-9-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
        [ -n "$line" ] || return 0
        read -r p f s < <(sed -E 's/^([A-Za-z0-9-]+: )?([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\2 \3 \5/' <<<"$line")
    fi
    s=${s:-0}
    CASE_PASS=$((CASE_PASS + p)) CASE_FAIL=$((CASE_FAIL + f)) CASE_SKIP=$((CASE_SKIP + s))
    if [ "$s" -gt 0 ]; then
        echo "  $name: $p passed, $f failed, $s skipped"
    else
        echo "  $name: $p passed, $f failed"
    fi
}

# step NAME cmd...: runs cmd (in this shell, so functions may start servers)
# with its output in target/test-logs/NAME.log.
step() {
    local name=$1 log=$LOGS/$1.log
    shift
    if "$@" >"$log" 2>&1; then
        STEP_OK=1
        PASS=$((PASS + 1))
        echo "PASS $name"
    else
        STEP_OK=0
        FAIL=$((FAIL + 1))
        echo "FAIL $name (see $log)"
        tail -n 30 "$log" | sed 's/^/    /'
    fi
    tally "$name" "$log"
}

skip() { # skip NAME REASON
    SKIP=$((SKIP + 1))
    echo "SKIP $1 ($2)"
}

# --- peers -------------------------------------------------------------------
# Each *_SKIP holds the reason its peer is unavailable, empty when it is ready.
INSTALL_LOG=$LOGS/install.log
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null || return 1
    if [ "$APT_UPDATED" = 0 ]; then
        APT_UPDATED=1
        apt-get update >>"$INSTALL_LOG" 2>&1 || return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$INSTALL_LOG" 2>&1
}

VENV=$PEERS/venv
PYTHON=$VENV/bin/python
py_ready() { "$PYTHON" -c 'import websockets, wsproto' 2>/dev/null; }
# pika and slixmpp are checked on their own: without one only the runs that
# need it skip.
pika_ready() { "$PYTHON" -c 'import pika' 2>/dev/null; }
slixmpp_ready() { "$PYTHON" -c 'import slixmpp' 2>/dev/null; }
install_python() {
    py_ready && pika_ready && slixmpp_ready && return 0
    command -v python3 >/dev/null || return 1
    if [ ! -x "$VENV/bin/pip" ]; then
        rm -rf "$VENV"
        # Debian's python3 needs python3-venv for ensurepip.
        if ! python3 -m venv "$VENV" >>"$INSTALL_LOG" 2>&1; then
            rm -rf "$VENV"
            apt_install python3-venv && python3 -m venv "$VENV" >>"$INSTALL_LOG" 2>&1 || return 1
        fi
    fi
    "$VENV/bin/pip" install websockets wsproto pika slixmpp==1.17.0 >>"$INSTALL_LOG" 2>&1
    py_ready
}

NODE_DIR=$PEERS/node
node_ready() { node -e "require('$ROOT/$NODE_DIR/node_modules/ws')" 2>/dev/null; }
install_node() {
    command -v node >/dev/null || return 1
    node_ready && return 0
    npm install --prefix "$NODE_DIR" ws@8 >>"$INSTALL_LOG" 2>&1
    node_ready
}

CHROMIUM=/usr/bin/chromium
install_chromium() {
    [ -x "$CHROMIUM" ] || apt_install chromium
    [ -x "$CHROMIUM" ]
}

# nghttp2's client, server and proxy, h2load and curl, for the HTTP/2 runs.
nghttp2_ready() {
    local tool
    for tool in nghttp nghttpd nghttpx h2load curl; do
        command -v "$tool" >/dev/null || return 1
    done
}
install_nghttp2() {
    nghttp2_ready || apt_install nghttp2-client nghttp2-server nghttp2-proxy curl
    nghttp2_ready
}

# h2_steps_all BIN WORK: every HTTP/2 real-peer check.
# shellcheck source=conformance/peers/h2_steps.sh
. conformance/peers/h2_steps.sh

# prosody_* and ejabberd_* (install, start, register, stop), xmpp_hosts_setup.
# shellcheck source=conformance/peers/xmpp.sh
. conformance/peers/xmpp.sh

# rabbitmq_install, rabbitmq_start PORT, rabbitmq_stop, rabbitmq_ctl.
# shellcheck source=conformance/peers/rabbitmq.sh
. conformance/peers/rabbitmq.sh

if [ "${SKIP_PEERS:-0}" = 1 ]; then
    PY_SKIP="SKIP_PEERS=1" NODE_SKIP="SKIP_PEERS=1" CHROMIUM_SKIP="SKIP_PEERS=1"
    PIKA_SKIP="SKIP_PEERS=1" RABBITMQ_SKIP="SKIP_PEERS=1" NGHTTP2_SKIP="SKIP_PEERS=1"
    SLIXMPP_SKIP="SKIP_PEERS=1" PROSODY_SKIP="SKIP_PEERS=1" EJABBERD_SKIP="SKIP_PEERS=1"
else
    PY_SKIP="" NODE_SKIP="" CHROMIUM_SKIP="" PIKA_SKIP="" RABBITMQ_SKIP="" NGHTTP2_SKIP=""
    SLIXMPP_SKIP="" PROSODY_SKIP="" EJABBERD_SKIP=""
    install_python || PY_SKIP="Python websockets/wsproto not installable, see $INSTALL_LOG"
    pika_ready || PIKA_SKIP="pika not installable, see $INSTALL_LOG"
    install_node || NODE_SKIP="Node ws not installable, see $INSTALL_LOG"
    install_chromium || CHROMIUM_SKIP="chromium not installable, see $INSTALL_LOG"
    rabbitmq_install || RABBITMQ_SKIP="rabbitmq-server not installable, see $INSTALL_LOG"
    install_nghttp2 || NGHTTP2_SKIP="nghttp2 tools or curl not installable, see $INSTALL_LOG"
    slixmpp_ready || SLIXMPP_SKIP="slixmpp not installable, see $INSTALL_LOG"
    prosody_install >>"$INSTALL_LOG" 2>&1 || PROSODY_SKIP="prosody not installable, see $INSTALL_LOG"
    ejabberd_install >>"$INSTALL_LOG" 2>&1 || EJABBERD_SKIP="ejabberd not installable, see $INSTALL_LOG"
    # Federation between Prosody's a.localhost and our b.localhost.
    xmpp_hosts_setup >>"$INSTALL_LOG" 2>&1 || PROSODY_SKIP=${PROSODY_SKIP:-"/etc/hosts not writable"}
    echo "peers: python ${PY_SKIP:-ready}; pika ${PIKA_SKIP:-ready}; slixmpp ${SLIXMPP_SKIP:-ready}; node ${NODE_SKIP:-ready}; chromium ${CHROMIUM_SKIP:-ready}; rabbitmq ${RABBITMQ_SKIP:-ready}; nghttp2 ${NGHTTP2_SKIP:-ready}; prosody ${PROSODY_SKIP:-ready}; ejabberd ${EJABBERD_SKIP:-ready}"
fi

# --- conformance runs ------------------------------------------------------
WS_PEER=target/release/ws-peer
AMQP_PEER=target/release/amqp-peer
H2_PEER=target/release/h2-peer
XMPP_PEER=target/release/xmpp-peer
DEMO=target/release/demo
# A client that stalls must not hang CI: every client run is bounded.
CLIENT_TIMEOUT=180

# vs_our_server NAME "SERVER_FLAGS" "CLIENT_FLAGS" client-cmd...: starts
# `ws-peer server`, then runs `client-cmd URL CLIENT_FLAGS` against it.
vs_our_server() {
    local name=$1 server_flags=$2 client_flags=$3 port pid rc
    shift 3
    port=$(peer_free_port)
    # shellcheck disable=SC2086 # flags are deliberately split into words
    start_bg "$LOGS/$name.server.log" "$WS_PEER" server --listen "127.0.0.1:$port" $server_flags
    pid=$BG_PID
    if wait_port "$port" "$pid"; then
        # shellcheck disable=SC2086
        timeout "$CLIENT_TIMEOUT" "$@" "ws://127.0.0.1:$port/" $client_flags
        rc=$?
    else
        echo "ws-peer server exited or did not listen on 127.0.0.1:$port within 15 s"
        rc=1
    fi
    stop_bg "$pid"
    show_log server "$LOGS/$name.server.log"
    return "$rc"
}

# vs_our_client NAME "CLIENT_FLAGS" server-cmd...: starts
# `server-cmd --port PORT`, then runs `ws-peer client` against it.
vs_our_client() {
    local name=$1 client_flags=$2 port pid rc
    shift 2
    port=$(peer_free_port)
    start_bg "$LOGS/$name.server.log" "$@" --port "$port"
    pid=$BG_PID
    if wait_port "$port" "$pid"; then
        # shellcheck disable=SC2086
        timeout "$CLIENT_TIMEOUT" "$WS_PEER" client --url "ws://127.0.0.1:$port/" $client_flags
        rc=$?
    else
        echo "peer server exited or did not listen on 127.0.0.1:$port within 15 s"
        rc=1
    fi
    stop_bg "$pid"
    show_log server "$LOGS/$name.server.log"
    return "$rc"
}

# chromium_run NAME DEFLATE(1|0): headless Chromium loads chromium.html,
# which echoes through `ws-peer server --verdict` and sends its verdict as
# the last message; the server's exit status is the result. Chromium always
# offers permessage-deflate, so the run without it has the server decline.
chromium_run() {
    local name=$1 deflate=$2 flags="" port spid cpid profile rc
    [ "$deflate" = 1 ] || flags=--no-deflate
    port=$(peer_free_port)
    # The outer timeout covers a page that never connects at all.
    # shellcheck disable=SC2086
    start_bg "$LOGS/$name.server.log" timeout 90 "$WS_PEER" server --listen "127.0.0.1:$port" --verdict $flags
    spid=$BG_PID
    if ! wait_port "$port" "$spid"; then
        echo "ws-peer server exited or did not listen on 127.0.0.1:$port within 15 s"
        stop_bg "$spid"
        show_log server "$LOGS/$name.server.log"
        return 1
    fi
    profile=$(mktemp -d)
    # timeout signals Chromium's whole process group when it is stopped, so
    # stopping its PID also ends the renderer and helper processes.
    start_bg "$LOGS/$name.chromium.log" timeout 60 "$CHROMIUM" --headless --no-sandbox \
        --disable-gpu --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --enable-logging=stderr --v=0 \
        --user-data-dir="$profile" \
        "file://$ROOT/conformance/peers/chromium.html?port=$port&deflate=$deflate"
    cpid=$BG_PID
    wait "$spid"
    rc=$?
    stop_bg "$spid"
    stop_bg "$cpid"
    rm -rf "$profile"
    show_log server "$LOGS/$name.server.log"
    # The page's console.log lines: its checks and the verdict it sent.
    sed -nE 's/.*:CONSOLE[^]]*\] "(.*)", source: .*/  page| \1/p' "$LOGS/$name.chromium.log"
    return "$rc"
}

# fuzzingserver_run: `ws-peer client --autobahn` against a stand-in for
# Autobahn's fuzzingserver, which checks the echoes and exits with its verdict.
fuzzingserver_run() {
    local port pid rc mock_rc log=$LOGS/fuzzingserver-sequence.server.log
    port=$(peer_free_port)
    start_bg "$log" "$PYTHON" "$PEER_SCRIPTS/fuzzingserver_mock.py" --port "$port"
    pid=$BG_PID
    if ! wait_port "$port" "$pid"; then
        echo "fuzzingserver mock did not listen on 127.0.0.1:$port within 15 s"
        stop_bg "$pid"
        return 1
    fi
    timeout "$CLIENT_TIMEOUT" "$WS_PEER" client --url "ws://127.0.0.1:$port" --autobahn
    rc=$?
    wait "$pid"
    mock_rc=$?
    stop_bg "$pid"
    show_log server "$log"
    [ "$rc" = 0 ] && [ "$mock_rc" = 0 ]
}

# rabbitmq_ctl_cmd ARGS...: the rabbitmq_ctl command line as one string for
# `sh -c` (amqp-peer runs --blocked-cmd/--unblocked-cmd that way, where shell
# functions do not exist).
rabbitmq_ctl_cmd() {
    printf 'env'
    printf ' %q' "${RABBITMQ_ENV[@]}" "$RABBITMQ_SBIN/rabbitmqctl" -n "$RABBITMQ_NODE" "$@"
}

# amqp_rabbitmq: every `amqp-peer client` scenario against the RabbitMQ node,
# with pika as the other end where a scenario needs one, and the node's
# memory alarm raised and cleared for `blocked`.
amqp_rabbitmq() {
    local pika=()
    [ -n "$PIKA_SKIP" ] || pika=(--pika "$PYTHON")
    timeout "$CLIENT_TIMEOUT" "$AMQP_PEER" client --url "$RABBITMQ_URL" --scenario all "${pika[@]}" \
        --blocked-cmd "$(rabbitmq_ctl_cmd set_vm_memory_high_watermark 0)" \
        --unblocked-cmd "$(rabbitmq_ctl_cmd set_vm_memory_high_watermark 0.4)"
}

# amqp_pika_confirm_rate: pika's publisher-confirm rate (one publish at a
# time, as pika's BlockingChannel does), printed beside ours from the
# amqp-rabbitmq step of this run. No assertion on the figures.
amqp_pika_confirm_rate() {
    timeout 120 "$PYTHON" "$PEER_SCRIPTS/pika_peer.py" confirm-publish --url "$RABBITMQ_URL" --count 5000 || return 1
    grep -h '^amqp-confirm-rate' "$LOGS/amqp-rabbitmq.log" 2>/dev/null ||
        echo "amqp-confirm-rate: not measured (see $LOGS/amqp-rabbitmq.log)"
}

# amqp_broker_run ours|pika: starts `amqp-peer broker` on a free port and
# runs our client's scenarios against it (ours), or pika's publish/consume
# checks: plain, all 14 properties with every header type, 1 MiB and
# 16 MiB bodies, confirms and direct reply-to (pika).
amqp_broker_run() {
    local port pid rc=0 url dir pika=()
    port=$(peer_free_port)
    start_bg "$LOGS/amqp-broker-$1.server.log" "$AMQP_PEER" broker --listen "127.0.0.1:$port" \
        --user conformance:conformance-pw --vhost conformance
    pid=$BG_PID
    if ! wait_port "$port" "$pid"; then
        echo "amqp-peer broker did not listen on 127.0.0.1:$port within 15 s"
        stop_bg "$pid"
        return 1
    fi
    url="amqp://conformance:conformance-pw@127.0.0.1:$port/conformance"
    if [ "$1" = ours ]; then
        [ -n "$PIKA_SKIP" ] || pika=(--pika "$PYTHON")
        timeout "$CLIENT_TIMEOUT" "$AMQP_PEER" client --url "$url" --scenario all "${pika[@]}" || rc=1
    else
        dir=$(mktemp -d)
        pika_pair "$url" plain "$dir" --count 10 || rc=1
        pika_pair "$url" all-props "$dir" --count 2 --all-props || rc=1
        pika_pair "$url" body-1mib "$dir" --count 2 --size 1048576 || rc=1
        pika_pair "$url" body-16mib "$dir" --count 1 --size 16777216 || rc=1
        pika_check confirm-publish timeout 60 "$PYTHON" "$PEER_SCRIPTS/pika_peer.py" confirm-publish --url "$url" --count 2000 || rc=1
        pika_rpc "$url" || rc=1
        rm -rf "$dir"
        echo "$PIKA_PASS passed, $PIKA_FAIL failed"
    fi
    stop_bg "$pid"
    show_log broker "$LOGS/amqp-broker-$1.server.log"
    return "$rc"
}

PIKA_PASS=0 PIKA_FAIL=0
pika_check() { # pika_check NAME cmd...: one counted pika check
    local name=$1
    shift
    if "$@"; then
        PIKA_PASS=$((PIKA_PASS + 1))
        echo "PASS pika $name"
    else
        PIKA_FAIL=$((PIKA_FAIL + 1))
        echo "FAIL pika $name"
        return 1
    fi
}

# pika_pair URL NAME DIR PUBLISH_FLAGS...: pika publishes to a fresh queue
# and a second pika connection consumes, comparing every property, header
# value, length and SHA-256 with what was published.
pika_pair() {
    local url=$1 name=$2 dir=$3 count
    shift 3
    count=$(sed -nE 's/.*--count ([0-9]+).*/\1/p' <<<"$*")
    pika_check "$name" pika_pair_run "$url" "pika-$name-$$" "$dir/$name.json" "$count" "$@"
}
pika_pair_run() { # URL QUEUE JSON COUNT PUBLISH_FLAGS...
    local url=$1 queue=$2 json=$3 count=$4
    shift 4
    timeout 120 "$PYTHON" "$PEER_SCRIPTS/pika_peer.py" publish --url "$url" --queue "$queue" "$@" >"$json" &&
        timeout 120 "$PYTHON" "$PEER_SCRIPTS/pika_peer.py" consume --url "$url" --queue "$queue" \
            --count "$count" --expect-json "$json"
}

# pika_rpc URL: direct reply-to (amq.rabbitmq.reply-to) between two pika
# connections through our broker.
pika_rpc() {
    local url=$1 spid rc
    "$PYTHON" "$PEER_SCRIPTS/pika_peer.py" rpc-server --url "$url" --queue "pika-rpc-$$" --count 5 \
        >"$LOGS/amqp-broker-rpc-server.log" 2>&1 &
    spid=$!
    for _ in $(seq 100); do
        grep -q 'rpc-server: ready' "$LOGS/amqp-broker-rpc-server.log" && break
        sleep 0.1
    done
    pika_check rpc-reply-to timeout 60 "$PYTHON" "$PEER_SCRIPTS/pika_peer.py" rpc-call --url "$url" \
        --queue "pika-rpc-$$" --count 5
    rc=$?
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    return "$rc"
}

# xmpp_client ARGS...: `xmpp-peer client ARGS`, with slixmpp on the other
# end of the scenarios that use it when it is installed (they skip if not).
xmpp_client() {
    local sli=()
    [ -n "$SLIXMPP_SKIP" ] || sli=(--slixmpp "$PYTHON")
    timeout "$CLIENT_TIMEOUT" "$XMPP_PEER" client "$@" "${sli[@]}"
}

# xmpp_server_start LOG: our in-memory server for b.localhost (users dave and
# erin), c2s on a free port (XMPP_OURS_PORT), RFC 7395 on another
# (XMPP_OURS_WS_PORT), s2s on 127.0.0.1:5269, where Prosody 0.12 always
# dials, federating with Prosody's a.localhost.
xmpp_server_start() {
    XMPP_OURS_PORT=$(peer_free_port) XMPP_OURS_WS_PORT=$(peer_free_port)
    start_bg "$1" "$XMPP_PEER" server --listen "127.0.0.1:$XMPP_OURS_PORT" --domain b.localhost \
        --ws-listen "127.0.0.1:$XMPP_OURS_WS_PORT" \
        --user dave:pw-d --user erin:pw-e --s2s-listen 127.0.0.1:5269 --s2s-secret conformance-s2s \
        --s2s-peer "a.localhost=127.0.0.1:$PROSODY_S2S"
    XMPP_OURS_PID=$BG_PID
    wait_port "$XMPP_OURS_PORT" "$XMPP_OURS_PID"
}

# xmpp_prosody_start: Prosody (localhost and a.localhost) with users alice,
# bob and carol; its s2s listener on a free port our server dials.
xmpp_prosody_start() {
    PROSODY_C2S=$(peer_free_port) PROSODY_HTTP=$(peer_free_port) PROSODY_S2S=$(peer_free_port)
    prosody_start "$PROSODY_C2S" "$PROSODY_HTTP" "$PROSODY_S2S" &&
        prosody_register alice localhost pw-a &&
        prosody_register bob localhost pw-b &&
        prosody_register carol a.localhost pw-c
}

xmpp_ejabberd_run() {
    local c2s http rc=0
    c2s=$(peer_free_port) http=$(peer_free_port)
    if ! { ejabberd_start "$c2s" "$http" && ejabberd_register alice localhost pw-a &&
        ejabberd_register bob localhost pw-b; }; then
        ejabberd_stop
        return 1
    fi
    xmpp_client --jid alice@localhost --password pw-a --peer-jid bob@localhost --peer-password pw-b \
        --server "127.0.0.1:$c2s" --ws-url "ws://127.0.0.1:$http/xmpp-websocket" --scenario all || rc=1
    ejabberd_stop
    return "$rc"
}

# Two slixmpp clients exchanging messages through our server.
xmpp_slixmpp_pair() {
    local recv rc=0 sli=conformance/peers/slixmpp_peer.py
    "$PYTHON" "$sli" --jid erin@b.localhost --password pw-e --server "127.0.0.1:$XMPP_OURS_PORT" \
        --mode recv --count 2 --timeout 20 &
    recv=$!
    sleep 1.5
    "$PYTHON" "$sli" --jid dave@b.localhost --password pw-d --server "127.0.0.1:$XMPP_OURS_PORT" \
        --mode send --to erin@b.localhost --body "hello through our server" --count 2 --timeout 20 || rc=1
    wait "$recv" || rc=1
    return "$rc"
}

fuzz_corpus() {
    if [ ! -d fuzz/corpus ]; then
        echo "fuzz/corpus is missing: there is nothing to replay"
        return 1
    fi
    local crate rc=0
    for crate in ws-codec amqp-codec grpc-codec xmpp-codec; do
        cargo test -p "$crate" --features fuzzing --test fuzz_corpus || rc=1
    done
    return "$rc"
}

# --- the run ---------------------------------------------------------------
step fmt cargo fmt --all -- --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
step test cargo test --workspace
# The h2spec-equivalent counts per group (their tests ran in the step above).
cargo test -q -p grpc-codec --test h2spec --test h2spec_client summary -- --nocapture 2>/dev/null |
    grep '^h2spec' | sed 's/^/  /'
step fuzz-corpus fuzz_corpus
step build-release cargo build --release -p conformance
# A failed build may leave an older binary behind: never test that one.
BUILD_OK=$STEP_OK

PEER_SCRIPTS=conformance/peers
if [ "$BUILD_OK" != 1 ] || [ ! -x "$WS_PEER" ]; then
    BUILD_SKIP="no fresh $WS_PEER: the release build failed"
    PY_SKIP=${PY_SKIP:-$BUILD_SKIP} NODE_SKIP=${NODE_SKIP:-$BUILD_SKIP}
    CHROMIUM_SKIP=${CHROMIUM_SKIP:-$BUILD_SKIP}
    skip autobahn "$BUILD_SKIP"
else
    step autobahn "$WS_PEER" autobahn
fi

if [ -n "$PY_SKIP" ]; then
    for n in py-client-deflate py-client-plain py-server-deflate py-server-plain fuzzingserver-sequence wsproto-diff; do skip "$n" "$PY_SKIP"; done
else
    step py-client-deflate vs_our_server py-client-deflate "" "" "$PYTHON" "$PEER_SCRIPTS/py_client.py"
    step py-client-plain vs_our_server py-client-plain "" --no-deflate "$PYTHON" "$PEER_SCRIPTS/py_client.py"
    # websockets' server answers with server_max_window_bits=12 and
    # client_max_window_bits=12: our client must honour small windows.
    step py-server-deflate vs_our_client py-server-deflate "" "$PYTHON" "$PEER_SCRIPTS/py_server.py"
    # Our client still offers deflate here: this run covers a declined offer.
    step py-server-plain vs_our_client py-server-plain "" "$PYTHON" "$PEER_SCRIPTS/py_server.py" --no-deflate
    # The Autobahn fuzzingserver URL sequence, against a stand-in server
    # (Autobahn itself needs Python 2).
    step fuzzingserver-sequence fuzzingserver_run
    # The same generated frames through our decoder and Python's wsproto.
    step wsproto-diff "$WS_PEER" autobahn --wsproto "$PYTHON"
fi

if [ -n "$NODE_SKIP" ]; then
    for n in node-client-deflate node-client-plain node-server-deflate node-server-plain; do skip "$n" "$NODE_SKIP"; done
else
    step node-client-deflate vs_our_server node-client-deflate "" --deflate node "$PEER_SCRIPTS/node_client.cjs"
    step node-client-plain vs_our_server node-client-plain "" "" node "$PEER_SCRIPTS/node_client.cjs"
    step node-server-deflate vs_our_client node-server-deflate "" node "$PEER_SCRIPTS/node_server.cjs" --deflate
    # Neither side offers deflate here (the Python run covers a declined offer).
    step node-server-plain vs_our_client node-server-plain --no-deflate node "$PEER_SCRIPTS/node_server.cjs"
fi

if [ -n "$CHROMIUM_SKIP" ]; then
    for n in chromium-deflate chromium-plain; do skip "$n" "$CHROMIUM_SKIP"; done
else
    step chromium-deflate chromium_run chromium-deflate 1
    step chromium-plain chromium_run chromium-plain 0
fi

# AMQP 0-9-1 against RabbitMQ: the node runs only for these steps.
if [ -z "$RABBITMQ_SKIP" ] && { [ "$BUILD_OK" != 1 ] || [ ! -x "$AMQP_PEER" ]; }; then
    RABBITMQ_SKIP="no fresh $AMQP_PEER: the release build failed"
fi
if [ -n "$RABBITMQ_SKIP" ]; then
    for n in amqp-rabbitmq amqp-pika-confirm-rate; do skip "$n" "$RABBITMQ_SKIP"; done
else
    step rabbitmq-start rabbitmq_start "$(peer_free_port)"
    if [ "$STEP_OK" != 1 ]; then
        for n in amqp-rabbitmq amqp-pika-confirm-rate; do skip "$n" "RabbitMQ did not start, see $LOGS/rabbitmq-start.log"; done
    else
        step amqp-rabbitmq amqp_rabbitmq
        if [ -n "$PIKA_SKIP" ]; then
            skip amqp-pika-confirm-rate "$PIKA_SKIP"
        else
            step amqp-pika-confirm-rate amqp_pika_confirm_rate
        fi
        # Ours (pipelined, and one publish in flight as pika), then pika's.
        {
            grep -h '^amqp-confirm-rate' "$LOGS/amqp-rabbitmq.log"
            grep -h '^pika-confirm-rate' "$LOGS/amqp-pika-confirm-rate.log"
        } 2>/dev/null | sed 's/^/  /'
    fi
    rabbitmq_stop
fi

# AMQP 0-9-1 against our in-memory broker (amqp-peer broker): our client's
# scenarios, and pika as a real client. Needs no installed peer but pika.
if [ "$BUILD_OK" != 1 ] || [ ! -x "$AMQP_PEER" ]; then
    for n in amqp-broker-ours amqp-broker-pika; do skip "$n" "no fresh $AMQP_PEER: the release build failed"; done
else
    step amqp-broker-ours amqp_broker_run ours
    if [ -n "$PIKA_SKIP" ]; then
        skip amqp-broker-pika "$PIKA_SKIP"
    else
        step amqp-broker-pika amqp_broker_run pika
    fi
fi

# XMPP: our client against Prosody and ejabberd; our server with our client
# and with slixmpp; federation between our b.localhost and Prosody's
# a.localhost over s2s dialback, both ways.
if [ "$BUILD_OK" != 1 ] || [ ! -x "$XMPP_PEER" ]; then
    XMPP_BUILD_SKIP="no fresh $XMPP_PEER: the release build failed"
    PROSODY_SKIP=${PROSODY_SKIP:-$XMPP_BUILD_SKIP} EJABBERD_SKIP=${EJABBERD_SKIP:-$XMPP_BUILD_SKIP}
    SLIXMPP_SKIP=${SLIXMPP_SKIP:-$XMPP_BUILD_SKIP}
fi
if [ -n "$PROSODY_SKIP" ]; then
    for n in xmpp-prosody xmpp-federation-ours-prosody xmpp-federation-prosody-ours; do skip "$n" "$PROSODY_SKIP"; done
else
    step prosody-start xmpp_prosody_start
    if [ "$STEP_OK" != 1 ]; then
        for n in xmpp-prosody xmpp-federation-ours-prosody xmpp-federation-prosody-ours; do skip "$n" "Prosody did not start, see $LOGS/prosody-start.log"; done
    else
        step xmpp-prosody xmpp_client --jid alice@localhost --password pw-a --peer-jid bob@localhost \
            --peer-password pw-b --server "127.0.0.1:$PROSODY_C2S" \
            --ws-url "ws://127.0.0.1:$PROSODY_HTTP/xmpp-websocket" --scenario all
    fi
fi
if [ -z "${XMPP_BUILD_SKIP:-}" ]; then
    step xmpp-server-start xmpp_server_start "$LOGS/xmpp-server.log"
    XMPP_SERVER_OK=$STEP_OK
else
    XMPP_SERVER_OK=0
fi
if [ "$XMPP_SERVER_OK" = 1 ]; then
    step xmpp-server-ours xmpp_client --jid dave@b.localhost --password pw-d --peer-jid erin@b.localhost \
        --peer-password pw-e --server "127.0.0.1:$XMPP_OURS_PORT" \
        --ws-url "ws://127.0.0.1:$XMPP_OURS_WS_PORT/xmpp-websocket" --scenario all
    # An RFC 7395 client we did not write: Python websockets, raw.
    if [ -n "$PY_SKIP" ]; then
        skip xmpp-server-ws-probe "$PY_SKIP"
    else
        step xmpp-server-ws-probe "$PYTHON" conformance/peers/xmpp_ws_probe.py \
            --url "ws://127.0.0.1:$XMPP_OURS_WS_PORT/xmpp-websocket" --jid dave@b.localhost --password pw-d
    fi
    if [ -n "$SLIXMPP_SKIP" ]; then
        skip xmpp-server-slixmpp "$SLIXMPP_SKIP"
    else
        step xmpp-server-slixmpp xmpp_slixmpp_pair
    fi
    if [ -z "$PROSODY_SKIP" ] && [ -n "${PROSODY_PID:-}" ]; then
        step xmpp-federation-ours-prosody xmpp_client --jid dave@b.localhost --password pw-d \
            --server "127.0.0.1:$XMPP_OURS_PORT" --peer-jid carol@a.localhost --peer-password pw-c \
            --peer-server "127.0.0.1:$PROSODY_C2S" --scenario all
        step xmpp-federation-prosody-ours xmpp_client --jid carol@a.localhost --password pw-c \
            --server "127.0.0.1:$PROSODY_C2S" --peer-jid dave@b.localhost --peer-password pw-d \
            --peer-server "127.0.0.1:$XMPP_OURS_PORT" \
            --scenario message,slixmpp-recv,slixmpp-send,presence-roster,resume
    fi
    stop_bg "$XMPP_OURS_PID"
    show_log xmpp-server "$LOGS/xmpp-server.log" | tail -n 5
else
    skip xmpp-server-ours "our XMPP server did not start"
fi
prosody_stop
if [ -n "$EJABBERD_SKIP" ]; then
    skip xmpp-ejabberd "$EJABBERD_SKIP"
else
    step xmpp-ejabberd xmpp_ejabberd_run
fi

# HTTP/2: nghttp, curl and h2load against h2-peer server; h2-peer client
# against nghttpd, directly and through nghttpx (see h2_steps.sh).
if [ "$BUILD_OK" != 1 ] || [ ! -x "$H2_PEER" ]; then
    skip h2-nghttp2 "no fresh $H2_PEER: the release build failed"
elif [ -n "$NGHTTP2_SKIP" ]; then
    skip h2-nghttp2 "$NGHTTP2_SKIP"
else
    step h2-nghttp2 h2_steps_all "$H2_PEER" "$PEERS/h2"
    grep -h 'h2load' "$LOGS/h2-nghttp2.log" | sed 's/^/  /'
fi

# A smoke run only: short timings, no assertions on the figures.
step bench cargo bench -p benches -- --warm-up-time 1 --measurement-time 1

if [ "$BUILD_OK" = 1 ] && [ -x "$DEMO" ]; then
    step demo "$DEMO"
else
    skip demo "no fresh $DEMO: the release build failed"
fi

echo "steps: $PASS passed, $FAIL failed, $SKIP skipped; cases: $CASE_PASS passed, $CASE_FAIL failed, $CASE_SKIP skipped"
echo "$((PASS + CASE_PASS)) passed, $((FAIL + CASE_FAIL)) failed, $((SKIP + CASE_SKIP)) skipped"
if [ $((FAIL + CASE_FAIL)) -ne 0 ]; then exit 1; fi
