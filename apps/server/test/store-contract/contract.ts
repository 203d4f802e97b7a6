import { describe } from 'vitest';
import { accountsContract } from './accounts.js';
import { featureMarksContract } from './features-marks.js';
import { featureMessagesContract } from './features-messages.js';
import { featureSearchContract } from './features-search.js';
import type { StoreFactory } from './harness.js';
import { readsContract } from './reads.js';
import { retentionContract } from './retention.js';
import { sendsContract } from './sends.js';

export type { StoreFactory, StoreFactoryOptions } from './harness.js';

/**
 * The Store contract (src/store/store.ts) as tests, the same for every engine: each engine
 * adds one `<engine>.test.ts` here that calls this with a factory making a fresh store.
 */
export function describeStoreContract(engine: string, factory: StoreFactory): void {
  describe(`store contract: ${engine}`, () => {
    accountsContract(factory);
    sendsContract(factory);
    readsContract(factory);
    retentionContract(factory);
    featureMessagesContract(factory);
    featureMarksContract(factory);
    featureSearchContract(factory);
  });
}
