import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/config-parse.js';
import { openEngines } from '../src/engines.js';
import { createLogger } from '../src/logger.js';
import { Metrics } from '../src/metrics.js';
import { type PostgresEngine, requirePostgres, startPostgres, uniqueDatabase } from './engines/postgres.js';
import { http, startServer } from './helpers.js';

const DB = 'postgres://pigeon@127.0.0.1:5432/pigeon';

describe('PostgreSQL configuration', () => {
  it('PIGEON_DATABASE_URL selects PostgreSQL; unset (or empty) keeps SQLite', () => {
    expect(loadConfig({}).databaseUrl).toBeNull();
    expect(loadConfig({ PIGEON_DATABASE_URL: '' }).databaseUrl).toBeNull();
    expect(loadConfig({ PIGEON_DATABASE_URL: DB }).databaseUrl).toBe(DB);
  });

  it('PIGEON_DATABASE_POOL: 1 to 1000, default 10', () => {
    expect(loadConfig({}).databasePool).toBe(10);
    expect(loadConfig({ PIGEON_DATABASE_POOL: '1' }).databasePool).toBe(1);
    expect(loadConfig({ PIGEON_DATABASE_POOL: '1000' }).databasePool).toBe(1000);
    for (const bad of ['0', '1001', 'ten', '-1', '2.5']) {
      expect(() => loadConfig({ PIGEON_DATABASE_POOL: bad })).toThrow(
        expect.objectContaining({ variable: 'PIGEON_DATABASE_POOL', code: 'bad_config' }),
      );
    }
  });

  it('the composition refuses Redis without PostgreSQL when built without loadConfig too', async () => {
    const config = { ...loadConfig({}), redisUrl: 'redis://127.0.0.1:6379' };
    const err = await openEngines(config, { metrics: new Metrics(false), log: createLogger('silent') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('PIGEON_REDIS_URL');
  });
});

describe.runIf(requirePostgres('PostgreSQL node tests'))('a node on PostgreSQL', () => {
  let pg: PostgresEngine;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it('reports its pool in /metrics: the configured maximum, idle and busy connections, nothing waiting', async () => {
    const r = await startServer({ databaseUrl: await pg.createDatabase(uniqueDatabase()), databasePool: 3 });
    try {
      const m = (await http(r.url, 'GET', '/metrics')).text;
      expect(m).toMatch(/^pigeon_db_pool_max 3$/m);
      expect(m).toMatch(/^pigeon_db_up 1$/m);
      expect(m).toMatch(/^pigeon_db_pool_waiting 0$/m);
      const idle = Number(/^pigeon_db_pool_connections\{state="idle"\} (\d+)$/m.exec(m)?.[1]);
      const busy = Number(/^pigeon_db_pool_connections\{state="busy"\} (\d+)$/m.exec(m)?.[1]);
      expect(idle + busy).toBeGreaterThanOrEqual(1);
      expect(idle + busy).toBeLessThanOrEqual(3);
      expect(m).toMatch(/^pigeon_db_connection_errors_total 0$/m);
    } finally {
      await r.stop();
    }
  });
});
