# shellcheck shell=bash
# Prosody and ejabberd as real XMPP peers, for the conformance runners
# (sourced; it defines functions and variables only and runs nothing).
#
#   xmpp_hosts_setup             adds `127.0.0.1 a.localhost b.localhost` to
#                                /etc/hosts unless both names are there.
#   prosody_install              Debian's prosody + lua-unbound (s2s name
#                                resolution, see below). Skips apt when present.
#   prosody_start C2S HTTP [S2S] config in target/peers/prosody/, hosts
#                                `localhost` and `a.localhost`, c2s on
#                                127.0.0.1:C2S, RFC 7395 WebSocket at
#                                ws://127.0.0.1:HTTP/xmpp-websocket, s2s
#                                listener on 127.0.0.1:S2S (default 5269).
#                                Exports PROSODY_PID. Non-zero (and nothing
#                                left running) if it is not listening in 10 s.
#   prosody_register USER HOST PASS
#   prosody_stop                 SIGTERM to PROSODY_PID and to any prosody
#                                running our config (SIGKILL after 10 s).
#   ejabberd_install             Debian's ejabberd. Skips apt when present.
#   ejabberd_start C2S [HTTP]    config in target/peers/ejabberd/, host
#                                `localhost`, c2s on 127.0.0.1:C2S, optional
#                                WebSocket at ws://127.0.0.1:HTTP/xmpp-websocket.
#                                Exports EJABBERD_PID (the beam.smp). Waits
#                                until the c2s port listens (60 s at most).
#   ejabberd_register USER HOST PASS
#   ejabberd_ctl ARGS...         ejabberdctl against our node.
#   ejabberd_stop                `ejabberdctl stop`, then waits for our beam
#                                PID to exit (SIGTERM/SIGKILL if it does not;
#                                also to a beam of ours another shell started).
# All *_stop are safe to call twice, before a start, and from an EXIT trap.
# Output of the tools goes to files in the peer's directory; on failure the
# function prints why and the log's tail.
#
# Verified here (Debian 12, root, 2 cores):
# - prosody 0.12.3-1+deb12u1 (Lua 5.4) + lua-unbound 1.0.0, ejabberd 23.01-1
#   (Erlang/OTP 25.2.3), slixmpp 1.17.0 (slixmpp_peer.py). apt install of
#   both: ~10 s each. Ready (c2s port listening): Prosody 0.15-0.3 s,
#   ejabberd 2.0-3.5 s. Each ejabberdctl call (register, stop) costs ~1 s
#   (it boots an Erlang VM); prosodyctl register ~0.1 s.
# - slixmpp alice -> bob, message received, over c2s without TLS:
#   Prosody PLAIN and SCRAM-SHA-1; ejabberd PLAIN, SCRAM-SHA-1, SCRAM-SHA-256
#   (and SCRAM-SHA-512). Wrong password: <failure/>, slixmpp_peer exit 4.
# - SASL mechanisms offered without TLS:
#   Prosody: SCRAM-SHA-1 PLAIN.
#   ejabberd, EJABBERD_PASSWORD_FORMAT=plain (default here, passwords stored
#   in clear): DIGEST-MD5 PLAIN SCRAM-SHA-512 SCRAM-SHA-256 SCRAM-SHA-1
#   X-OAUTH2. With =scram (auth_scram_hash: sha256): PLAIN SCRAM-SHA-256
#   X-OAUTH2 only, since stored SCRAM keys serve only their own hash.
# - After auth both offer bind, session (optional) and XEP-0198 sm:2 and
#   sm:3 (Prosody 0.12 has mod_smacks built in; ejabberd mod_stream_mgmt).
#   Prosody adds caps, rosterver, pre-approval. No STARTTLS from either.
# - RFC 7395: both answer 101 with the `xmpp` subprotocol and <open/> plus
#   features frames. ejabberd writes the header as `Sec-Websocket-Protocol:xmpp`
#   (no space after the colon).
# - Both servers keep offline messages (mod_offline).
# Gotchas:
# - Never run `prosody --version`: 0.12 has no such flag and starts the
#   server with /etc/prosody's config. Use dpkg-query for versions.
# - Prosody refuses to run as root: it runs as `prosody` via setpriv (which
#   execs, so $! is prosody's own PID); its directory is chowned to prosody.
#   prosodyctl as root switches to the prosody user by itself.
# - Prosody 0.12 dials s2s on port 5269 of the peer domain's address (no
#   SRV here), so a runner's own s2s listener for b.localhost needs 5269:
#   give Prosody another S2S listening port then. Another Prosody on the
#   machine may hold 5269 too: prosody_start fails loudly on a busy port.
# - Outgoing s2s: with lua-unbound, libunbound's built-in `localhost.`
#   redirect zone answers 127.0.0.1 (A) and ::1 (AAAA) for every
#   *.localhost; Prosody does not read /etc/hosts (setting
#   `unbound = { hoststxt = true }` even breaks the resolver: "local-data in
#   redirect zone must reside at top of zone"). Verified: alice@localhost ->
#   x@b.localhost made Prosody dial 127.0.0.1:5269 with
#   `<stream:stream ... xmlns:db='jabber:server:dialback' from='localhost'
#   to='b.localhost'>`. Incoming s2s offers only
#   `<dialback xmlns='urn:xmpp:features:dialback'/>`.
# - /usr/sbin/ejabberdctl as root re-runs itself as user `ejabberd` via su
#   after `cd SPOOL`, with HOME=/var/lib/ejabberd. We run it as ejabberd via
#   setpriv with HOME=our directory (chowned to ejabberd) instead.
# - `ejabberdctl start` detaches the VM (re-parented to PID 1, which here
#   reaps late: zombies for a while) and hangs a reader if its output is a
#   pipe. We run `ejabberdctl foreground` in the background, output to a file.
# - ejabberd 23.01 has no mod_carbons: it is mod_carboncopy.
# - epmd: ejabberdctl's `stopped` and its start-time check may `epmd -kill`
#   a shared epmd (RabbitMQ's). We avoid epmd entirely: ERL_DIST_PORT in our
#   ejabberdctl.cfg makes the node listen for distribution on a fixed
#   loopback port (`-erl_epmd_port P -start_epmd false`) and ejabberdctl's
#   commands connect there; ERL_EPMD_PORT=1 stops the node from registering
#   with an epmd that happens to run. Verified beside rabbitmq.sh's node:
#   `epmd -names` lists only rabbit-conformance, rabbitmq_stop then stops its
#   epmd, and ejabberd keeps working.
# - ejabberd 23.01 without certfiles logs a warning and offers no STARTTLS.

