#!/usr/bin/env python3
"""An AMQP 0-9-1 peer built on pika (1.4), for conformance runs against RabbitMQ.

Subcommands (URL is e.g. amqp://conformance:conformance-pw@127.0.0.1:5672/conformance):

  publish --url URL --queue Q [--count N] [--size BYTES] [--all-props]
      Declares Q (durable=false, exclusive=false, auto_delete=false, no
      arguments) and publishes N messages (default 1) to it through the
      default exchange, mandatory, with publisher confirms (each publish waits
      for its basic.ack; a nack or basic.return makes the run fail). Body of
      message i (from 0) is BYTES bytes (default 100) where byte j is
      (i + j) % 251. Without --all-props the messages carry no properties
      (property flags 0); with it every message carries the 14 properties of
      all_props() below (user_id is the URL's user: RabbitMQ refuses any
      other with channel.close 406; cluster_id is accepted and delivered
      unchanged by RabbitMQ 3.10). Prints one JSON line per
      message: {"index", "body_len", "body_sha256", "properties"}.

  consume --url URL --queue Q --count N [--timeout S] [--expect-json FILE]
      Declares Q as above, consumes N messages (prefetch 100) and acks each
      one. Prints one JSON line per message: {"index", "exchange",
      "routing_key", "redelivered", "body_len", "body_sha256", "properties"}.
      Properties are decoded from the raw content-header frame by this script
      (pika's own decoder turns `f`/`d` header values into truncated integers
      and forgets every field type), see "Property JSON" below.
      --expect-json FILE: JSON lines as printed by `publish` (or by
      `all-props`). With one line, it applies to every message; otherwise
      line k applies to message k. Each line's "properties" must equal the
      message's exactly, and its "body_len"/"body_sha256", when present,
      too. Mismatches are listed on stderr and the exit status is 1.
      Fewer than N messages within S seconds (default 30): exit status 1.

  rpc-server --url URL --queue Q [--count N]
      Declares Q as above and answers every message on it: publishes the
      same body to the default exchange with routing key = its reply_to
      (e.g. amq.rabbitmq.reply-to.XXXX, direct reply-to) and the same
      correlation_id, then acks the request (a request without reply_to is
      only acked). Prints `rpc-server: ready on queue Q` once it consumes,
      then one JSON line per request ({"index", "reply_to", "correlation_id",
      "body_len", "body_sha256"}), and serves until SIGTERM/SIGINT (exit 0)
      or N requests; the last line is `rpc-server: N replies`.

  rpc-call --url URL --queue Q [--count N] [--size BYTES] [--timeout S]
      The client half of direct reply-to: consumes amq.rabbitmq.reply-to
      (no-ack), publishes N requests to Q with reply_to
      amq.rabbitmq.reply-to and correlation_id "rpc-<i>", and checks that
      every reply has the request's body and correlation_id.

  confirm-publish --url URL --count N [--queue Q]
      Publisher-confirms throughput: publishes N 100-byte messages to a new
      exclusive server-named queue (or to Q), one at a time, each waiting for
      its basic.ack (pika's BlockingChannel.confirm_delivery()), and prints
      `pika-confirm-rate: X msg/s` (X an integer).

  all-props [--user U]
      Prints, without connecting, the JSON line {"properties": ...} that a
      message with all_props() (user_id U, default "conformance") decodes to.

Property JSON: an object with the present properties only, under their
AMQP names with `_` (content_type, content_encoding, headers, delivery_mode,
priority, correlation_id, reply_to, expiration, message_id, timestamp, type,
user_id, app_id, cluster_id). Short strings are JSON strings (or
{"hex": "..."} if not UTF-8), octets and the timestamp (seconds) are
integers. "headers" is a field table in typed form: {name: {"type": T,
"value": V}}, T being the field-type octet of the 0-9-1 errata table:
  t bool: true/false           b int8      B uint8      s int16     u uint16
  I int32      i uint32        l int64     f float32    d float64 (JSON numbers)
  D decimal: {"scale": octet, "value": uint32}
  S long string: string, or {"hex": "..."} if not UTF-8
  x byte array: hex string      T timestamp: integer seconds
  F table: {name: typed, ...}   A array: [typed, ...]    V void: null
(`L` int64 and `U` int16, used by some other clients, decode as such too.)

pika itself encodes only t I l D S x T F A V (from Python values); this
script patches pika.data.encode_value so that a Field(type, value) is
encoded as exactly that type, which is how ALL_PROPS also carries b B s u i
f d. RabbitMQ 3.10 passes all of them through unchanged (byte for byte).

Needs pika only. Exit status: 0 on success, 1 on a failed check or an AMQP
error (connection refused, 403 login refused, channel closed...), 2 on bad
arguments.
"""

