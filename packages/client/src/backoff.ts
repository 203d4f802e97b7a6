import { type BackoffOptions, DEFAULTS } from './options.js';

/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry): "full jitter",
 * uniform in [0, min(maxMs, baseMs * factor^attempt)). Jitter spreads the reconnects of many
 * clients after a server restart instead of having them all arrive at once. Pure: the random
 * source is a parameter (third argument, or `options.random`).
 */
export function nextDelay(
  attempt: number,
  options: Partial<BackoffOptions> & { random?: () => number } = DEFAULTS.backoff,
  random: () => number = options.random ?? Math.random,
): number {
  const { baseMs, maxMs, factor } = { ...DEFAULTS.backoff, ...options };
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  // Math.min before the power would overflow: factor^n is Infinity for large n, min keeps the cap.
  const cap = Math.min(maxMs, baseMs * factor ** n);
  const r = random();
  const unit = r >= 0 && r < 1 ? r : 0;
  return Math.floor(unit * cap);
}
