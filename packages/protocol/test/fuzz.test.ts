import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeHello, decodeServerFrame, encode } from '../src/index.js';
import { clientFrameArb } from './arbitraries.js';

const decoders = { decodeClientFrame, decodeServerFrame, decodeHello };

describe('decoding never throws', () => {
  for (const [name, decode] of Object.entries(decoders)) {
    it(`${name}: any string`, () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
          expect(() => decode(text)).not.toThrow();
        }),
        { numRuns: 2000 },
      );
    });
    it(`${name}: any JSON value`, () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          expect(() => decode(JSON.stringify(value))).not.toThrow();
        }),
        { numRuns: 2000 },
      );
    });
    it(`${name}: valid frames with fields mutated to random JSON`, () => {
      fc.assert(
        fc.property(clientFrameArb, fc.string(), fc.jsonValue(), (frame, key, value) => {
          const keys = Object.keys(frame);
          const target = keys[key.length % keys.length] ?? key;
          const mutated = { ...frame, [target]: value };
          expect(() => decode(JSON.stringify(mutated))).not.toThrow();
          expect(() => decode(encode(frame))).not.toThrow();
        }),
        { numRuns: 2000 },
      );
    });
  }
  it('deeply nested input', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(decodeClientFrame(deep).ok).toBe(false);
    expect(decodeHello(deep).ok).toBe(false);
  });
});
