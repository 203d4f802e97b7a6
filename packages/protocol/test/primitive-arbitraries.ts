// The building blocks of the frame arbitraries (arbitraries.ts, chat-arbitraries.ts).
import fc from 'fast-check';
import { FEATURES, type MsgFrame } from '../src/index.js';

export const userIdArb = fc.stringMatching(/^[a-z0-9_.-]{1,32}$/);
export const messageIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
export const cursorArb = fc.string({ minLength: 1, maxLength: 64 });
export const ridArb = fc.string({ minLength: 1, maxLength: 64 });
/** Bodies in UTF-16 units: any code points, including astral ones (two units each). */
export const bodyArb = fc
  .string({ minLength: 1, maxLength: 2000, unit: 'binary' })
  .filter((s) => s.length >= 1 && s.length <= 4000);
export const tsArb = fc.integer({ min: 0, max: 2 ** 48 });

export const msgArb: fc.Arbitrary<MsgFrame> = fc.record({
  t: fc.constant('msg' as const),
  cursor: cursorArb,
  id: messageIdArb,
  from: userIdArb,
  to: userIdArb,
  body: bodyArb,
  ts: tsArb,
  delivered: fc.boolean(),
});

/** A feature list as the decoders return it: known names, once each, in FEATURES order. */
export const featuresArb = fc.subarray([...FEATURES]);