# shellcheck source=conformance/peers/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

XMPP_PEERS_DIR=${ROOT:-$PWD}/target/peers
PROSODY_DIR=$XMPP_PEERS_DIR/prosody
EJABBERD_DIR=$XMPP_PEERS_DIR/ejabberd
PROSODY_PID=""
EJABBERD_PID=""          # the beam.smp
EJABBERD_WRAPPER_PID=""  # `ejabberdctl foreground`, the beam's parent
EJABBERD_NODE=ejabberd-conformance@localhost
EJABBERD_PASSWORD_FORMAT=${EJABBERD_PASSWORD_FORMAT:-plain}
EJABBERD_CTL=()  # the ejabberdctl command line for our node, set by ejabberd_start

_xmpp_install_log() {
    if [ -n "${INSTALL_LOG:-}" ]; then
        echo "$INSTALL_LOG"
    else
        mkdir -p "$XMPP_PEERS_DIR"
        echo "$XMPP_PEERS_DIR/install.log"
    fi
}

# _xmpp_apt PACKAGE...: apt-get install, with one apt-get update first only if
# apt does not know a package or the install fails (stale lists).
_xmpp_apt() {
    local log p
    command -v apt-get >/dev/null || return 1
    log=$(_xmpp_install_log)
    for p in "$@"; do
        if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]' && [ "${APT_UPDATED:-0}" != 1 ]; then
            APT_UPDATED=1
            apt-get update >>"$log" 2>&1 || return 1
        fi
    done
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1 && return 0
    [ "${APT_UPDATED:-0}" != 1 ] || return 1
    APT_UPDATED=1
    apt-get update >>"$log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1
}

