#!/usr/bin/env node
/*
 * The SQLite writer alone, in this process: CPU per stored message of `SqliteWriter.apply`
 * (the writer thread's work) on batches shaped like `npm run bench`'s (sends from P senders
 * to P recipients, 100-character bodies, cumulative acks), without sockets or threads.
 * It prices the writer's parts by taking one away at a time: the search index, one of the
 * messages indexes, a bigger or smaller batch. Figures from it are in bench/README.md.
 *
 *   node bench/store-writer.mjs [--batch=150] [--pairs=50] [--messages=60000]
 *     [--sync=full|normal] [--no-search] [--drop-index=NAME[,NAME]] [--rounds=2]
 *
 * Needs the build (dist/). `--no-search` and `--drop-index` measure what the part costs;
 * a server never runs without them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    batch: { type: 'string', default: '150' },
    pairs: { type: 'string', default: '50' },
    messages: { type: 'string', default: '60000' },
    sync: { type: 'string', default: 'full' },
    'no-search': { type: 'boolean', default: false },
    'drop-index': { type: 'string', default: '' },
    rounds: { type: 'string', default: '2' },
  },
});
const batchSize = Number(opt.batch);
const pairs = Number(opt.pairs);
const total = Number(opt.messages);
const dist = new URL('../dist/store/', import.meta.url);
const { openDatabase } = await import(new URL('sqlite-schema.js', dist).href);
const { SqliteWriter } = await import(new URL('sqlite-writer.js', dist).href);

const PAD = 'x'.repeat(200);

function round() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-store-writer-'));
  try {
    const db = openDatabase({ path: path.join(dir, 'pigeon.db'), sync: opt.sync, walMaxPages: 10_000 });
    for (const name of opt['drop-index'].split(',').filter(Boolean)) db.exec(`DROP INDEX ${name}`);
    const writer = new SqliteWriter(db);
    if (opt['no-search']) writer.features.indexMessage = () => {};
    const users = [];
    for (let i = 0; i < 2 * pairs; i++) {
      users.push(`user${i}`);
      writer.createUser(`user${i}`, null, Date.now());
    }
    let seq = 0;
    let batches = 0;
    const batch = () => {
      const ops = [];
      for (let k = 0; k < batchSize; k++) {
        const p = k % pairs;
        ops.push([
          's',
          users[p],
          `m${seq++}`,
          users[pairs + p],
          `${performance.now().toFixed(3)}|${PAD.slice(0, 91)}`,
        ]);
      }
      // Each recipient acks every ~100 entries, as packages/client does by default.
      if (batches++ % Math.max(1, Math.round((100 * pairs) / batchSize)) === 0) {
        for (let p = 0; p < pairs; p++) ops.push(['a', users[pairs + p], Number.MAX_SAFE_INTEGER]);
      }
      return { ops, early: ops.map(() => null), twins: [], waits: [], now: Date.now() };
    };
    for (let i = 0; i < 20; i++) writer.apply([batch()]);
    const cpu = process.cpuUsage();
    const start = performance.now();
    let stored = 0;
    while (stored < total) {
      writer.apply([batch()]);
      stored += batchSize;
    }
    const used = process.cpuUsage(cpu);
    const wall = performance.now() - start;
    db.close();
    return {
      cpu: (used.user + used.system) / stored,
      sys: used.system / stored,
      wall: (wall * 1000) / stored,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const label = [
  `batch ${batchSize}`,
  `${pairs} pairs`,
  `sync ${opt.sync}`,
  opt['no-search'] ? 'no search index' : '',
  opt['drop-index'] ? `without ${opt['drop-index']}` : '',
]
  .filter(Boolean)
  .join(', ');
for (let r = 0; r < Number(opt.rounds); r++) {
  const f = round();
  console.log(
    `${label}: ${f.cpu.toFixed(2)} µs CPU per message (${f.sys.toFixed(2)} of it in the kernel), ${f.wall.toFixed(2)} µs wall`,
  );
}