import argparse
import hashlib
import json
import signal
import struct
import sys
import time
import urllib.parse

import pika
import pika.data
import pika.exceptions
import pika.spec

# --- field values with an explicit type --------------------------------------


class Field:
    """A header value encoded as field type `kind` (one errata type octet)."""

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value


_SCALAR_FORMATS = {
    "b": ">b",
    "B": ">B",
    "s": ">h",
    "u": ">H",
    "I": ">i",
    "i": ">I",
    "l": ">q",
    "f": ">f",
    "d": ">d",
    "T": ">Q",
}

_pika_encode_value = pika.data.encode_value


def _encode_value(pieces, value):
    if not isinstance(value, Field):
        return _pika_encode_value(pieces, value)
    kind, v = value.kind, value.value
    if kind in _SCALAR_FORMATS:
        packed = kind.encode() + struct.pack(_SCALAR_FORMATS[kind], v)
    elif kind == "t":
        packed = b"t" + struct.pack(">B", 1 if v else 0)
    elif kind == "D":
        packed = b"D" + struct.pack(">BI", v["scale"], v["value"])
    elif kind in ("S", "x"):
        data = v.encode() if isinstance(v, str) else bytes(v)
        packed = kind.encode() + struct.pack(">I", len(data)) + data
    elif kind == "V":
        packed = b"V"
    elif kind == "F":
        pieces.append(b"F")
        return 1 + pika.data.encode_table(pieces, v)
    elif kind == "A":
        inner = []
        for item in v:
            _encode_value(inner, item)
        data = b"".join(inner)
        packed = b"A" + struct.pack(">I", len(data)) + data
    else:
        raise ValueError(f"unknown field type {kind!r}")
    pieces.append(packed)
    return len(packed)


# encode_table and the array branch look encode_value up in pika.data's
# globals, so nested values go through this function too.
pika.data.encode_value = _encode_value


def field_from_json(typed):
    """Typed JSON ({"type", "value"}) -> Field, recursively."""
    kind, v = typed["type"], typed["value"]
    if kind == "F":
        return Field("F", {k: field_from_json(x) for k, x in v.items()})
    if kind == "A":
        return Field("A", [field_from_json(x) for x in v])
    if kind == "x":
        return Field("x", bytes.fromhex(v))
    if kind == "S" and isinstance(v, dict):
        return Field("S", bytes.fromhex(v["hex"]))
    return Field(kind, v)


# --- the all-properties message --------------------------------------------------


def T(kind, value):
    return {"type": kind, "value": value}


# One value of every field type RabbitMQ accepts, nested tables and arrays,
# extreme integers and exactly representable floats.
ALL_PROPS_HEADERS = {
    "bool-true": T("t", True),
    "bool-false": T("t", False),
    "int8": T("b", -5),
    "uint8": T("B", 250),
    "int16": T("s", -1000),
    "uint16": T("u", 65000),
    "int32": T("I", -100000),
    "uint32": T("i", 4000000000),
    "int64-max": T("l", 9223372036854775807),
    "int64-min": T("l", -9223372036854775808),
    "float": T("f", -2.5),
    "double": T("d", 3.141592653589793),
    "decimal": T("D", {"scale": 2, "value": 31415}),
    "longstr": T("S", "h\u00e9llo, w\u00f6rld \u2713"),
    "empty-longstr": T("S", ""),
    "bytes": T("x", "0001feff"),
    "timestamp": T("T", 1700000000),
    "void": T("V", None),
    "array": T("A", [
        T("I", 1),
        T("S", "two"),
        T("t", True),
        T("F", {"k": T("S", "v")}),
        T("A", [T("l", 3), T("d", -0.5)]),
        T("V", None),
    ]),
    "table": T("F", {
        "nested": T("F", {"deep": T("S", "value"), "n": T("I", 42)}),
        "list": T("A", [T("S", "a"), T("S", "b")]),
        "empty-table": T("F", {}),
        "empty-array": T("A", []),
    }),
}


