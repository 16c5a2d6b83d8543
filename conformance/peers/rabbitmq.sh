# shellcheck shell=bash
# RabbitMQ as a real AMQP 0-9-1 peer, for conformance/test.sh (which sources
# this file; it defines functions and variables only and runs nothing).
#
#   rabbitmq_install      installs Debian's rabbitmq-server if it is missing
#                         (apt-get update only when needed); non-zero if it
#                         cannot. Output goes to $INSTALL_LOG, else to
#                         $ROOT/target/peers/rabbitmq/install.log.
#   rabbitmq_start PORT   starts a private node listening on 127.0.0.1:PORT
#                         only, waits until it has booted (60 s at most),
#                         creates vhost `conformance` and user
#                         `conformance`/`conformance-pw` with full permissions
#                         on it, and exports RABBITMQ_URL
#                         (amqp://conformance:conformance-pw@127.0.0.1:PORT/conformance).
#                         Non-zero (and nothing left running) on failure.
#   rabbitmq_stop         stops the node rabbitmq_start started and waits for
#                         it to exit. Safe to call twice, before any start,
#                         and from an EXIT trap; always returns 0.
#   rabbitmq_ctl ARGS...  rabbitmqctl against that node, e.g.
#                         `rabbitmq_ctl set_vm_memory_high_watermark 0`.
#
# Nothing under /etc is read or written: the node's config, env file, plugin
# list, Erlang cookie (its HOME), database, logs and PID file all live in
# $ROOT/target/peers/rabbitmq/node/, recreated by every start. The scripts
# are run from /usr/lib/rabbitmq/bin directly (Debian's /usr/sbin wrappers
# switch to the `rabbitmq` user, `cd /var/lib/rabbitmq` and write to
# /var/log/rabbitmq), so the node runs as the caller. The node name
# (rabbit-conformance@localhost) differs from Debian's default (rabbit@...),
# and the Erlang distribution ports are free ports on 127.0.0.1, so another
# node on this machine does not clash with it. epmd is shared: if none is
# running, rabbitmq_start starts one (`epmd -address 127.0.0.1 -daemon`) and
# records its PID in $ROOT/target/peers/rabbitmq/epmd.pid; rabbitmq_stop (of
# this or of a later run) stops that PID once no node is registered with it.

# shellcheck source=conformance/peers/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RABBITMQ_SBIN=${RABBITMQ_SBIN:-/usr/lib/rabbitmq/bin}
RABBITMQ_NODE=rabbit-conformance@localhost
RABBITMQ_VHOST=conformance
RABBITMQ_USER=conformance
RABBITMQ_PASSWORD=conformance-pw
RABBITMQ_STARTED=0       # 1 while a node started here may be running
RABBITMQ_ENV=()          # VAR=value words for `env`, set by rabbitmq_start
RABBITMQ_NODE_DIR=""

_rabbitmq_log() { # where install output goes
    if [ -n "${INSTALL_LOG:-}" ]; then
        echo "$INSTALL_LOG"
    else
        mkdir -p "${ROOT:-$PWD}/target/peers/rabbitmq"
        echo "${ROOT:-$PWD}/target/peers/rabbitmq/install.log"
    fi
}

_rabbitmq_installed() {
    [ -x "$RABBITMQ_SBIN/rabbitmq-server" ] && [ -x "$RABBITMQ_SBIN/rabbitmqctl" ] &&
        command -v erl >/dev/null && command -v epmd >/dev/null
}

rabbitmq_install() {
    local log
    _rabbitmq_installed && return 0
    command -v apt-get >/dev/null || return 1
    log=$(_rabbitmq_log)
    # Update the package lists only if they do not know the package, or if
    # installing from them fails (stale lists give 404s). test.sh's
    # APT_UPDATED, when set, says an update already ran.
    if ! apt-cache policy rabbitmq-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        if [ "${APT_UPDATED:-0}" != 1 ]; then
            APT_UPDATED=1
            apt-get update >>"$log" 2>&1 || return 1
        fi
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server >>"$log" 2>&1; then
        [ "${APT_UPDATED:-0}" != 1 ] || return 1
        APT_UPDATED=1
        apt-get update >>"$log" 2>&1 || return 1
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server >>"$log" 2>&1 || return 1
    fi
    _rabbitmq_installed
}

rabbitmq_ctl() {
    if [ "${#RABBITMQ_ENV[@]}" = 0 ]; then
        echo "rabbitmq_ctl: no node was started" >&2
        return 1
    fi
    env "${RABBITMQ_ENV[@]}" "$RABBITMQ_SBIN/rabbitmqctl" -n "$RABBITMQ_NODE" "$@"
}

