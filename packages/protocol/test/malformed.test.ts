import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeServerFrame, type FeatureSet, LIMITS } from '../src/index.js';

const s = (o: unknown) => JSON.stringify(o);
const send = (fields: Record<string, unknown>) =>
  s({ t: 'send', id: 'm1', to: 'bob', body: 'hi', ...fields });
const emoji = '😀'; // one code point, two UTF-16 units

type Row = [name: string, input: unknown, code: 'bad_frame' | 'too_large'];

const rows: Row[] = [
  ['not JSON', '{"t":"ping"', 'bad_frame'],
  ['empty text', '', 'bad_frame'],
  ['JSON array', '[{"t":"ping"}]', 'bad_frame'],
  ['JSON null', 'null', 'bad_frame'],
  ['JSON number', '42', 'bad_frame'],
  ['JSON string', '"ping"', 'bad_frame'],
  ['not a string at all', 42, 'bad_frame'],
  ['missing t', s({ rid: 'x' }), 'bad_frame'],
  ['t not a string', s({ t: 1 }), 'bad_frame'],
  ['unknown t', s({ t: 'shout' }), 'bad_frame'],
  ['t from the prototype', s({ t: 'toString' }), 'bad_frame'],
  ['send without body', s({ t: 'send', id: 'm1', to: 'bob' }), 'bad_frame'],
  ['send with null body', send({ body: null }), 'bad_frame'],
  ['send with numeric body', send({ body: 5 }), 'bad_frame'],
  ['send with empty body', send({ body: '' }), 'bad_frame'],
  ['send without id', s({ t: 'send', to: 'bob', body: 'x' }), 'bad_frame'],
  ['send with 65-char id', send({ id: 'a'.repeat(65) }), 'bad_frame'],
  ['send with id containing a dot', send({ id: 'a.b' }), 'bad_frame'],
  ['send with empty id', send({ id: '' }), 'bad_frame'],
  ['send to a 33-char id', send({ to: 'b'.repeat(33) }), 'bad_frame'],
  ['send to an empty id', send({ to: '' }), 'bad_frame'],
  ['send to an id with a space', send({ to: 'bo b' }), 'bad_frame'],
  ['send to an id with the Kelvin sign', send({ to: '\u212Aelvin' }), 'bad_frame'],
  ['send to a non-string', send({ to: ['bob'] }), 'bad_frame'],
  ['body of 4001 ASCII units', send({ body: 'x'.repeat(4001) }), 'too_large'],
  ['body of 2001 emoji (4002 units)', send({ body: emoji.repeat(2001) }), 'too_large'],
  ['body of 3999 units + one emoji (4001 units)', send({ body: `${'x'.repeat(3999)}${emoji}` }), 'too_large'],
  ['too-long body with a bad id is bad_frame first', send({ id: '', body: 'x'.repeat(4001) }), 'bad_frame'],
  ['ack without cursor', s({ t: 'ack' }), 'bad_frame'],
  ['ack with numeric cursor', s({ t: 'ack', cursor: 7 }), 'bad_frame'],
  ['ack with empty cursor', s({ t: 'ack', cursor: '' }), 'bad_frame'],
  ['ack with 65-char cursor', s({ t: 'ack', cursor: 'c'.repeat(65) }), 'bad_frame'],
  ['history without with', s({ t: 'history' }), 'bad_frame'],
  ['history with limit 0', s({ t: 'history', with: 'bob', limit: 0 }), 'bad_frame'],
  ['history with limit 101', s({ t: 'history', with: 'bob', limit: 101 }), 'bad_frame'],
  ['history with limit 1.5', s({ t: 'history', with: 'bob', limit: 1.5 }), 'bad_frame'],
  ['history with string limit', s({ t: 'history', with: 'bob', limit: '10' }), 'bad_frame'],
  ['history with numeric before', s({ t: 'history', with: 'bob', before: 3 }), 'bad_frame'],
  ['history with empty rid', s({ t: 'history', with: 'bob', rid: '' }), 'bad_frame'],
  ['history with 65-char rid', s({ t: 'history', with: 'bob', rid: 'r'.repeat(65) }), 'bad_frame'],
  ['conversations with numeric rid', s({ t: 'conversations', rid: 1 }), 'bad_frame'],
  ['typing without to', s({ t: 'typing' }), 'bad_frame'],
  ['typing with numeric to', s({ t: 'typing', to: 1 }), 'bad_frame'],
  ['presence with empty list', s({ t: 'presence', users: [] }), 'bad_frame'],
  [
    'presence with 201 ids',
    s({ t: 'presence', users: Array.from({ length: 201 }, (_, i) => `u${i}`) }),
    'bad_frame',
  ],
  ['presence with a bad id', s({ t: 'presence', users: ['ok', 'no way'] }), 'bad_frame'],
  ['presence with users not an array', s({ t: 'presence', users: 'bob' }), 'bad_frame'],
  ['ping with null rid', s({ t: 'ping', rid: null }), 'bad_frame'],
  ['hello with v 2', s({ t: 'hello', v: 2, token: 'x' }), 'bad_frame'],
  ['hello without token', s({ t: 'hello', v: 1 }), 'bad_frame'],
  // Lone surrogates cannot be stored as UTF-8 without loss: bad_frame, before the length check.
  ['body that is one lone high surrogate', send({ body: '\ud83d' }), 'bad_frame'],
  ['body that is one lone low surrogate', send({ body: '\ude00' }), 'bad_frame'],
  ['body ending in a high surrogate', send({ body: `ok${emoji}\ud83d` }), 'bad_frame'],
  ['body starting with a low surrogate', send({ body: `\ude00${emoji}` }), 'bad_frame'],
  ['body with a reversed pair', send({ body: 'a\ude00\ud83db' }), 'bad_frame'],
  [
    'body of 4001 units with a lone surrogate is bad_frame first',
    send({ body: `${'x'.repeat(4000)}\ud800` }),
    'bad_frame',
  ],
];

