import { afterAll, beforeAll } from 'vitest';
import { PgStore } from '../../src/store/pg-store.js';
import type { Store } from '../../src/store/store.js';
import { type PostgresEngine, requirePostgres, startPostgres, uniqueDatabase } from '../engines/postgres.js';
import { describeStoreContract, type StoreFactoryOptions } from './contract.js';

/*
 * The store contract, unchanged, against PostgreSQL: one cluster for this file, a fresh
 * database per test (the factory), dropped with the cluster at the end.
 */
if (requirePostgres('store contract on PostgreSQL')) {
  let pg: PostgresEngine;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  describeStoreContract('postgres', async (opts: StoreFactoryOptions) => {
    const url = await pg.createDatabase(uniqueDatabase('contract'));
    const open = (): Promise<PgStore> =>
      PgStore.open({
        url,
        poolSize: 4,
        mailboxMax: opts.mailboxMax,
        retentionDays: opts.retentionDays,
        now: opts.now,
      });
    let store: Store = await open();
    return {
      get store() {
        return store;
      },
      async reopen() {
        await store.close();
        store = await open();
        return store;
      },
      async destroy() {
        await store.close();
      },
    };
  });
}