# _rabbitmq_cmdline PID: the process's command line, words joined by spaces
# (empty for a zombie or a process that is gone).
_rabbitmq_cmdline() {
    local words=()
    [ -r "/proc/$1/cmdline" ] && mapfile -d '' -t words <"/proc/$1/cmdline" 2>/dev/null
    echo "${words[*]}"
}

# _rabbitmq_node_pids DIR: the RabbitMQ nodes rabbitmq_start started in DIR
# (erl puts `-home DIR/home` on the command line; rabbitmqctl has no
# `-s rabbit boot`).
_rabbitmq_node_pids() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        case $(_rabbitmq_cmdline "$pid") in
        *"-home $1/home "*"-s rabbit boot"*) echo "$pid" ;;
        esac
    done
}

# _rabbitmq_kill PID...: SIGTERM, then SIGKILL after 10 s.
_rabbitmq_kill() {
    local pid _
    kill -TERM "$@" 2>/dev/null
    for _ in $(seq 100); do
        for pid in "$@"; do
            if [ -n "$(_rabbitmq_cmdline "$pid")" ]; then continue 2; fi
        done
        return 0
    done
    kill -KILL "$@" 2>/dev/null
}

# The PID of the epmd that `epmd -address 127.0.0.1 -daemon` started.
_rabbitmq_epmd_pid() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        if [ "$(_rabbitmq_cmdline "$pid")" = "epmd -address 127.0.0.1 -daemon" ]; then
            echo "$pid"
            return 0
        fi
    done
    return 1
}

# Stops the epmd rabbitmq_start started (see epmd.pid), unless a node (ours
# or another program's) is still registered with it.
_rabbitmq_stop_epmd() {
    local file pid
    file=${ROOT:-$PWD}/target/peers/rabbitmq/epmd.pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null)
    [ -n "$pid" ] || pid=$(_rabbitmq_epmd_pid) || {
        rm -f "$file"
        return 0
    }
    case $pid in *[!0-9]*)
        rm -f "$file"
        return 0
        ;;
    esac
    if [ "$(_rabbitmq_cmdline "$pid")" != "epmd -address 127.0.0.1 -daemon" ]; then
        rm -f "$file" # gone, or the PID was reused
        return 0
    fi
    epmd -names 2>/dev/null | grep -q '^name ' && return 0
    _rabbitmq_kill "$pid"
    rm -f "$file"
}

rabbitmq_start() {
    local port=${1:-} dir dist pids t0 ms deadline left pid booted=0
    case $port in '' | *[!0-9]*)
        echo "usage: rabbitmq_start PORT" >&2
        return 2
        ;;
    esac
    _rabbitmq_installed || {
        echo "rabbitmq-server is not installed (run rabbitmq_install)" >&2
        return 1
    }
    [ "$RABBITMQ_STARTED" = 1 ] && rabbitmq_stop
    dir=${ROOT:-$PWD}/target/peers/rabbitmq/node
    # A node an earlier, interrupted run left behind in the same directory.
    pids=$(_rabbitmq_node_pids "$dir")
    if [ -n "$pids" ]; then
        echo "rabbitmq: stopping node PID ${pids//$'\n'/ } left over from an earlier run"
        # shellcheck disable=SC2086 # one word per PID
        _rabbitmq_kill $pids
    fi
    rm -rf "$dir"
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log" || return 1
    RABBITMQ_NODE_DIR=$dir
    dist=$(peer_free_port) || return 1

    cat >"$dir/rabbitmq.conf" <<EOF
# Written by conformance/peers/rabbitmq.sh: loopback only.
listeners.tcp.default = 127.0.0.1:$port
listeners.ssl = none
loopback_users = none
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $dist
distribution.listener.port_range.max = $dist
log.file.level = info
log.console = false
EOF
    # No plugins: the management listener stays off.
    echo '[].' >"$dir/enabled_plugins"
    # The same settings as environment variables below; this file replaces
    # /etc/rabbitmq/rabbitmq-env.conf for this node.
    cat >"$dir/rabbitmq-env.conf" <<EOF
