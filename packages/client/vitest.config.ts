import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

export default defineConfig({
  test: { ...sharedTestConfig('client'), globalSetup: ['test/global-setup.ts'] },
});
