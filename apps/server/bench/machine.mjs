// What `npm run bench` records about the conditions of a run besides its figures: the disk's
// fdatasync latency, the machine, the build under test (and whether it is stale), and the
// formatting of the results file.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { CPUS, dropDir, PIN, tempDir } from './processes.mjs';

/**
 * fdatasync latency of the disk the databases live on, right now: with PIGEON_DB_SYNC=full
 * every `sent` waits for one, so it bounds latency, and other work on the machine moves it.
 */
export function fsyncProbe(count = 200) {
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
 * so that `biome check` stays clean after a run (Biome is looked for in `from` and up to 3
 * parents). Skipped when Biome is not installed.
 */
export function formatJson(file, from) {
  let dir = from;
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
export function buildStamp(main, serverDir) {
  if (!existsSync(main)) return null;
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: serverDir,
    encoding: 'utf8',
  }).stdout?.trim();
  return `${statSync(main).mtime.toISOString()} at ${git || '?'}`;
}

export function machine(serverDir) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: serverDir,
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
export function staleBuild(main, serverDir) {
  const built = statSync(main).mtimeMs;
  const walk = (d) =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
    );
  const src = join(serverDir, 'src');
  return existsSync(src) ? walk(src).filter((f) => statSync(f).mtimeMs > built) : [];
}