# _xmpp_listening PORT: something listens on 127.0.0.1:PORT or 0.0.0.0:PORT.
_xmpp_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    grep -qE "^ *[0-9]+: (0100007F|00000000):$hex [0-9A-F]{8}:0000 0A " /proc/net/tcp
}

# _xmpp_wait_port PORT PID TENTHS: waits until PORT listens; fails when PID
# dies or after TENTHS tenths of a second.
_xmpp_wait_port() {
    local _
    for _ in $(seq "$3"); do
        _xmpp_listening "$1" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

_xmpp_alive() { # PID: alive and not a zombie
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# _xmpp_kill PID: SIGTERM, SIGKILL after 10 s; reaps it if it is our child.
_xmpp_kill() {
    local _
    _xmpp_alive "$1" || { wait "$1" 2>/dev/null; return 0; }
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 100); do
        _xmpp_alive "$1" || break
        sleep 0.1
    done
    _xmpp_alive "$1" && kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

_xmpp_port_arg() { # NAME VALUE
    case $2 in '' | *[!0-9]*)
        echo "$1: not a port: '$2'" >&2
        return 2
        ;;
    esac
}

xmpp_hosts_setup() {
    grep -qE '^127\.0\.0\.1[[:space:]](.*[[:space:]])?a\.localhost([[:space:]]|$)' /etc/hosts &&
        grep -qE '^127\.0\.0\.1[[:space:]](.*[[:space:]])?b\.localhost([[:space:]]|$)' /etc/hosts && return 0
    if ! echo '127.0.0.1 a.localhost b.localhost' >>/etc/hosts; then
        echo "xmpp_hosts_setup: cannot write /etc/hosts" >&2
        return 1
    fi
}

# --- Prosody -------------------------------------------------------------------

prosody_install() {
    if ! command -v prosody >/dev/null || ! command -v prosodyctl >/dev/null ||
        ! lua5.4 -e 'require"lunbound"' 2>/dev/null; then
        _xmpp_apt prosody lua-unbound || {
            echo "prosody_install: apt-get failed, see $(_xmpp_install_log)" >&2
            return 1
        }
    fi
    command -v prosody >/dev/null && command -v prosodyctl >/dev/null
}

# Leftover from an interrupted run: a prosody whose command line names our
# config file.
_prosody_leftover() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "--config $PROSODY_DIR/prosody.cfg.lua" && echo "$pid"
    done
}

