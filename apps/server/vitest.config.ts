import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

// `npm run test:pg` runs the same suite with every server on PostgreSQL, `npm run
// test:cluster` with every server a node on PostgreSQL + Redis (test/engines/test-engine.ts).
const engine = process.env.PIGEON_TEST_ENGINE;
const onPostgres = engine === 'postgres' || engine === 'cluster';
const shared = sharedTestConfig(onPostgres ? `server-on-${engine}` : 'server');

export default defineConfig({
  test: {
    ...shared,
    // In those modes, leave out what does not depend on the mode (the store and live-parts
    // contracts, the PostgreSQL, Redis and cross-node tests start their own engines and
    // already run in `npm test`).
    exclude: onPostgres
      ? [
          '**/node_modules/**',
          'test/store-contract/**',
          'test/pg-*.test.ts',
          'test/live-contract/**',
          'test/redis-*.test.ts',
          'test/cluster-*.test.ts',
        ]
      : undefined,
    // Builds dist/ for the tests that start dist/main.js as a child process.
    globalSetup: ['test/global-setup.ts'],
  },
});
