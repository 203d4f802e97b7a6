import { expect } from 'vitest';
import type {
  Admit,
  AdmitOp,
  MsgEntry,
  OpResult,
  SendOp,
  SendRefusal,
  Store,
  StoreOp,
} from '../../src/store/store.js';

/** What a store engine is made with in the contract suite. */
export interface StoreFactoryOptions {
  /** Entries a mailbox keeps at least (`PIGEON_MAILBOX_MAX`). */
  mailboxMax: number;
  /** Entries younger than this are kept (`PIGEON_RETENTION_DAYS`). */
  retentionDays: number;
  /** The store's only time source: message ts, revocation expiry. */
  now: () => number;
}

/** A fresh, empty store of one engine; `reopen` closes it and opens the same data again. */
interface StoreUnderTest {
  /** The open store (after `reopen`, the new one). */
  readonly store: Store;
  reopen(): Promise<Store>;
  /** Closes the store (if still open) and removes its data. */
  destroy(): Promise<void>;
}

export type StoreFactory = (opts: StoreFactoryOptions) => Promise<StoreUnderTest>;

/** A hand-moved clock: starts at a fixed date so ts values are predictable. */
class Clock {
  ms = Date.UTC(2026, 0, 1);
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Admits everything, recording what it was asked about. */
export function admitAll(asked: AdmitOp[][] = []): Admit {
  return async (sends) => {
    asked.push([...sends]);
    return sends.map(() => null);
  };
}

/** Refuses everything with `retryAfterMs`. */
export function refuseAll(retryAfterMs = 250): Admit {
  return async (sends) => sends.map((): SendRefusal => ({ code: 'rate_limited', retryAfterMs }));
}

let n = 0;
/** A fresh message id. */
function msgId(prefix = 'm'): string {
  n++;
  return `${prefix}${n}`;
}

export function send(from: string, to: string, id = msgId(), body = `body of ${id}`): SendOp {
  return { kind: 'send', from, to, id, body };
}

export function ack(user: string, seq: number): StoreOp {
  return { kind: 'ack', user, seq };
}

/** Commits and checks that every op has a result of the expected kind. */
export async function commitAll(
  store: Store,
  ops: StoreOp[],
  admit: Admit = admitAll(),
): Promise<OpResult[]> {
  const results = await store.commit(ops, admit);
  expect(results).toHaveLength(ops.length);
  return results;
}

/** Sends one message per op and expects each to be stored; returns their results. */
export async function storeAll(
  store: Store,
  ops: SendOp[],
): Promise<Extract<OpResult, { kind: 'stored' }>[]> {
  const results = await commitAll(store, ops);
  return results.map((r) => {
    if (r.kind !== 'stored') throw new Error(`expected stored, got ${JSON.stringify(r)}`);
    return r;
  });
}

/** Ids of every entry left in `user`'s mailbox, oldest first. */
export async function mailboxIds(store: Store, user: string): Promise<string[]> {
  const box = await store.mailbox(user);
  if (!box) throw new Error(`no mailbox for ${user}`);
  const entries = await readMsgs(store, user, 0, box.headSeq, 1_000_000);
  return entries.map((e) => e.frame.id);
}

/** `readRange` of a mailbox that holds messages only (no updates): its entries as message entries. */
export async function readMsgs(
  store: Store,
  user: string,
  afterSeq: number,
  uptoSeq: number,
  limit: number,
): Promise<MsgEntry[]> {
  const entries = await store.readRange(user, afterSeq, uptoSeq, limit);
  for (const e of entries)
    if (e.frame.t !== 'msg') throw new Error(`expected messages only, got ${e.frame.kind}`);
  return entries as MsgEntry[];
}

/** Per-test store: a fresh one before each test, destroyed after it. */
export interface StoreContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly sut: StoreUnderTest;
  /** Creates users with passwordless accounts. */
  users(...ids: string[]): Promise<void>;
}

export function makeContext(
  factory: StoreFactory,
  opts: Partial<Omit<StoreFactoryOptions, 'now'>>,
  hooks: { beforeEach: (fn: () => Promise<void>) => void; afterEach: (fn: () => Promise<void>) => void },
): StoreContext {
  let sut: StoreUnderTest | null = null;
  let clock = new Clock();
  hooks.beforeEach(async () => {
    clock = new Clock();
    sut = await factory({ mailboxMax: 10_000, retentionDays: 30, ...opts, now: clock.now });
  });
  hooks.afterEach(async () => {
    await sut?.destroy();
    sut = null;
  });
  const ctx: StoreContext = {
    get store(): Store {
      if (!sut) throw new Error('no store outside a test');
      return sut.store;
    },
    get clock(): Clock {
      return clock;
    },
    get sut(): StoreUnderTest {
      if (!sut) throw new Error('no store outside a test');
      return sut;
    },
    async users(...ids: string[]) {
      for (const id of ids) expect(await ctx.store.createUser(id, null)).toBe(true);
    },
  };
  return ctx;
}
