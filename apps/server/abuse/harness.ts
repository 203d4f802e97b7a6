/**
 * The abuse suite's harness: a real server (dist/main.js as a child process), accounts and
 * raw protocol connections to it, and samplers of the server's RSS and event-loop lag. The
 * honest pair that chats during every attack is honest-pair.ts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { type Child, startChild } from '../test/child.js';

const PASSWORD = 'abuse-password-1';

export interface Server {
  child: Child;
  url: string;
  wsUrl: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * The server as an operator would run it, with two changes: registrations and sends are
 * not rate-limited so that the suite can set up thousands of users and entries quickly
 * (neither is an attack of issue 9; both keep their own tests).
 */
export async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(process.env.PIGEON_TEST_TMP ?? os.tmpdir(), 'pigeon-abuse-'));
  const child = await startChild({
    PIGEON_DB: path.join(dir, 'pigeon.db'),
    PIGEON_SECRET: crypto.randomBytes(32).toString('hex'),
    PIGEON_AUTH_RATE: '1000000',
    PIGEON_RATE: '100000',
    PIGEON_LEGACY: '1',
    LOG_LEVEL: 'info',
    ...env,
  });
  return {
    child,
    url: child.url,
    wsUrl: child.wsUrl,
    dir,
    async stop() {
      child.proc.kill('SIGTERM');
      await child.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Account {
  id: string;
  token: string;
}

let counter = 0;
function uid(prefix: string): string {
  counter++;
  return `${prefix}${counter}${crypto.randomBytes(3).toString('hex')}`.slice(0, 32);
}

export async function register(url: string, prefix = 'u'): Promise<Account> {
  const id = uid(prefix);
  const res = await fetch(`${url}/api/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: id, password: PASSWORD }),
  });
  if (res.status !== 201) throw new Error(`register ${id}: ${res.status} ${await res.text()}`);
  return { id, token: String(((await res.json()) as { token: string }).token) };
}

export type Frame = Record<string, unknown> & { t: string };

/** A minimal honest or hostile client: parsed frames, a close promise, a local address to come from. */
export class Conn {
  readonly ws: WebSocket;
  closed: { code: number; reason: string } | null = null;
  readonly done: Promise<{ code: number; reason: string }>;
  onFrame: (f: Frame) => void = () => {};

  constructor(url: string, localAddress = '127.0.0.1') {
    this.ws = new WebSocket(url, { perMessageDeflate: false, localAddress });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      try {
        this.onFrame(JSON.parse(data.toString()) as Frame);
      } catch {
        // legacy text
      }
    });
    this.done = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        resolve(this.closed);
      });
    });
  }

  opened(): Promise<boolean> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
      this.ws.once('unexpected-response', () => resolve(false));
    });
  }

  send(frame: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN)
      this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.terminate();
  }
}

/** Opens /ws from `localAddress`, says hello, resolves at synced (or null when refused or closed). */
export async function session(server: Server, token: string, localAddress?: string): Promise<Conn | null> {
  const c = new Conn(`${server.wsUrl}/ws`, localAddress);
  if (!(await c.opened())) return null;
  const synced = new Promise<boolean>((resolve) => {
    c.onFrame = (f) => {
      if (f.t === 'synced') resolve(true);
    };
    void c.done.then(() => resolve(false));
  });
  c.send({ t: 'hello', v: 1, token });
  return (await synced) ? c : null;
}

/** Peak RSS of the server process while sampling (from /proc, every 100 ms). */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 100);
    this.sample();
  }

  private sample(): void {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      this.peak = Math.max(this.peak, kb * 1024);
    } catch {
      // the process is gone: the report says so through healthz
    }
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/**
 * The server's event-loop delay since the previous call (prom-client resets its
 * monitorEventLoopDelay histogram on every scrape), in ms: p99 and max.
 */
export async function loopLag(server: Server): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) * 1000 : NaN;
  };
  return {
    p99: value('pigeon_process_nodejs_eventloop_lag_p99_seconds'),
    max: value('pigeon_process_nodejs_eventloop_lag_max_seconds'),
  };
}

export async function healthy(server: Server): Promise<boolean> {
  try {
    return (await fetch(`${server.url}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
