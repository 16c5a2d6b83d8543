# HTTP/2 real-peer steps for conformance/test.sh: nghttp2's tools and curl
# against `h2-peer server`, and `h2-peer client` against nghttpd, directly
# and through nghttpx. Source this file, then call `h2_steps_all BIN WORK`.
#
#   . conformance/peers/h2_steps.sh
#   h2_steps_all target/release/h2-peer "$WORK/h2"    # returns 1 on any failure
#
# Needs (Debian 12): apt-get install -y nghttp2-client nghttp2-server
# nghttp2-proxy curl. Loopback only; every process started here is stopped
# by its PID. Each step prints one line `h2 <step>: PASS|FAIL <detail>`;
# the last line is `h2-steps: P passed, F failed`. The exact commands
# (PORT = our server, NPORT = nghttpd, XPORT/YPORT = nghttpx to ours/to
# nghttpd, all free loopback ports):
#
#   h2-peer server --listen 127.0.0.1:PORT
#   nghttp -v http://127.0.0.1:PORT/                 -> ":status: 200", body
#   nghttp -w 16 -W 16 http://127.0.0.1:PORT/large   -> sha256 of h2-peer body large
#   nghttp -w 16 -W 16 -d FILE http://127.0.0.1:PORT/echo -> FILE back
#   curl --http2-prior-knowledge http://127.0.0.1:PORT/          -> body
#   curl --http2-prior-knowledge http://127.0.0.1:PORT/large     -> sha256 as above
#   curl --http2-prior-knowledge --data-binary @FILE http://127.0.0.1:PORT/echo -> FILE
#   h2load -n 100000 -c 10 -m 100 -t 1 http://127.0.0.1:PORT/   -> "100000 succeeded, 0 failed"
#   nghttpd --no-tls -n 2 -d DOCROOT NPORT   (DOCROOT: index.html, large, echo from `h2-peer body`)
#   h2load -n 100000 -c 10 -m 100 -t 1 http://127.0.0.1:NPORT/  -> the same, req/s compared
#   h2-peer client --url http://127.0.0.1:NPORT --streams 32 --no-echo-check
#   h2-peer client --url http://127.0.0.1:NPORT --streams 4 --window 16 --no-echo-check
#   nghttpx --conf=/dev/null -f'127.0.0.1,XPORT;no-tls' -b'127.0.0.1,PORT;;proto=h2' --workers=1
#   h2-peer client --url http://127.0.0.1:XPORT --streams 16
#   h2-peer client --url http://127.0.0.1:XPORT --streams 4 --window 16
#   nghttpx ... -f'127.0.0.1,YPORT;no-tls' -b'127.0.0.1,NPORT;;proto=h2'
#   h2-peer client --url http://127.0.0.1:YPORT --streams 16 --no-echo-check
#
# Figures seen here (2 cores, Debian 12, nghttp2 1.52, curl 7.88): h2load
# 100000 requests, 19-byte body, h2-peer server / nghttpd (2 workers) in
# the same run: 757k/500k, 760k/505k, 436k/334k, 357k/310k, 466k/289k req/s
# with other builds running, 516k/523k on an otherwise idle machine, where
# h2load's one client thread likely caps both. All 14 steps pass.
# The server's own summary line is printed when it is
# stopped: `h2-peer server: C connections, R requests, 0 connection errors, ...`.

