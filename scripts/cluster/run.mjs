#!/usr/bin/env node
// `npm run cluster`: a real local Pigeon cluster to try: PostgreSQL (the system of record),
// redis-server (routing, presence, rate limits), N server nodes and nginx on one port in
// front of them, spreading connections round robin with no sticky sessions. Everything
// runs in the foreground as children of this script and stops on Ctrl-C, in order: the
// proxy, the nodes (they drain), then Redis and PostgreSQL.
//
// Settings (environment): PORT (8080) and HOST (127.0.0.1) of the front door,
// CLUSTER_NODES (3), CLUSTER_DATA (./data/cluster: PostgreSQL's data survives restarts),
// LOG_LEVEL of the nodes (info). Other PIGEON_* variables pass through to the nodes.
//
// Cut in three: processes.mjs runs and stops the children (leaving nothing behind),
// postgres.mjs runs Debian's PostgreSQL unprivileged, this file the rest and the order.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPgBin, startPostgres } from './postgres.mjs';
import { Children, freePort, healthy, say, which } from './processes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const PORT = Number(env.PORT ?? 8080);
const HOST = env.HOST ?? '127.0.0.1';
const NODES = Number(env.CLUSTER_NODES ?? 3);
const DATA = path.resolve(env.CLUSTER_DATA ?? path.join(root, 'data/cluster'));
const isRoot = process.getuid?.() === 0;
const SERVER_MAIN = path.join(root, 'apps/server/dist/main.js');

const fail = (line) => {
  process.stderr.write(`cluster: ${line}\n`);
  process.exitCode = 1;
};

const children = new Children({ cwd: root, env, onCriticalExit: () => void shutdown(1) });

async function startRedis(redisServer, logDir) {
  const dir = path.join(DATA, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  // Nothing in Redis needs to survive it (see the README): no RDB, no AOF.
  children.start(
    'Redis',
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { log: path.join(logDir, 'redis.log'), critical: true },
  );
  const url = `redis://127.0.0.1:${port}`;
  await children.waitFor('Redis', () => redisPing(port));
  return { url, port };
}

function redisPing(port) {
  return new Promise((resolve) => {
    const sock = net.createConnection(port, '127.0.0.1');
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

async function startNode(i, pg, redis, logDir) {
  const log = path.join(logDir, `node-${i}.log`);
  const port = await freePort();
  children.start(`node ${i}`, process.execPath, [SERVER_MAIN], {
    log,
    env: {
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
      PIGEON_DATABASE_URL: pg.url,
      PIGEON_REDIS_URL: redis.url,
      // Behind nginx: the client's address is the last X-Forwarded-For entry.
      PIGEON_TRUST_PROXY: '1',
    },
  });
  await children.waitFor(`node ${i}`, () => healthy(`http://127.0.0.1:${port}/healthz`));
  return { i, port, log };
}

async function startProxy(nginx, nodes, logDir) {
  const dir = path.join(DATA, 'nginx');
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    fs.mkdirSync(path.join(dir, 'tmp', sub), { recursive: true });
  const conf = fs
    .readFileSync(path.join(here, 'nginx.conf.template'), 'utf8')
    .replaceAll('{{DIR}}', dir)
    .replaceAll('{{LISTEN}}', `${HOST.includes(':') ? `[${HOST}]` : HOST}:${PORT}`)
    .replaceAll(
      '{{SERVERS}}',
      nodes.map((n) => `    server 127.0.0.1:${n.port} max_fails=1 fail_timeout=5s;`).join('\n'),
    );
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  // As root nginx's workers would switch to `nobody`, who cannot write our temp dirs.
  const args = ['-p', dir, '-c', file, '-e', path.join(logDir, 'nginx.log')];
  if (isRoot) args.push('-g', 'user root;');
  children.start('nginx', nginx, args, {
    log: path.join(logDir, 'nginx.log'),
    critical: true,
    stop: 'SIGQUIT',
  });
  const host = HOST === '0.0.0.0' || HOST === '::' ? '127.0.0.1' : HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${PORT}`;
  await children.waitFor('nginx', () => healthy(`${url}/healthz`));
  return url;
}

/** Stops the children: the front door first, then the nodes (they drain), then the engines. */
const stopAll = () => children.stopAll(['nginx', 'node', 'Redis', 'PostgreSQL']);

let shuttingDown = null;
function shutdown(code) {
  shuttingDown ??= (async () => {
    say('\nstopping the cluster…');
    await stopAll();
    say('stopped.');
    process.exit(code);
  })();
  return shuttingDown;
}

async function main() {
  const pgBin = findPgBin();
  const redisServer = which('redis-server', ['/usr/bin/redis-server']);
  const nginx = which('nginx', ['/usr/sbin/nginx']);
  const missing = [!pgBin && 'postgresql', !redisServer && 'redis-server', !nginx && 'nginx'].filter(Boolean);
  if (missing.length > 0) return fail(`missing: apt-get install -y ${missing.join(' ')}`);
  if (isRoot && !which('runuser', ['/usr/sbin/runuser'])) return fail('runuser is missing (util-linux)');
  if (!fs.existsSync(SERVER_MAIN)) return fail(`${SERVER_MAIN} is missing: run \`npm run build\` first`);
  if (!Number.isInteger(NODES) || NODES < 1 || NODES > 16) return fail('CLUSTER_NODES must be 1–16');
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // Last resort (this script killed by an error): leave no child behind.
  process.on('exit', () => children.killAll());
  const logDir = path.join(DATA, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  say(`Pigeon cluster: PostgreSQL + Redis + ${NODES} node(s) behind nginx (data and logs in ${DATA})`);
  say(' - PostgreSQL…');
  const pg = await startPostgres(children, { bin: pgBin, data: DATA, logDir });
  say(' - Redis…');
  const redis = await startRedis(redisServer, logDir);
  say(` - ${NODES} node(s)…`);
  // One after the other: the first one runs the schema migrations (the others would wait
  // on the advisory lock anyway).
  const nodes = [];
  for (let i = 1; i <= NODES; i++) nodes.push(await startNode(i, pg, redis, logDir));
  say(' - nginx…');
  const url = await startProxy(nginx, nodes, logDir);
  // Paths under the current directory are shown relative to it, others as they are.
  const rel = (p) => (p.startsWith(`${process.cwd()}${path.sep}`) ? path.relative(process.cwd(), p) : p);
  say('');
  say(`Pigeon cluster is up: ${url}`);
  for (const n of nodes) say(`   node ${n.i}      http://127.0.0.1:${n.port}   log: ${rel(n.log)}`);
  say(`   PostgreSQL  ${pg.url}   data: ${rel(pg.dir)}`);
  say(`   Redis       ${redis.url}`);
  say(`   nginx       ${url} → the nodes in turn (response header X-Pigeon-Node says which)`);
  say('Open it in two browsers (or a normal and a private window), create two accounts and chat:');
  say('each connection goes to the next node, so the two of you are on different nodes.');
  say('Ctrl-C stops everything.');
}

main().catch((err) => {
  if (children.stopping) return;
  fail(err.message);
  void shutdown(1);
});
