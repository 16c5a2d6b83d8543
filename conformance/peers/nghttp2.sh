# shellcheck shell=bash
# nghttp2's server, proxy and clients as real HTTP/2 peers, for the
# conformance runners (sourced; it defines functions and variables only and
# runs nothing). Cleartext h2c only, loopback only.
#
#   nghttp2_install                nghttp2-client (nghttp, h2load),
#                                  nghttp2-server (nghttpd), nghttp2-proxy
#                                  (nghttpx) and curl from apt; skips apt when
#                                  all binaries exist.
#   nghttp2_docroot DIR            writes DIR/index.html (`hello h2\n`, 9
#                                  bytes) and DIR/large (1 MiB = 1048576
#                                  bytes of a repeating pattern).
#   nghttpd_start PORT DOCROOT     nghttpd on 127.0.0.1:PORT (h2c, prior
#                                  knowledge), waits until it listens (10 s).
#                                  Exports NGHTTPD_PID.
#   nghttpd_stop                   SIGTERM to NGHTTPD_PID (SIGKILL after 10 s).
#   nghttpx_start PORT BACKEND     nghttpx reverse proxy: frontend h2c on
#                                  127.0.0.1:PORT, backend h2c to
#                                  127.0.0.1:BACKEND, one process
#                                  (--single-process). Exports NGHTTPX_PID.
#   nghttpx_stop                   SIGTERM to NGHTTPX_PID (SIGKILL after 10 s).
# Stops are safe to call twice, before a start, and from an EXIT trap. Logs
# are in target/peers/nghttp2/.
#
# Verified here (Debian 12, root, 2 cores): nghttp2 1.52.0-1+deb12u3
# (nghttpd, nghttpx, nghttp, h2load), curl 7.88.1 with nghttp2/1.52.0.
# - Ready (port listening) after ~30-140 ms for nghttpd and for nghttpx.
# - `nghttp -v http://127.0.0.1:PORT/` works over cleartext (preface,
#   SETTINGS, RFC 7540 PRIORITY frames for its dependency tree, HEADERS on
#   stream 13; nghttpd answers `server: nghttpd nghttp2/1.52.0`).
#   `curl -s --http2-prior-knowledge URL` gets the body (%{http_version} 2);
#   /large arrives whole (1048576 bytes) directly and through nghttpx.
# - h2load against nghttpd, index.html: `-n 10000 -c 10 -m 100` 165k-311k
#   req/s (a 30-60 ms run: noisy), `-n 100000 -c 10 -m 100 -t 1` 267k req/s;
#   /large `-n 200 -c 2 -m 10` 1.2-1.75 GB/s. Through nghttpx
#   `-n 10000 -c 10 -m 100` 65k-89k req/s. All succeeded, 0 failed.
# - nghttpx rewrites the response's `server` to `nghttpx` and adds
#   `via: 2 nghttpx`.
# Gotchas:
# - nghttpx without --conf=/dev/null reads /etc/nghttpx/nghttpx.conf
#   (Debian's, with TLS certificate paths that do not exist) and exits.
# - nghttpd's positional arguments are PORT [KEY CERT]; --no-tls is needed
#   even though no key is given, and -a 127.0.0.1 (default: all addresses).
# - nghttpd has no --pid-file and does not daemonize by default: it runs in
#   the background here and $! is its PID (also in nghttpd.pid).
# - nghttpx without --single-process forks a worker; on SIGTERM the master
#   exits first and the worker is re-parented to PID 1 (a zombie until
#   this machine's PID 1 gets round to reaping it, seconds later).
# - h2load's `-m` is max concurrent streams per connection; nghttpd
#   advertises SETTINGS_MAX_CONCURRENT_STREAMS 100, so -m above 100 is
#   capped by the server.

NGHTTP2_DIR=${ROOT:-$PWD}/target/peers/nghttp2
NGHTTPD_PID=""
NGHTTPX_PID=""

_nghttp2_install_log() {
    if [ -n "${INSTALL_LOG:-}" ]; then
        echo "$INSTALL_LOG"
    else
        mkdir -p "$NGHTTP2_DIR"
        echo "$NGHTTP2_DIR/install.log"
    fi
}

_nghttp2_installed() {
    command -v nghttpd >/dev/null && command -v nghttpx >/dev/null && command -v nghttp >/dev/null &&
        command -v h2load >/dev/null && command -v curl >/dev/null
}

nghttp2_install() {
    local log pkgs=(nghttp2-client nghttp2-server nghttp2-proxy curl)
    _nghttp2_installed && return 0
    command -v apt-get >/dev/null || return 1
    log=$(_nghttp2_install_log)
    # apt-get update only if the lists do not know the packages, or if
    # installing from them fails (stale lists give 404s).
    if ! apt-cache policy nghttp2-server 2>/dev/null | grep -q 'Candidate: [0-9]' && [ "${APT_UPDATED:-0}" != 1 ]; then
        APT_UPDATED=1
        apt-get update >>"$log" 2>&1 || return 1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1; then
        if [ "${APT_UPDATED:-0}" = 1 ]; then
            echo "nghttp2_install: apt-get failed, see $log" >&2
            return 1
        fi
        APT_UPDATED=1
        if ! { apt-get update >>"$log" 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1; }; then
            echo "nghttp2_install: apt-get failed, see $log" >&2
            return 1
        fi
    fi
    _nghttp2_installed
}

