#!/usr/bin/env python3
"""slixmpp as a scriptable XMPP client peer for the conformance runners.

    slixmpp_peer.py --jid alice@localhost --password pw --server 127.0.0.1:15222
                    --mode send|recv|echo [--to JID] [--body TEXT] [--count N]
                    [--timeout S] [--mech PLAIN|SCRAM-SHA-1|SCRAM-SHA-256|...]

Plaintext only (STARTTLS disabled; PLAIN and SCRAM allowed without TLS).
stdout, one JSON object per line:
  {"event": "ready", "jid": FULLJID, "mech": USED, "offered": [...]}
      after the session starts (a runner may start the sender after this);
  {"event": "message", "from": JID, "to": JID, "type": T, "id": ID, "body": B}
      per received message (recv and echo modes);
  {"event": "summary", "ok": BOOL, "mode": M, "sent": N, "received": N,
   "mech": USED, "offered": [...], "error": TEXT|null}
      last.
Modes: send sends --count messages (body `--body`, or `--body #i` when
--count > 1) to --to, waits for --expect messages (default 0), disconnects; recv waits for --count messages;
echo sends each received body back to its sender until --count messages.
Exit status: 0 done, 1 timeout (count not reached), 2 bad usage,
3 could not connect / stream error / disconnected, 4 authentication failed
or --mech not offered.
The servers of conformance/peers/xmpp.sh keep offline messages: a message
sent before its recipient is online arrives right after "ready".

slixmpp 1.17: `unencrypted_plain` and `unencrypted_scram` are both False
by default, so without TLS it would offer no mechanism at all; they are set
True here.
"""

import argparse
import asyncio
import json
import logging
import sys

import slixmpp


def emit(obj):
    print(json.dumps(obj, sort_keys=False), flush=True)


class Peer(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password, sasl_mech=args.mech)
        self.args = args
        self.sent = 0
        self.received = 0
        self.error = None
        self.rc = None
        self.done = asyncio.get_event_loop().create_future()
        mechs = self.plugin["feature_mechanisms"]
        mechs.unencrypted_plain = True
        mechs.unencrypted_scram = True
        mechs.unencrypted_digest = True
        mechs.unencrypted_cram = True
        self.register_plugin("xep_0199")  # answer pings
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("failed_all_auth", self.on_failed_all_auth)
        self.add_event_handler("connection_failed", self.on_conn_failed)
        self.add_event_handler("stream_error", self.on_stream_error)
        self.add_event_handler("disconnected", self.on_disconnected)

    # -- helpers ---------------------------------------------------------
    def mech_used(self):
        mech = self.plugin["feature_mechanisms"].mech
        return mech.name if mech is not None else None

    def offered(self):
        return sorted(self.plugin["feature_mechanisms"].mech_list)

    def finish(self, rc, error=None):
        if self.rc is None:
            self.rc = rc
            self.error = error
        if not self.done.done():
            self.done.set_result(None)

    # -- events ----------------------------------------------------------
    async def on_start(self, _event):
        emit({"event": "ready", "jid": str(self.boundjid), "mech": self.mech_used(),
              "offered": self.offered()})
        self.send_presence()
        if self.args.mode == "send":
            for i in range(self.args.count):
                body = self.args.body
                if self.args.count > 1:
                    body = f"{body} #{i}"
                self.send_message(mto=self.args.to, mbody=body, mtype="chat")
                self.sent += 1
            if self.args.expect == 0:
                self.finish(0)

    def on_message(self, msg):
        if msg["type"] not in ("chat", "normal") or not msg["body"]:
            return
        self.received += 1
        emit({"event": "message", "from": str(msg["from"]), "to": str(msg["to"]),
              "type": msg["type"], "id": msg["id"], "body": msg["body"]})
        if self.args.mode == "echo":
            self.send_message(mto=msg["from"], mbody=msg["body"], mtype=msg["type"])
            self.sent += 1
        if self.args.mode in ("recv", "echo") and self.received >= self.args.count:
            self.finish(0)
        elif self.args.mode == "send" and self.sent == self.args.count and \
                self.received >= self.args.expect:
            self.finish(0)

    def on_failed_auth(self, _event):
        self.finish(4, f"authentication failed (mechanism {self.mech_used()}, "
                       f"offered {self.offered()})")

    def on_failed_all_auth(self, _event):
        self.finish(4, f"no usable SASL mechanism (wanted {self.args.mech or 'any'}, "
                       f"offered {self.offered()})")

    def on_conn_failed(self, event):
        self.finish(3, f"connection failed: {event}")

    def on_stream_error(self, err):
        self.finish(3, f"stream error: {err['condition']} {err['text']}".strip())

    def on_disconnected(self, reason):
        self.finish(3, f"disconnected: {reason}")


async def run(args):
    host, _, port = args.server.rpartition(":")
    xmpp = Peer(args)
    xmpp.enable_starttls = False
    xmpp.enable_direct_tls = False
    xmpp.enable_plaintext = True
    # slixmpp 1.17 replaced connect(force_starttls=, disable_starttls=) with
    # these three switches.
    xmpp.connect(host=host, port=int(port))
    try:
        await asyncio.wait_for(asyncio.shield(xmpp.done), args.timeout)
    except asyncio.TimeoutError:
        want = args.expect if args.mode == "send" else args.count
        xmpp.finish(1, f"timeout after {args.timeout} s ({xmpp.received} of "
                       f"{want} messages received)")
    if xmpp.rc in (0, 1) and xmpp.is_connected():
        xmpp.del_event_handler("disconnected", xmpp.on_disconnected)
        # Waits for the send queue to drain and the server's </stream:stream>.
        await xmpp.disconnect(wait=2.0)
    else:
        xmpp.abort()
    emit({"event": "summary", "ok": xmpp.rc == 0, "mode": args.mode, "sent": xmpp.sent,
          "received": xmpp.received, "mech": xmpp.mech_used(), "offered": xmpp.offered(),
          "error": xmpp.error})
    return xmpp.rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--server", required=True, help="HOST:PORT of the c2s listener")
    ap.add_argument("--mode", choices=("send", "recv", "echo"), required=True)
    ap.add_argument("--to", help="recipient JID (send mode)")
    ap.add_argument("--body", default="hello")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--expect", type=int, default=0,
                    help="send mode: then wait for this many messages (e.g. echoes)")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--mech", help="the only SASL mechanism to use, e.g. SCRAM-SHA-256")
    ap.add_argument("--debug", action="store_true", help="slixmpp debug log on stderr")
    args = ap.parse_args()
    if args.mode == "send" and not args.to:
        ap.error("--mode send needs --to")
    if ":" not in args.server:
        ap.error("--server must be HOST:PORT")
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.CRITICAL,
                        format="%(levelname)s %(name)s %(message)s", stream=sys.stderr)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        rc = loop.run_until_complete(run(args))
    except KeyboardInterrupt:
        rc = 130
    return rc


if __name__ == "__main__":
    sys.exit(main())
