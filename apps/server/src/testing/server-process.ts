import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built server entry point, which the child process runs. */
export const SERVER_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../main.js');

/** A port that was free a moment ago; fixed per process so a restarted server answers at the same URL. */
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
 * The real server as a child process (`node dist/main.js`) on a temp SQLite file, for the
 * tests of other workspaces: they can SIGTERM it, `kill -9` it, freeze it (SIGSTOP) and
 * start it again on the same database and port.
 */
export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  readonly dir: string;
  readonly env: Record<string, string>;
  port = 0;
  /** Everything the server printed (pino JSON lines), for failure messages. */
  log = '';

  /** `env`: server settings on top of a loopback host, a temp database and a random secret. */
  constructor(env: Record<string, string> = {}) {
    if (!existsSync(SERVER_MAIN)) {
      throw new Error(
        `${SERVER_MAIN} is missing: build the server first (npx turbo run build --filter=@pigeon/server)`,
      );
    }
    this.dir = mkdtempSync(path.join(tmpdir(), 'pigeon-server-'));
    this.env = {
      HOST: '127.0.0.1',
      PIGEON_DB: path.join(this.dir, 'pigeon.db'),
      PIGEON_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'info',
      ...env,
    };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts it (again on the same port and database after a stop) and waits until /healthz is 200.
   * The first start binds port 0 and reads the port from the `listening` line: a port probed
   * free and then bound by the child could be taken in between by another test file's server.
   */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [SERVER_MAIN], {
      env: { ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((done) => child.once('exit', () => done()));
    const collect = (d: Buffer) => {
      this.log += d.toString();
      if (this.port === 0) this.port = listeningPort(this.log);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${this.log}`);
      if (this.port === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
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

  /**
   * SIGTERM (graceful: clients see 1001; SIGKILL after 10 s) or SIGKILL (clients see 1006);
   * resolves once the process has exited.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(force);
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

/** The port of the pino `listening` line in `log`, or 0 while there is none yet. */
function listeningPort(log: string): number {
  for (const line of log.split('\n')) {
    if (!line.includes('"listening"')) continue;
    try {
      const parsed = JSON.parse(line) as { msg?: unknown; port?: unknown };
      if (parsed.msg === 'listening' && typeof parsed.port === 'number') return parsed.port;
    } catch {
      // a line cut in two by the pipe: the next chunk completes it
    }
  }
  return 0;
}
