import fs from 'node:fs';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../helpers.js';
import { describeStoreContract, type StoreFactoryOptions } from './contract.js';

describeStoreContract('sqlite', async (opts: StoreFactoryOptions) => {
  const dir = tempDir();
  const file = path.join(dir, 'contract.db');
  const open = (): SqliteStore =>
    new SqliteStore({
      path: file,
      sync: 'full',
      mailboxMax: opts.mailboxMax,
      retentionDays: opts.retentionDays,
      now: opts.now,
    });
  let store: Store = open();
  return {
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = open();
      return store;
    },
    async destroy() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
