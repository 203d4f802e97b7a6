import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SERVER_MAIN = resolve(here, '../../../apps/server/dist/main.js');
export const CLI_MAIN = resolve(here, '../dist/cli/main.js');

/** A port that was free a moment ago; fixed so that a restarted server answers at the same URL. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/**
 * The real server as a child process (`node apps/server/dist/main.js`) on a temp SQLite file,
 * so tests can SIGTERM it, `kill -9` it and start it again on the same database and port.
 */
export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  readonly dir: string;
  readonly env: Record<string, string>;
  port = 0;
  log = '';

  constructor(env: Record<string, string> = {}) {
    if (!existsSync(SERVER_MAIN)) {
      throw new Error(
        `${SERVER_MAIN} is missing: build the server first (npx turbo run build --filter=@pigeon/server)`,
      );
    }
    this.dir = mkdtempSync(join(tmpdir(), 'pigeon-client-test-'));
    this.env = {
      HOST: '127.0.0.1',
      PIGEON_DB: join(this.dir, 'pigeon.db'),
      PIGEON_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'info',
      ...env,
    };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn(process.execPath, [SERVER_MAIN], {
      env: { ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((done) => child.once('exit', () => done()));
    child.stdout?.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${this.log}`);
      try {
        const res = await fetch(`${this.url}/healthz`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server did not become healthy:\n${this.log}`);
  }

  /** SIGTERM (graceful, clients see 1001) or SIGKILL (clients see 1006); resolves once it exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.exited;
    this.child = null;
  }

  /** Sends a signal without waiting (SIGSTOP / SIGCONT freeze and thaw it: a hung peer). */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Registers a user over HTTP and returns its token. */
export async function registerUser(server: string, user: string, password = 'password123'): Promise<string> {
  const res = await fetch(`${server}/api/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  const body = (await res.json()) as { token?: string; error?: string };
  if (res.status !== 201 || !body.token)
    throw new Error(`register ${user}: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** Polls `predicate` until it holds (or throws after `ms`). */
export async function waitFor(predicate: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
