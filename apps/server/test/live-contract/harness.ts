import fs from 'node:fs';
import path from 'node:path';
import type { Limiter } from '../../src/limiter/limiter.js';
import type { Presence, PresenceTarget } from '../../src/router/presence.js';
import type { Router, RouteTarget } from '../../src/router/router.js';
import type { BlockChange } from '../../src/store/feature-types.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Entry, OpResult, Receipt, SendOp, Store, StoreOp } from '../../src/store/store.js';
import { tempDir } from '../helpers.js';

/** One server node's live parts, as the contract sees them. */
export interface LiveNode {
  router: Router;
  presence: Presence;
  /** A send bucket of capacity `rate * 2` refilling `rate` a second, shared by all nodes. */
  sendLimiter: Limiter;
}

interface LiveFactoryOptions {
  /** The system of record every node reads from. */
  store: Store;
  nodes: number;
  rate: number;
}

export interface LiveUnderTest {
  /** `nodes` nodes; the in-process implementation gives the same node each time. */
  readonly nodes: LiveNode[];
  destroy(): Promise<void>;
}

export type LiveFactory = (opts: LiveFactoryOptions) => Promise<LiveUnderTest>;

/** Wakes tests waiting for a condition whenever a recorder receives something. */
export class Signal {
  private waiters = new Set<() => void>();

  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once `cond` holds, re-checked on every notify; fails after `ms`. */
  async until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
    if (cond()) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, ms);
      this.waiters.add(check);
    });
  }
}

/**
 * A connection as the live parts see it, doing what MailboxConnection does: attach, read
 * the head, replay the backlog from the store while buffering live entries, then go live.
 * It records what it was handed while live, so tests can check order and repeats.
 */
export class Recorder implements RouteTarget, PresenceTarget {
  /** What the connection put on the wire, in order (backlog, then live). */
  readonly emitted: number[] = [];
  /** …and what each was: `msg`, or the kind of an update (issue 10). */
  readonly kinds: string[] = [];
  /** Sequences the router handed over while live (must be increasing: in order, never twice). */
  readonly handedLive: number[] = [];
  readonly receipts: Receipt[] = [];
  readonly typing: string[] = [];
  readonly blocks: BlockChange[] = [];
  readonly presence: [string, boolean][] = [];
  private state: 'opening' | 'replaying' | 'live' = 'opening';
  private buffer: Entry[] = [];
  private lastSeq = 0;

  constructor(
    readonly user: string,
    private readonly signal: Signal,
  ) {}

  /** Opens like a connection; `after` is where the backlog starts (0 = everything). */
  async open(node: LiveNode, store: Store, after = 0): Promise<void> {
    this.state = 'replaying';
    node.presence.join(this);
    await node.router.attach(this);
    const box = await store.mailbox(this.user);
    if (!box) throw new Error(`no mailbox for ${this.user}`);
    this.lastSeq = after;
    while (this.lastSeq < box.headSeq) {
      const page = await store.readRange(this.user, this.lastSeq, box.headSeq, 100);
      if (page.length === 0) break;
      for (const e of page) this.emit(e);
    }
    for (const e of this.buffer) if (e.seq > this.lastSeq) this.emit(e);
    this.buffer = [];
    this.state = 'live';
    this.signal.notify();
  }

  get live(): boolean {
    return this.state === 'live';
  }

  private emit(e: Entry): void {
    this.lastSeq = e.seq;
    this.emitted.push(e.seq);
    this.kinds.push(e.frame.t === 'msg' ? 'msg' : e.frame.kind);
  }

  deliverEntry(entry: Entry): void {
    if (this.state !== 'live') {
      this.buffer.push(entry);
      return;
    }
    this.handedLive.push(entry.seq);
    if (entry.seq > this.lastSeq) this.emit(entry);
    this.signal.notify();
  }

  deliverReceipt(receipt: Receipt): void {
    this.receipts.push(receipt);
    this.signal.notify();
  }

  deliverTyping(from: string): void {
    this.typing.push(from);
    this.signal.notify();
  }

  deliverBlock(change: BlockChange): void {
    this.blocks.push(change);
    this.signal.notify();
  }

  deliverPresence(user: string, online: boolean): void {
    this.presence.push([user, online]);
    this.signal.notify();
  }

  /** The presence frames about `user`, as booleans. */
  presenceOf(user: string): boolean[] {
    return this.presence.filter(([u]) => u === user).map(([, online]) => online);
  }
}

/** A real SQLite store in a temp dir: the system of record of the live contract. */
export function sqliteStore(): { store: SqliteStore; destroy(): Promise<void> } {
  const dir = tempDir();
  const store = new SqliteStore({
    path: path.join(dir, 'live.db'),
    sync: 'normal',
    mailboxMax: 100_000,
    retentionDays: 30,
  });
  return {
    store,
    async destroy() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

let ids = 0;
export function send(from: string, to: string): SendOp {
  ids++;
  return { kind: 'send', from, to, id: `m${ids}`, body: `body ${ids}` };
}

/**
 * What the relay does on `node`: commit the ops in one transaction, then hand the new
 * entries (messages and updates), receipts and blocks to that node's router.
 */
export async function relay(node: LiveNode, store: Store, ops: StoreOp[]): Promise<OpResult[]> {
  const results = await store.commit(ops, async (sends) => sends.map(() => null));
  for (const r of results) {
    if (r.kind === 'stored') node.router.publishEntries(r.entries);
    if (r.kind === 'applied') {
      node.router.publishEntries(r.entries);
      if (r.block) node.router.publishBlock(r.block);
    }
    if (r.kind === 'acked') for (const receipt of r.receipts) node.router.publishReceipt(receipt);
  }
  return results;
}

/** 1, 2, …, n. */
export function upto(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
