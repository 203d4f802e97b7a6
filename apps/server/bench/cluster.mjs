// The cluster rows of `npm run bench` (called from run.mjs): 1, 2 and 3 nodes on one
// PostgreSQL + one Redis, users spread over the nodes so that with 2+ nodes every message
// crosses nodes (sender on node i, receiver on node i+1). Per row: delivered msg/s (50 pairs
// × 10 in flight), CPU per message of the nodes, of PostgreSQL and of Redis, and one-way
// latency p50/p99 at 1,000 msg/s. The load generator is cluster-load.mjs (CPU 1 when
// pinning is possible); the nodes and the engines are not pinned: on a 2-core machine they
// share both cores, which is the first thing that limits these figures (see the README).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';
const isRoot = process.getuid?.() === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const children = new Set();
const dirs = new Set();
function cleanup() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
  children.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}
process.on('exit', cleanup);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

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

async function stop(p, signal = 'SIGTERM') {
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
async function startPostgres() {
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

async function startRedis() {
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
function jwt(secret, sub) {
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub, iat, exp: iat + 3600 }))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

async function startNodes(n, main, databaseUrl, redisUrl, jwtSecret, nodeArgs, label) {
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

async function runLoad(cfg, pin) {
  const dir = mkdtempSync(join(os.tmpdir(), 'pigeon-bench-cload-'));
  dirs.add(dir);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg));
  const script = join(HERE, 'cluster-load.mjs');
  const cmd = pin ? 'taskset' : process.execPath;
  const args = pin ? ['-c', '1', process.execPath, script, file] : [script, file];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  await new Promise((r) => child.once('exit', r));
  children.delete(child);
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
  try {
    return JSON.parse(out.trim().split('\n').at(-1));
  } catch {
    return { ok: false, error: `load generator gave no result: ${err.slice(-500)}` };
  }
}

/**
 * Runs the cluster rows. `p`: the bench's parameters (pairs, window, bodyLength, warmupMs,
 * measureMs, latencyRate); `main`: the server entry point. Resolves with
 * `{ ok, rows: [{ setup, nodes, redis, throughput, latency, ok }, …] }`; never throws.
 */
export async function measureCluster({
  p,
  main,
  say,
  clkTck,
  pin,
  profileDir = null,
  nodeCounts = ['pg', 1, 2, 3],
}) {
  // --profile=DIR of run.mjs: a V8 CPU profile of every node (figures of such a run are not comparable).
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : null;
  const missing = clusterMissing();
  if (missing) return { ok: false, error: `cluster rows skipped: ${missing}` };
  const run = randomBytes(3).toString('hex');
  const jwtSecret = randomBytes(32).toString('hex');
  const out = { ok: true, rows: [] };
  let pg;
  let redis;
  try {
    say('- cluster: PostgreSQL + Redis');
    pg = await startPostgres();
    redis = await startRedis();
    // 'pg': one node on PostgreSQL alone (in-process routing), to tell the store's cost from Redis's.
    for (const setup of nodeCounts) {
      const n = setup === 'pg' ? 1 : setup;
      const row = { setup: setup === 'pg' ? 'postgres-only' : `${n}-nodes`, nodes: n, redis: setup !== 'pg' };
      for (const [metric, mode] of [
        ['throughput', 'window'],
        ['latency', 'paced'],
      ]) {
        say(`- cluster: ${metric} / ${setup === 'pg' ? 'PostgreSQL only, 1 node' : `${n} node(s)`}`);
        // A fresh database and fresh nodes per measurement, as the single-node rows do.
        const db = pg.createDatabase(`bench_${run}_${setup}_${metric}`);
        const nodes = await startNodes(
          n,
          main,
          db,
          setup === 'pg' ? null : redis.url,
          jwtSecret,
          nodeArgs,
          `${setup}-${metric}`,
        );
        try {
          const pairs = Array.from({ length: p.pairs }, (_, i) => ({
            sender: { user: `c${run}s${i}`, token: jwt(jwtSecret, `c${run}s${i}`), url: nodes[i % n].url },
            receiver: {
              user: `c${run}r${i}`,
              token: jwt(jwtSecret, `c${run}r${i}`),
              url: nodes[(i + 1) % n].url,
            },
          }));
          row[metric] = await runLoad(
            {
              run: `${run}${setup}${metric[0]}`,
              mode,
              pairs,
              window: p.window,
              rate: p.latencyRate,
              bodyLength: p.bodyLength,
              warmupMs: p.warmupMs,
              measureMs: p.measureMs,
              clkTck,
              deadlineMs: p.warmupMs + p.measureMs + 60_000,
              pids: { nodes: nodes.map((x) => x.pid), postgres: pg.pid, redis: redis.pid },
            },
            pin,
          );
          if (!row[metric].ok) say(`  ${row[metric].error}`);
        } finally {
          await Promise.all(nodes.map((x) => stop(x)));
        }
      }
      row.ok = Boolean(row.throughput?.ok && row.latency?.ok);
      out.rows.push(row);
      out.ok &&= row.ok;
    }
  } catch (e) {
    out.ok = false;
    out.error = String(e?.message ?? e);
  } finally {
    if (redis) await stop(redis);
    if (pg) await stop(pg, 'SIGINT');
    cleanup();
  }
  return out;
}

const fmt = (x, d = 0) =>
  x === null || x === undefined || Number.isNaN(x)
    ? '—'
    : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * The cluster table, with the SQLite single node of the same run (`single`: run.mjs's
 * results.pigeon) as the baseline row.
 */
export function clusterLines(cluster, single) {
  const lines = [
    '',
    'Cluster: PostgreSQL + Redis, users spread over the nodes (with 2+ nodes every message crosses nodes)',
    '',
  ];
  const head = [
    'setup',
    'delivered msg/s',
    'CPU µs/msg: nodes',
    'PostgreSQL',
    'Redis',
    'p50 ms @1,000/s',
    'p99 ms',
  ];
  const rows = [];
  if (single?.throughput?.ok || single?.latency?.ok)
    rows.push([
      'SQLite, 1 node (baseline)',
      fmt(single.throughput?.perSecond),
      fmt(single.throughput?.serverCpuUsPerMsg, 1),
      '—',
      '—',
      fmt(single.latency?.latency?.p50Ms, 2),
      fmt(single.latency?.latency?.p99Ms, 2),
    ]);
  if (!cluster?.rows?.length) {
    lines.push(`  (no cluster rows: ${cluster?.error ?? 'not run'})`);
    return lines;
  }
  for (const row of cluster.rows) {
    const t = row.throughput;
    const l = row.latency;
    rows.push([
      row.redis
        ? `PostgreSQL + Redis, ${row.nodes} node${row.nodes === 1 ? '' : 's'}`
        : 'PostgreSQL only, 1 node',
      t?.ok ? fmt(t.perSecond) : `failed: ${t?.error}`,
      fmt(t?.cpuUsPerMsg?.nodes, 1),
      fmt(t?.cpuUsPerMsg?.postgres, 1),
      fmt(t?.cpuUsPerMsg?.redis, 1),
      l?.ok ? fmt(l.latency.p50Ms, 2) : `failed: ${l?.error}`,
      fmt(l?.latency?.p99Ms, 2),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  lines.push(line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line));
  if (cluster.error) lines.push(`cluster: ${cluster.error}`);
  return lines;
}
