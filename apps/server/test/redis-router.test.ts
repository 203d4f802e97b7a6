import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addEntries, type BusBatch, encodeBus } from '../src/router/redis-codec.js';
import type { Entry, Store } from '../src/store/store.js';
import { RedisServer, redisAvailable } from './engines/redis.js';
import { Recorder, relay, Signal, send, sqliteStore, upto } from './live-contract/harness.js';
import { freshPrefix, redisParts, type TestParts } from './redis-helpers.js';

/**
 * The Redis router beyond the shared contract: publications are hints. Out of order,
 * repeated, lost, garbled or late, every target still gets every entry once, in order,
 * because the store is the truth and the router reads it whenever a publication cannot
 * be trusted to have arrived.
 */
const hasRedis = redisAvailable('the Redis router tests');

describe.skipIf(!hasRedis)('redis router: publications are hints', () => {
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
    for (const u of ['ann', 'ben', 'cat']) await store.createUser(u, null);
  });
  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    nodes = [];
    await db.destroy();
  });

  function node(overrides: Parameters<typeof redisParts>[3] = {}): TestParts {
    const n = redisParts(redis, store, prefix, overrides);
    nodes.push(n);
    return n;
  }

  /** Commits without publishing: a node that died between its commit and its publish. */
  async function commitSilently(count: number, to = 'ben'): Promise<Entry[]> {
    const entries: Entry[] = [];
    for (let i = 0; i < count; i++) {
      const [r] = await store.commit([send('ann', to)], async (s) => s.map(() => null));
      if (r?.kind !== 'stored') throw new Error('not stored');
      entries.push(...r.entries.filter((e) => e.owner === to));
    }
    return entries;
  }

  it('hands entries published out of order and repeated once each, in order, filling the gap from the store', async () => {
    const a = node();
    const b = node();
    const ben = new Recorder('ben', signal);
    await ben.open(a.node, store);
    const entries = await commitSilently(6);
    // Node b publishes 5, then 2, then 5 again, then 6: node a hands 1–6 once, in order.
    const pub = (e: Entry[]): Promise<void> => {
      const batch: BusBatch = {};
      addEntries(batch, e);
      return b.link.publish(`${prefix}u:ben`, encodeBus(b.link.nodeId, batch));
    };
    await pub([entries[4]!]);
    await pub([entries[1]!]);
    await pub([entries[4]!, entries[5]!]);
    await signal.until(() => ben.emitted.length === 6, 'ben gets 6');
    expect(ben.handedLive).toEqual(upto(6));
    expect(await a.metric('pigeon_router_store_reads_total', { reason: 'gap' })).toBeGreaterThanOrEqual(1);
    // 5 again is a repeat; 2 is one too only if the gap read (a real round trip to the
    // store's reader thread) finished before it arrived: either order is correct.
    expect(await a.metric('pigeon_router_repeats_total')).toBeGreaterThanOrEqual(1);
  });

  it('drops a garbled publication and keeps routing what follows', async () => {
    const a = node();
    const b = node();
    const ben = new Recorder('ben', signal);
    await ben.open(a.node, store);
    await b.link.publish(`${prefix}u:ben`, 'not json');
    await b.link.publish(`${prefix}u:ben`, `x\n${JSON.stringify({ e: [{ s: 0, f: {} }] })}`);
    await relay(b.node, store, [send('ann', 'ben')]);
    await signal.until(() => ben.emitted.length === 1, 'the valid entry');
    expect(await a.metric('pigeon_redis_bad_messages_total')).toBe(2);
    expect(ben.emitted).toEqual([1]);
  });

  it('an entry committed but never published shows up by the periodic sweep', async () => {
    const a = node({ sweepMs: 1000 });
    const ben = new Recorder('ben', signal);
    await ben.open(a.node, store);
    await commitSilently(3);
    // The sweep checks every local mailbox once per sweepMs (one tick of 1 s here).
    await signal.until(() => ben.emitted.length === 3, 'the sweep', 5000);
    expect(ben.handedLive).toEqual(upto(3));
    expect(await a.metric('pigeon_router_entries_from_store_total')).toBe(3);
  });

  it('a poke (the publisher could not publish) makes the subscribers read the head', async () => {
    const a = node();
    const b = node();
    const ben = new Recorder('ben', signal);
    await ben.open(a.node, store);
    await commitSilently(2);
    await b.link.publish(`${prefix}u:ben`, encodeBus(b.link.nodeId, { p: 1 }));
    await signal.until(() => ben.emitted.length === 2, 'the poke');
    expect(ben.handedLive).toEqual([1, 2]);
  });

  it('a publisher whose publication failed pokes the mailbox once it is connected again', async () => {
    const a = node();
    const b = node();
    const ben = new Recorder('ben', signal);
    await ben.open(a.node, store);
    // Only node b loses Redis (its command connection is closed for good until connect()):
    // node a stays subscribed, so no reconnect of node a would reveal what b committed.
    b.link.cmd.disconnect();
    await new Promise<void>((resolve) => {
      const check = (): void => (b.link.commandsUp ? void setImmediate(check) : resolve());
      check();
    });
    await relay(b.node, store, [send('cat', 'ben'), send('cat', 'ben')]);
    const failures = (): Promise<number> => b.metric('pigeon_redis_publish_failures_total');
    // The publication of this turn fails at once (the connection is closed, not reconnecting).
    for (let i = 0; i < 100 && (await failures()) === 0; i++) await new Promise((r) => setImmediate(r));
    expect(await failures()).toBeGreaterThanOrEqual(1);
    expect(ben.emitted).toEqual([]);
    await b.link.cmd.connect();
    await signal.until(() => ben.emitted.length === 2, 'the entries, through the poke', 10_000);
    expect(ben.handedLive).toEqual([1, 2]);
    expect(await a.metric('pigeon_redis_received_total', { kind: 'poke' })).toBe(1);
  });

  it('Redis killed with -9 and restarted empty: every entry of the outage arrives once, in order', async () => {
    const a = node();
    const b = node();
    const c = node();
    const benA = new Recorder('ben', signal);
    const benB = new Recorder('ben', signal);
    const cat = new Recorder('cat', signal);
    await benA.open(a.node, store);
    await benB.open(b.node, store);
    await cat.open(a.node, store);
    await relay(c.node, store, [send('ann', 'ben')]);
    await signal.until(() => benA.emitted.length === 1 && benB.emitted.length === 1, 'before the crash');
    await redis.kill();
    // While Redis is away: node c keeps committing; node a's own sends reach its own targets.
    for (let i = 0; i < 5; i++) await relay(c.node, store, [send('ann', 'ben')]);
    await relay(a.node, store, [send('cat', 'cat')]);
    await signal.until(() => cat.emitted.length === 1, 'local delivery without Redis');
    // Without their subscription, nodes poll their mailboxes: delivery goes on, slower.
    await signal.until(() => benA.emitted.length === 6 && benB.emitted.length === 6, 'polled', 10_000);
    await redis.restart();
    for (let i = 0; i < 3; i++) await relay(c.node, store, [send('ann', 'ben')]);
    await signal.until(
      () => benA.emitted.length === 9 && benB.emitted.length === 9,
      'after the restart',
      15_000,
    );
    for (const r of [benA, benB]) {
      expect(r.emitted).toEqual(upto(9));
      expect(r.handedLive).toEqual(upto(9));
    }
    // Routing by publication is back: a new entry arrives without waiting for a poll.
    await signal.until(() => a.link.subscriptionsUp && b.link.subscriptionsUp, 'resubscribed', 10_000);
  });

  it('Redis frozen (SIGSTOP): local delivery goes on, the rest arrives after SIGCONT, once, in order', async () => {
    const a = node();
    const b = node();
    const benA = new Recorder('ben', signal);
    const benB = new Recorder('ben', signal);
    await benA.open(a.node, store);
    await benB.open(b.node, store);
    redis.signal('SIGSTOP');
    try {
      for (let i = 0; i < 4; i++) await relay(a.node, store, [send('ann', 'ben')]);
      // Node a hands its own commits out at once; node b hears nothing from a frozen Redis.
      await signal.until(() => benA.emitted.length === 4, 'local delivery');
    } finally {
      redis.signal('SIGCONT');
    }
    await signal.until(() => benB.emitted.length === 4, 'after SIGCONT', 10_000);
    expect(benB.handedLive).toEqual(upto(4));
    expect(benA.handedLive).toEqual(upto(4));
  });

  it('attach does not hang while Redis is down, and catches up once the subscription is confirmed', async () => {
    const a = node({ waitMs: 300 });
    const warm = new Recorder('cat', signal);
    await warm.open(a.node, store);
    await redis.kill();
    try {
      const ben = new Recorder('ben', signal);
      const started = Date.now();
      await ben.open(a.node, store);
      expect(Date.now() - started).toBeLessThan(3000);
      await commitSilently(2);
      await redis.restart();
      await signal.until(() => ben.emitted.length === 2, 'caught up after the subscription', 15_000);
      expect(ben.handedLive).toEqual([1, 2]);
    } finally {
      if (!(await redis.ping())) await redis.restart();
    }
  });
});
