import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/auth/rate-limiter.js';
import type { Limiter } from '../src/limiter/limiter.js';
import { createLogger } from '../src/logger.js';
import { Metrics } from '../src/metrics.js';
import { MemoryRouter } from '../src/router/memory-router.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { StoreOp } from '../src/store/store.js';
import { type Outcome, Relay } from '../src/ws/relay.js';
import { tempDir } from './helpers.js';

/**
 * A limiter that answers on a later turn, as one across the network does (Redis), around
 * the in-memory buckets; it records the order in which takes and refunds reach it.
 */
class AsyncLimiter implements Limiter {
  readonly log: string[] = [];
  failFor: string | null = null;
  onTake: (() => void) | null = null;
  constructor(readonly inner: RateLimiter) {}
  take(key: string, now: number): Promise<number> {
    this.log.push(`take ${key}`);
    this.onTake?.();
    return new Promise((resolve, reject) =>
      setImmediate(() =>
        key === this.failFor ? reject(new Error('limiter down')) : resolve(this.inner.take(key, now)),
      ),
    );
  }
  async refund(key: string, now: number): Promise<void> {
    this.log.push(`refund ${key}`);
    this.inner.refund(key, now);
  }
}

let store: SqliteStore;
let dbPath: string;
let relay: Relay;
let limiter: AsyncLimiter;
let clock: number;

beforeEach(async () => {
  const dir = tempDir();
  clock = 1_000_000;
  dbPath = path.join(dir, 'a.db');
  store = await SqliteStore.open({
    path: dbPath,
    sync: 'full',
    mailboxMax: 1000,
    retentionDays: 30,
  });
  for (const u of ['a', 'b', 'c']) await store.createUser(u, null);
  // Two tokens, refilling at one per 1000 s: nothing refills during a test unless the clock moves.
  limiter = new AsyncLimiter(new RateLimiter(2, 0.001));
  relay = new Relay({
    store,
    router: new MemoryRouter(),
    limiter,
    metrics: new Metrics(false),
    log: createLogger('silent'),
    now: () => clock,
  });
});

afterEach(async () => {
  await relay.drain();
  relay.close();
  await store.close();
});

/** Submits the ops in one turn (one batch) and resolves with their outcomes, in order. */
function batch(ops: StoreOp[]): Promise<Outcome[]> {
  return Promise.all(ops.map((op) => new Promise<Outcome>((resolve) => relay.submit(op, resolve))));
}

const send = (from: string, id: string, to = 'b'): StoreOp => ({ kind: 'send', from, to, id, body: id });

describe('relay admission with an asynchronous limiter', () => {
  it('keeps the spec order within a batch: a repeat and a send to nobody take no token', async () => {
    const out = await batch([send('a', 'x1'), send('a', 'x1'), send('a', 'n', 'nobody'), send('a', 'x2')]);
    expect(out.map((o) => o.kind)).toEqual(['stored', 'duplicate', 'no_such_user', 'stored']);
    expect(limiter.log).toEqual(['take a', 'take a']);
  });

  it('with an empty bucket a duplicate is still sent and a send to nobody still no_such_user', async () => {
    await batch([send('a', 'y1'), send('a', 'y2')]);
    const out = await batch([send('a', 'y1'), send('a', 'n', 'nobody'), send('a', 'y3')]);
    expect(out.map((o) => o.kind)).toEqual(['duplicate', 'no_such_user', 'refused']);
    expect(out[2]).toMatchObject({ refusal: { code: 'rate_limited', retryAfterMs: 1_000_000 } });
  });

  it('a refused send takes no token: the next token that refills is there for the next send', async () => {
    await batch([send('a', 'z1'), send('a', 'z2')]);
    expect((await batch([send('a', 'z3')]))[0]!.kind).toBe('refused');
    clock += 1000 * 1000;
    const out = await batch([send('a', 'z3'), send('a', 'z4')]);
    expect(out.map((o) => o.kind)).toEqual(['stored', 'refused']);
  });

  it('buckets are per sender', async () => {
    const out = await batch([send('a', 'p1'), send('a', 'p2'), send('a', 'p3'), send('c', 'p1')]);
    expect(out.map((o) => o.kind)).toEqual(['stored', 'stored', 'refused', 'stored']);
    expect(limiter.log).toEqual(['take a', 'take a', 'take a', 'take c']);
  });

  it('when the limiter fails the batch fails, nothing is stored, and the tokens it granted come back', async () => {
    limiter.failFor = 'c';
    const out = await batch([send('a', 'f1'), send('c', 'f2'), { kind: 'ack', user: 'b', seq: 1 }]);
    expect(out.map((o) => o.kind)).toEqual(['failed', 'failed', 'failed']);
    expect(limiter.log).toEqual(['take a', 'take c', 'refund a']);
    expect(await store.mailbox('b')).toMatchObject({ headSeq: 0 });
    limiter.failFor = null;
    // a still has both tokens.
    expect((await batch([send('a', 'f1'), send('a', 'f3')])).map((o) => o.kind)).toEqual([
      'stored',
      'stored',
    ]);
  });

  it('when the commit fails after admission, every granted token is refunded', async () => {
    // Another process takes the database's write lock while the limiter answers: the
    // writer's transaction then fails (after its busy timeout) with nothing stored.
    const other = new Database(dbPath);
    other.pragma('busy_timeout = 0');
    limiter.onTake = () => {
      if (!other.inTransaction) other.exec('BEGIN IMMEDIATE');
    };
    try {
      const out = await batch([send('a', 'g1'), send('a', 'g2'), send('a', 'g3')]);
      expect(out.map((o) => o.kind)).toEqual(['failed', 'failed', 'failed']);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    // Two were granted (the third found the bucket empty): both come back.
    expect(limiter.log).toEqual(['take a', 'take a', 'take a', 'refund a', 'refund a']);
    expect(await store.mailbox('b')).toMatchObject({ headSeq: 0 });
    limiter.onTake = null;
    const again = await batch([send('a', 'g1'), send('a', 'g2'), send('a', 'g3')]);
    expect(again.map((o) => o.kind)).toEqual(['stored', 'stored', 'refused']);
  });
});
