import path from 'node:path';
import type { ViteUserConfig } from 'vitest/config';

/**
 * Settings every workspace's vitest.config.ts starts from. When VITEST_JSON_DIR is set
 * (by .ci/run), each workspace also writes vitest's JSON report there, so CI can add up
 * the real pass/fail counts of all workspaces.
 */
export function sharedTestConfig(workspace: string): NonNullable<ViteUserConfig['test']> {
  const jsonDir = process.env.VITEST_JSON_DIR;
  return {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx', 'src/**/*.test.ts', 'src/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: jsonDir
      ? [
          'default',
          ['json', { outputFile: path.join(jsonDir, `${workspace.replace(/[^a-z0-9]+/gi, '-')}.json`) }],
        ]
      : ['default'],
  };
}
