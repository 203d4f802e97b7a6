// The cluster rows of `npm run bench` (called from run.mjs): 1, 2 and 3 nodes on one
// PostgreSQL + one Redis, users spread over the nodes so that with 2+ nodes every message
// crosses nodes (sender on node i, receiver on node i+1). Per row: delivered msg/s (50 pairs
// × 10 in flight), CPU per message of the nodes, of PostgreSQL and of Redis, and one-way
// latency p50/p99 at 1,000 msg/s. The load generator is cluster-load.mjs (CPU 1 when
// pinning is possible); the nodes and the engines are not pinned: on a 2-core machine they
// share both cores, which is the first thing that limits these figures (see the README).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  children,
  cleanup,
  clusterMissing,
  dirs,
  jwt,
  startNodes,
  startPostgres,
  startRedis,
  stop,
} from './cluster-engines.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

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