def all_props(user):
    """The 14 basic properties of an --all-props message, in property JSON."""
    return {
        "content_type": "application/x-conformance",
        "content_encoding": "identity",
        "headers": ALL_PROPS_HEADERS,
        "delivery_mode": 2,
        "priority": 7,
        "correlation_id": "corr-4f2a",
        "reply_to": "conformance.reply",
        "expiration": "3600000",
        "message_id": "msg-0001",
        "timestamp": 1700000000,
        "type": "conformance.all-props",
        "user_id": user,
        "app_id": "pika-peer",
        "cluster_id": "cluster-7",
    }


def basic_properties(props):
    """Property JSON -> pika.BasicProperties."""
    kw = dict(props)
    if "headers" in kw:
        kw["headers"] = {k: field_from_json(v) for k, v in kw["headers"].items()}
    return pika.BasicProperties(**kw)


# --- decoding raw content headers ------------------------------------------------

_pika_props_decode = pika.spec.BasicProperties.decode


def _props_decode(self, encoded, offset=0):
    self.conformance_raw = bytes(encoded[offset:])
    return _pika_props_decode(self, encoded, offset)


# Every BasicProperties pika decodes keeps the raw bytes (property flags on).
pika.spec.BasicProperties.decode = _props_decode


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError(f"truncated at offset {self.pos}: need {n} bytes")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]


