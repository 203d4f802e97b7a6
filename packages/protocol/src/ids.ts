import { MESSAGE_ID_PATTERN, USER_ID_PATTERN } from './limits.js';

/**
 * Maps ASCII `A-Z` to `a-z` and nothing else: look-alikes such as U+212A (Kelvin sign),
 * which `String.prototype.toLowerCase` would turn into `k`, stay as they are and so stay
 * invalid.
 */
export function normalizeUserId(raw: string): string {
  return raw.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** True for a user id as the server stores it (already lowercase). */
export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID_PATTERN.test(value);
}

/** Lowercases (ASCII only) and validates; `null` when the id is not valid. */
export function parseUserId(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 32) return null;
  const id = normalizeUserId(raw);
  return USER_ID_PATTERN.test(id) ? id : null;
}

export function isMessageId(value: unknown): value is string {
  return typeof value === 'string' && MESSAGE_ID_PATTERN.test(value);
}
