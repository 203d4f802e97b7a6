import { describe, expect, it } from 'vitest';
import { FULL } from './attacks.js';
import { ATTACK_COUNT, failures, runSuite, table } from './suite.js';

/**
 * `npm run abuse`: every attack of issue 9 at full size (10 s each, 100,000 fuzzed frames)
 * against a real server while an honest pair chats; prints the table for the README.
 */
describe('abuse suite (full)', () => {
  it('the honest pair loses and doubles nothing, and the server stays up, under every attack', async () => {
    const rows = await runSuite(FULL, (line) => console.log(line));
    console.log(`\n${table(rows)}\n`);
    expect(failures(rows, ATTACK_COUNT)).toEqual([]);
  });
});