nghttp2_docroot() { # DIR
    [ -n "${1:-}" ] || {
        echo "usage: nghttp2_docroot DIR" >&2
        return 2
    }
    mkdir -p "$1" || return 1
    printf 'hello h2\n' >"$1/index.html" &&
        python3 -c 'import sys; sys.stdout.buffer.write((bytes(range(256)) * 4096))' >"$1/large" &&
        [ "$(stat -c %s "$1/large")" = 1048576 ]
}

# _nghttp2_wait_port PORT PID: until 127.0.0.1:PORT listens (10 s), or PID dies.
_nghttp2_wait_port() {
    local hex _
    hex=$(printf '%04X' "$1")
    for _ in $(seq 100); do
        grep -qE "^ *[0-9]+: 0100007F:$hex [0-9A-F]{8}:0000 0A " /proc/net/tcp && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

_nghttp2_alive() { # PID: alive and not a zombie
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

_nghttp2_kill() { # PID: SIGTERM, SIGKILL after 10 s, reap if ours
    local _
    [ -n "$1" ] || return 0
    if _nghttp2_alive "$1"; then
        kill -TERM "$1" 2>/dev/null
        for _ in $(seq 100); do
            _nghttp2_alive "$1" || break
            sleep 0.1
        done
        _nghttp2_alive "$1" && kill -KILL "$1" 2>/dev/null
    fi
    wait "$1" 2>/dev/null
    return 0
}

_nghttp2_port_arg() { # FUNC VALUE
    case $2 in '' | *[!0-9]*)
        echo "$1: not a port: '$2'" >&2
        return 2
        ;;
    esac
}

nghttpd_start() { # PORT DOCROOT
    local port=${1:-} docroot=${2:-}
    if ! _nghttp2_port_arg nghttpd_start "$port" || [ ! -d "$docroot" ]; then
        echo "usage: nghttpd_start PORT DOCROOT (an existing directory)" >&2
        return 2
    fi
    command -v nghttpd >/dev/null || {
        echo "nghttpd is not installed (run nghttp2_install)" >&2
        return 1
    }
    nghttpd_stop
    mkdir -p "$NGHTTP2_DIR" || return 1
    nghttpd --no-tls -a 127.0.0.1 -d "$docroot" "$port" </dev/null >"$NGHTTP2_DIR/nghttpd.log" 2>&1 &
    NGHTTPD_PID=$!
    echo "$NGHTTPD_PID" >"$NGHTTP2_DIR/nghttpd.pid"
    if ! _nghttp2_wait_port "$port" "$NGHTTPD_PID"; then
        echo "nghttpd: not listening on 127.0.0.1:$port within 10 s (or it exited); its log:"
        tail -n 20 "$NGHTTP2_DIR/nghttpd.log"
        nghttpd_stop
        return 1
    fi
    export NGHTTPD_PID NGHTTPD_PORT=$port
}

nghttpd_stop() {
    _nghttp2_kill "$NGHTTPD_PID"
    NGHTTPD_PID=""
    return 0
}

nghttpx_start() { # LISTEN_PORT BACKEND_PORT
    local port=${1:-} backend=${2:-}
    if ! { _nghttp2_port_arg nghttpx_start "$port" && _nghttp2_port_arg nghttpx_start "$backend"; }; then
        echo "usage: nghttpx_start LISTEN_PORT BACKEND_PORT" >&2
        return 2
    fi
    command -v nghttpx >/dev/null || {
        echo "nghttpx is not installed (run nghttp2_install)" >&2
        return 1
    }
    nghttpx_stop
    mkdir -p "$NGHTTP2_DIR" || return 1
    # --conf=/dev/null: never read Debian's /etc/nghttpx/nghttpx.conf.
    # --single-process: no master/worker pair, so $! is the process that
    # serves (a worker outliving its master would be re-parented to PID 1).
    nghttpx --conf=/dev/null --single-process --workers=1 \
        --frontend="127.0.0.1,$port;no-tls" \
        --backend="127.0.0.1,$backend;;proto=h2" \
        --pid-file="$NGHTTP2_DIR/nghttpx.pid" \
        --errorlog-file="$NGHTTP2_DIR/nghttpx.error.log" \
        --accesslog-file="$NGHTTP2_DIR/nghttpx.access.log" \
        </dev/null >"$NGHTTP2_DIR/nghttpx.log" 2>&1 &
    NGHTTPX_PID=$!
    if ! _nghttp2_wait_port "$port" "$NGHTTPX_PID"; then
        echo "nghttpx: not listening on 127.0.0.1:$port within 10 s (or it exited); its logs:"
        tail -n 20 "$NGHTTP2_DIR/nghttpx.log" "$NGHTTP2_DIR/nghttpx.error.log" 2>/dev/null
        nghttpx_stop
        return 1
    fi
    export NGHTTPX_PID NGHTTPX_PORT=$port
}

nghttpx_stop() {
    _nghttp2_kill "$NGHTTPX_PID"
    NGHTTPX_PID=""
    return 0
}
