import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseFor, redisFor } from './engines/test-engine.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

/** Bytes of the child's output kept for `output()`. */
const OUTPUT_KEEP = 256 * 1024;

export interface Child {
  proc: ChildProcess;
  port: number;
  url: string;
  wsUrl: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts dist/main.js with `env` on port 0 and waits for its `listening` log line. */
export async function startChild(env: Record<string, string>, cwd?: string): Promise<Child> {
  // In the postgres mode (see engines/test-engine.ts) the database stands in for PIGEON_DB.
  const dbPath = path.resolve(cwd ?? '.', env.PIGEON_DB ?? './data/pigeon.db');
  const databaseUrl = await databaseFor(dbPath);
  if (databaseUrl && env.PIGEON_DATABASE_URL === undefined)
    env = { ...env, PIGEON_DATABASE_URL: databaseUrl };
  // In the cluster mode the server is a node with its live parts in Redis.
  const redis = redisFor(dbPath);
  if (redis && databaseUrl && env.PIGEON_REDIS_URL === undefined)
    env = { ...env, PIGEON_REDIS_URL: redis.url, PIGEON_REDIS_PREFIX: redis.prefix };
  const proc = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', PIGEON_AUTH_RATE: '100000', ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started server behind.
      proc.kill('SIGKILL');
      reject(new Error(`child did not start:\n${out}`));
    }, 15_000);
    let listening = false;
    const onData = (d: Buffer) => {
      // Keep the tail only: a server under attack logs a lot, and tests read the end.
      out += d.toString();
      if (out.length > OUTPUT_KEEP * 2) out = out.slice(-OUTPUT_KEEP);
      if (listening) return;
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const log = JSON.parse(line);
          if (log.msg === 'listening' && typeof log.port === 'number') {
            listening = true;
            clearTimeout(timer);
            resolve({
              proc,
              port: log.port,
              url: `http://127.0.0.1:${log.port}`,
              wsUrl: `ws://127.0.0.1:${log.port}`,
              output: () => out,
              exited,
            });
            return;
          }
        } catch {
          // partial line
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${e.code ?? e.signal}) before listening:\n${out}`));
    });
  });
}
