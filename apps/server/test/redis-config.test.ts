import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/config-parse.js';

const DB = { PIGEON_DATABASE_URL: 'postgres://pigeon@127.0.0.1:5432/pigeon' };

describe('cluster configuration', () => {
  it('PIGEON_REDIS_URL needs PIGEON_DATABASE_URL: refused at start, naming the variable', () => {
    expect(() => loadConfig({ PIGEON_REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(ConfigError);
    try {
      loadConfig({ PIGEON_REDIS_URL: 'redis://127.0.0.1:6379' });
    } catch (err) {
      expect((err as ConfigError).variable).toBe('PIGEON_REDIS_URL');
      expect((err as ConfigError).code).toBe('bad_config');
    }
    expect(loadConfig({ ...DB, PIGEON_REDIS_URL: '/run/redis.sock' }).redisUrl).toBe('/run/redis.sock');
  });

  it('PIGEON_NODE_TTL_MS: 1000 to 600000, default 10000', () => {
    expect(loadConfig({}).nodeTtlMs).toBe(10_000);
    expect(loadConfig({ PIGEON_NODE_TTL_MS: '1000' }).nodeTtlMs).toBe(1000);
    expect(loadConfig({ PIGEON_NODE_TTL_MS: '600000' }).nodeTtlMs).toBe(600_000);
    for (const bad of ['999', '600001', '5s', '-1']) {
      expect(() => loadConfig({ PIGEON_NODE_TTL_MS: bad })).toThrow(
        expect.objectContaining({ variable: 'PIGEON_NODE_TTL_MS' }),
      );
    }
  });

  it('PIGEON_REDIS_PREFIX: 1-64 of A-Z a-z 0-9 : _ . -, default pigeon:', () => {
    expect(loadConfig({}).redisPrefix).toBe('pigeon:');
    expect(loadConfig({ PIGEON_REDIS_PREFIX: 'a' }).redisPrefix).toBe('a');
    expect(loadConfig({ PIGEON_REDIS_PREFIX: 'x'.repeat(64) }).redisPrefix).toBe('x'.repeat(64));
    expect(loadConfig({ PIGEON_REDIS_PREFIX: 'team-2.chat_v1:' }).redisPrefix).toBe('team-2.chat_v1:');
    for (const bad of ['x'.repeat(65), 'a b', "it's", 'x{y}', 'ä']) {
      expect(() => loadConfig({ PIGEON_REDIS_PREFIX: bad })).toThrow(
        expect.objectContaining({ variable: 'PIGEON_REDIS_PREFIX' }),
      );
    }
  });
});
