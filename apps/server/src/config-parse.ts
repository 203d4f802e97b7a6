import { AddressList } from './http/address-list.js';

/*
 * The parsers of one environment variable each (config.ts reads them all into Config):
 * an unset or empty variable gives the fallback, a bad value throws ConfigError naming it.
 */

/** Signing keys shorter than this are refused: a short HS256 key is cracked offline from one token. */
export const MIN_SECRET_BYTES = 32;

/** A configuration value that does not parse; `variable` names the environment variable. */
export class ConfigError extends Error {
  readonly code = 'bad_config';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export function str(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

export function int(env: Env, name: string, min: number, max: number, fallback: number): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim()))
    throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function num(env: Env, name: string, min: number, max: number, fallback: number): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw.trim());
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(n)) {
    throw new ConfigError(name, `expected a number, got ${JSON.stringify(raw)}`);
  }
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true' || v === 'yes') return true;
  if (v === '0' || v === 'false' || v === 'no') return false;
  throw new ConfigError(name, `expected 1 or 0, got ${JSON.stringify(raw)}`);
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  const v = raw.trim().toLowerCase() as T;
  if (!allowed.includes(v))
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return v;
}

export function origins(env: Env, name: string): string[] {
  const raw = str(env, name);
  if (raw === undefined) return [];
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const o of list) {
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError(name, `not an origin: ${JSON.stringify(o)}`);
    }
    if (url.origin === 'null') throw new ConfigError(name, `not an origin: ${JSON.stringify(o)}`);
  }
  return list;
}

/** A signing key of at least MIN_SECRET_BYTES bytes (UTF-8), or undefined when unset. */
export function secret(env: Env, name: string): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes < MIN_SECRET_BYTES) {
    throw new ConfigError(
      name,
      `must be at least ${MIN_SECRET_BYTES} bytes (it is ${bytes}); generate one with: openssl rand -hex 32`,
    );
  }
  return raw;
}

export function addresses(env: Env, name: string, fallback: AddressList): AddressList {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  try {
    return new AddressList(raw);
  } catch (err) {
    throw new ConfigError(name, (err as Error).message);
  }
}

/** 1–64 of letters, digits and `:_.-`: it goes into keys, channel names and Lua strings unquoted. */
export function redisPrefix(env: Env, name: string, fallback: string): string {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(raw)) {
    throw new ConfigError(name, `expected 1-64 of A-Z a-z 0-9 : _ . -, got ${JSON.stringify(raw)}`);
  }
  return raw;
}
