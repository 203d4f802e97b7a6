import { describe, expect, it } from 'vitest';
import { SHORT } from '../abuse/attacks.js';
import { ATTACK_COUNT, failures, formatRow, runSuite } from '../abuse/suite.js';

/**
 * The short form of `npm run abuse`: every attack for 2 s (3,000 fuzzed frames) against a
 * real server while an honest pair chats. It asserts correctness only (nothing lost or
 * doubled, the pair stays connected, the server stays up); the figures are printed.
 */
describe('abuse suite (short)', () => {
  it('every attack leaves the honest pair whole and the server up', async () => {
    const rows = await runSuite(SHORT);
    for (const row of rows) console.log(formatRow(row));
    expect(failures(rows, ATTACK_COUNT)).toEqual([]);
  }, 180_000);
});