def _text(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": b.hex()}


def _shortstr(r):
    return _text(r.take(r.unpack(">B")))


def _table(r):
    size = r.unpack(">I")
    end = r.pos + size
    out = {}
    while r.pos < end:
        key = _shortstr(r)
        out[key if isinstance(key, str) else key["hex"]] = _value(r)
    if r.pos != end:
        raise ValueError("field table length mismatch")
    return out


_DECODE_FORMATS = dict(_SCALAR_FORMATS, L=">q", U=">h")


def _value(r):
    kind = r.take(1).decode("latin-1")
    if kind in _DECODE_FORMATS:
        value = r.unpack(_DECODE_FORMATS[kind])
    elif kind == "t":
        value = r.unpack(">B") != 0
    elif kind == "D":
        scale = r.unpack(">B")
        value = {"scale": scale, "value": r.unpack(">I")}
    elif kind == "S":
        value = _text(r.take(r.unpack(">I")))
    elif kind == "x":
        value = r.take(r.unpack(">I")).hex()
    elif kind == "V":
        value = None
    elif kind == "F":
        value = _table(r)
    elif kind == "A":
        size = r.unpack(">I")
        end = r.pos + size
        value = []
        while r.pos < end:
            value.append(_value(r))
        if r.pos != end:
            raise ValueError("field array length mismatch")
    else:
        raise ValueError(f"unknown field type {kind!r} at offset {r.pos - 1}")
    return {"type": kind, "value": value}


# (name, flag bit, decoder) in wire order.
_PROPERTIES = [
    ("content_type", 15, _shortstr),
    ("content_encoding", 14, _shortstr),
    ("headers", 13, _table),
    ("delivery_mode", 12, lambda r: r.unpack(">B")),
    ("priority", 11, lambda r: r.unpack(">B")),
    ("correlation_id", 10, _shortstr),
    ("reply_to", 9, _shortstr),
    ("expiration", 8, _shortstr),
    ("message_id", 7, _shortstr),
    ("timestamp", 6, lambda r: r.unpack(">Q")),
    ("type", 5, _shortstr),
    ("user_id", 4, _shortstr),
    ("app_id", 3, _shortstr),
    ("cluster_id", 2, _shortstr),
]


def decode_properties(raw):
    """Basic property list (from the property flags on) -> property JSON."""
    r = Reader(raw)
    flags = r.unpack(">H")
    if flags & 1:
        raise ValueError("property flags continuation bit set (basic has 14 properties)")
    out = {}
    for name, bit, decode in _PROPERTIES:
        if flags & (1 << bit):
            out[name] = decode(r)
    if r.pos != len(raw):
        raise ValueError(f"{len(raw) - r.pos} bytes after the property list")
    return out


# --- helpers -----------------------------------------------------------------------

_PATTERN = bytes(range(251))


def make_body(index, size):
    """Byte j of message `index` is (index + j) % 251."""
    rot = index % 251
    reps = (size + rot) // 251 + 1
    return (_PATTERN * reps)[rot:rot + size]


def digest(body):
    return {"body_len": len(body), "body_sha256": hashlib.sha256(body).hexdigest()}


def url_user(url):
    user = urllib.parse.urlsplit(url).username
    return urllib.parse.unquote(user) if user else "guest"


def connect(url):
    return pika.BlockingConnection(pika.URLParameters(url))


def declare(ch, queue):
    ch.queue_declare(queue, durable=False, exclusive=False, auto_delete=False)


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def diff(expected, actual, path="properties"):
    """Human-readable differences between two JSON values (exact compare)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            p = f"{path}.{key}"
            if key not in actual:
                out.append(f"{p}: missing, expected {json.dumps(expected[key])}")
            elif key not in expected:
                out.append(f"{p}: unexpected {json.dumps(actual[key])}")
            else:
                out.extend(diff(expected[key], actual[key], p))
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out.extend(diff(e, a, f"{path}[{i}]"))
        return out
    # bool is an int in Python: compare types too.
    if type(expected) is not type(actual) and not (
        isinstance(expected, (int, float)) and isinstance(actual, (int, float))
        and not isinstance(expected, bool) and not isinstance(actual, bool)
    ) or expected != actual:
        return [f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"]
    return []


# --- subcommands --------------------------------------------------------------------


def cmd_publish(a):
    props = all_props(url_user(a.url)) if a.all_props else {}
    pika_props = basic_properties(props)
    conn = connect(a.url)
    ch = conn.channel()
    declare(ch, a.queue)
    ch.confirm_delivery()
    for i in range(a.count):
        body = make_body(i, a.size)
        # Raises NackError / UnroutableError if the broker refuses it.
        ch.basic_publish("", a.queue, body, pika_props, mandatory=True)
        emit(dict(index=i, properties=props, **digest(body)))
    conn.close()
    return 0


def load_expected(path):
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if not lines:
        raise SystemExit(f"{path}: no JSON lines")
    return lines


def cmd_consume(a):
    expected = load_expected(a.expect_json) if a.expect_json else None
    conn = connect(a.url)
    ch = conn.channel()
    declare(ch, a.queue)
    ch.basic_qos(prefetch_count=100)
    deadline = time.monotonic() + a.timeout
    got = 0
    bad = 0
    for method, props, body in ch.consume(a.queue, inactivity_timeout=0.2):
        if method is None:
            if time.monotonic() > deadline:
                break
            continue
        try:
            decoded = decode_properties(props.conformance_raw)
        except ValueError as e:
            decoded = {"undecodable": str(e), "raw": props.conformance_raw.hex()}
        rec = dict(index=got, exchange=method.exchange, routing_key=method.routing_key,
                   redelivered=method.redelivered, properties=decoded, **digest(body))
        emit(rec)
        ch.basic_ack(method.delivery_tag)
        if expected is not None:
            exp = expected[0] if len(expected) == 1 else (expected[got] if got < len(expected) else None)
            if exp is None:
                problems = [f"no expectation for message {got}"]
            else:
                problems = diff(exp.get("properties", {}), decoded)
                for key in ("body_len", "body_sha256"):
                    if key in exp and exp[key] != rec[key]:
                        problems.append(f"{key}: expected {exp[key]}, got {rec[key]}")
            for p in problems:
                print(f"message {got}: {p}", file=sys.stderr)
            bad += bool(problems)
        got += 1
        if got == a.count:
            break
    ch.cancel()
    conn.close()
    if got < a.count:
        print(f"consume: got {got} of {a.count} messages within {a.timeout} s", file=sys.stderr)
        return 1
    if bad:
        print(f"consume: {bad} of {got} messages differ from {a.expect_json}", file=sys.stderr)
        return 1
    return 0


def cmd_rpc_server(a):
    conn = connect(a.url)
    ch = conn.channel()
    declare(ch, a.queue)
    ch.basic_qos(prefetch_count=100)
    served = 0

    def on_request(chan, method, props, body):
        nonlocal served
        if props.reply_to:
            chan.basic_publish("", props.reply_to, body,
                               pika.BasicProperties(correlation_id=props.correlation_id))
        chan.basic_ack(method.delivery_tag)
        emit(dict(index=served, reply_to=props.reply_to, correlation_id=props.correlation_id,
                  **digest(body)))
        served += 1
        if a.count and served >= a.count:
            chan.stop_consuming()

    def on_signal(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    ch.basic_consume(a.queue, on_request)
    print(f"rpc-server: ready on queue {a.queue}", flush=True)
    try:
        ch.start_consuming()
    except KeyboardInterrupt:
        pass
    print(f"rpc-server: {served} replies", flush=True)
    try:
        conn.close()
    except pika.exceptions.AMQPError:
        pass
    return 0


def cmd_rpc_call(a):
    conn = connect(a.url)
    ch = conn.channel()
    replies = {}

    def on_reply(_chan, _method, props, body):
        replies[props.correlation_id] = body

    ch.basic_consume("amq.rabbitmq.reply-to", on_reply, auto_ack=True)
    bad = 0
    for i in range(a.count):
        body = make_body(i, a.size)
        cid = f"rpc-{i}"
        ch.basic_publish("", a.queue, body,
                         pika.BasicProperties(reply_to="amq.rabbitmq.reply-to", correlation_id=cid))
        deadline = time.monotonic() + a.timeout
        while cid not in replies and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.1)
        reply = replies.pop(cid, None)
        ok = reply == body
        bad += not ok
        emit(dict(index=i, correlation_id=cid, ok=ok,
                  reply_len=None if reply is None else len(reply), **digest(body)))
    conn.close()
    if bad:
        print(f"rpc-call: {bad} of {a.count} calls failed", file=sys.stderr)
        return 1
    return 0


def cmd_confirm_publish(a):
    conn = connect(a.url)
    ch = conn.channel()
    if a.queue:
        declare(ch, a.queue)
        queue = a.queue
    else:
        queue = ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
    ch.confirm_delivery()
    body = make_body(0, 100)
    t0 = time.perf_counter()
    for _ in range(a.count):
        ch.basic_publish("", queue, body)
    elapsed = time.perf_counter() - t0
    conn.close()
    print(f"pika-confirm: {a.count} messages in {elapsed:.3f} s", flush=True)
    print(f"pika-confirm-rate: {a.count / elapsed:.0f} msg/s", flush=True)
    return 0


def cmd_all_props(a):
    emit({"properties": all_props(a.user)})
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("publish")
    p.add_argument("--url", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--all-props", action="store_true")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("consume")
    p.add_argument("--url", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--expect-json")
    p.set_defaults(func=cmd_consume)

    p = sub.add_parser("rpc-server")
    p.add_argument("--url", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--count", type=int, default=0, help="stop after N replies (0: never)")
    p.set_defaults(func=cmd_rpc_server)

    p = sub.add_parser("rpc-call")
    p.add_argument("--url", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--timeout", type=float, default=10, help="per call")
    p.set_defaults(func=cmd_rpc_call)

    p = sub.add_parser("confirm-publish")
    p.add_argument("--url", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--queue")
    p.set_defaults(func=cmd_confirm_publish)

    p = sub.add_parser("all-props")
    p.add_argument("--user", default="conformance")
    p.set_defaults(func=cmd_all_props)

    a = ap.parse_args()
    try:
        return a.func(a)
    except pika.exceptions.AMQPError as e:
        print(f"{a.cmd}: {type(e).__name__}: {e!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
