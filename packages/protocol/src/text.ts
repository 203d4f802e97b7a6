import { LIMITS } from './limits.js';

// With the `u` flag a paired surrogate is one code point (not in category Cs), so this
// matches exactly the lone ones: a high surrogate not followed by a low one, or a low one
// not preceded by a high one. A regex keeps Node 20 and older browsers alike working, where
// `String.prototype.isWellFormed` is not everywhere yet.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True when the string is well-formed UTF-16 (no lone surrogate). A lone surrogate cannot
 * be encoded as UTF-8, so storing one is lossy (it comes back as U+FFFD, three bytes); the
 * spec makes such strings `bad_frame` wherever a user writes text.
 */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * `s` cut to at most `max` UTF-16 units, never between the two halves of a surrogate pair,
 * with "…" added when something was cut.
 */
export function cutText(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

/** A short excerpt of client input for an error message: `LIMITS.echoMaxLength` units at most, then "…". */
export function excerpt(s: string): string {
  return cutText(s, LIMITS.echoMaxLength);
}
