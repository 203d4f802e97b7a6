import { describe, expect, it } from 'vitest';
import { DEFAULTS, nextDelay } from '../../src/index.js';

const opts = { baseMs: 500, maxMs: 30_000, factor: 2 };

describe('nextDelay (full jitter)', () => {
  it('scales the random source by a cap that doubles per attempt', () => {
    expect(nextDelay(0, opts, () => 0.5)).toBe(250);
    expect(nextDelay(1, opts, () => 0.5)).toBe(500);
    expect(nextDelay(3, opts, () => 0.5)).toBe(2000);
  });

  it('never exceeds maxMs, even for huge attempts', () => {
    expect(nextDelay(6, opts, () => 0.999_999)).toBe(29_999);
    expect(nextDelay(10_000, opts, () => 0.999_999)).toBe(29_999);
    expect(nextDelay(10_000, opts, () => 0.5)).toBe(15_000);
  });

  it('spans the whole range from zero (full jitter, not equal jitter)', () => {
    expect(nextDelay(5, opts, () => 0)).toBe(0);
    const seen = new Set<number>();
    let x = 0;
    for (let i = 0; i < 100; i++) seen.add(nextDelay(4, opts, () => (x = (x + 0.37) % 1)));
    for (const d of seen) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(8000);
    }
    expect(seen.size).toBeGreaterThan(50);
  });

  it('treats a negative or non-finite attempt as the first, and a bad random value as 0', () => {
    expect(nextDelay(-3, opts, () => 0.5)).toBe(250);
    expect(nextDelay(Number.NaN, opts, () => 0.5)).toBe(250);
    expect(nextDelay(2, opts, () => 1)).toBe(0);
    expect(nextDelay(2, opts, () => Number.NaN)).toBe(0);
  });

  it('takes the random source from options too', () => {
    expect(nextDelay(2, { ...opts, random: () => 0.25 })).toBe(500);
  });

  it('defaults to DEFAULTS.backoff', () => {
    expect(nextDelay(0, undefined, () => 0.5)).toBe(DEFAULTS.backoff.baseMs / 2);
    expect(nextDelay(100, {}, () => 0.5)).toBe(DEFAULTS.backoff.maxMs / 2);
  });
});
