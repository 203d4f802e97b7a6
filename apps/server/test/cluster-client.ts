import WebSocket from 'ws';
import type { Frame } from './helpers.js';

/**
 * A user of the cluster tests that does what PROTOCOL.md asks of a client, and no more:
 * it reconnects (to the next node when its node is gone) with `since` = the last cursor it
 * received, resends every message that has no `sent` yet with the same id, in order, and
 * records every `msg` frame exactly as it arrived (no dedup: a repeat must show). It is
 * written here rather than taken from @pigeon/client, which depends on this package.
 */
export interface OutboxItem {
  id: string;
  to: string;
  body: string;
  /** Order of the send among this user's sends. */
  n: number;
  sentTs: number | null;
}

export class ClusterUser {
  /** Every msg frame received, in arrival order, over all connections. */
  readonly received: Frame[] = [];
  readonly outbox: OutboxItem[] = [];
  /** Close codes of connections that ended while the user wanted to stay connected. */
  readonly drops: number[] = [];
  /** Nodes connected to, in order (index into the url list). */
  readonly visits: number[] = [];
  private ws: WebSocket | null = null;
  private live = false;
  private lastCursor: string | null = null;
  private stopped = false;
  private count = 0;
  private waiters = new Set<() => void>();
  private ackTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly id: string,
    private readonly token: string,
    /** WebSocket base URLs of the nodes; the user starts on `node` and moves on when it fails. */
    private readonly urls: () => string[],
    private node: number,
  ) {}

  /** Connects (to its node, or the next ones) and resolves once synced. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const urls = this.urls();
      const index = (this.node + attempt) % urls.length;
      try {
        await this.open(urls[index]!, index);
        return;
      } catch {
        // That node is down or not ready: the next one, after a short client backoff.
        await new Promise((r) => setTimeout(r, Math.min(50 * (attempt + 1), 500)));
      }
    }
  }

  private open(url: string, index: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url}/ws`, { perMessageDeflate: false });
      let synced = false;
      ws.on('open', () => {
        const hello: Record<string, unknown> = { t: 'hello', v: 1, token: this.token };
        if (this.lastCursor) hello.since = this.lastCursor;
        ws.send(JSON.stringify(hello));
      });
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString()) as Frame;
        if (f.t === 'msg') {
          this.received.push(f);
          this.lastCursor = String(f.cursor);
          this.scheduleAck();
        } else if (f.t === 'sent') {
          const item = this.outbox.find((o) => o.id === f.id);
          if (item && item.sentTs === null) item.sentTs = Number(f.ts);
        } else if (f.t === 'error' && f.id !== undefined) {
          // rate_limited / internal: the message stays unsent; resent below or at the next connect.
          const item = this.outbox.find((o) => o.id === f.id);
          const wait = Number(f.retryAfterMs ?? 200);
          if (item) setTimeout(() => this.resend(item), wait);
        } else if (f.t === 'synced') {
          synced = true;
          this.node = index;
          this.visits.push(index);
          this.ws = ws;
          this.live = true;
          // Everything without `sent`, in order, with its id: stored once however often sent.
          for (const item of this.outbox) if (item.sentTs === null) this.write(item);
          resolve();
        }
        this.wake();
      });
      ws.on('close', (code) => {
        if (!synced) {
          reject(new Error(`closed ${code} before synced`));
          return;
        }
        if (this.ws === ws) {
          this.ws = null;
          this.live = false;
        }
        if (this.stopped) return;
        this.drops.push(code);
        void this.connect();
      });
      ws.on('error', () => {
        if (!synced) reject(new Error('connection failed'));
      });
    });
  }

  private scheduleAck(): void {
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = null;
      if (this.ws && this.live && this.lastCursor)
        this.ws.send(JSON.stringify({ t: 'ack', cursor: this.lastCursor }));
    }, 50);
  }

  private write(item: OutboxItem): void {
    this.ws?.send(JSON.stringify({ t: 'send', id: item.id, to: item.to, body: item.body }));
  }

  private resend(item: OutboxItem): void {
    if (item.sentTs === null && this.live) this.write(item);
  }

  send(to: string, body: string): OutboxItem {
    const item: OutboxItem = { id: `${this.id}-${this.count}`, to, body, n: this.count++, sentTs: null };
    this.outbox.push(item);
    if (this.live) this.write(item);
    return item;
  }

  /** Messages that got `sent`. */
  acked(): OutboxItem[] {
    return this.outbox.filter((o) => o.sentTs !== null);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once `cond` holds (checked on every frame), or fails after `ms`. */
  until(cond: () => boolean, what: string, ms: number): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.id}: timed out waiting for ${what}`));
      }, ms);
      this.waiters.add(check);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ws?.close();
  }
}

/**
 * The three promises under faults, over a set of users who sent to each other: every
 * acknowledged message is shown exactly once to its recipient and to its sender (the
 * echo); nothing is shown twice; each sender's messages appear in the order sent.
 */
export function checkDelivery(users: ClusterUser[]): {
  acked: number;
  lost: string[];
  doubled: string[];
  reordered: string[];
} {
  const byId = new Map(users.map((u) => [u.id, u]));
  const lost: string[] = [];
  const doubled: string[] = [];
  const reordered: string[] = [];
  let acked = 0;
  for (const u of users) {
    const seen = new Map<string, number>();
    for (const m of u.received) seen.set(`${m.from}/${m.id}`, (seen.get(`${m.from}/${m.id}`) ?? 0) + 1);
    for (const [key, n] of seen) if (n > 1) doubled.push(`${u.id} saw ${key} ${n} times`);
    // Per sender, the order of `n` (send order) must grow.
    const last = new Map<string, number>();
    for (const m of u.received) {
      const from = String(m.from);
      const item = byId.get(from)?.outbox.find((o) => o.id === m.id);
      if (!item) continue;
      const prev = last.get(from) ?? -1;
      if (item.n < prev) reordered.push(`${u.id}: ${m.id} after #${prev} of ${from}`);
      last.set(from, Math.max(prev, item.n));
    }
  }
  for (const sender of users) {
    for (const item of sender.acked()) {
      acked++;
      const key = `${sender.id}/${item.id}`;
      for (const who of new Set([item.to, sender.id])) {
        const u = byId.get(who);
        if (u && !u.received.some((m) => `${m.from}/${m.id}` === key)) lost.push(`${who} never saw ${key}`);
      }
    }
  }
  return { acked, lost, doubled, reordered };
}
