import { describe, expect, it } from 'vitest';
import { CloseCode, decodeHello, FEATURES, LIMITS } from '../src/index.js';

const s = (o: unknown) => JSON.stringify(o);

describe('decodeHello: the opening checks in the spec order', () => {
  const rows: [string, unknown, number][] = [
    ['text that is not JSON', 'hello', CloseCode.unauthorized],
    ['a JSON array', '[]', CloseCode.unauthorized],
    ['another frame type', s({ t: 'ping' }), CloseCode.unauthorized],
    [
      'a since that is not a string, even with v 2',
      s({ t: 'hello', v: 2, token: 'x', since: 5 }),
      CloseCode.unauthorized,
    ],
    ['v 2', s({ t: 'hello', v: 2, token: 'x' }), CloseCode.unsupportedVersion],
    ['v "1" (a string)', s({ t: 'hello', v: '1', token: 'x' }), CloseCode.unsupportedVersion],
    ['v missing', s({ t: 'hello', token: 'x' }), CloseCode.unsupportedVersion],
    [
      'v 2 without token: version is checked before the token',
      s({ t: 'hello', v: 2 }),
      CloseCode.unsupportedVersion,
    ],
    ['token missing', s({ t: 'hello', v: 1 }), CloseCode.unauthorized],
    ['token not a string', s({ t: 'hello', v: 1, token: 7 }), CloseCode.unauthorized],
    ['token empty', s({ t: 'hello', v: 1, token: '' }), CloseCode.unauthorized],
  ];
  it.each(rows)('%s → close %i', (_name, input, close) => {
    const r = decodeHello(input);
    expect(r.ok ? 'ok' : r.close).toBe(close);
  });

  it('accepts a hello with and without since, ignoring extra fields', () => {
    expect(decodeHello(s({ t: 'hello', v: 1, token: 'tok', x: 1 }))).toEqual({
      ok: true,
      frame: { t: 'hello', v: 1, token: 'tok' },
    });
    expect(decodeHello(s({ t: 'hello', v: 1, token: 'tok', since: 'c1' }))).toEqual({
      ok: true,
      frame: { t: 'hello', v: 1, token: 'tok', since: 'c1' },
    });
  });
});

describe('decodeHello: features', () => {
  const features = (value: unknown) => {
    const r = decodeHello(s({ t: 'hello', v: 1, token: 'tok', features: value }));
    if (!r.ok) throw new Error(`closed ${r.close}`);
    return r.frame.features;
  };
  it('absent: a version-1 connection (no features field at all)', () => {
    const r = decodeHello(s({ t: 'hello', v: 1, token: 'tok' }));
    expect(r.ok && 'features' in r.frame).toBe(false);
  });
  it.each([
    ['a string', 'paging'],
    ['null', null],
    ['an object', { paging: true }],
    ['a number', 1],
  ])('not an array (%s): version 1, never a close', (_name, value) => {
    expect(features(value)).toBeUndefined();
  });
  it('an empty array: negotiating, nothing asked', () => {
    expect(features([])).toEqual([]);
  });
  it('keeps known names, once each, in the canonical order; ignores unknown names and non-strings', () => {
    expect(features(['search', 'polls', 7, null, 'paging', 'search', 'PAGING', { x: 1 }])).toEqual([
      'paging',
      'search',
    ]);
    expect(features([...FEATURES].reverse())).toEqual([...FEATURES]);
  });
  it(`looks at the first ${LIMITS.helloFeaturesMax} entries only`, () => {
    const filler = Array.from({ length: LIMITS.helloFeaturesMax - 1 }, (_, i) => `x${i}`);
    expect(features([...filler, 'read'])).toEqual(['read']);
    expect(features([...filler, 'junk', 'read'])).toEqual([]);
  });
  it('features never changes the order of the other checks', () => {
    const r = decodeHello(s({ t: 'hello', v: 2, token: 'tok', features: ['paging'] }));
    expect(r.ok ? 'ok' : r.close).toBe(CloseCode.unsupportedVersion);
  });
});
