#!/usr/bin/env python3
"""Echo client on Python `websockets` (asyncio API), a real peer for our server.

Usage: py_client.py URL [--no-deflate]

Sends text (with non-ASCII), binary, empty, large (16 MiB) and fragmented
messages and a ping, checks that every echo is byte-exact, closes with 1000,
and prints `N passed, N failed` last. Exits 1 on any failure.
"""

import argparse
import asyncio
import os
import sys

from websockets.asyncio.client import connect

MAX_SIZE = 64 * 1024 * 1024
BIG = 16 * 1024 * 1024

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name} {detail}", flush=True)


def describe(m):
    kind = "text" if isinstance(m, str) else "binary"
    return f"{kind} len={len(m)}"


async def echo(ws, name, message, expected):
    await ws.send(message)
    got = await asyncio.wait_for(ws.recv(), timeout=60)
    # Equality on str vs bytes is False, so this also checks the frame type.
    check(name, got == expected, f"(sent {describe(expected)}, got {describe(got)})")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--no-deflate", action="store_true")
    args = parser.parse_args()

    async with connect(
        args.url,
        # "deflate" offers permessage-deflate; client_max_window_bits.
        compression=None if args.no_deflate else "deflate",
        max_size=MAX_SIZE,
        ping_interval=None,
        close_timeout=10,
    ) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions")
        print(f"negotiated extensions: {ext!r}", flush=True)

        text = "hello, wörld — ☃ 𝄞"
        await echo(ws, "text", text, text)
        await echo(ws, "empty text", "", "")
        small = bytes(range(256))
        await echo(ws, "binary", small, small)
        await echo(ws, "empty binary", b"", b"")
        # Compressible and large: exercises inflate across many deflate blocks.
        long_text = "The quick brown fox jumps over the lazy dog. " * 23302
        await echo(ws, "1 MiB text", long_text, long_text)
        # Random bytes do not compress: the deflated form is larger than 16 MiB.
        big = os.urandom(BIG)
        await echo(ws, "16 MiB binary", big, big)
        # An iterable is sent as one message in several frames.
        parts = ["frag", "mented ", "tëxt"]
        await echo(ws, "fragmented text", parts, "".join(parts))
        bparts = [b"\x00\x01", b"", b"\xff" * 70000]
        await echo(ws, "fragmented binary", bparts, b"".join(bparts))

        pong = await ws.ping(b"ping-payload")
        try:
            await asyncio.wait_for(pong, timeout=10)
            check("ping/pong", True)
        except asyncio.TimeoutError:
            check("ping/pong", False, "(no pong in 10 s)")

        await ws.close(1000)
        check(
            "close 1000",
            ws.close_code == 1000,
            f"(peer close code {ws.close_code!r})",
        )


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as e:  # Any transport or protocol error is one failure.
        check("connection", False, f"({type(e).__name__}: {e})")
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
