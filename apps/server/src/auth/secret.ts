import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * PIGEON_SECRET when set; otherwise a random key generated once and kept in
 * `<PIGEON_DB>.secret` (mode 0600), so that tokens stay valid across restarts.
 */
export function resolveSecret(configured: string | null, dbPath: string): string {
  if (configured !== null) return configured;
  const file = `${path.resolve(dbPath)}.secret`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new Error(`${file} holds no usable secret; delete it to generate a new one`);
  return secret;
}