NODENAME=$RABBITMQ_NODE
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=$port
DIST_PORT=$dist
export ERL_EPMD_ADDRESS=127.0.0.1
EOF
    RABBITMQ_ENV=(
        "HOME=$dir/home"
        "LC_ALL=C.UTF-8"
        "ERL_EPMD_ADDRESS=127.0.0.1"
        "ERL_CRASH_DUMP=$dir/log/erl_crash.dump"
        "RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf"
        "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf"
        "RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config"
        "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins"
        "RABBITMQ_MNESIA_BASE=$dir/mnesia"
        "RABBITMQ_LOG_BASE=$dir/log"
        "RABBITMQ_PID_FILE=$dir/rabbitmq.pid"
        "RABBITMQ_NODENAME=$RABBITMQ_NODE"
        "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1"
        "RABBITMQ_NODE_PORT=$port"
        "RABBITMQ_DIST_PORT=$dist"
        # rabbitmqctl's own distribution listener: an ephemeral port (0) on
        # loopback, so that several rabbitmqctl may run at once.
        "RABBITMQ_CTL_DIST_PORT_MIN=0"
        "RABBITMQ_CTL_DIST_PORT_MAX=0"
        "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
    )

    if ! epmd -names >/dev/null 2>&1; then
        # An empty epmd.pid (if a signal comes before the PID is written)
        # still tells rabbitmq_stop that this epmd is ours.
        : >"$(dirname "$dir")/epmd.pid"
        epmd -address 127.0.0.1 -daemon </dev/null >/dev/null 2>&1
        _rabbitmq_epmd_pid >"$(dirname "$dir")/epmd.pid"
    fi

    t0=${EPOCHREALTIME/./}
    RABBITMQ_STARTED=1
    if ! (cd "$dir" && env "${RABBITMQ_ENV[@]}" "$RABBITMQ_SBIN/rabbitmq-server" -detached) \
        </dev/null >"$dir/log/startup.log" 2>&1; then
        echo "rabbitmq-server -detached failed:"
        cat "$dir/log/startup.log"
        rabbitmq_stop
        return 1
    fi
    # await_startup fails at once (rc 69) while the node is not reachable
    # yet, and otherwise waits for the boot to finish.
    deadline=$((SECONDS + 60))
    while left=$((deadline - SECONDS)) && [ "$left" -gt 0 ]; do
        if timeout "$left" env "${RABBITMQ_ENV[@]}" "$RABBITMQ_SBIN/rabbitmqctl" -n "$RABBITMQ_NODE" \
            await_startup --timeout "$left" >>"$dir/log/await.log" 2>&1; then
            booted=1
            break
        fi
        pid=$(cat "$dir/rabbitmq.pid" 2>/dev/null)
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            break # the node died while booting
        fi
        sleep 1
    done
    if [ "$booted" != 1 ]; then
        echo "rabbitmq: node $RABBITMQ_NODE did not boot (it exited, or 60 s passed); its logs:"
        tail -n 40 "$dir/log/startup.log" "$dir/log/await.log" "$dir"/log/*.log 2>/dev/null
        rabbitmq_stop
        return 1
    fi
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    echo "rabbitmq: node $RABBITMQ_NODE up on 127.0.0.1:$port after $((ms / 1000)).$((ms % 1000 / 100)) s"
    if ! {
        rabbitmq_ctl add_vhost "$RABBITMQ_VHOST" &&
            rabbitmq_ctl add_user "$RABBITMQ_USER" "$RABBITMQ_PASSWORD" &&
            rabbitmq_ctl set_permissions -p "$RABBITMQ_VHOST" "$RABBITMQ_USER" '.*' '.*' '.*'
    } >>"$dir/log/setup.log" 2>&1; then
        echo "rabbitmq: creating the vhost and user failed:"
        cat "$dir/log/setup.log"
        rabbitmq_stop
        return 1
    fi
    export RABBITMQ_PORT=$port
    export RABBITMQ_URL="amqp://$RABBITMQ_USER:$RABBITMQ_PASSWORD@127.0.0.1:$port/$RABBITMQ_VHOST"
}

rabbitmq_stop() {
    local pids
    if [ "$RABBITMQ_STARTED" = 1 ]; then
        RABBITMQ_STARTED=0
        # With the PID file as argument, `stop` also waits for the OS
        # process to exit.
        timeout 60 env "${RABBITMQ_ENV[@]}" "$RABBITMQ_SBIN/rabbitmqctl" -n "$RABBITMQ_NODE" \
            stop "$RABBITMQ_NODE_DIR/rabbitmq.pid" >>"$RABBITMQ_NODE_DIR/log/stop.log" 2>&1
        # A node that did not stop, or that was still booting (no PID file
        # yet, not reachable) is stopped by its PID.
        pids=$(_rabbitmq_node_pids "$RABBITMQ_NODE_DIR")
        # shellcheck disable=SC2086 # one word per PID
        [ -z "$pids" ] || _rabbitmq_kill $pids
    fi
    _rabbitmq_stop_epmd
    return 0
}
