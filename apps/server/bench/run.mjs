// `npm run bench`: measures the Pigeon server against two peers that store nothing: a bare
// `ws` relay (baseline-relay.mjs) and the same relay on Socket.IO 4 (socketio-relay.mjs).
// Every measurement runs in fresh processes: a server (pinned to CPU 0 with taskset where it
// exists, or unpinned in the `unpinned` rows) on a fresh copy of a seeded database, and a
// load generator (load.mjs, pinned to CPU 1) that reports JSON. Prints a table and writes
// bench/results/latest.json.
//
// Options: --only=throughput,unpinned,latency,disk,flush,memory,cluster   --targets=pigeon,baseline,socketio
//          --measure-ms=5000   --out=PATH   --main=PATH/TO/main.js   --profile=DIR   --env=K=V,…
//          --ack=off | --ack=DELAY_MS,BATCH   (how the load generator acks; default 100,100)
//          (the defaults measure everything against dist/main.js, in about 2 minutes)
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterLines, measureCluster } from './cluster.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER_DIR = resolve(HERE, '..');
const HOST = '127.0.0.1';

// ------------------------------------------------------------------ parameters
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a} (expected --name=value)`);
    return [m[1], m[2]];
  }),
);
const ONLY = new Set((args.only ?? 'throughput,unpinned,latency,disk,flush,memory,cluster').split(','));
const TARGETS = new Set((args.targets ?? 'pigeon,baseline,socketio').split(','));
/** Every target, in table order; `kinds` below is the ones this run measures. */
const ALL_KINDS = ['pigeon', 'baseline', 'socketio'];
const MEASURE_MS = Number(args['measure-ms'] ?? 5000);
const OUT = resolve(args.out ?? join(HERE, 'results', 'latest.json'));
// --profile: write a V8 CPU profile of every Pigeon server run into DIR (summarize them with
// profile-summary.mjs). Profiling slows the server down: figures of such a run are not comparable.
// --env: extra environment for the Pigeon server, e.g. --env=PIGEON_DB_SYNC=normal,X=Y (experiments).
const EXTRA_ENV = Object.fromEntries(
  (args.env ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const PROFILE_DIR = args.profile ? resolve(args.profile) : null;
// --main: another server entry point speaking the same contract (default: the built server).
const MAIN = resolve(args.main ?? join(SERVER_DIR, 'dist', 'main.js'));

const P = {
  pairs: 50, // sender/receiver pairs for throughput and latency
  window: 10, // messages in flight per pair (throughput)
  bodyLength: 100, // characters per message body
  warmupMs: 1000,
  measureMs: MEASURE_MS,
  latencyRate: 1000, // messages a second, in total, for the latency run
  flushCount: 10_000,
  flushWindow: 100,
  flushRepeats: 3,
  idleConns: 5000,
  idleWarm: 100, // connections opened (and kept) before the first RSS reading
  idleConcurrency: 50, // handshakes in progress at once
  idleSettleMs: 1500,
  // How the load generator acks: as packages/client does by default (DEFAULTS.ackDelayMs,
  // DEFAULTS.ackBatch): cumulative, ≤ 100 ms after the first unacked entry or every 100.
  ack:
    args.ack === 'off'
      ? { off: true }
      : args.ack
        ? { delayMs: Number(args.ack.split(',')[0]), batch: Number(args.ack.split(',')[1] ?? 100) }
        : { delayMs: 100, batch: 100 },
  serverRate: 1_000_000, // PIGEON_RATE / PIGEON_AUTH_RATE: the limits must not be what is measured
  rounds: 2, // throughput and latency rounds per target (the best counts)
  quietBusy: 0.15, // machine busy share (both CPUs) under which a measurement may start…
  quietMaxWaitMs: 10_000, // …waiting at most this long per measurement
  quietBudgetMs: 40_000, // …and this long in all
  runDeadlineMs: 600_000, // the whole run, hard stop
};
// Issue 14's goals: ≥ 0.6× the bare relay's throughput at ≤ 12 µs of server CPU per
// delivered message, p99 ≤ 1 ms at 1,000 msg/s (also with the disk busy), and no regression
// of the offline flush and the idle-connection memory.
const GOALS = { throughputRatio: 0.6, cpuUsPerMsg: 12, p99Ms: 1, flushMs: 200, bytesPerConn: 6 * 1024 };

// ------------------------------------------------------------------ process bookkeeping
const children = new Set();
const tempDirs = new Set();
function cleanup() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
  children.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
    cleanup();
    process.exit(130);
  });
}
const runDeadline = setTimeout(() => {
  process.stderr.write(`bench: the run passed its hard limit of ${P.runDeadlineMs / 1000} s; stopping\n`);
  cleanup();
  process.exit(3);
}, P.runDeadlineMs);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => process.stderr.write(`${s}\n`);
function tempDir(tag) {
  const d = mkdtempSync(join(os.tmpdir(), `pigeon-bench-${tag}-`));
  tempDirs.add(d);
  return d;
}
function dropDir(d) {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

const CPUS = os.cpus().length;
const HAS_TASKSET = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
const PIN = HAS_TASKSET && CPUS >= 2;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** Starts `node script` (pinned to `cpu` when possible; null: unpinned), keeping the last lines of its output. */
function startNode(name, script, scriptArgs, env, cpu, nodeArgs = []) {
  const pin = PIN && cpu !== null;
  const cmd = pin ? 'taskset' : process.execPath;
  const node = [...nodeArgs, script, ...scriptArgs];
  const argv = pin ? ['-c', String(cpu), process.execPath, ...node] : node;
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const tail = [];
  const stdout = [];
  const listeners = new Set();
  const feed = (keep) => (chunk) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      if (keep) stdout.push(line);
      tail.push(line);
      if (tail.length > 30) tail.shift();
      for (const l of listeners) l(line);
    }
  };
  child.stdout.on('data', feed(true));
  child.stderr.on('data', feed(false));
  const exited = new Promise((r) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      r({ code, signal });
    });
  });
  child.on('error', (e) => tail.push(`spawn error: ${e.message}`));
  return {
    name,
    child,
    pid: child.pid,
    tail,
    stdout,
    listeners,
    exited,
    isRunning: () => child.exitCode === null && child.signalCode === null,
  };
}

async function stopNode(p, graceMs = 5000) {
  if (!p.isRunning()) return p.exited;
  p.child.kill('SIGTERM');
  const res = await Promise.race([p.exited, sleep(graceMs).then(() => null)]);
  if (res) return res;
  p.child.kill('SIGKILL');
  return p.exited;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// ------------------------------------------------------------------ the two targets
const SECRET = randomBytes(32).toString('hex');
const JWT_SECRET = randomBytes(32).toString('hex');

function serverEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIGEON_')) env[k] = v;
  return { ...env, HOST, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...extra };
}

async function startPigeon(dbDir, nodeArgs = [], cpu = 0) {
  const port = await freePort();
  const env = serverEnv({
    PORT: String(port),
    PIGEON_DB: join(dbDir, 'pigeon.db'),
    PIGEON_SECRET: SECRET,
    PIGEON_JWT_SECRET: JWT_SECRET,
    PIGEON_RATE: String(P.serverRate),
    PIGEON_AUTH_RATE: String(P.serverRate),
    // The abuse bounds (issue 9) are not what is measured either: every connection comes
    // from one address, and the load generator's users send and connect far faster than
    // a person.
    PIGEON_FRAME_RATE: String(P.serverRate),
    PIGEON_READ_RATE: String(P.serverRate),
    PIGEON_HELLO_RATE: String(P.serverRate),
    PIGEON_HELLO_RATE_IP: String(P.serverRate),
    PIGEON_MAX_CONNS_PER_IP: String(P.serverRate),
    PIGEON_MAX_CONNS_PER_USER: String(P.serverRate),
    ...EXTRA_ENV,
  });
  const p = startNode('pigeon', MAIN, [], env, cpu, nodeArgs);
  const url = `http://${HOST}:${port}`;
  const t0 = Date.now();
  while (Date.now() - t0 < 20_000) {
    if (!p.isRunning()) throw new Error(`pigeon server exited at start:\n${p.tail.join('\n')}`);
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return { ...p, url: `ws://${HOST}:${port}`, httpUrl: url };
    } catch {}
    await sleep(50);
  }
  await stopNode(p);
  throw new Error(`pigeon server not healthy within 20 s:\n${p.tail.join('\n')}`);
}

