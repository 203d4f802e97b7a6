// The second peer Pigeon is measured against: the same relay as baseline-relay.mjs written
// with Socket.IO 4, as a team picking a popular real-time library would (websocket
// transport only: no HTTP long-polling, no upgrade). A client connects with the query
// `user=ID` and emits `m` (to, content); the server emits `m` (content) to the recipient's
// socket, or keeps it in the same in-memory offline queue as the bare relay and flushes it
// when the recipient connects. Nothing is stored on disk, nothing acknowledged, no auth.
//
// Env: PORT (0 = any free port), HOST (default 127.0.0.1). Prints one JSON line
// `{"msg":"listening","port":N}` when ready.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 0);

/** user id -> the user's (last) socket */
const sockets = new Map();
/** user id -> contents that arrived while the user was offline, oldest first */
const offline = new Map();

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  maxHttpBufferSize: 65_536,
  serveClient: false,
});

io.on('connection', (socket) => {
  const user = socket.handshake.query.user;
  if (typeof user !== 'string' || user === '') {
    socket.disconnect(true);
    return;
  }
  sockets.set(user, socket);
  const queued = offline.get(user);
  if (queued) {
    offline.delete(user);
    for (const content of queued) socket.emit('m', content);
  }
  socket.on('m', (to, content) => {
    if (typeof to !== 'string' || typeof content !== 'string') return;
    const peer = sockets.get(to);
    if (peer?.connected) peer.emit('m', content);
    else {
      let q = offline.get(to);
      if (!q) {
        q = [];
        offline.set(to, q);
      }
      q.push(content);
    }
  });
  socket.on('disconnect', () => {
    if (sockets.get(user) === socket) sockets.delete(user);
  });
});

http.listen(port, host, () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: http.address().port })}\n`);
});

const stop = () => {
  void io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