prosody_start() {
    local c2s=${1:-} http=${2:-} s2s=${3:-5269} pid t0 ms
    if ! { _xmpp_port_arg prosody_start "$c2s" && _xmpp_port_arg prosody_start "$http" &&
        _xmpp_port_arg prosody_start "$s2s"; }; then
        echo "usage: prosody_start C2S_PORT HTTP_PORT [S2S_PORT]" >&2
        return 2
    fi
    command -v prosody >/dev/null || {
        echo "prosody is not installed (run prosody_install)" >&2
        return 1
    }
    prosody_stop
    for pid in "$c2s" "$http" "$s2s"; do
        if _xmpp_listening "$pid"; then
            echo "prosody: 127.0.0.1:$pid is already in use" >&2
            return 1
        fi
    done
    rm -rf "$PROSODY_DIR"
    mkdir -p "$PROSODY_DIR/data" "$PROSODY_DIR/certs" || return 1
    cat >"$PROSODY_DIR/prosody.cfg.lua" <<EOF
-- Written by conformance/peers/xmpp.sh: loopback only, no TLS.
pidfile = "$PROSODY_DIR/prosody.pid"
data_path = "$PROSODY_DIR/data"
certificates = "$PROSODY_DIR/certs"
log = { { levels = { min = "info" }, to = "file", filename = "$PROSODY_DIR/prosody.log" } }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { $c2s }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { }
s2s_ports = { $s2s }
s2s_interfaces = { "127.0.0.1" }
s2s_direct_tls_ports = { }
http_ports = { $http }
http_interfaces = { "127.0.0.1" }
https_ports = { }
component_ports = { }
http_default_host = "localhost"
modules_enabled = {
    "roster"; "saslauth"; "dialback"; "disco"; "ping"; "smacks";
    "carbons"; "offline"; "version"; "time"; "http"; "websocket";
}
modules_disabled = { "tls" }
allow_registration = false
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
s2s_require_encryption = false
s2s_secure_auth = false
consider_websocket_secure = true

VirtualHost "localhost"
VirtualHost "a.localhost"
EOF
    chown -R prosody:prosody "$PROSODY_DIR" || return 1
    t0=${EPOCHREALTIME/./}
    # setpriv execs (runuser would fork and wait), so $! is prosody itself.
    setsid setpriv --reuid=prosody --regid=prosody --init-groups \
        prosody -F --config "$PROSODY_DIR/prosody.cfg.lua" \
        </dev/null >"$PROSODY_DIR/console.log" 2>&1 &
    PROSODY_PID=$!
    echo "$PROSODY_PID" >"$PROSODY_DIR/run.pid"
    if ! _xmpp_wait_port "$c2s" "$PROSODY_PID" 100 || ! _xmpp_wait_port "$http" "$PROSODY_PID" 20 ||
        ! _xmpp_wait_port "$s2s" "$PROSODY_PID" 20; then
        echo "prosody: not listening on 127.0.0.1:$c2s/$http/$s2s within 10 s (or it exited); its logs:"
        tail -n 30 "$PROSODY_DIR/console.log" "$PROSODY_DIR/prosody.log" 2>/dev/null
        prosody_stop
        return 1
    fi
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    echo "prosody: PID $PROSODY_PID c2s 127.0.0.1:$c2s http $http s2s $s2s, up after ${ms} ms"
    export PROSODY_PID PROSODY_C2S_PORT=$c2s PROSODY_HTTP_PORT=$http PROSODY_S2S_PORT=$s2s
}

prosody_register() { # USER HOST PASS
    if [ $# != 3 ]; then
        echo "usage: prosody_register USER HOST PASS" >&2
        return 2
    fi
    if ! prosodyctl --config "$PROSODY_DIR/prosody.cfg.lua" register "$1" "$2" "$3" \
        </dev/null >>"$PROSODY_DIR/register.log" 2>&1; then
        echo "prosody_register $1@$2 failed:" >&2
        tail -n 5 "$PROSODY_DIR/register.log" >&2
        return 1
    fi
}

prosody_stop() {
    local pid
    # PROSODY_PID, and a prosody of ours that another shell started (its
    # command line names our config file).
    for pid in $PROSODY_PID $(_prosody_leftover); do _xmpp_kill "$pid"; done
    PROSODY_PID=""
    return 0
}

# --- ejabberd ------------------------------------------------------------------

ejabberd_install() {
    if [ ! -x /usr/sbin/ejabberdctl ] || ! command -v erl >/dev/null; then
        _xmpp_apt ejabberd || {
            echo "ejabberd_install: apt-get failed, see $(_xmpp_install_log)" >&2
            return 1
        }
    fi
    [ -x /usr/sbin/ejabberdctl ]
}

ejabberd_ctl() {
    if [ "${#EJABBERD_CTL[@]}" = 0 ]; then
        echo "ejabberd_ctl: no node was started" >&2
        return 1
    fi
    "${EJABBERD_CTL[@]}" "$@"
}

# _ejabberd_beam_pids: beam processes whose command line has our spool dir.
_ejabberd_beam_pids() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "-mnesia dir \"$EJABBERD_DIR/spool\"" && echo "$pid"
    done
}

