// Over ~300 lines on purpose: the one harness every server test shares (server on port 0, accounts,
// the recording WebSocket client, fences, the fake clock).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerFrame } from '@pigeon/protocol';
import WebSocket from 'ws';
import type { Config } from '../src/config.js';
import { createPigeonServer, type PigeonServer } from '../src/server.js';
import { databaseFor, redisFor } from './engines/test-engine.js';

export const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

export function tempDir(): string {
  return fs.mkdtempSync(path.join(process.env.PIGEON_TEST_TMP ?? os.tmpdir(), 'pigeon-test-'));
}

export interface Running {
  server: PigeonServer;
  url: string;
  wsUrl: string;
  port: number;
  dir: string;
  dbPath: string;
  stop(): Promise<void>;
}

/** A real server on port 0 with a real SQLite file in a fresh temp dir (or `dir`). */
export async function startServer(overrides: Partial<Config> = {}, dir = tempDir()): Promise<Running> {
  const dbPath = overrides.dbPath ?? path.join(dir, 'pigeon.db');
  const server = createPigeonServer({
    host: '127.0.0.1',
    port: 0,
    dbPath,
    secret: SECRET,
    logLevel: 'silent',
    authRate: 100_000,
    scryptCost: 1024,
    webRoot: path.join(dir, 'no-web'),
    databaseUrl: await databaseFor(dbPath),
    redisUrl: redisFor(dbPath)?.url ?? null,
    redisPrefix: redisFor(dbPath)?.prefix ?? 'pigeon:',
    ...overrides,
  });
  const { port, url } = await server.listen();
  return {
    server,
    url,
    port,
    wsUrl: `ws://127.0.0.1:${port}`,
    dir,
    dbPath,
    stop: () => server.close(),
  };
}

let counter = 0;
/** A fresh user id (unique per test run). */
export function uid(prefix = 'u'): string {
  counter++;
  return `${prefix}${counter}x${crypto.randomBytes(3).toString('hex')}`.slice(0, 32);
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | null;
}

export async function http(
  base: string,
  method: string,
  p: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const res = await fetch(base + p, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface Account {
  id: string;
  password: string;
  token: string;
}

export async function register(base: string, id = uid(), password = 'password123'): Promise<Account> {
  const r = await http(base, 'POST', '/api/register', { user: id, password });
  if (r.status !== 201) throw new Error(`register ${id}: ${r.status} ${r.text}`);
  return { id: String(r.json!.user), password, token: String(r.json!.token) };
}

export type Frame = ServerFrame & Record<string, unknown>;

/** A test WebSocket client that records every frame and lets tests wait for one. */
export class Client {
  readonly frames: Frame[] = [];
  readonly raw: string[] = [];
  closeInfo: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];
  private readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      try {
        this.frames.push(JSON.parse(text));
      } catch {
        // legacy sockets get raw text
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.wake();
        resolve(this.closeInfo);
      });
    });
    ws.on('error', () => {});
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false });
      const client = new Client(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        const err = new Error(`HTTP ${res.statusCode}`) as Error & { statusCode?: number };
        err.statusCode = res.statusCode;
        reject(err);
      });
      ws.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits until `cond` holds (checked on every frame). */
  async until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-5))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private cursor = 0;

  /** The next frame (after the previous `next`) matching `pred`. */
  async next(pred: (f: Frame) => boolean, what = 'a frame', timeoutMs = 5000): Promise<Frame> {
    let found: Frame | undefined;
    await this.until(
      () => {
        for (let i = this.cursor; i < this.frames.length; i++) {
          if (pred(this.frames[i]!)) {
            found = this.frames[i];
            this.cursor = i + 1;
            return true;
          }
        }
        return false;
      },
      what,
      timeoutMs,
    );
    return found!;
  }

  /** Any frame so far (from the first) matching `pred`; waits for one. */
  waitFor(pred: (f: Frame) => boolean, what = 'a frame', timeoutMs = 5000): Promise<Frame> {
    return this.waitFrom(0, pred, what, timeoutMs);
  }

  /** The first frame at index `start` or later (`frames.length` before a request: its answer) matching `pred`. */
  async waitFrom(
    start: number,
    pred: (f: Frame) => boolean,
    what = 'a frame',
    timeoutMs = 5000,
  ): Promise<Frame> {
    let found: Frame | undefined;
    let next = start;
    await this.until(
      () => {
        for (; next < this.frames.length && !found; next++)
          if (pred(this.frames[next]!)) found = this.frames[next];
        return found !== undefined;
      },
      what,
      timeoutMs,
    );
    return found!;
  }

  waitClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return Promise.race([
      this.closed,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs),
      ),
    ]);
  }

  msgs(): Frame[] {
    return this.frames.filter((f) => f.t === 'msg');
  }

  close(): Promise<{ code: number; reason: string }> {
    if (!this.closeInfo) this.ws.close();
    return this.waitClose();
  }
}

export interface Session extends Client {
  welcome: Frame;
  synced: Frame;
  backlog: Frame[];
}

/** Opens /ws, says hello, waits for welcome … synced. */
export async function session(wsUrl: string, token: string, since?: string): Promise<Session> {
  const c = await Client.open(`${wsUrl}/ws`);
  c.send(since === undefined ? { t: 'hello', v: 1, token } : { t: 'hello', v: 1, token, since });
  const welcome = await c.next((f) => f.t === 'welcome', 'welcome');
  const synced = await c.next((f) => f.t === 'synced', 'synced', 15_000);
  const s = c as Session;
  s.welcome = welcome;
  s.synced = synced;
  const start = c.frames.indexOf(welcome);
  const end = c.frames.indexOf(synced);
  s.backlog = c.frames.slice(start + 1, end);
  return s;
}

let msgCounter = 0;
export function mid(prefix = 'm'): string {
  msgCounter++;
  return `${prefix}${msgCounter}_${crypto.randomBytes(4).toString('hex')}`;
}

/**
 * Sends one message and waits for its `sent` (or error): the answer to THIS send, so a
 * resend of an id is not answered by the `sent` of its first send.
 */
export async function sendAndWait(c: Client, to: string, body: string, id = mid()): Promise<Frame> {
  const start = c.frames.length;
  c.send({ t: 'send', id, to, body });
  return c.waitFrom(start, (f) => (f.t === 'sent' || f.t === 'error') && f.id === id, `answer to send ${id}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A clock that only moves when told: limits and token expiry are tested without waiting. */
export class FakeClock {
  constructor(public t = Date.now()) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * Ping fence: resolves once `c` has its pong for a ping sent now. Everything the server
 * wrote to this connection before handling the ping has arrived by then, so "nothing
 * else arrived" can be checked without sleeping.
 */
export async function fence(c: Client): Promise<void> {
  const rid = mid('fence');
  c.send({ t: 'ping', rid });
  await c.waitFor((f) => f.t === 'pong' && f.rid === rid, 'fence pong');
}
