import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

const { reporters, include: _include, ...perProject } = sharedTestConfig('web');

// Unit tests (store, components) run in jsdom; the browser tests under test/e2e drive a real
// Chromium against the real server from Node, so they run in the node environment, one file
// after another, sharing one build of dist/ made in their global setup.
export default defineConfig({
  test: {
    reporters,
    projects: [
      {
        plugins: [react()],
        test: {
          ...perProject,
          name: 'unit',
          environment: 'jsdom',
          include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
        },
      },
      {
        test: {
          ...perProject,
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // What a browser shows takes a moment (sockets, renders): polls wait up to 5 s.
          expect: { poll: { timeout: 5_000 } },
        },
      },
    ],
  },
});