ejabberd_start() {
    local c2s=${1:-} http=${2:-} dist cookie t0 ms pid http_listener=""
    if ! { _xmpp_port_arg ejabberd_start "$c2s" && { [ -z "$http" ] || _xmpp_port_arg ejabberd_start "$http"; }; }; then
        echo "usage: ejabberd_start C2S_PORT [HTTP_PORT]" >&2
        return 2
    fi
    [ -x /usr/sbin/ejabberdctl ] || {
        echo "ejabberd is not installed (run ejabberd_install)" >&2
        return 1
    }
    ejabberd_stop
    for pid in "$c2s" $http; do
        if _xmpp_listening "$pid"; then
            echo "ejabberd: 127.0.0.1:$pid is already in use" >&2
            return 1
        fi
    done
    rm -rf "$EJABBERD_DIR"
    mkdir -p "$EJABBERD_DIR/spool" "$EJABBERD_DIR/log" "$EJABBERD_DIR/modules.d" || return 1
    dist=$(peer_free_port) || return 1
    cookie=conformance$RANDOM$RANDOM
    if [ -n "$http" ]; then
        http_listener="
  -
    port: $http
    ip: \"127.0.0.1\"
    module: ejabberd_http
    request_handlers:
      /xmpp-websocket: ejabberd_http_ws"
    fi
    cat >"$EJABBERD_DIR/ejabberd.yml" <<EOF
# Written by conformance/peers/xmpp.sh: loopback only, no TLS.
hosts:
  - localhost
loglevel: info
log_rotate_count: 0
auth_method: internal
auth_password_format: $EJABBERD_PASSWORD_FORMAT
auth_scram_hash: sha256
acl:
  local:
    user_regexp: ""
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  local:
    allow: local
  c2s:
    allow: all
shaper_rules:
  c2s_shaper: none
listen:
  -
    port: $c2s
    ip: "127.0.0.1"
    module: ejabberd_c2s
    access: c2s
    shaper: c2s_shaper
    starttls_required: false
    max_stanza_size: 262144$http_listener
s2s_use_starttls: false
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_stream_mgmt: {}
  mod_carboncopy: {}
  mod_offline: {}
  mod_version: {}
EOF
    cat >"$EJABBERD_DIR/ejabberdctl.cfg" <<EOF
# Written by conformance/peers/xmpp.sh. ERL_DIST_PORT: no epmd at all.
ERLANG_NODE=$EJABBERD_NODE
ERL_DIST_PORT=$dist
# With -erl_epmd_port the node still registers with an epmd that happens to
# run (RabbitMQ's), which would then outlive RabbitMQ. Pointing it at a
# closed port makes the registration fail, which -erl_epmd_port tolerates.
export ERL_EPMD_PORT=1
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 -setcookie $cookie -kernel inet_dist_use_interface {127,0,0,1}"
EJABBERD_PID_PATH=$EJABBERD_DIR/ejabberd.pid
CONTRIB_MODULES_PATH=$EJABBERD_DIR/contrib
CONTRIB_MODULES_CONF_DIR=$EJABBERD_DIR/modules.d
EJABBERD_BYPASS_WARNINGS=true
EOF
    # ejabberdctl points ERL_INETRC at CONFIG_DIR/inetrc (every ctl call
    # complains if it is missing): resolve names from /etc/hosts first.
    echo '{lookup, [file, native]}.' >"$EJABBERD_DIR/inetrc"
    chown -R ejabberd:ejabberd "$EJABBERD_DIR" || return 1
    # As user ejabberd via setpriv, so ejabberdctl does not `su` (and
    # HOME is ours, not /var/lib/ejabberd).
    EJABBERD_CTL=(env "HOME=$EJABBERD_DIR" setpriv --reuid=ejabberd --regid=ejabberd --init-groups
        /usr/sbin/ejabberdctl --config-dir "$EJABBERD_DIR" --config "$EJABBERD_DIR/ejabberd.yml"
        --ctl-config "$EJABBERD_DIR/ejabberdctl.cfg" --logs "$EJABBERD_DIR/log" --spool "$EJABBERD_DIR/spool")
    t0=${EPOCHREALTIME/./}
    # `foreground` in the background rather than `start`: the VM stays our
    # descendant (ejabberdctl -> beam.smp) and is reaped when it exits; a
    # `start -detached` VM is re-parented to PID 1, which reaps it late.
    # (Each ejabberdctl command VM still leaves an erl_child_setup zombie
    # to PID 1 for some seconds; harmless.)
    (cd "$EJABBERD_DIR" && exec "${EJABBERD_CTL[@]}" foreground) </dev/null >"$EJABBERD_DIR/log/foreground.out" 2>&1 &
    EJABBERD_WRAPPER_PID=$!
    for _ in $(seq 600); do
        EJABBERD_PID=$(_ejabberd_beam_pids | head -n 1)
        [ -n "$EJABBERD_PID" ] && break
        kill -0 "$EJABBERD_WRAPPER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$EJABBERD_PID" ] || ! _xmpp_wait_port "$c2s" "$EJABBERD_PID" 600 ||
        { [ -n "$http" ] && ! _xmpp_wait_port "$http" "$EJABBERD_PID" 50; }; then
        echo "ejabberd: not listening on 127.0.0.1:$c2s within 60 s (or it exited); its logs:"
        tail -n 40 "$EJABBERD_DIR/log/foreground.out" "$EJABBERD_DIR/log/ejabberd.log" "$EJABBERD_DIR/log/error.log" 2>/dev/null
        ejabberd_stop
        return 1
    fi
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    echo "ejabberd: node $EJABBERD_NODE beam PID $EJABBERD_PID c2s 127.0.0.1:$c2s${http:+ http $http}, up after ${ms} ms"
    export EJABBERD_PID EJABBERD_C2S_PORT=$c2s EJABBERD_HTTP_PORT=$http
}