/** One of the two relays that store nothing: `baseline` (bare ws) or `socketio`. */
async function startRelay(kind, nodeArgs = [], cpu = 0) {
  const port = await freePort();
  const script = kind === 'socketio' ? 'socketio-relay.mjs' : 'baseline-relay.mjs';
  const p = startNode(kind, join(HERE, script), [], serverEnv({ PORT: String(port) }), cpu, nodeArgs);
  await new Promise((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`${kind} relay not listening within 10 s:\n${p.tail.join('\n')}`)),
      10_000,
    );
    p.listeners.add((line) => {
      if (line.includes('"listening"')) {
        clearTimeout(timer);
        res();
      }
    });
    void p.exited.then(() => rej(new Error(`${kind} relay exited at start:\n${p.tail.join('\n')}`)));
  });
  return { ...p, url: `ws://${HOST}:${port}` };
}

// ------------------------------------------------------------------ the load generator
async function runLoad(cfg) {
  const full = { clkTck: CLK_TCK, bodyLength: P.bodyLength, ack: P.ack, run: RUN, ...cfg };
  const dir = tempDir('load');
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(full));
  const p = startNode('load', join(HERE, 'load.mjs'), [file], process.env, 1);
  const res = await Promise.race([p.exited, sleep(cfg.deadlineMs + 10_000).then(() => null)]);
  if (!res) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  dropDir(dir);
  const last = p.stdout.at(-1);
  let out;
  try {
    out = JSON.parse(last);
  } catch {
    out = {
      ok: false,
      error: `load generator gave no result (exit ${res?.code ?? 'killed'}):\n${p.tail.join('\n')}`,
    };
  }
  if (!out.ok) say(`  load generator: ${out.error}\n  ${p.tail.slice(-5).join('\n  ')}`);
  return out;
}

