// Echo server on Node `ws`, a real peer for our client.
// Usage: node node_server.cjs --port PORT [--deflate]
// ws servers leave permessage-deflate off unless asked, hence --deflate.
const { WebSocketServer } = require('./load_ws.cjs');

const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = Number(portAt >= 0 ? args[portAt + 1] : NaN);
if (!Number.isInteger(port)) {
  console.error('usage: node_server.cjs --port PORT [--deflate]');
  process.exit(2);
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: args.includes('--deflate'),
  maxPayload: 64 * 1024 * 1024,
});

// Log the offer and the answer so a test log shows the deflate parameters.
wss.on('headers', (headers, req) => {
  const answer = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
  console.log(`connection: offered=${req.headers['sec-websocket-extensions']} ` +
    `negotiated=${answer ? answer.replace(/^[^:]*:\s*/, '') : 'none'}`);
});
wss.on('connection', (ws) => {
  let count = 0;
  ws.on('message', (data, isBinary) => {
    count += 1;
    ws.send(data, { binary: isBinary });
  });
  ws.on('close', (code) => console.log(`closed after ${count} messages: code=${code}`));
});
wss.on('listening', () => console.log(`listening on 127.0.0.1:${port}`));
