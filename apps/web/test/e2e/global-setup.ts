import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM_HINT = 'install chromium: apt-get install -y chromium';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the Chromium binary, or null when it is missing (the browser tests skip). */
    chromiumPath: string | null;
  }
}

/**
 * Runs once before the browser tests: finds Chromium and builds apps/web's dist/ (turbo's
 * test task only builds the dependencies, and the server serves whatever dist/ holds).
 */
export default async function setup(project: TestProject): Promise<void> {
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    if (process.env.CI === 'true') throw new Error(`Chromium not found at ${chromium}: ${CHROMIUM_HINT}`);
    const line = '!'.repeat(78);
    console.warn(
      `\n${line}\n!! SKIPPING the browser tests: no Chromium at ${chromium}\n!! ${CHROMIUM_HINT}\n${line}\n`,
    );
    project.provide('chromiumPath', null);
    return;
  }
  project.provide('chromiumPath', chromium);
  const serverMain = path.resolve(webDir, '../server/dist/main.js');
  if (!existsSync(serverMain)) {
    throw new Error(`${serverMain} is missing: run \`npx turbo run build --filter=@pigeon/server\` first`);
  }
  const { build } = await import('vite');
  // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      root: webDir,
      configFile: path.join(webDir, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
