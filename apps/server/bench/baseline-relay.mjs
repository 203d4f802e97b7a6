// The bare baseline Pigeon is measured against: a minimal `ws` relay like the original demo.
// Clients connect with `?user=ID`; a text frame `to|content` is forwarded from memory to the
// recipient's socket as `content`, or kept in an in-memory offline queue that is flushed
// when the recipient connects. Nothing is stored on disk, nothing is acknowledged, no auth,
// no JSON. It is the upper bound of "move bytes from one socket to another" with the same
// WebSocket library the server uses.
//
// Env: PORT (0 = any free port), HOST (default 127.0.0.1). Prints one JSON line
// `{"msg":"listening","port":N}` when ready, like the real server's pino log line.
import { WebSocketServer } from 'ws';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 0);

/** user id -> the user's (last) socket */
const sockets = new Map();
/** user id -> contents that arrived while the user was offline, oldest first */
const offline = new Map();

const wss = new WebSocketServer({ host, port, perMessageDeflate: false, maxPayload: 65_536 });

wss.on('connection', (ws, req) => {
  const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user');
  if (!user) {
    ws.close(4001, 'user required');
    return;
  }
  sockets.set(user, ws);
  const queued = offline.get(user);
  if (queued) {
    offline.delete(user);
    for (const content of queued) ws.send(content);
  }
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    const bar = text.indexOf('|');
    if (bar < 0) return;
    const to = text.slice(0, bar);
    const peer = sockets.get(to);
    if (peer !== undefined && peer.readyState === 1) peer.send(text.slice(bar + 1));
    else {
      let q = offline.get(to);
      if (!q) {
        q = [];
        offline.set(to, q);
      }
      q.push(text.slice(bar + 1));
    }
  });
  ws.on('close', () => {
    if (sockets.get(user) === ws) sockets.delete(user);
  });
  ws.on('error', () => {});
});

wss.on('listening', () => {
  const addr = wss.address();
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: addr.port })}\n`);
});

const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
