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
//
// Cut: processes.mjs (children, temp dirs, pinning), targets.mjs (the servers and their users),
// load.mjs (the load generator, its own process), report.mjs (the table), machine.mjs (the
// conditions of the run), cluster*.mjs (the cluster rows). Over 300 lines because what is left
// is the measurements themselves, which share the run's parameters (P), results and notes.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterLines, measureCluster } from './cluster.mjs';
import { buildStamp, formatJson, fsyncProbe, machine, staleBuild } from './machine.mjs';
import {
  CLK_TCK,
  CPUS,
  cleanup,
  dropDir,
  PIN,
  say,
  sleep,
  startNode,
  stopNode,
  tempDir,
} from './processes.mjs';
import { ALL_KINDS, buildRows, fmt, GOALS, printTable } from './report.mjs';
import { jwtFor, RUN, registerAll, startPigeon, startRelay } from './targets.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER_DIR = resolve(HERE, '..');

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

/** How the Pigeon server under test is started (targets.mjs). */
const PIGEON = { main: MAIN, serverRate: P.serverRate, extraEnv: EXTRA_ENV };

const runDeadline = setTimeout(() => {
  process.stderr.write(`bench: the run passed its hard limit of ${P.runDeadlineMs / 1000} s; stopping\n`);
  cleanup();
  process.exit(3);
}, P.runDeadlineMs);

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
      target = await startPigeon(PIGEON, dir, nodeArgs, cpu);
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
 * store commits, how many ops (sends + acks) each carried, how long a commit took, and the
 * WebSocket frames read and written per stored message, by type (what the protocol asks of
 * the event loop for each message).
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
      framesPerMessage: framesPerMessage(text, get('pigeon_messages_stored_total')),
    };
  } catch (e) {
    return { error: String(e?.message ?? e) };
  }
}

/** Frames in and out per stored message by type, from /metrics text. */
function framesPerMessage(text, stored) {
  if (!stored) return null;
  const byType = (dir) => {
    const out = {};
    for (const m of text.matchAll(
      new RegExp(`^pigeon_frames_${dir}_total\\{type="([^"]+)"\\} (\\S+)$`, 'gm'),
    )) {
      out[m[1]] = Number(m[2]) / stored;
    }
    return out;
  };
  return { in: byType('in'), out: byType('out') };
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
  const server = await startPigeon(PIGEON, seed.dir);
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

// ------------------------------------------------------------------ main
async function main() {
  if (TARGETS.has('pigeon') && !existsSync(MAIN)) {
    say(
      `bench: ${relative(process.cwd(), MAIN)} is missing; build first: npx turbo run build --filter=@pigeon/server`,
    );
    process.exit(1);
  }
  if (TARGETS.has('pigeon') && !args.main) {
    const stale = staleBuild(MAIN, SERVER_DIR);
    if (stale.length)
      notes.push(`dist/main.js is older than ${stale.length} file(s) under src/ (stale build?)`);
  }
  const started = new Date();
  const load0 = os.loadavg();
  say(
    `bench: ${CPUS} CPUs, ${PIN ? 'pinned' : 'NOT pinned'}, node ${process.version}, load average ${load0.map((x) => x.toFixed(2)).join(' ')}`,
  );
  const fsync0 = fsyncProbe();
  const build0 = buildStamp(MAIN, SERVER_DIR);
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
  const build1 = buildStamp(MAIN, SERVER_DIR);
  if (build0 !== build1) {
    const same = build0?.split(' at ')[1] === build1?.split(' at ')[1];
    notes.push(
      `the server was rebuilt during the run (${build0} → ${build1})${same ? ', same commit checked out' : ': figures may mix two builds'}`,
    );
  }
  const rows = buildRows(results);
  process.stdout.write(
    `\nPigeon vs a bare ws relay and a Socket.IO 4 relay — ${started.toISOString()}, ${CPUS} × ${machine(SERVER_DIR).cpuModel}, node ${process.version}\n\n`,
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
        machine: machine(SERVER_DIR),
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
  formatJson(OUT, SERVER_DIR);
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
