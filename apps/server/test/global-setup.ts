import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requirePostgres, startPostgres } from './engines/postgres.js';
import { RedisServer, redisAvailable } from './engines/redis.js';
import { onPostgres, testEngine } from './engines/test-engine.js';

/**
 * The child-process tests run the real entry point, dist/main.js, and the SQLite store runs
 * its worker threads from dist/store/ even when the tests run the sources: turbo builds
 * before `test` (turbo.json). A build older than the sources would test stale code, so
 * that stops the run, saying how to build.
 */
function requireFreshBuild(pkg: string): void {
  const newest = (dir: string): number =>
    fs.existsSync(dir)
      ? Math.max(
          0,
          ...fs
            .readdirSync(dir, { withFileTypes: true, recursive: true })
            .filter((e) => e.isFile())
            .map((e) => fs.statSync(path.join(e.parentPath, e.name)).mtimeMs),
        )
      : 0;
  const built = fs.existsSync(path.join(pkg, 'dist', 'main.js'))
    ? fs.statSync(path.join(pkg, 'dist', 'main.js')).mtimeMs
    : 0;
  const src = newest(path.join(pkg, 'src'));
  if (built === 0 || src > built) {
    throw new Error(
      `apps/server/dist is ${built === 0 ? 'missing' : 'older than src/'}: run the tests with \`npm test\` (turbo builds first) or build with \`npx turbo run build --filter=@pigeon/server\``,
    );
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  requireFreshBuild(pkg);
  // Every test's temp dir (databases of many MB) lives under one root, removed at the end.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-server-tests-'));
  process.env.PIGEON_TEST_TMP = root;
  // `npm run test:pg`: one PostgreSQL for the whole run (see engines/test-engine.ts).
  if (
    onPostgres &&
    !requirePostgres(
      `npm run test:${testEngine === 'cluster' ? 'cluster' : 'pg'} (the server suite on PostgreSQL)`,
    )
  ) {
    // Running on SQLite instead would report a PostgreSQL run that never happened.
    process.exit(0);
  }
  if (
    testEngine === 'cluster' &&
    !redisAvailable('npm run test:cluster (the server suite on PostgreSQL + Redis)')
  ) {
    process.exit(0);
  }
  const pg = onPostgres ? await startPostgres() : null;
  if (pg) process.env.PIGEON_TEST_PG_URL = `postgres://postgres@127.0.0.1:${pg.port}`;
  // `npm run test:cluster`: one redis-server for the run as well (see engines/test-engine.ts).
  const redis = testEngine === 'cluster' ? await RedisServer.start() : null;
  if (redis) process.env.PIGEON_TEST_REDIS_URL = redis.url;
  return async () => {
    await redis?.stop();
    await pg?.destroy();
    fs.rmSync(root, { recursive: true, force: true });
  };
}
