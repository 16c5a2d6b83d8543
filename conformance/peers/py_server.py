#!/usr/bin/env python3
"""Echo server on Python `websockets` (asyncio API), a real peer for our client.

Usage: py_server.py --port PORT [--no-deflate]

With deflate (the default) websockets negotiates permessage-deflate with
server_max_window_bits=12 and client_max_window_bits=12, so our client must
honour window sizes below 15. Every message is echoed unchanged with the same
type; the server runs until it is killed.
"""

import argparse
import asyncio

from websockets.asyncio.server import serve

# 64 MiB: comfortably above the 16 MiB messages the clients send.
MAX_SIZE = 64 * 1024 * 1024


async def echo(ws):
    # Log the offer and the answer so a test log shows the deflate parameters.
    offer = ws.request.headers.get("Sec-WebSocket-Extensions")
    answer = ws.response.headers.get("Sec-WebSocket-Extensions")
    print(f"connection: offered={offer!r} negotiated={answer!r}", flush=True)
    count = 0
    async for message in ws:
        await ws.send(message)
        count += 1
    print(f"closed after {count} messages: code={ws.close_code}", flush=True)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-deflate", action="store_true")
    args = parser.parse_args()
    async with serve(
        echo,
        "127.0.0.1",
        args.port,
        compression=None if args.no_deflate else "deflate",
        max_size=MAX_SIZE,
        # No keepalive pings: they would race with the test's own frames.
        ping_interval=None,
    ) as server:
        print(f"listening on 127.0.0.1:{args.port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
