"""A raw RFC 7395 client on Python's websockets, independent of our codecs.

    python xmpp_ws_probe.py --url ws://HOST:PORT/xmpp-websocket --jid USER@DOMAIN --password PW

Checks, in order: a handshake without the `xmpp` subprotocol is refused
with an HTTP error status; the handshake with it agrees on `xmpp`; then
<open/>, features, SASL PLAIN, stream restart, resource binding, an
XEP-0199 ping to the server, a message to our own full JID, and the close
(<close/> answered with <close/>, then the WebSocket closing handshake).
Every message the server sends must be a text frame holding one complete
element (RFC 7395 §3.2, §3.3.3). Prints `xmpp_ws_probe: PASS ...` and exits
0, or `xmpp_ws_probe: FAIL ...` and exits 1.
"""

import argparse
import base64
import sys
import xml.etree.ElementTree as ET

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
STREAMS = "http://etherx.jabber.org/streams"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND = "urn:ietf:params:xml:ns:xmpp-bind"
CLIENT = "jabber:client"
PING = "urn:xmpp:ping"
TIMEOUT = 10


class ProbeError(Exception):
    pass


def q(ns, name):
    return "{%s}%s" % (ns, name)


def recv(ws, what):
    try:
        data = ws.recv(timeout=TIMEOUT)
    except TimeoutError:
        raise ProbeError("no %s within %d s" % (what, TIMEOUT)) from None
    if not isinstance(data, str):
        raise ProbeError("%s came in a binary frame (RFC 7395 wants text)" % what)
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise ProbeError("%s is not one complete element (%s): %r" % (what, e, data)) from None


def expect(el, tag, what):
    if el.tag != tag:
        raise ProbeError("expected %s, got %s" % (what, ET.tostring(el, encoding="unicode")))
    return el


def open_stream(ws, domain):
    ws.send('<open xmlns="%s" to="%s" version="1.0"/>' % (FRAMING, domain))
    expect(recv(ws, "<open/>"), q(FRAMING, "open"), "<open/>")
    return expect(recv(ws, "features"), q(STREAMS, "features"), "<stream:features/>")


def refused_without_subprotocol(url):
    try:
        with connect(url, open_timeout=TIMEOUT):
            pass
    except InvalidStatus as e:
        return e.response.status_code
    raise ProbeError("a handshake without subprotocol xmpp was accepted")


def probe(url, jid, password):
    local, domain = jid.split("@", 1)
    status = refused_without_subprotocol(url)
    with connect(url, subprotocols=["xmpp"], open_timeout=TIMEOUT) as ws:
        if ws.subprotocol != "xmpp":
            raise ProbeError("server agreed to subprotocol %r, not xmpp" % ws.subprotocol)
        features = open_stream(ws, domain)
        mechs = [m.text for m in features.iter(q(SASL, "mechanism"))]
        if "PLAIN" not in mechs:
            raise ProbeError("PLAIN not offered: %s" % mechs)
        creds = base64.b64encode(("\0%s\0%s" % (local, password)).encode()).decode()
        ws.send('<auth xmlns="%s" mechanism="PLAIN">%s</auth>' % (SASL, creds))
        expect(recv(ws, "SASL outcome"), q(SASL, "success"), "<success/>")
        features = open_stream(ws, domain)
        if features.find(q(BIND, "bind")) is None:
            raise ProbeError("no bind feature after SASL")
        ws.send(
            '<iq xmlns="%s" type="set" id="b1"><bind xmlns="%s"><resource>probe</resource></bind></iq>'
            % (CLIENT, BIND)
        )
        res = expect(recv(ws, "bind result"), q(CLIENT, "iq"), "<iq/>")
        bound = res.findtext("%s/%s" % (q(BIND, "bind"), q(BIND, "jid")))
        if res.get("type") != "result" or not bound:
            raise ProbeError("bind failed: %s" % ET.tostring(res, encoding="unicode"))
        ws.send('<iq xmlns="%s" type="get" id="p1" to="%s"><ping xmlns="%s"/></iq>' % (CLIENT, domain, PING))
        pong = expect(recv(ws, "pong"), q(CLIENT, "iq"), "<iq/>")
        if pong.get("id") != "p1" or pong.get("type") != "result":
            raise ProbeError("ping answered with %s" % ET.tostring(pong, encoding="unicode"))
        body = "probe over RFC 7395"
        ws.send(
            '<message xmlns="%s" type="chat" to="%s" id="m1"><body>%s</body></message>'
            % (CLIENT, bound, body)
        )
        msg = expect(recv(ws, "our message"), q(CLIENT, "message"), "<message/>")
        if msg.findtext(q(CLIENT, "body")) != body or msg.get("from") != bound:
            raise ProbeError("wrong echo: %s" % ET.tostring(msg, encoding="unicode"))
        ws.send('<close xmlns="%s"/>' % FRAMING)
        expect(recv(ws, "<close/>"), q(FRAMING, "close"), "<close/>")
        try:
            extra = ws.recv(timeout=TIMEOUT)
            raise ProbeError("data after <close/>: %r" % extra)
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
        except TimeoutError:
            raise ProbeError("no WebSocket close after <close/>") from None
        if code != 1000:
            raise ProbeError("WebSocket closed with %s, not 1000" % code)
    return "no subprotocol -> HTTP %d; bound %s, pong, message to self, <close/> then close 1000" % (
        status,
        bound,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    a = ap.parse_args()
    try:
        note = probe(a.url, a.jid, a.password)
    except (ProbeError, OSError, ConnectionClosed, InvalidStatus) as e:
        print("xmpp_ws_probe: FAIL %s" % e)
        return 1
    print("xmpp_ws_probe: PASS %s" % note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
