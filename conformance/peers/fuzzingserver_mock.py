"""A stand-in for Autobahn's fuzzingserver URL protocol, to test
`ws-peer client --autobahn` where Autobahn itself cannot run (Python 2).

/getCaseCount answers the number of cases; /runCase?case=N&agent=A sends
that case's messages and checks the echoes; /updateReports closes. Exits 0
once updateReports arrives after every case echoed correctly, else 1.
"""
import asyncio
import sys
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import serve

# Each case: messages the server sends, which the client must echo.
CASES = [
    ["hello"],
    [b"\x00\x01\x02", "κόσμε"],
    ["x" * 70000, b"y" * 65536],
    [],
]
results = {}
done = asyncio.Event()


async def handler(ws):
    url = urlparse(ws.request.path)
    query = parse_qs(url.query)
    if url.path == "/getCaseCount":
        await ws.send(str(len(CASES)))
    elif url.path == "/runCase":
        case = int(query["case"][0])
        ok = True
        for msg in CASES[case - 1]:
            await ws.send(msg)
            ok = ok and await ws.recv() == msg
        results[case] = ok
        print(f"case {case}: {'echoed' if ok else 'WRONG echo'}", flush=True)
    elif url.path == "/updateReports":
        done.set()
    await ws.close()


async def main():
    port = int(sys.argv[sys.argv.index("--port") + 1])
    async with serve(handler, "127.0.0.1", port, compression=None, max_size=None):
        try:
            await asyncio.wait_for(done.wait(), 60)
        except TimeoutError:
            print("no updateReports within 60 s")
    ok = done.is_set() and len(results) == len(CASES) and all(results.values())
    print("fuzzingserver mock:", "pass" if ok else f"fail {results}")
    sys.exit(0 if ok else 1)


asyncio.run(main())
