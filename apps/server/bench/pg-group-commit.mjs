// `node apps/server/bench/pg-group-commit.mjs`: what grouping the sends of one event-loop
// turn into one PostgreSQL transaction buys (issue 8), measured on the built PgStore
// (dist/) against a throwaway PostgreSQL 15 with fsync on, as in production.
//
// Two ways to store the same N sends between users spread over many mailboxes:
//   per-send   one transaction per send, `concurrency` of them in flight on the pool
//              (what a node would do without grouping: each send commits on its own);
//   grouped    the relay's way: everything that arrived during the previous commit goes
//              into the next transaction, one commit at a time (batches of `batch`).
// Prints msg/s and the commit latency of each; --json prints the same as JSON.
//
// Options: --sends=4000 --users=200 --concurrency=10 --batches=1,10,50,200 --fsync=on|off
//          --url=postgres://… (use an existing database instead of starting one; it must be empty)
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    return [m[1], m[2] ?? 'true'];
  }),
);
const SENDS = Number(args.sends ?? 4000);
const USERS = Number(args.users ?? 200);
const CONCURRENCY = Number(args.concurrency ?? 10);
const BATCHES = (args.batches ?? '1,10,50,200').split(',').map(Number);
const FSYNC = (args.fsync ?? 'on') === 'on';

const { PgStore } = await import(resolve(HERE, '../dist/store/pg-store.js'));

/** A throwaway PostgreSQL (as the postgres user when root, like the tests). */
async function startPostgres() {
  const base = '/usr/lib/postgresql';
  const version = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0];
  const bin = join(base, version, 'bin');
  const dir = mkdtempSync(join(os.tmpdir(), 'pigeon-pg-bench-'));
  const root = process.getuid?.() === 0;
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const as = (cmd, argv) =>
    execFileSync(
      root ? 'runuser' : join(bin, cmd),
      root ? ['-u', 'postgres', '--', join(bin, cmd), ...argv] : argv,
      {
        stdio: 'ignore',
      },
    );
  const port = await new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
  as('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C']);
  appendFileSync(
    join(dir, 'data', 'postgresql.conf'),
    `port = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nfsync = ${FSYNC ? 'on' : 'off'}\n`,
  );
  as('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        as('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

const admitAll = async (sends) => sends.map(() => null);
let seq = 0;
const nextSend = () => {
  seq++;
  const from = `u${seq % USERS}`;
  const to = `u${(seq * 7 + 3) % USERS}`;
  return { kind: 'send', from, to, id: `m${seq}`, body: `message ${seq} ${'x'.repeat(60)}` };
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function perSend(store) {
  const latencies = [];
  const started = performance.now();
  let left = SENDS;
  const worker = async () => {
    while (left > 0) {
      left--;
      const t = performance.now();
      await store.commit([nextSend()], admitAll);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { seconds: (performance.now() - started) / 1000, latencies };
}

async function grouped(store, batch) {
  const latencies = [];
  const started = performance.now();
  for (let done = 0; done < SENDS; done += batch) {
    const ops = Array.from({ length: Math.min(batch, SENDS - done) }, nextSend);
    const t = performance.now();
    await store.commit(ops, admitAll);
    latencies.push(performance.now() - t);
  }
  return { seconds: (performance.now() - started) / 1000, latencies };
}

const pg = args.url ? null : await startPostgres();
const url = args.url ?? pg.url;
const rows = [];
try {
  const store = await PgStore.open({ url, poolSize: CONCURRENCY, mailboxMax: 1e9, retentionDays: 365 });
  for (let u = 0; u < USERS; u++) await store.createUser(`u${u}`, null);
  // Warm-up: prepared statements on every connection, caches.
  await perSend(store);
  const run = async (name, fn) => {
    const r = await fn();
    const sorted = r.latencies.sort((a, b) => a - b);
    rows.push({
      mode: name,
      msgPerSec: Math.round(SENDS / r.seconds),
      commits: r.latencies.length,
      commitP50Ms: Number(percentile(sorted, 50).toFixed(2)),
      commitP99Ms: Number(percentile(sorted, 99).toFixed(2)),
    });
  };
  await run(`per-send (${CONCURRENCY} in flight)`, () => perSend(store));
  for (const b of BATCHES) await run(`grouped, batch ${b}`, () => grouped(store, b));
  await store.close();
} finally {
  pg?.stop();
}
if (args.json) {
  console.log(
    JSON.stringify({ sends: SENDS, users: USERS, fsync: FSYNC, cpus: os.cpus().length, rows }, null, 2),
  );
} else {
  console.log(
    `${SENDS} sends between ${USERS} users, PostgreSQL fsync=${FSYNC ? 'on' : 'off'}, ${os.cpus().length} CPUs`,
  );
  console.table(rows);
}
