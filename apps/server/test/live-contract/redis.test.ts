import crypto from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll } from 'vitest';
import { createRedisParts, type RedisParts } from '../../src/router/redis-parts.js';
import { RedisServer, redisAvailable } from '../engines/redis.js';
import { describeLiveContract } from './contract.js';

const hasRedis = redisAvailable('the live-parts contract against Redis');
let redis: RedisServer | null = null;

beforeAll(async () => {
  if (hasRedis) redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.stop();
});

if (hasRedis) {
  // Each test gets three nodes of its own on one real redis-server, under a fresh prefix.
  describeLiveContract('redis', async ({ store, nodes, rate }) => {
    if (!redis) throw new Error('redis-server did not start');
    const prefix = `t${crypto.randomBytes(4).toString('hex')}:`;
    const parts: RedisParts[] = [];
    for (let i = 0; i < nodes; i++) {
      parts.push(
        createRedisParts({
          url: redis.url,
          reader: store,
          registry: new Registry(),
          log: pino({ level: 'silent' }),
          rate,
          authRate: 30,
          nodeTtlMs: 10_000,
          sweepMs: 30_000,
          waitMs: 2000,
          prefix,
        }),
      );
    }
    return {
      nodes: parts.map((p) => ({ router: p.router, presence: p.presence, sendLimiter: p.sendLimiter })),
      async destroy() {
        await Promise.all(parts.map((p) => p.close()));
      },
    };
  });
}
