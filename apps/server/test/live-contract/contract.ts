import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { featuresContract } from './features.js';
import { type LiveFactory, type LiveNode, type LiveUnderTest, Signal, sqliteStore } from './harness.js';
import { limiterContract } from './limiter.js';
import { presenceContract } from './presence.js';
import { routerContract } from './router.js';

export type { LiveFactory } from './harness.js';

/** What each test of the contract gets: three nodes on one store, and a signal to wait on. */
export interface LiveContext {
  readonly nodes: LiveNode[];
  readonly store: Store;
  readonly signal: Signal;
  /** Rate of the send limiter (PIGEON_RATE) the nodes were made with. */
  readonly rate: number;
}

const CONTRACT_RATE = 5;

/**
 * The contract of the live parts (src/router/router.ts, presence.ts, limiter/limiter.ts)
 * as tests, the same for every implementation: each adds a `<impl>.test.ts` calling this
 * with a factory of nodes. Everything is checked through three nodes: publish on one,
 * receive on another (the in-process parts are one node three times).
 */
export function describeLiveContract(impl: string, factory: LiveFactory): void {
  describe(`live parts contract: ${impl}`, () => {
    let sut: LiveUnderTest | null = null;
    let db: ReturnType<typeof sqliteStore> | null = null;
    let signal = new Signal();
    beforeEach(async () => {
      db = sqliteStore();
      signal = new Signal();
      sut = await factory({ store: db.store, nodes: 3, rate: CONTRACT_RATE });
    });
    afterEach(async () => {
      await sut?.destroy();
      await db?.destroy();
      sut = null;
      db = null;
    });
    const ctx: LiveContext = {
      get nodes() {
        if (!sut) throw new Error('no nodes outside a test');
        return sut.nodes;
      },
      get store() {
        if (!db) throw new Error('no store outside a test');
        return db.store;
      },
      get signal() {
        return signal;
      },
      rate: CONTRACT_RATE,
    };
    routerContract(ctx);
    presenceContract(ctx);
    limiterContract(ctx);
    featuresContract(ctx);
  });
}
