import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requirePostgres, startPostgres } from './engines/postgres.js';
import { testEngine } from './engines/test-engine.js';

/**
 * The child-process tests run the real entry point, dist/main.js: build it from the
 * current sources first so they never test a stale build.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const tsc = path.resolve(pkg, '../../node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: pkg, stdio: 'inherit' });
  // Every test's temp dir (databases of many MB) lives under one root, removed at the end.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-server-tests-'));
  process.env.PIGEON_TEST_TMP = root;
  // `npm run test:pg`: one PostgreSQL for the whole run (see engines/test-engine.ts).
  if (testEngine === 'postgres' && !requirePostgres('npm run test:pg (the server suite on PostgreSQL)')) {
    // Running on SQLite instead would report a PostgreSQL run that never happened.
    process.exit(0);
  }
  const pg = testEngine === 'postgres' ? await startPostgres() : null;
  if (pg) process.env.PIGEON_TEST_PG_URL = `postgres://postgres@127.0.0.1:${pg.port}`;
  return async () => {
    await pg?.destroy();
    fs.rmSync(root, { recursive: true, force: true });
  };
}