ejabberd_register() { # USER HOST PASS
    if [ $# != 3 ]; then
        echo "usage: ejabberd_register USER HOST PASS" >&2
        return 2
    fi
    if ! ejabberd_ctl register "$1" "$2" "$3" </dev/null >>"$EJABBERD_DIR/log/register.log" 2>&1; then
        echo "ejabberd_register $1@$2 failed:" >&2
        tail -n 5 "$EJABBERD_DIR/log/register.log" >&2
        return 1
    fi
}

ejabberd_stop() {
    local pid _
    if [ -n "$EJABBERD_PID" ] && _xmpp_alive "$EJABBERD_PID" && [ "${#EJABBERD_CTL[@]}" != 0 ]; then
        timeout 30 "${EJABBERD_CTL[@]}" stop </dev/null >>"$EJABBERD_DIR/log/stop.out" 2>&1
        for _ in $(seq 100); do
            _xmpp_alive "$EJABBERD_PID" || break
            sleep 0.1
        done
    fi
    # Our beam if `stop` did not end it, one still booting, or one another
    # shell started (its command line names our spool directory). The VM
    # takes SIGTERM as a clean `init:stop()`.
    for pid in $EJABBERD_PID $(_ejabberd_beam_pids); do _xmpp_kill "$pid"; done
    [ -z "$EJABBERD_WRAPPER_PID" ] || _xmpp_kill "$EJABBERD_WRAPPER_PID"
    EJABBERD_PID="" EJABBERD_WRAPPER_PID=""
    EJABBERD_CTL=()
    return 0
}