// ------------------------------------------------------------------ users
const RUN = randomBytes(3).toString('hex');
const PASSWORD = 'bench-password-1';
const b64url = (s) => Buffer.from(s).toString('base64url');
function jwtFor(sub) {
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub, iat, exp: iat + 3600 }))}`;
  return `${head}.${createHmac('sha256', JWT_SECRET).update(head).digest('base64url')}`;
}

async function register(httpUrl, user) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await fetch(`${httpUrl}/api/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password: PASSWORD }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = await r.json().catch(() => ({}));
    if (r.status === 201 && typeof body.token === 'string')
      return { user: body.user ?? user, token: body.token };
    if (r.status !== 429) throw new Error(`register ${user}: HTTP ${r.status} ${JSON.stringify(body)}`);
    await sleep(Math.min(2000, Number(r.headers.get('retry-after') ?? 1) * 1000));
  }
  throw new Error(`register ${user}: still rate limited`);
}

async function registerAll(httpUrl, names, concurrency = 8) {
  const out = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      out[i] = await register(httpUrl, names[i]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

// ------------------------------------------------------------------ measurements
const results = { pigeon: {}, baseline: {}, socketio: {} };
const notes = [];

/** The inspector's WebSocket URL, from the `Debugger listening on ws://…` line on stderr. */
function inspectorUrl(p) {
  for (const line of p.tail) {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(line);
    if (m) return m[1];
  }
  return null;
}

/** Busy share of the whole machine (all CPUs) from /proc/stat, over `ms`. */
async function machineBusy(ms) {
  const read = () => {
    const f = /^cpu +(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))[1].trim().split(/\s+/).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3] - f[4], total };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return (b.busy - a.busy) / (b.total - a.total || 1);
}

/**
 * The machine is shared: before each measurement, wait (bounded per measurement and per
 * run) until other work leaves the CPUs mostly idle, so that a build or test run of
 * someone else does not land in the measured window. How long it waited is recorded.
 */
let quietBudgetMs = P.quietBudgetMs;
async function waitQuiet() {
  const t0 = Date.now();
  let busy = await machineBusy(500);
  while (busy > P.quietBusy && Date.now() - t0 < P.quietMaxWaitMs && quietBudgetMs > Date.now() - t0) {
    busy = await machineBusy(500);
  }
  const waited = Date.now() - t0;
  quietBudgetMs -= waited;
  return { waitedMs: waited, machineBusyBefore: busy };
}

async function withTarget(
  kind,
  seedDir,
  fn,
  { inspect = false, label = 'run', cpu = 0, background = false } = {},
) {
  let target;
  let dir;
  const quiet = await waitQuiet();
  const nodeArgs = inspect ? ['--inspect=127.0.0.1:0'] : [];
  if (PROFILE_DIR && kind === 'pigeon' && !inspect)
    nodeArgs.push(
      '--cpu-prof',
      // A directory per run, Node's default names inside: one profile per thread (the main
      // thread is the lowest thread id, then the store's writer and reader threads).
      `--cpu-prof-dir=${join(PROFILE_DIR, `pigeon-${label}`)}`,
    );
  try {
    if (kind === 'pigeon') {
      dir = tempDir('db');
      cpSync(seedDir, dir, { recursive: true });
      target = await startPigeon(dir, nodeArgs, cpu);
    } else {
      target = await startRelay(kind, nodeArgs, cpu);
    }
    if (inspect) {
      for (let i = 0; i < 40 && !inspectorUrl(target); i++) await sleep(50);
      target.inspectorUrl = inspectorUrl(target);
      if (!target.inspectorUrl) notes.push(`${kind}: no inspector URL, memory read without a forced GC`);
    }
    const writer = background ? startWriter() : null;
    let result;
    try {
      result = { ...(await fn(target)), quiet };
    } finally {
      if (writer) {
        const stats = await stopWriter(writer);
        if (result) result.backgroundWriter = stats;
      }
    }
    if (kind === 'pigeon' && target.httpUrl) result.serverMetrics = await storeMetrics(target.httpUrl);
    return result;
  } catch (e) {
    return { ok: false, error: String(e?.message ?? e) };
  } finally {
    if (target) {
      const ex = await stopNode(target);
      if (ex.signal === 'SIGKILL') notes.push(`${kind} server ignored SIGTERM for 5 s and was killed`);
    }
    if (dir) dropDir(dir);
  }
}

