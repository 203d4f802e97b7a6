import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { excerpt, isWellFormedText, LIMITS } from '../src/index.js';

describe('isWellFormedText', () => {
  it('agrees with String.prototype.isWellFormed on any UTF-16 string', () => {
    const native = (s: string) => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
        (s) => {
          expect(isWellFormedText(s)).toBe(native(s));
        },
      ),
      { numRuns: 3000 },
    );
  });
  it('at the edges of the surrogate ranges', () => {
    expect(isWellFormedText('\ud7ff\ue000')).toBe(true);
    expect(isWellFormedText('\ud800\udc00')).toBe(true);
    expect(isWellFormedText('\udbff\udfff')).toBe(true);
    expect(isWellFormedText('\ud800')).toBe(false);
    expect(isWellFormedText('\udfff')).toBe(false);
    expect(isWellFormedText('\udc00\ud800')).toBe(false);
  });
});

describe('excerpt', () => {
  const max = LIMITS.echoMaxLength;
  it('keeps text up to the limit as it is, shortens one unit more', () => {
    expect(excerpt('a'.repeat(max))).toBe('a'.repeat(max));
    expect(excerpt('a'.repeat(max + 1))).toBe(`${'a'.repeat(max)}…`);
  });
  it('never cuts a surrogate pair in two', () => {
    const cut = excerpt(`${'a'.repeat(max - 1)}😀 and more`);
    expect(cut).toBe(`${'a'.repeat(max - 1)}…`);
    expect(isWellFormedText(cut)).toBe(true);
  });
});
