// Summarizes V8 CPU profiles (from `run.mjs --profile=DIR`): the functions with the most
// self time, and self time grouped by where the code lives (SQLite, ws, JSON, the server…).
// Usage: node bench/profile-summary.mjs PROFILE_OR_DIR [TOP=25]
// A directory holds one profile per thread of one run (the main thread and the store's
// writer and reader threads): each thread is summarized, then all of them together,
// with idle time left out so the shares are shares of the work done.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const target = process.argv[2];
const top = Number(process.argv[3] ?? 25);
if (!target) {
  process.stderr.write('usage: node bench/profile-summary.mjs PROFILE_OR_DIR [TOP]\n');
  process.exit(1);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()
      .map((f) => join(target, f))
  : [target];

const where = (url) => {
  if (!url) return 'native/VM';
  if (url.includes('better-sqlite3')) return 'better-sqlite3 (JS side, SQLite itself)';
  if (url.includes('/ws/lib/')) return 'ws';
  if (url.includes('socket.io')) return 'socket.io';
  if (url.includes('pino')) return 'pino';
  if (url.includes('valibot')) return 'valibot';
  if (url.includes('prom-client')) return 'prom-client';
  if (url.includes('@pigeon/protocol') || url.includes('packages/protocol')) return '@pigeon/protocol';
  if (url.includes('apps/server/dist')) return 'server';
  if (url.startsWith('node:')) return 'node core';
  return url.replace(/^file:\/\//, '');
};

/** Self time (µs) per function and per place, from one profile; idle kept apart. */
function summarize(file) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const fns = new Map();
  const groups = new Map();
  let idle = 0;
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const us = prof.timeDeltas[i + 1] ?? 0;
    const { callFrame: cf } = byId.get(prof.samples[i]);
    total += us;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = `${cf.functionName || '(anonymous)'} ${cf.url ? `${cf.url.replace(/^.*\/(node_modules|dist)\//, '')}:${cf.lineNumber + 1}` : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    const g = cf.url
      ? where(cf.url)
      : cf.functionName.startsWith('(')
        ? cf.functionName
        : `native: ${cf.functionName}`;
    groups.set(g, (groups.get(g) ?? 0) + us);
  }
  return { file, fns, groups, idle, total };
}

const add = (into, from) => {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
};
const print = (title, m, n, denom) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
    process.stdout.write(`${((us / denom) * 100).toFixed(1).padStart(5)} %  ${k}\n`);
};

const all = { fns: new Map(), groups: new Map(), busy: 0 };
for (const s of files.map(summarize)) {
  const busy = s.total - s.idle;
  process.stdout.write(
    `\n=== ${s.file}: ${(s.total / 1e6).toFixed(2)} s sampled, ${((busy / s.total) * 100).toFixed(0)} % not idle\n`,
  );
  print("self time by place (share of this thread's work)", s.groups, 12, busy);
  print(`top ${top} functions by self time`, s.fns, top, busy);
  add(all.fns, s.fns);
  add(all.groups, s.groups);
  all.busy += busy;
}
if (files.length > 1) {
  process.stdout.write(
    `\n=== all ${files.length} threads together: ${(all.busy / 1e6).toFixed(2)} s of work\n`,
  );
  print('self time by place', all.groups, 12, all.busy);
  print(`top ${top} functions by self time`, all.fns, top, all.busy);
}
