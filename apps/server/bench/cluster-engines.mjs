// The engines and nodes of the cluster rows (cluster.mjs): a PostgreSQL with durable
// commits and a redis-server in temp dirs, and server nodes on them; every process started
// here is killed when the bench exits, whatever happens.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { children, tempDirs as dirs, freePort, HOST, sleep } from './processes.mjs';

const isRoot = process.getuid?.() === 0;

// One registry for the whole run: what is started here is killed and removed with the rest.
export { children, cleanup, tempDirs as dirs } from './processes.mjs';

function pgBin() {
  const base = '/usr/lib/postgresql';
  try {
    const v = readdirSync(base)
      .filter((d) => existsSync(join(base, d, 'bin/postgres')))
      .sort((a, b) => Number(b) - Number(a))[0];
    return v ? join(base, v, 'bin') : null;
  } catch {
    return null;
  }
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** What is missing to run the cluster rows, or null. */
export function clusterMissing() {
  const missing = [];
  if (!pgBin()) missing.push('postgresql');
  if (!which('redis-server')) missing.push('redis-server');
  return missing.length ? `apt-get install -y ${missing.join(' ')}` : null;
}

function start(cmd, args, env, opts = {}) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  children.add(child);
  const tail = [];
  child.stderr.on('data', (d) => {
    tail.push(...d.toString().split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 20));
  });
  const exited = new Promise((r) => child.once('exit', r));
  void exited.then(() => children.delete(child));
  return { child, pid: child.pid, tail, exited };
}

export async function stop(p, signal = 'SIGTERM') {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  const done = await Promise.race([p.exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!done) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

async function until(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${ms / 1000} s`);
    await sleep(50);
  }
}

/** PostgreSQL with durable commits (fsync and synchronous_commit on, its defaults) in a temp dir. */
export async function startPostgres() {
  const bin = pgBin();
  const dir = mkdtempSync(join(os.tmpdir(), 'pigeon-bench-pg-'));
  dirs.add(dir);
  chmodSync(dir, 0o755);
  let user = {};
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
    user = { uid, gid };
  }
  const data = join(dir, 'data');
  const initdb = [join(bin, 'initdb'), '-D', data, '-U', 'pigeon', '-A', 'trust', '-E', 'UTF8', '--locale=C'];
  execFileSync(
    isRoot ? 'runuser' : initdb[0],
    isRoot ? ['-u', 'postgres', '--', ...initdb] : initdb.slice(1),
    {
      stdio: 'ignore',
    },
  );
  const port = await freePort();
  const pg = start(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
    ],
    process.env,
    { cwd: dir, ...user },
  );
  const psql = which('psql') ?? join(bin, 'psql');
  const url = (db) => `postgres://pigeon@${HOST}:${port}/${db}`;
  await until('PostgreSQL', () => {
    execFileSync(psql, [url('postgres'), '-Atqc', 'SELECT 1'], { stdio: 'ignore' });
    return true;
  });
  return {
    ...pg,
    url,
    createDatabase(name) {
      execFileSync(psql, [url('postgres'), '-qc', `CREATE DATABASE ${name}`], { stdio: 'ignore' });
      return url(name);
    },
  };
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = createConnection(port, HOST);
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(os.tmpdir(), 'pigeon-bench-redis-'));
  dirs.add(dir);
  const r = start(
    which('redis-server'),
    ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir],
    process.env,
  );
  await until('Redis', () => redisPing(port));
  return { ...r, url: `redis://${HOST}:${port}` };
}

const b64url = (s) => Buffer.from(s).toString('base64url');
export function jwt(secret, sub) {
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub, iat, exp: iat + 3600 }))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

export async function startNodes(n, main, databaseUrl, redisUrl, jwtSecret, nodeArgs, label) {
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIGEON_')) env[k] = v;
    const args = nodeArgs
      ? [...nodeArgs, `--cpu-prof-name=pigeon-cluster-${label}-node${i + 1}.cpuprofile`, main]
      : [main];
    const p = start(process.execPath, args, {
      ...env,
      HOST,
      PORT: String(port),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PIGEON_DATABASE_URL: databaseUrl,
      ...(redisUrl ? { PIGEON_REDIS_URL: redisUrl } : {}),
      PIGEON_JWT_SECRET: jwtSecret,
      // The limits must not be what is measured.
      PIGEON_RATE: '1000000',
      PIGEON_AUTH_RATE: '1000000',
      PIGEON_MAX_CONNS_PER_IP: '100000',
      PIGEON_HELLO_RATE_IP: '1000000',
    });
    nodes.push({ ...p, url: `ws://${HOST}:${port}`, httpUrl: `http://${HOST}:${port}` });
    // One after the other: the first runs the schema migrations.
    await until(`node ${i + 1}`, async () => (await fetch(`http://${HOST}:${port}/healthz`)).status === 200);
  }
  return nodes;
}