/**
 * The server's own view of a run, from its /metrics (whole run, warm-up included): how many
 * store commits, how many ops (sends + acks) each carried, and how long a commit took.
 */
async function storeMetrics(httpUrl) {
  try {
    const text = await (await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const get = (name) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    const commits = get('pigeon_store_commit_seconds_count');
    const seconds = get('pigeon_store_commit_seconds_sum');
    const ops = get('pigeon_store_commit_batch_size_sum');
    // Commit duration histogram: how many commits took longer than each bucket bound.
    const buckets = [...text.matchAll(/^pigeon_store_commit_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map(
      (m) => [m[1], Number(m[2])],
    );
    const slowerThanMs = Object.fromEntries(
      buckets.filter(([le]) => le !== '+Inf').map(([le, n]) => [Number(le) * 1000, commits - n]),
    );
    return {
      commits,
      commitsSlowerThanMs: slowerThanMs,
      opsPerCommit: commits ? ops / commits : null,
      commitMsAvg: commits ? (seconds * 1000) / commits : null,
      commitSecondsTotal: seconds,
      messagesStored: get('pigeon_messages_stored_total'),
    };
  } catch (e) {
    return { error: String(e?.message ?? e) };
  }
}

function userList(kind, seed, names) {
  return kind === 'pigeon' ? names.map((n) => seed.accounts.get(n)) : names.map((n) => ({ user: n }));
}

/**
 * A background process doing write + fdatasync in a loop on the databases' disk (pinned to
 * the load generator's core, so it competes for the disk, not for the server's CPU).
 */
function startWriter() {
  const dir = tempDir('writer');
  return { dir, p: startNode('fsync-writer', join(HERE, 'fsync-writer.mjs'), [dir], process.env, 1) };
}
async function stopWriter(w) {
  await stopNode(w.p);
  dropDir(w.dir);
  try {
    return JSON.parse(w.p.stdout.at(-1));
  } catch {
    return { error: `the background writer gave no result: ${w.p.tail.slice(-3).join(' ')}` };
  }
}

let profileRun = 0;
async function measurePairs(kind, seed, mode, { cpu = 0, background = false, what = null } = {}) {
  const name = what ?? (mode === 'window' ? 'throughput' : 'latency');
  say(`- ${name} / ${kind}`);
  return withTarget(
    kind,
    seed.dir,
    (t) =>
      runLoad({
        scenario: 'pairs',
        kind,
        mode,
        url: t.url,
        serverPid: t.pid,
        pairs: seed.pairNames.map(([s, r]) => ({
          sender: userList(kind, seed, [s])[0],
          receiver: userList(kind, seed, [r])[0],
        })),
        window: P.window,
        rate: P.latencyRate,
        warmupMs: P.warmupMs,
        measureMs: P.measureMs,
        deadlineMs: 30_000 + P.warmupMs + P.measureMs,
      }),
    { label: `${name.replace(/\s+/g, '-')}-${++profileRun}`, cpu, background },
  );
}

async function measureFlush(seed) {
  say('- offline flush / pigeon');
  return withTarget(
    'pigeon',
    seed.dir,
    (t) =>
      runLoad({
        scenario: 'flush',
        kind: 'pigeon',
        url: t.url,
        serverPid: t.pid,
        sender: seed.accounts.get(seed.flushNames[0]),
        receiver: seed.accounts.get(seed.flushNames[1]),
        count: P.flushCount,
        window: P.flushWindow,
        repeats: P.flushRepeats,
        settleMs: 300,
        deadlineMs: 60_000,
      }),
    { label: 'flush' },
  );
}

async function measureIdle(kind, seed) {
  say(`- idle connections / ${kind}`);
  let users;
  if (kind === 'baseline') users = seed.idleNames.map((n) => ({ user: n }));
  else if (seed.jwt) users = seed.idleNames.map((n) => ({ user: n, token: jwtFor(n) }));
  else users = [...seed.accounts.values()];
  return withTarget(
    kind,
    seed.dir,
    (t) =>
      runLoad({
        scenario: 'idle',
        kind,
        measure: true,
        url: t.url,
        serverPid: t.pid,
        inspectorUrl: t.inspectorUrl,
        users,
        warm: P.idleWarm,
        conns: P.idleConns,
        concurrency: P.idleConcurrency,
        settleMs: P.idleSettleMs,
        deadlineMs: 90_000,
      }),
    { inspect: true },
  );
}

/**
 * The seed database: every account the measurements use, registered over HTTP (scrypt is
 * slow on purpose, so this happens once, before any timing), plus the 5,100 idle-connection
 * users created through host-app JWTs. Each measurement then runs on a fresh copy.
 */
async function seedDatabase() {
  const pairNames = Array.from({ length: P.pairs }, (_, i) => [`b${RUN}s${i}`, `b${RUN}r${i}`]);
  const flushNames = [`b${RUN}fs`, `b${RUN}fr`];
  const idleNames = Array.from({ length: P.idleWarm + P.idleConns }, (_, i) => `b${RUN}i${i}`);
  const seed = { dir: null, pairNames, flushNames, idleNames, accounts: new Map(), jwt: false };
  if (!TARGETS.has('pigeon')) return seed;
  seed.dir = tempDir('seed');
  say('- seeding: registering accounts over HTTP');
  const server = await startPigeon(seed.dir);
  try {
    const t0 = Date.now();
    const names = [...pairNames.flat(), ...flushNames];
    const accounts = await registerAll(server.httpUrl, names);
    for (const a of accounts) seed.accounts.set(a.user, a);
    say(`  ${names.length} accounts in ${Date.now() - t0} ms`);
    if (ONLY.has('memory')) {
      const t1 = Date.now();
      const r = await runLoad({
        scenario: 'idle',
        kind: 'pigeon',
        measure: false,
        url: server.url,
        serverPid: server.pid,
        users: idleNames.map((n) => ({ user: n, token: jwtFor(n) })),
        warm: 0,
        conns: idleNames.length,
        concurrency: 50,
        settleMs: 0,
        deadlineMs: 90_000,
      });
      seed.jwt = r.ok;
      if (r.ok) say(`  ${idleNames.length} JWT users created in ${Date.now() - t1} ms`);
      else
        notes.push(
          `host-app JWT users could not be created (${r.error}); idle connections reuse the ${seed.accounts.size} registered accounts`,
        );
    }
  } finally {
    await stopNode(server);
  }
  return seed;
}

// ------------------------------------------------------------------ report
const fmt = (x, digits = 0) =>
  x === null || x === undefined || Number.isNaN(x)
    ? '—'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The table: one row per figure, a column per target, and Pigeon's ratio to each peer.
 * `get` reads a figure from a measurement's result; `only` limits a row to some targets.
 */
function buildRows() {
  const rows = [];
  // Rows about the conditions of a run (CPU shares, pressure) get no ratio: it means nothing.
  const CONTEXT_UNITS = new Set(['% of a core', '% of time']);
  const failed = (o) => (o && !o.ok ? `failed: ${o.error}` : null);
  const atLeast = (goal, v, unit) =>
    v >= goal ? 'met' : `missed by ${fmt(goal - v, 2)}${unit} (${fmt(((goal - v) / goal) * 100, 0)} %)`;
  const atMost = (goal, v, unit, d = 2) =>
    v <= goal ? 'met' : `missed by ${fmt(v - goal, d)} ${unit} (${fmt(((v - goal) / goal) * 100, 0)} %)`;
  const row = ({ metric, unit, key, get, digits = 0, goal = '', check = null, only = ALL_KINDS }) => {
    const values = {};
    const cells = [`${metric} (${unit})`];
    for (const kind of ALL_KINDS) {
      const o = results[kind][key];
      const v = only.includes(kind) && o?.ok ? get(o) : null;
      values[kind] = v ?? null;
      cells.push(
        !only.includes(kind)
          ? 'n/a'
          : v === null || v === undefined
            ? failed(o)
              ? 'failed'
              : '—'
            : fmt(v, digits),
      );
    }
    const ratio = (peer) =>
      values.pigeon !== null && values[peer] !== null && values[peer] !== 0 && !CONTEXT_UNITS.has(unit)
        ? values.pigeon / values[peer]
        : null;
    const ratios = { baseline: ratio('baseline'), socketio: ratio('socketio') };
    let verdict = '—';
    if (check && values.pigeon !== null) verdict = check(values.pigeon, ratios.baseline);
    else if (check) verdict = 'not measured';
    cells.push(
      ratios.baseline === null ? '—' : `${fmt(ratios.baseline, 2)}×`,
      ratios.socketio === null ? '—' : `${fmt(ratios.socketio, 2)}×`,
      goal,
      verdict,
    );
    rows.push({ metric, unit, values, ratios, goal, verdict, cells });
  };
  const others = (o) => Math.max(0, (o.machineCpu?.cpu0?.busy ?? 0) - o.serverCpuUtil) * 100;
  const psi = (o) => (o.cpuPressure === null ? null : o.cpuPressure * 100);
  const iopsi = (o) => (o.ioPressure === null || o.ioPressure === undefined ? null : o.ioPressure * 100);

  row({
    metric: 'delivered messages/s, 50 pairs × 10 in flight, server pinned to one core',
    unit: 'msg/s',
    key: 'throughput',
    get: (o) => o.perSecond,
    goal: `≥ ${GOALS.throughputRatio}× bare ws`,
    check: (_, ratio) => (ratio === null ? 'no baseline' : atLeast(GOALS.throughputRatio, ratio, '×')),
  });
  row({
    metric: 'server CPU per delivered message',
    unit: 'µs',
    key: 'throughput',
    get: (o) => o.serverCpuUsPerMsg,
    digits: 1,
    goal: `≤ ${GOALS.cpuUsPerMsg} µs`,
    check: (v) => atMost(GOALS.cpuUsPerMsg, v, 'µs', 1),
  });
  row({
    metric: 'server CPU busy during that run',
    unit: '% of a core',
    key: 'throughput',
    get: (o) => o.serverCpuUtil * 100,
  });
  row({
    metric: 'load generator CPU busy during that run',
    unit: '% of a core',
    key: 'throughput',
    get: (o) => o.loadCpuUtil * 100,
  });
  row({
    metric: 'other work on the server core during that run',
    unit: '% of a core',
    key: 'throughput',
    get: others,
  });
  row({ metric: 'CPU pressure (PSI some) during that run', unit: '% of time', key: 'throughput', get: psi });
  row({
    metric: 'bytes written to storage per delivered message',
    unit: 'B',
    key: 'throughput',
    get: (o) => o.diskBytesPerMsg,
  });
  row({
    metric: 'one-way latency p50 under full throughput load',
    unit: 'ms',
    key: 'throughput',
    get: (o) => o.latency.p50Ms,
    digits: 2,
  });
  row({
    metric: 'delivered messages/s, server unpinned (2 cores), load on one',
    unit: 'msg/s',
    key: 'unpinned',
    get: (o) => o.perSecond,
  });
  row({
    metric: 'server CPU per delivered message, unpinned',
    unit: 'µs',
    key: 'unpinned',
    get: (o) => o.serverCpuUsPerMsg,
    digits: 1,
  });
  row({
    metric: 'server CPU busy, unpinned',
    unit: '% of a core',
    key: 'unpinned',
    get: (o) => o.serverCpuUtil * 100,
  });
  row({
    metric: 'one-way latency p50 at 1,000 msg/s',
    unit: 'ms',
    key: 'latency',
    get: (o) => o.latency.p50Ms,
    digits: 3,
  });
  row({
    metric: 'one-way latency p99 at 1,000 msg/s',
    unit: 'ms',
    key: 'latency',
    get: (o) => o.latency.p99Ms,
    digits: 3,
    goal: `≤ ${GOALS.p99Ms} ms`,
    check: (v) => atMost(GOALS.p99Ms, v, 'ms', 3),
  });
  row({ metric: '  max at 1,000 msg/s', unit: 'ms', key: 'latency', get: (o) => o.latency.maxMs, digits: 3 });
  row({
    metric: 'server CPU busy at 1,000 msg/s',
    unit: '% of a core',
    key: 'latency',
    get: (o) => o.serverCpuUtil * 100,
  });
  row({ metric: 'CPU pressure (PSI some) during that run', unit: '% of time', key: 'latency', get: psi });
  row({ metric: 'I/O pressure (PSI some) during that run', unit: '% of time', key: 'latency', get: iopsi });
  row({
    metric: 'one-way latency p99 at 1,000 msg/s, background fsync writer',
    unit: 'ms',
    key: 'disk',
    get: (o) => o.latency.p99Ms,
    digits: 3,
    goal: `≤ ${GOALS.p99Ms} ms`,
    check: (v) => atMost(GOALS.p99Ms, v, 'ms', 3),
    only: ['pigeon'],
  });
  row({
    metric: '  p50 / max of that run: p50',
    unit: 'ms',
    key: 'disk',
    get: (o) => o.latency.p50Ms,
    digits: 3,
    only: ['pigeon'],
  });
  row({ metric: '  max', unit: 'ms', key: 'disk', get: (o) => o.latency.maxMs, digits: 3, only: ['pigeon'] });
  row({
    metric: '  I/O pressure (PSI some) during that run',
    unit: '% of time',
    key: 'disk',
    get: iopsi,
    only: ['pigeon'],
  });
  row({
    metric: "  the writer's fsyncs during that run",
    unit: 'count',
    key: 'disk',
    get: (o) => o.backgroundWriter?.fsyncs ?? null,
    only: ['pigeon'],
  });
  row({
    metric: 'flush 10,000 offline messages (hello → synced), median of 3',
    unit: 'ms',
    key: 'flush',
    get: (o) => o.medianMs,
    digits: 1,
    goal: `≤ ${GOALS.flushMs} ms`,
    check: (v) => atMost(GOALS.flushMs, v, 'ms', 1),
    only: ['pigeon'],
  });
  row({
    metric: '  first reconnect after a server start',
    unit: 'ms',
    key: 'flush',
    get: (o) => o.firstMs,
    digits: 1,
    only: ['pigeon'],
  });
  row({
    metric: 'server memory per idle connection (5,000), RSS after full GC',
    unit: 'KiB',
    key: 'memory',
    get: (o) => o.bytesPerConn / 1024,
    digits: 2,
    goal: '≤ 6 KiB',
    check: (v) => atMost(GOALS.bytesPerConn / 1024, v, 'KiB'),
    only: ['pigeon', 'baseline'],
  });
  row({
    metric: '  same, read before that GC',
    unit: 'KiB',
    key: 'memory',
    get: (o) => o.bytesPerConnNoGc / 1024,
    digits: 2,
    only: ['pigeon', 'baseline'],
  });
  row({
    metric: '  of which JS heap (after GC)',
    unit: 'KiB',
    key: 'memory',
    get: (o) => o.heapBytesPerConn / 1024,
    digits: 2,
    only: ['pigeon', 'baseline'],
  });
  return rows;
}

function printTable(rows) {
  const head = ['metric', 'Pigeon', 'bare ws', 'Socket.IO', '× bare ws', '× Socket.IO', 'goal', 'met?'];
  const all = [head, ...rows.map((r) => r.cells)];
  const w = head.map((_, i) => Math.max(...all.map((c) => String(c[i]).length)));
  const left = (i) => i === 0 || i >= 6;
  const line = (c) => `| ${c.map((x, i) => String(x)[left(i) ? 'padEnd' : 'padStart'](w[i])).join(' | ')} |`;
  const out = [
    line(head),
    `|${w.map((n, i) => (left(i) ? `:${'-'.repeat(n + 1)}` : `${'-'.repeat(n + 1)}:`)).join('|')}|`,
    ...rows.map((r) => line(r.cells)),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/**
 * fdatasync latency of the disk the databases live on, right now: with PIGEON_DB_SYNC=full
 * every `sent` waits for one, so it bounds latency, and other work on the machine moves it.
 */
function fsyncProbe(count = 200) {
  const dir = tempDir('fsync');
  const fd = openSync(join(dir, 'probe'), 'w');
  const page = Buffer.alloc(4096, 1);
  const t = [];
  for (let i = 0; i < count; i++) {
    writeSync(fd, page);
    const a = performance.now();
    fdatasyncSync(fd);
    t.push(performance.now() - a);
  }
  closeSync(fd);
  dropDir(dir);
  t.sort((a, b) => a - b);
  const q = (p) => Math.round(t[Math.min(t.length - 1, Math.ceil(p * t.length) - 1)] * 1000) / 1000;
  return { samples: count, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: q(1) };
}

/**
 * Formats the results file the way the repository's Biome wants it (arrays on one line),
 * so that `biome check` stays clean after a run. Skipped when Biome is not installed.
 */
function formatJson(file) {
  let dir = SERVER_DIR;
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
    if (existsSync(bin)) {
      spawnSync(process.execPath, [bin, 'format', '--write', file], {
        cwd: dir,
        stdio: 'ignore',
        timeout: 20_000,
      });
      return;
    }
  }
}

/** When the server under test was built, and the commit checked out then. */
function buildStamp() {
  if (!existsSync(MAIN)) return null;
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: SERVER_DIR,
    encoding: 'utf8',
  }).stdout?.trim();
  return `${statSync(MAIN).mtime.toISOString()} at ${git || '?'}`;
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: SERVER_DIR,
    encoding: 'utf8',
  }).stdout?.trim();
  return {
    cpus: CPUS,
    cpuModel: model,
    node: process.version,
    kernel: os.release(),
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    pinned: PIN
      ? 'server on CPU 0, load generator on CPU 1 (taskset)'
      : 'not pinned (taskset missing or < 2 CPUs)',
    dbDir: os.tmpdir(),
    git: git || null,
  };
}

