// Process bookkeeping of `npm run bench`: every child process and temporary directory it
// starts is registered here and removed on exit, on a signal, or by `cleanup()` (the run
// never leaves a server behind); CPU pinning with taskset where it exists.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

export const HOST = '127.0.0.1';

export const children = new Set();
export const tempDirs = new Set();
export function cleanup() {
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

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const say = (s) => process.stderr.write(`${s}\n`);
export function tempDir(tag) {
  const d = mkdtempSync(join(os.tmpdir(), `pigeon-bench-${tag}-`));
  tempDirs.add(d);
  return d;
}
export function dropDir(d) {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

export const CPUS = os.cpus().length;
const HAS_TASKSET = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
export const PIN = HAS_TASKSET && CPUS >= 2;
export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** Starts `node script` (pinned to `cpu` when possible; null: unpinned), keeping the last lines of its output. */
export function startNode(name, script, scriptArgs, env, cpu, nodeArgs = []) {
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

export async function stopNode(p, graceMs = 5000) {
  if (!p.isRunning()) return p.exited;
  p.child.kill('SIGTERM');
  const res = await Promise.race([p.exited, sleep(graceMs).then(() => null)]);
  if (res) return res;
  p.child.kill('SIGKILL');
  return p.exited;
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}
