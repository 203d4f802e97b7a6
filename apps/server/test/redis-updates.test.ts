import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Entry, Store } from '../src/store/store.js';
import { RedisServer, redisAvailable } from './engines/redis.js';
import { Recorder, relay, Signal, send, sqliteStore, upto } from './live-contract/harness.js';
import { freshPrefix, redisParts, type TestParts } from './redis-helpers.js';

/**
 * Update entries (issue 10) through the Redis router's gap logic: they share the mailbox's
 * sequence with messages, so a lost publication of an update is a gap like a lost message,
 * filled from the store (whose reads return updates in place), and an update published
 * ahead of a missing message waits for it.
 */
const hasRedis = redisAvailable('the Redis router tests with update entries');

describe.skipIf(!hasRedis)('redis router: update entries in the mailbox order', () => {
  let redis: RedisServer;
  let db: ReturnType<typeof sqliteStore>;
  let store: Store;
  let signal: Signal;
  let nodes: TestParts[] = [];
  let prefix = '';

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(async () => {
    db = sqliteStore();
    store = db.store;
    signal = new Signal();
    prefix = freshPrefix();
    for (const u of ['ann', 'ben']) await store.createUser(u, null);
  });
  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    nodes = [];
    await db.destroy();
  });

  function node(): TestParts {
    const n = redisParts(redis, store, prefix);
    nodes.push(n);
    return n;
  }

  it('updates committed but never published are read from the store when a later entry shows the gap', async () => {
    const a = node();
    const b = node();
    const ben = new Recorder('ben', signal);
    await ben.open(a.node, store);
    const m = send('ann', 'ben');
    await relay(b.node, store, [m]);
    // A node that died between its commit and its publication: two updates nobody heard of.
    const silent = await store.commit(
      [
        { kind: 'react', user: 'ben', ref: { from: 'ann', id: m.id }, emoji: '👍' },
        { kind: 'edit', user: 'ann', ref: { from: 'ann', id: m.id }, body: 'edited' },
      ],
      async (ops) => ops.map(() => null),
    );
    expect(silent.map((r) => r.kind)).toEqual(['applied', 'applied']);
    // The next message, published: seq 4 in ben's mailbox reveals that 2 and 3 are missing.
    await relay(b.node, store, [send('ann', 'ben')]);
    await signal.until(() => ben.emitted.length === 4, 'ben gets 4');
    expect(ben.handedLive).toEqual(upto(4));
    expect(ben.kinds).toEqual(['msg', 'react', 'edit', 'msg']);
    expect(await a.metric('pigeon_router_store_reads_total', { reason: 'gap' })).toBeGreaterThanOrEqual(1);
  });

  it('an update published before the message it follows waits for it', async () => {
    const a = node();
    const b = node();
    const ann = new Recorder('ann', signal);
    await ann.open(a.node, store);
    const m = send('ann', 'ben');
    const [stored] = await store.commit([m], async (ops) => ops.map(() => null));
    const [applied] = await store.commit(
      [{ kind: 'react', user: 'ben', ref: { from: 'ann', id: m.id }, emoji: '🎉' }],
      async (ops) => ops.map(() => null),
    );
    if (stored?.kind !== 'stored' || applied?.kind !== 'applied') throw new Error('not stored');
    const annEntries = (entries: readonly Entry[]) => entries.filter((e) => e.owner === 'ann');
    // Published in the wrong order: the update (seq 2), then the message (seq 1).
    b.router.publishEntries(annEntries(applied.entries));
    await signal.until(() => ann.handedLive.length === 2, 'ann gets both');
    expect(ann.handedLive).toEqual([1, 2]);
    expect(ann.kinds).toEqual(['msg', 'react']);
    b.router.publishEntries(annEntries(stored.entries));
    // The late message is a repeat: nothing is handed twice.
    await relay(b.node, store, [send('ben', 'ann')]);
    await signal.until(() => ann.handedLive.length === 3, 'ann gets the third');
    expect(ann.handedLive).toEqual([1, 2, 3]);
  });
});