describe('malformed client frames', () => {
  it.each(rows)('%s → %s', (_name, input, code) => {
    const r = decodeClientFrame(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(0);
    }
  });
});

describe('limits at their boundaries (largest that passes)', () => {
  const passes: [string, string][] = [
    ['body of exactly 4000 ASCII units', send({ body: 'x'.repeat(LIMITS.bodyMaxLength) })],
    ['body of 2000 emoji (exactly 4000 units)', send({ body: emoji.repeat(2000) })],
    ['body of one character', send({ body: 'x' })],
    ['id of 64 characters', send({ id: 'A'.repeat(64) })],
    ['to of 32 characters', send({ to: 'b'.repeat(32) })],
    ['to of 32 upper-case characters', send({ to: 'B'.repeat(32) })],
    ['history limit 1', s({ t: 'history', with: 'bob', limit: 1 })],
    ['history limit 100', s({ t: 'history', with: 'bob', limit: 100 })],
    ['rid of 64 characters', s({ t: 'ping', rid: 'r'.repeat(64) })],
    ['cursor of 64 characters', s({ t: 'ack', cursor: 'c'.repeat(64) })],
    ['presence with 1 id', s({ t: 'presence', users: ['bob'] })],
    ['presence with 200 ids', s({ t: 'presence', users: Array.from({ length: 200 }, (_, i) => `u${i}`) })],
    ['typing to an invalid id (the server drops it)', s({ t: 'typing', to: 'not valid!' })],
    ['body with a well-formed surrogate pair at both ends', send({ body: `${emoji}x${emoji}` })],
    ['body with U+FFFD and U+FFFF (not surrogates)', send({ body: '\ufffd\uffff' })],
    // A version-1 connection ignores the fields of paging, whatever their value.
    ['v1: conversations with limit 0 and a numeric before', s({ t: 'conversations', limit: 0, before: 7 })],
    [
      'v1: history with before and after together (after is unknown)',
      s({ t: 'history', with: 'b', before: 'c', after: 'd' }),
    ],
    ['v1: history with an empty after', s({ t: 'history', with: 'bob', after: '' })],
  ];
  it.each(passes)('%s', (_name, input) => {
    expect(decodeClientFrame(input).ok).toBe(true);
  });
});

const PAGING: FeatureSet = new Set(['paging']);

