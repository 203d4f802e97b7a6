import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The child-process tests run the real entry point, dist/main.js: build it from the
 * current sources first so they never test a stale build.
 */
export default function setup(): () => void {
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const tsc = path.resolve(pkg, '../../node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: pkg, stdio: 'inherit' });
  // Every test's temp dir (databases of many MB) lives under one root, removed at the end.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-server-tests-'));
  process.env.PIGEON_TEST_TMP = root;
  return () => fs.rmSync(root, { recursive: true, force: true });
}
