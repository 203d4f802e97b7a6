/**
 * The honest pair of the abuse suite: two users chatting through the server under attack,
 * measuring what an ordinary user would see (latency, lost or doubled messages, drops).
 */
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type Account, type Conn, type Frame, register, type Server, session } from './harness.js';

/** Latency figures of the honest pair during one attack. */
export interface HonestReport {
  sent: number;
  received: number;
  lost: number;
  doubled: number;
  p50: number;
  p99: number;
  max: number;
  /** Close of an honest connection during the attack (a failure), else null. */
  dropped: string | null;
}

/**
 * Two users writing to each other every 50 ms (each side every 100 ms, alternating). One
 * process holds both ends, so a message's latency is receive time minus send time on one
 * clock. Each side acknowledges what it receives, as a real client does.
 */
export class HonestPair {
  private a!: Conn;
  private b!: Conn;
  private readonly sentAt = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  private latencies: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private n = 0;
  private dropped: string | null = null;
  private accounts!: [Account, Account];
  /** Wakes `end()` when the last message in flight arrives or a connection drops. */
  private wake: () => void = () => {};

  static async start(server: Server): Promise<HonestPair> {
    const pair = new HonestPair();
    pair.accounts = [await register(server.url, 'ha'), await register(server.url, 'hb')];
    const a = await session(server, pair.accounts[0].token);
    const b = await session(server, pair.accounts[1].token);
    if (!a || !b) throw new Error('the honest pair could not connect');
    pair.a = a;
    pair.b = b;
    for (const [conn, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      conn.onFrame = (f) => pair.onFrame(conn, f);
      void conn.done.then((info) => {
        pair.dropped ??= `honest ${name} closed ${info.code} ${info.reason}`;
        pair.wake();
      });
    }
    return pair;
  }

  private onFrame(conn: Conn, f: Frame): void {
    if (f.t !== 'msg') return;
    const id = String(f.id);
    const mine = conn === this.a ? this.accounts[0].id : this.accounts[1].id;
    if (f.to !== mine || f.from === mine) return;
    const at = this.sentAt.get(id);
    if (at !== undefined) this.latencies.push(performance.now() - at);
    this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
    conn.send({ t: 'ack', cursor: f.cursor });
    if (!this.timer && this.outstanding() === 0) this.wake();
  }

  private outstanding(): number {
    let n = 0;
    for (const id of this.sentAt.keys()) if (!this.seen.has(id)) n++;
    return n;
  }

  accountsOf(): [Account, Account] {
    return this.accounts;
  }

  /** Starts a measuring window: chatting every 50 ms, figures from zero. */
  begin(): void {
    this.latencies = [];
    this.sentAt.clear();
    this.seen.clear();
    this.dropped = null;
    this.timer = setInterval(() => {
      const fromA = this.n % 2 === 0;
      const id = `h${this.n++}_${crypto.randomBytes(3).toString('hex')}`;
      const to = fromA ? this.accounts[1].id : this.accounts[0].id;
      this.sentAt.set(id, performance.now());
      (fromA ? this.a : this.b).send({ t: 'send', id, to, body: `honest ${id}` });
    }, 50);
  }

  /** Stops chatting, waits up to `settleMs` for what is in flight, and reports. */
  async end(settleMs = 10_000): Promise<HonestReport> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.dropped === null && this.outstanding() > 0) {
      // Until the last message in flight arrives (an event), a drop, or the bound.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, settleMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = () => {};
    }
    const sorted = [...this.latencies].sort((x, y) => x - y);
    const q = (p: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN;
    let lost = 0;
    let doubled = 0;
    for (const id of this.sentAt.keys()) {
      const n = this.seen.get(id) ?? 0;
      if (n === 0) lost++;
      if (n > 1) doubled++;
    }
    return {
      sent: this.sentAt.size,
      received: [...this.seen.values()].reduce((x, y) => x + y, 0),
      lost,
      doubled,
      p50: q(0.5),
      p99: q(0.99),
      max: sorted.at(-1) ?? NaN,
      dropped: this.dropped,
    };
  }

  close(): void {
    this.a.close();
    this.b.close();
  }
}
