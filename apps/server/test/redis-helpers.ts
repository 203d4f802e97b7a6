import crypto from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createRedisParts, type RedisParts, type RedisPartsOptions } from '../src/router/redis-parts.js';
import type { Store } from '../src/store/store.js';
import type { RedisServer } from './engines/redis.js';
import type { LiveNode } from './live-contract/harness.js';

export interface TestParts extends RedisParts {
  node: LiveNode;
  registry: Registry;
  /** Current value of a counter or gauge of this node (summed over labels matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/** A fresh key prefix: tests sharing one redis-server never see each other. */
export function freshPrefix(): string {
  return `t${crypto.randomBytes(4).toString('hex')}:`;
}

/** The Redis parts of one node, as a server makes them, with test-sized timings. */
export function redisParts(
  redis: RedisServer,
  store: Store,
  prefix: string,
  overrides: Partial<RedisPartsOptions> = {},
): TestParts {
  const registry = new Registry();
  const parts = createRedisParts({
    url: redis.url,
    reader: store,
    registry,
    log: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    rate: 5,
    authRate: 30,
    nodeTtlMs: 10_000,
    sweepMs: 60_000,
    waitMs: 500,
    prefix,
    ...overrides,
  });
  return Object.assign(parts, {
    node: { router: parts.router, presence: parts.presence, sendLimiter: parts.sendLimiter },
    registry,
    async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
      const m = registry.getSingleMetric(name);
      if (!m) throw new Error(`no metric ${name}`);
      const { values } = await m.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
        .reduce((sum, v) => sum + v.value, 0);
    },
  });
}
