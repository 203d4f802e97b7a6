import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisServer, redisAvailable } from './engines/redis.js';
import { sqliteStore } from './live-contract/harness.js';
import { freshPrefix, redisParts, type TestParts } from './redis-helpers.js';

const hasRedis = redisAvailable('the Redis limiter tests');

/**
 * The shared buckets when Redis is not there: a decision never waits longer than waitMs
 * and never fails a send; the node decides with a bucket of its own meanwhile.
 */
describe.skipIf(!hasRedis)('redis limiter without Redis', () => {
  const T0 = Date.UTC(2026, 0, 1);
  const RATE = 5;
  const WAIT_MS = 300;
  let redis: RedisServer;
  let db: ReturnType<typeof sqliteStore>;
  let nodes: TestParts[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    db = sqliteStore();
    const prefix = freshPrefix();
    nodes = [0, 1].map(() =>
      redisParts(redis, db.store, prefix, { rate: RATE, waitMs: WAIT_MS, authRate: 6 }),
    );
  });
  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await db.destroy();
  });

  it('frozen Redis: the first decision waits waitMs, the next ones none, from a node-local bucket of the same size', async () => {
    const [a, b] = nodes as [TestParts, TestParts];
    // Shared while Redis answers: a takes 4 of the 10, so b finds 6.
    for (let i = 0; i < 4; i++) expect(await a.sendLimiter.take('u', T0)).toBe(0);
    redis.signal('SIGSTOP');
    try {
      const started = Date.now();
      const first = await b.sendLimiter.take('u', T0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 20);
      expect(Date.now() - started).toBeLessThan(WAIT_MS + 1000);
      expect(first).toBe(0);
      // Node b's own bucket: full at first (capacity 2 × rate), then it refuses; Redis is
      // known to be stalled now, so none of these waits.
      const rest = Date.now();
      for (let i = 1; i < RATE * 2; i++) expect(await b.sendLimiter.take('u', T0)).toBe(0);
      expect(await b.sendLimiter.take('u', T0)).toBe(1000 / RATE);
      expect(Date.now() - rest).toBeLessThan(WAIT_MS);
      expect(await b.metric('pigeon_limiter_fallbacks_total', { limiter: 'send' })).toBe(RATE * 2 + 1);
    } finally {
      redis.signal('SIGCONT');
    }
  });

  it('Redis gone: decisions fall back at once (no waiting); back to the shared bucket after it returns', async () => {
    const [a, b] = nodes as [TestParts, TestParts];
    expect(await a.authLimiter.take('10.0.0.1', T0)).toBe(0);
    await redis.kill();
    try {
      await new Promise<void>((resolve) => {
        const check = (): void => (a.link.commandsUp ? void setImmediate(check) : resolve());
        check();
      });
      const started = Date.now();
      for (let i = 0; i < 6; i++) expect(await a.authLimiter.take('10.0.0.1', T0)).toBe(0);
      expect(await a.authLimiter.take('10.0.0.1', T0)).toBe(10_000);
      expect(Date.now() - started).toBeLessThan(WAIT_MS);
    } finally {
      await redis.restart();
    }
    // Redis restarted empty: one shared bucket of 6 for both nodes again.
    for (const n of [a, b]) {
      await new Promise<void>((resolve) => {
        const check = (): void => (n.link.commandsUp ? resolve() : void setTimeout(check, 20));
        check();
      });
    }
    for (let i = 0; i < 6; i++) expect(await (i % 2 ? a : b).authLimiter.take('10.0.0.1', T0)).toBe(0);
    expect(await b.authLimiter.take('10.0.0.1', T0)).toBe(10_000);
  });
});
