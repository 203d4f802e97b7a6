// Summarizes V8 CPU profiles (from `run.mjs --profile=DIR`): the functions with the most
// self time, and self time grouped by where the code lives (SQLite, ws, JSON, the server…).
// Usage: node bench/profile-summary.mjs FILE.cpuprofile [TOP=25]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const top = Number(process.argv[3] ?? 25);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.mjs FILE.cpuprofile [TOP]\n');
  process.exit(1);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map(); // node id -> µs
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i + 1] ?? 0;
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (url) => {
  if (!url) return 'native/VM';
  if (url.includes('better-sqlite3')) return 'better-sqlite3 (JS side)';
  if (url.includes('/ws/')) return 'ws';
  if (url.includes('pino')) return 'pino';
  if (url.includes('valibot')) return 'valibot';
  if (url.includes('@pigeon/protocol') || url.includes('packages/protocol')) return '@pigeon/protocol';
  if (url.includes('apps/server/dist')) return 'server';
  if (url.startsWith('node:')) return 'node core';
  return url.replace(/^file:\/\//, '');
};
const fns = new Map();
const groups = new Map();
for (const [id, us] of self) {
  const { callFrame: cf } = byId.get(id);
  const name = `${cf.functionName || '(anonymous)'} ${cf.url ? `${cf.url.replace(/^.*\/(node_modules|dist)\//, '')}:${cf.lineNumber + 1}` : ''}`;
  fns.set(name, (fns.get(name) ?? 0) + us);
  const g = cf.url
    ? where(cf.url)
    : cf.functionName.startsWith('(')
      ? cf.functionName
      : `native: ${cf.functionName}`;
  groups.set(g, (groups.get(g) ?? 0) + us);
}
const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
const print = (title, m, n) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
    process.stdout.write(`${pct(us)}  ${k}\n`);
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n`);
print('self time by place', groups, 15);
print(`top ${top} functions by self time`, fns, top);
