import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

/** `npm run abuse`: the full-size abuse suite (minutes), apart from `npm test`. */
export default defineConfig({
  test: {
    ...sharedTestConfig('server-abuse'),
    include: ['abuse/**/*.run.ts'],
    testTimeout: 30 * 60_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
