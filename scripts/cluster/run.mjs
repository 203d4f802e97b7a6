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
// Why it is long: it is the only place that knows how to run Debian's PostgreSQL, Redis
// and nginx as unprivileged foreground processes, and it must leave nothing behind.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const PORT = Number(env.PORT ?? 8080);
const HOST = env.HOST ?? '127.0.0.1';
const NODES = Number(env.CLUSTER_NODES ?? 3);
const DATA = path.resolve(env.CLUSTER_DATA ?? path.join(root, 'data/cluster'));
const isRoot = process.getuid?.() === 0;
const SERVER_MAIN = path.join(root, 'apps/server/dist/main.js');

const say = (line) => process.stdout.write(`${line}\n`);
const fail = (line) => {
  process.stderr.write(`cluster: ${line}\n`);
  process.exitCode = 1;
};

/** Every child started, newest last: stopped in reverse order of importance (see stopAll). */
const children = [];
let stopping = false;

function findPgBin() {
  const base = '/usr/lib/postgresql';
  try {
    const versions = fs
      .readdirSync(base)
      .filter((v) => fs.existsSync(path.join(base, v, 'bin/postgres')))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] ? path.join(base, versions[0], 'bin') : null;
  } catch {
    return null;
  }
}

function which(cmd, extra = []) {
  for (const p of extra) if (fs.existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** As root, PostgreSQL must run as `postgres` (initdb and postgres refuse root). */
function asPg(file, args) {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
}

function postgresIds() {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  return { uid, gid };
}

/**
 * Starts a long-running child in its own process group (Ctrl-C reaches only this script,
 * which then stops the children in order), its output appended to `log`.
 */
function start(name, file, args, opts = {}) {
  const out = fs.openSync(opts.log, 'a');
  const child = spawn(file, args, {
    cwd: opts.cwd ?? root,
    env: opts.env ?? env,
    stdio: ['ignore', opts.pipe ? 'pipe' : out, out],
    detached: true,
    ...(opts.user ?? {}),
  });
  const entry = {
    name,
    child,
    log: opts.log,
    exited: false,
    stop: opts.stop ?? 'SIGTERM',
    critical: opts.critical,
  };
  child.once('exit', (code, signal) => {
    entry.exited = true;
    fs.closeSync(out);
    if (stopping) return;
    say(`!! ${name} exited (${signal ?? code}); last lines of ${opts.log}:`);
    say(tail(opts.log, 15));
    if (entry.critical) void shutdown(1);
  });
  if (opts.pipe) child.stdout.on('data', (d) => fs.appendFileSync(opts.log, d));
  children.push(entry);
  return entry;
}

function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolves once `check()` is truthy (tried every 100 ms), or rejects after `ms`. */
async function waitFor(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (stopping) throw new Error('stopping');
    const value = await check().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function healthy(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return res.status === 200;
}

/** True when the postgres user can write `dir` (every parent must let it through). */
function postgresCanWrite(dir) {
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * PostgreSQL's directory: `<data>/pg`, owned by the postgres user when we are root. A
 * checkout under a private home (/root is 0700 on Debian) is out of that user's reach:
 * then the data goes to /var/tmp/pigeon-cluster-<hash of the data path>, said out loud.
 */
function postgresDir(ids) {
  const dir = path.join(DATA, 'pg');
  fs.mkdirSync(dir, { recursive: true });
  if (!ids) return dir;
  execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, dir]);
  if (postgresCanWrite(dir)) return dir;
  const hash = createHash('sha256').update(DATA).digest('hex').slice(0, 12);
  const outside = `/var/tmp/pigeon-cluster-${hash}/pg`;
  fs.mkdirSync(outside, { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(outside), 0o755);
  execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, outside]);
  say(`   the postgres user cannot reach ${dir} (a parent directory is private):`);
  say(`   PostgreSQL's data goes to ${outside} instead (set CLUSTER_DATA to choose)`);
  if (!postgresCanWrite(outside)) throw new Error(`the postgres user cannot write ${outside} either`);
  return outside;
}

async function startPostgres(bin, logDir) {
  const ids = isRoot ? postgresIds() : null;
  const dir = postgresDir(ids);
  const pgData = path.join(dir, 'data');
  if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
    say('   initdb (first run)…');
    const [file, args] = asPg(path.join(bin, 'initdb'), [
      '-D',
      pgData,
      '-U',
      'pigeon',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    execFileSync(file, args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const port = await freePort();
  // Durability settings spelled out (they are PostgreSQL's defaults): a commit returns only
  // after its WAL is flushed, which is when a node answers `sent`.
  // The postmaster runs as our direct child (as root: with the postgres user's ids) rather
  // than under runuser, so the stop signal reaches it and its exit is the cluster's to see.
  start(
    'PostgreSQL',
    path.join(bin, 'postgres'),
    [
      '-D',
      pgData,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=on',
      '-c',
      'synchronous_commit=on',
      '-c',
      'max_connections=200',
    ],
    {
      cwd: dir,
      log: path.join(logDir, 'postgres.log'),
      critical: true,
      // The postmaster's fast shutdown: sessions end, the checkpoint is written.
      stop: 'SIGINT',
      user: ids ?? undefined,
    },
  );
  const psql = which('psql', ['/usr/bin/psql', path.join(bin, 'psql')]);
  const url = (db) => `postgres://pigeon@127.0.0.1:${port}/${db}`;
  await waitFor('PostgreSQL', async () => {
    execFileSync(psql, [url('postgres'), '-Atqc', 'SELECT 1'], { stdio: 'ignore' });
    return true;
  });
  const exists = execFileSync(
    psql,
    [url('postgres'), '-Atqc', "SELECT 1 FROM pg_database WHERE datname = 'pigeon'"],
    {
      encoding: 'utf8',
    },
  ).trim();
  if (exists !== '1')
    execFileSync(psql, [url('postgres'), '-qc', 'CREATE DATABASE pigeon'], { stdio: 'ignore' });
  return { url: url('pigeon'), port, dir: pgData };
}

async function startRedis(redisServer, logDir) {
  const dir = path.join(DATA, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  // Nothing in Redis needs to survive it (see the README): no RDB, no AOF.
  start(
    'Redis',
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { log: path.join(logDir, 'redis.log'), critical: true },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor('Redis', () => redisPing(port));
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
  start(`node ${i}`, process.execPath, [SERVER_MAIN], {
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
  await waitFor(`node ${i}`, () => healthy(`http://127.0.0.1:${port}/healthz`));
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
  start('nginx', nginx, args, { log: path.join(logDir, 'nginx.log'), critical: true, stop: 'SIGQUIT' });
  const host = HOST === '0.0.0.0' || HOST === '::' ? '127.0.0.1' : HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${PORT}`;
  await waitFor('nginx', () => healthy(`${url}/healthz`));
  return url;
}

/** Stops the children: the front door first, then the nodes (they drain), then the engines. */
async function stopAll() {
  stopping = true;
  const order = ['nginx', 'node', 'Redis', 'PostgreSQL'];
  for (const prefix of order) {
    const group = children.filter((c) => c.name.startsWith(prefix) && !c.exited);
    await Promise.all(
      group.map(
        (c) =>
          new Promise((resolve) => {
            const force = setTimeout(() => {
              try {
                process.kill(-c.child.pid, 'SIGKILL');
              } catch {}
            }, 15_000);
            c.child.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            try {
              // The process group: runuser's child (postgres) gets it too.
              process.kill(-c.child.pid, c.stop);
            } catch {
              clearTimeout(force);
              resolve();
            }
          }),
      ),
    );
  }
}

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
  process.on('exit', () => {
    for (const c of children) {
      if (c.exited) continue;
      try {
        process.kill(-c.child.pid, 'SIGKILL');
      } catch {}
    }
  });
  const logDir = path.join(DATA, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  say(`Pigeon cluster: PostgreSQL + Redis + ${NODES} node(s) behind nginx (data and logs in ${DATA})`);
  say(' - PostgreSQL…');
  const pg = await startPostgres(pgBin, logDir);
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
  if (stopping) return;
  fail(err.message);
  void shutdown(1);
});
