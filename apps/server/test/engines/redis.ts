import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real `redis-server` for tests: its own process on a unix socket in a temp dir (no
 * port to race other test runs for), no persistence (Redis holds nothing Pigeon needs to
 * keep), and the faults the cluster tests inject: kill -9 and restart on the same socket,
 * SIGSTOP / SIGCONT.
 */
const REDIS_HINT = 'install redis-server: apt-get install -y redis-server';

/** Path of redis-server, or null when it is not installed. */
function findRedisServer(): string | null {
  const candidates = [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    const found = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
    return found === '' ? null : found;
  } catch {
    return null;
  }
}

/**
 * True when the Redis tests can run. Without redis-server: with CI=true this throws (CI
 * must not pass by skipping); elsewhere it prints a loud notice once and the caller skips.
 */
export function redisAvailable(what: string): boolean {
  if (findRedisServer()) return true;
  if (process.env.CI === 'true') throw new Error(`redis-server not found (${what}): ${REDIS_HINT}`);
  const line = '!'.repeat(78);
  console.warn(`\n${line}\n!! SKIPPING ${what}: redis-server is not installed\n!! ${REDIS_HINT}\n${line}\n`);
  return false;
}

export class RedisServer {
  readonly dir: string;
  /** Unix socket path; also what PIGEON_REDIS_URL takes. */
  readonly socket: string;
  private proc: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  log = '';

  private constructor(private readonly binary: string) {
    this.dir = fs.mkdtempSync(path.join(process.env.PIGEON_TEST_TMP ?? os.tmpdir(), 'redis-'));
    this.socket = path.join(this.dir, 'redis.sock');
  }

  /** Starts a fresh redis-server and resolves once it answers PING. */
  static async start(): Promise<RedisServer> {
    const binary = findRedisServer();
    if (!binary) throw new Error(`redis-server not found: ${REDIS_HINT}`);
    const server = new RedisServer(binary);
    await server.boot();
    return server;
  }

  get url(): string {
    return this.socket;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private async boot(): Promise<void> {
    fs.rmSync(this.socket, { force: true });
    const proc = spawn(
      this.binary,
      [
        '--port',
        '0',
        '--unixsocket',
        this.socket,
        '--unixsocketperm',
        '700',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const collect = (d: Buffer): void => {
      this.log += d.toString();
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`redis-server exited before answering:\n${this.log}`);
      }
      if (await this.ping()) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** One raw PING over the socket (no client library: this checks the engine, not our code). */
  ping(timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
      const sock = net.createConnection(this.socket);
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        sock.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      sock.once('error', () => done(false));
      sock.once('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
    });
  }

  /** kill -9: every connection drops, every key and subscription is gone. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await this.exited;
    this.proc = null;
  }

  /** A fresh, empty server on the same socket (after kill()). */
  async restart(): Promise<void> {
    await this.kill();
    await this.boot();
  }

  /** SIGSTOP (a hung Redis: connections stay open, nothing is answered) or SIGCONT. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.proc?.kill(signal);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(force);
    }
    this.proc = null;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
