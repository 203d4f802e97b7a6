import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, MIN_SECRET_BYTES } from '../config-parse.js';

/**
 * PIGEON_SECRET when set; otherwise a random key generated once and kept in
 * `<PIGEON_DB>.secret` (mode 0600), so that tokens stay valid across restarts.
 */
export function resolveSecret(configured: string | null, dbPath: string): string {
  if (configured !== null) return checkSecret('PIGEON_SECRET', configured);
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

/**
 * `value` when it is at least MIN_SECRET_BYTES long. loadConfig checks the environment;
 * this covers keys given to createPigeonServer directly.
 */
export function checkSecret(variable: string, value: string): string {
  if (Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) {
    throw new ConfigError(variable, `must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return value;
}