# shellcheck source=conformance/peers/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Waits until 127.0.0.1:$1 accepts connections (5 s at most).
h2s_wait_port() {
    for _ in $(seq 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

h2s_pass=0
h2s_fail=0
# h2s_report STEP OK(0/1) DETAIL
h2s_report() {
    if [ "$2" = 0 ]; then
        h2s_pass=$((h2s_pass + 1)); echo "h2 $1: PASS $3"
    else
        h2s_fail=$((h2s_fail + 1)); echo "h2 $1: FAIL $3"
    fi
}

# h2s_h2load URL LOG: runs h2load; prints "SUCCEEDED FAILED REQ/S".
h2s_h2load() {
    timeout 300 h2load -n 100000 -c 10 -m 100 -t 1 "$1" >"$2" 2>&1
    local ok failed rps
    ok=$(sed -n 's/^requests: .* \([0-9]*\) succeeded, \([0-9]*\) failed.*/\1/p' "$2")
    failed=$(sed -n 's/^requests: .* \([0-9]*\) succeeded, \([0-9]*\) failed.*/\2/p' "$2")
    rps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$2")
    echo "${ok:-0} ${failed:-?} ${rps:-?}"
}

# h2_steps_all H2PEER_BIN WORKDIR
h2_steps_all() {
    local bin work port nport xport yport spid npid xpid ypid out want r
    bin=$(realpath "$1"); work=$2
    h2s_pass=0; h2s_fail=0
    mkdir -p "$work/docroot"
    "$bin" body small >"$work/docroot/index.html"
    "$bin" body large >"$work/docroot/large"
    cp "$work/docroot/index.html" "$work/docroot/echo"
    head -c 300000 /dev/urandom >"$work/post.bin"
    want=$(sha256sum <"$work/docroot/large" | cut -d' ' -f1)

    port=$(peer_free_port)
    "$bin" server --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
    spid=$!
    if ! h2s_wait_port "$port"; then
        h2s_report "server start" 1 "h2-peer server did not listen on $port"
        kill "$spid" 2>/dev/null; return 1
    fi
    local u="http://127.0.0.1:$port"

    out=$(timeout 30 nghttp -v "$u/" 2>&1)
    echo "$out" >"$work/nghttp-v.log"
    echo "$out" | grep -q ':status: 200' && echo "$out" | grep -q 'hello from h2-peer'
    h2s_report "nghttp -v GET /" $? "(frames in $work/nghttp-v.log)"

    r=$(timeout 60 nghttp -w 16 -W 16 "$u/large" | sha256sum | cut -d' ' -f1)
    [ "$r" = "$want" ]; h2s_report "nghttp -w 16 -W 16 GET /large" $? "sha256 ${r:0:16}"

    timeout 60 nghttp -w 16 -W 16 -d "$work/post.bin" "$u/echo" >"$work/nghttp-echo.out" 2>&1
    cmp -s "$work/nghttp-echo.out" "$work/post.bin"
    h2s_report "nghttp -w 16 -W 16 -d POST /echo" $? "300000 bytes echoed"

    r=$(timeout 30 curl -s --http2-prior-knowledge "$u/")
    [ "$r" = "hello from h2-peer" ]; h2s_report "curl GET /" $? "$r"
    r=$(timeout 30 curl -s --http2-prior-knowledge "$u/large" | sha256sum | cut -d' ' -f1)
    [ "$r" = "$want" ]; h2s_report "curl GET /large" $? "sha256 ${r:0:16}"
    timeout 30 curl -s --http2-prior-knowledge --data-binary @"$work/post.bin" "$u/echo" >"$work/curl-echo.out"
    cmp -s "$work/curl-echo.out" "$work/post.bin"
    h2s_report "curl POST --data-binary /echo" $? "300000 bytes echoed"

    local ours theirs
    ours=$(h2s_h2load "$u/" "$work/h2load-ours.log")
    set -- $ours
    [ "$1" = 100000 ] && [ "$2" = 0 ]
    h2s_report "h2load -n 100000 -c 10 -m 100 h2-peer server" $? "$1 succeeded, $2 failed, $3 req/s"

    nport=$(peer_free_port)
    # Two workers, as our server has a thread per connection on two cores.
    nghttpd --no-tls -n 2 -d "$work/docroot" "$nport" >"$work/nghttpd.log" 2>&1 &
    npid=$!
    if h2s_wait_port "$nport"; then
        theirs=$(h2s_h2load "http://127.0.0.1:$nport/" "$work/h2load-nghttpd.log")
        set -- $theirs
        [ "$1" = 100000 ] && [ "$2" = 0 ]
        h2s_report "h2load -n 100000 -c 10 -m 100 nghttpd" $? "$1 succeeded, $2 failed, $3 req/s (h2-peer server: $(echo "$ours" | cut -d' ' -f3) req/s)"

        timeout 120 "$bin" client --url "http://127.0.0.1:$nport" --streams 32 --no-echo-check >"$work/client-nghttpd.log" 2>&1
        h2s_report "h2-peer client -> nghttpd, 32 rounds" $? "$(tail -n1 "$work/client-nghttpd.log")"
        timeout 120 "$bin" client --url "http://127.0.0.1:$nport" --streams 4 --window 16 --no-echo-check >"$work/client-nghttpd-w16.log" 2>&1
        h2s_report "h2-peer client -> nghttpd, window 16" $? "$(tail -n1 "$work/client-nghttpd-w16.log")"
    else
        h2s_report "nghttpd start" 1 "nghttpd did not listen on $nport"
    fi

    xport=$(peer_free_port)
    nghttpx --conf=/dev/null -f"127.0.0.1,$xport;no-tls" -b"127.0.0.1,$port;;proto=h2" --workers=1 >"$work/nghttpx-ours.log" 2>&1 &
    xpid=$!
    if h2s_wait_port "$xport"; then
        timeout 120 "$bin" client --url "http://127.0.0.1:$xport" --streams 16 >"$work/client-nghttpx-ours.log" 2>&1
        h2s_report "h2-peer client -> nghttpx -> h2-peer server" $? "$(tail -n1 "$work/client-nghttpx-ours.log")"
        timeout 120 "$bin" client --url "http://127.0.0.1:$xport" --streams 4 --window 16 >"$work/client-nghttpx-ours-w16.log" 2>&1
        h2s_report "h2-peer client -> nghttpx -> h2-peer server, window 16" $? "$(tail -n1 "$work/client-nghttpx-ours-w16.log")"
    else
        h2s_report "nghttpx start" 1 "nghttpx did not listen on $xport"
    fi

    yport=$(peer_free_port)
    nghttpx --conf=/dev/null -f"127.0.0.1,$yport;no-tls" -b"127.0.0.1,$nport;;proto=h2" --workers=1 >"$work/nghttpx-nghttpd.log" 2>&1 &
    ypid=$!
    if h2s_wait_port "$yport"; then
        timeout 120 "$bin" client --url "http://127.0.0.1:$yport" --streams 16 --no-echo-check >"$work/client-nghttpx-nghttpd.log" 2>&1
        h2s_report "h2-peer client -> nghttpx -> nghttpd" $? "$(tail -n1 "$work/client-nghttpx-nghttpd.log")"
    else
        h2s_report "nghttpx start" 1 "nghttpx did not listen on $yport"
    fi

    kill "$ypid" "$xpid" "$npid" 2>/dev/null
    wait "$ypid" "$xpid" "$npid" 2>/dev/null
    kill -TERM "$spid" 2>/dev/null
    wait "$spid"
    h2s_report "h2-peer server exit" $? "$(tail -n1 "$work/server.log")"
    echo "h2-steps: $h2s_pass passed, $h2s_fail failed"
    [ "$h2s_fail" = 0 ]
}
