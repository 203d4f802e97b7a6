import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared';

export default defineConfig({
  test: {
    ...sharedTestConfig('server'),
    // Builds dist/ for the tests that start dist/main.js as a child process.
    globalSetup: ['test/global-setup.ts'],
  },
});
