import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecodeResult,
  decodeClientFrame,
  decodeHello,
  decodeServerFrame,
  encode,
  FEATURES,
  type Frame,
} from '../src/index.js';
import { serverSchemas } from '../src/schemas.js';
import { anyClientFrameArb, clientFrameArb, pagingClientFrameArb, serverFrameArb } from './arbitraries.js';

const ALL = new Set(FEATURES);

type Decoder = (text: string) => DecodeResult<unknown> | ReturnType<typeof decodeHello>;

// Each decoder is driven with its own side's frames: feeding client frames to the server
// decoder (as this file once did) stops at "unknown frame type" and never reaches the
// server schemas' fields.
const decoders: [string, Decoder, fc.Arbitrary<Frame>][] = [
  // Version 1 accepts its frames with paging's fields (ignored); chat frames are unknown to it.
  [
    'decodeClientFrame (version 1)',
    (t) => decodeClientFrame(t),
    fc.oneof(clientFrameArb, pagingClientFrameArb),
  ],
  ['decodeClientFrame (every feature)', (t) => decodeClientFrame(t, ALL), anyClientFrameArb],
  ['decodeHello', decodeHello, anyClientFrameArb],
  ['decodeServerFrame', decodeServerFrame, serverFrameArb],
];

const fieldPaths = (value: unknown, prefix: string[] = []): string[][] => {
  if (value === null || typeof value !== 'object') return [prefix];
  const out: string[][] = prefix.length > 0 ? [prefix] : [];
  for (const [k, v] of Object.entries(value)) out.push(...fieldPaths(v, [...prefix, k]));
  return out;
};

/** A deep copy of `frame` with the value at `path` replaced (the root's `t` is kept, so the schema is reached). */
function mutate(frame: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(frame) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
  return copy;
}

describe('decoding never throws', () => {
  for (const [name, decode, frames] of decoders) {
    it(`${name}: any string`, () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
          expect(() => decode(text)).not.toThrow();
        }),
        { numRuns: 1000 },
      );
    });
    it(`${name}: any JSON value`, () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          expect(() => decode(JSON.stringify(value))).not.toThrow();
        }),
        { numRuns: 1000 },
      );
    });
    it(`${name}: its own valid frames with one field, at any depth, set to random JSON`, () => {
      fc.assert(
        fc.property(frames, fc.nat(), fc.jsonValue(), (frame, pick, value) => {
          const paths = fieldPaths(frame).filter((p) => p.join('.') !== 't');
          const path = paths[pick % paths.length] ?? [];
          expect(() => decode(JSON.stringify(mutate(frame, path, value)))).not.toThrow();
          // The unmutated frame is valid, so a decoder of its side must accept it: a schema
          // that is too strict goes red here, not only in the round-trip file.
          const r = decode(encode(frame));
          if (decode !== decodeHello || frame.t === 'hello') expect(r.ok).toBe(true);
        }),
        { numRuns: 2000 },
      );
    });
  }

  it('the server arbitraries reach every server frame type', () => {
    const seen = new Set(fc.sample(serverFrameArb, 2000).map((f) => f.t));
    expect([...seen].sort()).toEqual(Object.keys(serverSchemas).sort());
  });

  it('mutated server frames reach the field checks of every server schema', () => {
    // Per type: was a mutation accepted, and was one refused for a field (not for its type)?
    const accepted = new Set<string>();
    const refusedForAField = new Set<string>();
    const types = Object.keys(serverSchemas).sort();
    const covered = () => accepted.size === types.length && refusedForAField.size === types.length;
    // Random runs reach each outcome of each type by chance: rounds of 3,000 go on until every
    // type has had both (almost always one round), up to ten rounds before the checks fail.
    for (let round = 0; round < 10 && !covered(); round++) fuzzServerFields(accepted, refusedForAField);
    expect([...accepted].sort()).toEqual(types);
    expect([...refusedForAField].sort()).toEqual(types);
  });

  function fuzzServerFields(accepted: Set<string>, refusedForAField: Set<string>): void {
    fc.assert(
      fc.property(serverFrameArb, fc.nat(), fc.jsonValue(), (frame, pick, value) => {
        expect(decodeServerFrame(encode(frame))).toEqual({ ok: true, frame });
        const paths = fieldPaths(frame).filter((p) => p.join('.') !== 't');
        const r = decodeServerFrame(JSON.stringify(mutate(frame, paths[pick % paths.length] ?? [], value)));
        if (r.ok) {
          expect(r.frame.t).toBe(frame.t);
          accepted.add(frame.t);
        } else {
          expect(r.error.code).toBe('bad_frame');
          expect(r.error.t).toBe(frame.t);
          refusedForAField.add(frame.t);
        }
      }),
      { numRuns: 3000 },
    );
  }

  it('deeply nested input', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(decodeClientFrame(deep).ok).toBe(false);
    expect(decodeServerFrame(deep).ok).toBe(false);
    expect(decodeHello(deep).ok).toBe(false);
  });
});
