import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM_HINT = 'install chromium: apt-get install -y chromium';
const BUILD_HINT = 'run `npx turbo run build --filter=@pigeon/web` (`npx turbo run test` builds first)';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the Chromium binary, or null when it is missing (the browser tests skip). */
    chromiumPath: string | null;
  }
}

/** The newest modification time of the files under `dir` (recursively). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/**
 * Runs once before the browser tests: finds Chromium and checks that the builds they test
 * exist and are current. Tests build nothing themselves: turbo's `test` task depends on
 * `build`, and the server serves whatever apps/web/dist holds, so a stale dist/ would test
 * old code; that is refused with the command that fixes it.
 */
export default function setup(project: TestProject): void {
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
  const built = path.join(webDir, 'dist', 'index.html');
  if (!existsSync(built)) throw new Error(`apps/web/dist is missing: ${BUILD_HINT}`);
  const sources = Math.max(
    newest(path.join(webDir, 'src')),
    newest(path.join(webDir, 'public')),
    statSync(path.join(webDir, 'index.html')).mtimeMs,
    statSync(path.join(webDir, 'vite.config.ts')).mtimeMs,
  );
  if (sources > statSync(built).mtimeMs)
    throw new Error(`apps/web/dist is older than its sources: ${BUILD_HINT}`);
}
