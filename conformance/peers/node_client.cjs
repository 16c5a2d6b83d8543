// Echo client on Node `ws`, a real peer for our server.
// Usage: node node_client.cjs URL [--deflate]
// Sends text (with non-ASCII), binary, empty, large (16 MiB) and fragmented
// messages and a ping, checks every echo byte-exact, closes with 1000, prints
// `N passed, N failed` last and exits 1 on any failure.
const crypto = require('crypto');
const WebSocket = require('./load_ws.cjs');

const url = process.argv[2];
const deflate = process.argv.includes('--deflate');
let passed = 0;
let failed = 0;

function check(name, ok, detail = '') {
  if (ok) passed += 1;
  else failed += 1;
  console.log(ok ? `ok   ${name}` : `FAIL ${name} ${detail}`);
}

function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// A promise for the next event `name` on `ws`, rejected after 60 s.
function next(ws, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} in 60 s`)), 60000);
    ws.once(name, (...a) => {
      clearTimeout(timer);
      resolve(a);
    });
  });
}

// Sends `parts` as one message (several frames when more than one part) and
// checks the echo: same type, same bytes.
async function echo(ws, name, parts, isBinary) {
  const reply = next(ws, 'message');
  parts.forEach((p, i) => ws.send(p, { binary: isBinary, fin: i === parts.length - 1 }));
  const [data, gotBinary] = await reply;
  const want = Buffer.concat(parts.map((p) => Buffer.from(p)));
  check(name, gotBinary === isBinary && want.equals(data),
    `(sent ${isBinary ? 'binary' : 'text'} len=${want.length}, ` +
    `got ${gotBinary ? 'binary' : 'text'} len=${data.length})`);
}

async function main() {
  // perMessageDeflate: true offers `permessage-deflate; client_max_window_bits`.
  const ws = new WebSocket(url, { perMessageDeflate: deflate, maxPayload: 64 * 1024 * 1024 });
  ws.on('upgrade', (res) => {
    console.log(`negotiated extensions: ${res.headers['sec-websocket-extensions'] || 'none'}`);
  });
  const opened = next(ws, 'open');
  // An 'error' before the handshake would otherwise be an unhandled event.
  const failedEarly = next(ws, 'error').then(([e]) => { throw e; });
  await Promise.race([opened, failedEarly]);

  await echo(ws, 'text', ['hello, wörld — ☃ 𝄞'], false);
  await echo(ws, 'empty text', [''], false);
  await echo(ws, 'binary', [Buffer.from([...Array(256).keys()])], true);
  await echo(ws, 'empty binary', [Buffer.alloc(0)], true);
  await echo(ws, '1 MiB text', ['The quick brown fox jumps over the lazy dog. '.repeat(23302)], false);
  // Random bytes do not compress: the deflated form is larger than 16 MiB.
  await echo(ws, '16 MiB binary', [crypto.randomBytes(16 * 1024 * 1024)], true);
  await echo(ws, 'fragmented text', ['frag', 'mented ', 'tëxt'], false);
  await echo(ws, 'fragmented binary', [Buffer.from([0, 1]), Buffer.alloc(0), Buffer.alloc(70000, 0xff)], true);

  const pong = next(ws, 'pong');
  ws.ping(Buffer.from('ping-payload'));
  const [payload] = await pong;
  check('ping/pong', payload.toString() === 'ping-payload', `(pong payload ${payload})`);

  const closed = next(ws, 'close');
  ws.close(1000);
  const [code] = await closed;
  check('close 1000', code === 1000, `(peer close code ${code})`);
}

main().catch((e) => check('connection', false, `(${e.message})`)).finally(finish);
