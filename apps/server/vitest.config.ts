import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared';

// `npm run test:pg` runs the same suite with every server on PostgreSQL (test/engines/test-engine.ts).
const onPostgres = process.env.PIGEON_TEST_ENGINE === 'postgres';
const shared = sharedTestConfig(onPostgres ? 'server-on-postgres' : 'server');

export default defineConfig({
  test: {
    ...shared,
    // On PostgreSQL, leave out what does not depend on the mode (the store contract and the
    // PostgreSQL tests start their own engines and already run in `npm test`).
    exclude: onPostgres ? ['**/node_modules/**', 'test/store-contract/**', 'test/pg-*.test.ts'] : undefined,
    // Builds dist/ for the tests that start dist/main.js as a child process.
    globalSetup: ['test/global-setup.ts'],
  },
});
