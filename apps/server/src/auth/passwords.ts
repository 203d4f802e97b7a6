import crypto from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function scrypt(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128 * N * r bytes; leave headroom above the default 32 MiB.
    crypto.scrypt(
      password,
      salt,
      KEY_LENGTH,
      { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/** A slow salted hash: `scrypt$N$salt$hash` (base64url), with a fresh random salt per user. */
export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = crypto.randomBytes(SALT_LENGTH);
  const key = await scrypt(password, salt, cost);
  return `scrypt$${cost}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time check of a password against a stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, costText, saltText, keyText] = stored.split('$');
  if (scheme !== 'scrypt' || !costText || !saltText || !keyText) return false;
  const expected = Buffer.from(keyText, 'base64url');
  const key = await scrypt(password, Buffer.from(saltText, 'base64url'), Number(costText));
  return key.length === expected.length && crypto.timingSafeEqual(key, expected);
}

/** A hash of nothing in particular: login checks unknown users against it so both answers take as long. */
export function dummyHash(cost: number): Promise<string> {
  return hashPassword(crypto.randomBytes(16).toString('hex'), cost);
}
