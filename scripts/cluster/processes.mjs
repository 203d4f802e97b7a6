// The children of `npm run cluster` (run.mjs): each runs in the foreground in its own
// process group with its output in a log file, and all of them stop in a fixed order, so
// the script leaves nothing behind however it ends.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export const say = (line) => process.stdout.write(`${line}\n`);

/** The path of `cmd`: the first of `extra` that exists, else what the shell finds, else null. */
export function which(cmd, extra = []) {
  for (const p of extra) if (fs.existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** True when `url` (a `/healthz`) answers 200 within a second. */
export async function healthy(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return res.status === 200;
}

function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Every child started, newest last. `onCriticalExit` runs when a child marked critical
 * exits by itself (not while stopping): the cluster cannot go on without it.
 */
export class Children {
  list = [];
  stopping = false;

  constructor({ cwd, env, onCriticalExit }) {
    this.cwd = cwd;
    this.env = env;
    this.onCriticalExit = onCriticalExit;
  }

  /**
   * Starts a long-running child in its own process group (Ctrl-C reaches only the script,
   * which then stops the children in order), its output appended to `opts.log`.
   */
  start(name, file, args, opts = {}) {
    const out = fs.openSync(opts.log, 'a');
    const child = spawn(file, args, {
      cwd: opts.cwd ?? this.cwd,
      env: opts.env ?? this.env,
      stdio: ['ignore', opts.pipe ? 'pipe' : out, out],
      detached: true,
      ...(opts.user ?? {}),
    });
    const entry = {
      name,
      child,
      log: opts.log,
      exited: false,
      stop: opts.stop ?? 'SIGTERM',
      critical: opts.critical,
    };
    child.once('exit', (code, signal) => {
      entry.exited = true;
      fs.closeSync(out);
      if (this.stopping) return;
      say(`!! ${name} exited (${signal ?? code}); last lines of ${opts.log}:`);
      say(tail(opts.log, 15));
      if (entry.critical) this.onCriticalExit();
    });
    if (opts.pipe) child.stdout.on('data', (d) => fs.appendFileSync(opts.log, d));
    this.list.push(entry);
    return entry;
  }

  /**
   * Resolves once `check()` is truthy, or rejects after `ms`. A child coming up has no
   * event to wait on (its port opens, its /healthz turns 200), so this polls every 100 ms.
   */
  async waitFor(what, check, ms = 30_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.stopping) throw new Error('stopping');
      const value = await check().catch(() => null);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`${what} did not come up within ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Stops the children group by group in `order` (name prefixes): each group gets its stop
   * signal, then SIGKILL after 15 s if it has not exited.
   */
  async stopAll(order) {
    this.stopping = true;
    for (const prefix of order) {
      const group = this.list.filter((c) => c.name.startsWith(prefix) && !c.exited);
      await Promise.all(
        group.map(
          (c) =>
            new Promise((resolve) => {
              const force = setTimeout(() => {
                try {
                  process.kill(-c.child.pid, 'SIGKILL');
                } catch {}
              }, 15_000);
              c.child.once('exit', () => {
                clearTimeout(force);
                resolve();
              });
              try {
                // The process group: runuser's child (postgres) gets it too.
                process.kill(-c.child.pid, c.stop);
              } catch {
                clearTimeout(force);
                resolve();
              }
            }),
        ),
      );
    }
  }

  /** Last resort (the script is exiting on an error): SIGKILL to every child still running. */
  killAll() {
    for (const c of this.list) {
      if (c.exited) continue;
      try {
        process.kill(-c.child.pid, 'SIGKILL');
      } catch {}
    }
  }
}