describe('paging: every new field at its boundaries', () => {
  const conv = (fields: Record<string, unknown>) => s({ t: 'conversations', ...fields });
  const hist = (fields: Record<string, unknown>) => s({ t: 'history', with: 'bob', ...fields });
  const fails: [string, string][] = [
    ['conversations limit 0', conv({ limit: 0 })],
    [
      `conversations limit ${LIMITS.conversationsMaxLimit + 1}`,
      conv({ limit: LIMITS.conversationsMaxLimit + 1 }),
    ],
    ['conversations limit 2.5', conv({ limit: 2.5 })],
    ['conversations limit "5"', conv({ limit: '5' })],
    ['conversations limit null', conv({ limit: null })],
    ['conversations before empty', conv({ before: '' })],
    [`conversations before of ${LIMITS.cursorMaxLength + 1} chars`, conv({ before: 'c'.repeat(65) })],
    ['conversations before a number', conv({ before: 3 })],
    ['history after empty', hist({ after: '' })],
    [`history after of ${LIMITS.cursorMaxLength + 1} chars`, hist({ after: 'c'.repeat(65) })],
    ['history after a number', hist({ after: 1 })],
    ['history with before and after together', hist({ before: 'c1', after: 'c2' })],
    ['history after with limit 101', hist({ after: 'c1', limit: 101 })],
  ];
  it.each(fails)('%s → bad_frame', (_name, input) => {
    const r = decodeClientFrame(input, PAGING);
    expect(r.ok ? 'ok' : r.error.code).toBe('bad_frame');
  });
  const passes: [string, string][] = [
    ['conversations limit 1', conv({ limit: 1 })],
    [`conversations limit ${LIMITS.conversationsMaxLimit}`, conv({ limit: LIMITS.conversationsMaxLimit })],
    ['conversations before of 1 char', conv({ before: 'c' })],
    [`conversations before of ${LIMITS.cursorMaxLength} chars`, conv({ before: 'c'.repeat(64) })],
    [`history after of ${LIMITS.cursorMaxLength} chars`, hist({ after: 'c'.repeat(64), limit: 100 })],
  ];
  it.each(passes)('%s passes', (_name, input) => {
    expect(decodeClientFrame(input, PAGING).ok).toBe(true);
  });
  it('a bad paging request echoes its rid', () => {
    expect(decodeClientFrame(conv({ limit: 0, rid: 'q9' }), PAGING)).toMatchObject({
      ok: false,
      error: { code: 'bad_frame', t: 'conversations', rid: 'q9' },
    });
  });
});

describe('error messages quote at most a short excerpt of the input', () => {
  it('an unknown frame type of 60,000 characters', () => {
    const r = decodeClientFrame(s({ t: 'x'.repeat(60_000) }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message.length).toBeLessThanOrEqual(LIMITS.echoMaxLength + 40);
  });
  it('a field named with 60,000 characters in a server frame', () => {
    const r = decodeServerFrame(s({ t: 'pong', rid: 5, ['k'.repeat(60_000)]: 1 }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message.length).toBeLessThanOrEqual(LIMITS.echoMaxLength + 40);
  });
});

describe('what errors echo', () => {
  it('a bad send echoes a well-formed id', () => {
    const r = decodeClientFrame(send({ body: '' }));
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_frame', id: 'm1', t: 'send' } });
  });
  it('too_large echoes the id', () => {
    const r = decodeClientFrame(send({ id: 'big', body: 'x'.repeat(4001) }));
    expect(r).toMatchObject({ ok: false, error: { code: 'too_large', id: 'big' } });
  });
  it('a malformed id is not echoed', () => {
    const r = decodeClientFrame(send({ id: 'a b', body: '' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.id).toBeUndefined();
  });
  it('a bad request echoes a well-formed rid, not a malformed one', () => {
    const good = decodeClientFrame(s({ t: 'history', with: 'bob', limit: 0, rid: 'q1' }));
    expect(good).toMatchObject({ ok: false, error: { code: 'bad_frame', rid: 'q1' } });
    const bad = decodeClientFrame(s({ t: 'history', with: 'bob', rid: 'r'.repeat(65) }));
    expect(bad.ok || bad.error.rid).toBe(undefined);
  });
});

describe('malformed server frames', () => {
  const serverRows: [string, string][] = [
    ['welcome with v 2', s({ t: 'welcome', v: 2, user: 'a', head: null })],
    ['synced without gap', s({ t: 'synced', head: null })],
    [
      'msg with string ts',
      s({ t: 'msg', cursor: 'c', id: 'i', from: 'a', to: 'b', body: 'x', ts: '1', delivered: false }),
    ],
    ['history with items not an array', s({ t: 'history', with: 'b', items: {}, more: false })],
    ['error with an empty code', s({ t: 'error', code: '', message: 'm' })],
    ['a client-only type', s({ t: 'send', id: 'm', to: 'b', body: 'x' })],
    ['conversations with a string more', s({ t: 'conversations', items: [], more: 'yes' })],
    [
      'welcome with features not an array',
      s({ t: 'welcome', v: 1, user: 'a', head: null, features: 'paging' }),
    ],
    ['welcome with a numeric feature', s({ t: 'welcome', v: 1, user: 'a', head: null, features: [1] })],
  ];
  it.each(serverRows)('%s → bad_frame', (_name, input) => {
    const r = decodeServerFrame(input);
    expect(r.ok ? 'ok' : r.error.code).toBe('bad_frame');
  });
});
