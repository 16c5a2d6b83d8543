#!/usr/bin/env python3
"""Differential peer for `ws-peer autobahn --wsproto PYTHON`.

Reads one case per line on stdin: the bytes a client sends after a completed
opening handshake, as comma-separated hex chunks (each chunk is one
`receive_data` call). Feeds them to wsproto's server-side `Connection`
(built directly, skipping the HTTP handshake) and prints one verdict line
per case, in order: space-separated events

    text:HEX  binary:HEX  ping:HEX  pong:HEX  close:CODE

where messages are reassembled from their frames, ending with `close:CODE`
(the peer's close code, or the code wsproto fails the connection with) or
`open` if the input ended with the connection still open.
"""

import sys

from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.utilities import LocalProtocolError


def verdict(chunks):
    conn = Connection(ConnectionType.SERVER)
    out = []
    parts = []
    for chunk in chunks:
        try:
            conn.receive_data(chunk)
        except LocalProtocolError:
            break
        for ev in conn.events():
            if isinstance(ev, TextMessage):
                parts.append(ev.data.encode("utf-8"))
                if ev.message_finished:
                    out.append("text:" + b"".join(parts).hex())
                    parts = []
            elif isinstance(ev, BytesMessage):
                parts.append(bytes(ev.data))
                if ev.message_finished:
                    out.append("binary:" + b"".join(parts).hex())
                    parts = []
            elif isinstance(ev, Ping):
                out.append("ping:" + bytes(ev.payload).hex())
            elif isinstance(ev, Pong):
                out.append("pong:" + bytes(ev.payload).hex())
            elif isinstance(ev, CloseConnection):
                out.append("close:%d" % int(ev.code))
                return " ".join(out)
    out.append("open")
    return " ".join(out)


def main():
    for line in sys.stdin:
        line = line.strip()
        chunks = [bytes.fromhex(c) for c in line.split(",")] if line else [b""]
        sys.stdout.write(verdict(chunks) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