/** Warns when dist/main.js is older than some file under src/ (a stale build). */
function staleBuild() {
  const built = statSync(MAIN).mtimeMs;
  const walk = (d) =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
    );
  const src = join(SERVER_DIR, 'src');
  return existsSync(src) ? walk(src).filter((f) => statSync(f).mtimeMs > built) : [];
}

// ------------------------------------------------------------------ main
async function main() {
  if (TARGETS.has('pigeon') && !existsSync(MAIN)) {
    say(
      `bench: ${relative(process.cwd(), MAIN)} is missing; build first: npx turbo run build --filter=@pigeon/server`,
    );
    process.exit(1);
  }
  if (TARGETS.has('pigeon') && !args.main) {
    const stale = staleBuild();
    if (stale.length)
      notes.push(`dist/main.js is older than ${stale.length} file(s) under src/ (stale build?)`);
  }
  const started = new Date();
  const load0 = os.loadavg();
  say(
    `bench: ${CPUS} CPUs, ${PIN ? 'pinned' : 'NOT pinned'}, node ${process.version}, load average ${load0.map((x) => x.toFixed(2)).join(' ')}`,
  );
  const fsync0 = fsyncProbe();
  const build0 = buildStamp();
  const seed = await seedDatabase();

  const kinds = ALL_KINDS.filter((k) => TARGETS.has(k));
  // Throughput and latency run P.rounds times (the others once), the targets interleaved,
  // and the best round counts (every round is kept in the JSON): other work on the shared
  // machine only ever makes a round worse. `unpinned`: the server may use both cores (the
  // worker thread on the other one), the load generator stays on CPU 1. `disk`: the latency
  // run again with a background process doing fsyncs on the same disk (Pigeon only: the
  // relays never touch the disk).
  const byThroughput = (a, b) => a.perSecond > b.perSecond;
  const byP99 = (a, b) => a.latency.p99Ms < b.latency.p99Ms;
  for (const [metric, mode, better, opts, rounds, targets] of [
    ['throughput', 'window', byThroughput, {}, P.rounds, kinds],
    ['unpinned', 'window', byThroughput, { cpu: null, what: 'throughput unpinned' }, 1, kinds],
    ['latency', 'paced', byP99, {}, P.rounds, kinds],
    ['disk', 'paced', byP99, { background: true, what: 'latency with a busy disk' }, P.rounds, ['pigeon']],
  ]) {
    if (!ONLY.has(metric)) continue;
    const which = targets.filter((k) => TARGETS.has(k));
    const runs = Object.fromEntries(which.map((k) => [k, []]));
    for (let round = 0; round < rounds; round++)
      for (const kind of which) runs[kind].push(await measurePairs(kind, seed, mode, opts));
    for (const kind of which) {
      const ok = runs[kind].filter((r) => r.ok);
      const best = ok.length ? ok.reduce((a, b) => (better(b, a) ? b : a)) : runs[kind][0];
      results[kind][metric] = { ...best, rounds: runs[kind] };
    }
  }
  if (ONLY.has('flush') && TARGETS.has('pigeon')) results.pigeon.flush = await measureFlush(seed);
  // Memory per idle connection: Pigeon against the bare relay (the goal is Pigeon's own figure).
  for (const kind of kinds.filter((k) => k !== 'socketio'))
    if (ONLY.has('memory')) results[kind].memory = await measureIdle(kind, seed);
  // Cluster rows (cluster.mjs): PostgreSQL + Redis with 1, 2, 3 nodes, in the same run.
  if (ONLY.has('cluster') && TARGETS.has('pigeon'))
    results.cluster = {
      run: await measureCluster({
        p: P,
        main: MAIN,
        say,
        clkTck: CLK_TCK,
        pin: PIN,
        profileDir: PROFILE_DIR,
      }),
    };

  const load1 = os.loadavg();
  const fsync1 = fsyncProbe();
  const build1 = buildStamp();
  if (build0 !== build1) {
    const same = build0?.split(' at ')[1] === build1?.split(' at ')[1];
    notes.push(
      `the server was rebuilt during the run (${build0} → ${build1})${same ? ', same commit checked out' : ': figures may mix two builds'}`,
    );
  }
  const rows = buildRows();
  process.stdout.write(
    `\nPigeon vs a bare ws relay and a Socket.IO 4 relay — ${started.toISOString()}, ${CPUS} × ${machine().cpuModel}, node ${process.version}\n\n`,
  );
  printTable(rows);
  if (results.cluster)
    for (const l of clusterLines(results.cluster.run, results.pigeon)) process.stdout.write(`${l}\n`);
  const lines = [
    `fdatasync of a 4 KiB write in ${os.tmpdir()}: p50/p99 ${fsync0.p50Ms}/${fsync0.p99Ms} ms before the run, ${fsync1.p50Ms}/${fsync1.p99Ms} ms after`,
    `load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')} (the machine may be shared)`,
    ...(results.pigeon.flush?.ok
      ? [
          `flush: first ${fmt(results.pigeon.flush.firstMs, 1)} ms, median of ${P.flushRepeats} ${fmt(results.pigeon.flush.medianMs, 1)} ms; filling it took ${fmt(results.pigeon.flush.fillMs, 0)} ms (${fmt(results.pigeon.flush.fillPerSecond, 0)} msg/s, one sender, ${P.flushWindow} in flight); baseline: not applicable (it stores nothing)`,
        ]
      : []),
    ...notes,
  ];
  for (const l of lines) process.stdout.write(`${l}\n`);

  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify(
      {
        date: started.toISOString(),
        durationS: Math.round((Date.now() - started.getTime()) / 1000),
        command: 'npm run bench',
        machine: machine(),
        loadAverage: { before: load0, after: load1 },
        fsync: { before: fsync0, after: fsync1 },
        serverBuild: { before: build0, after: build1 },
        parameters: P,
        options: args,
        goals: GOALS,
        table: rows.map(({ cells, ...r }) => r),
        notes,
        results,
      },
      null,
      2,
    )}\n`,
  );
  formatJson(OUT);
  process.stdout.write(`results: ${relative(process.cwd(), OUT)}\n`);
  const anyFailed = Object.values(results).some((t) => Object.values(t).some((m) => !m.ok));
  clearTimeout(runDeadline);
  cleanup();
  process.exit(anyFailed ? 1 : 0);
}

main().catch((e) => {
  say(`bench failed: ${e?.stack ?? e}`);
  cleanup();
  process.exit(1);
});
