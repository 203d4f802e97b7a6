import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClientFrame,
  decodeClientFrame,
  decodeServerFrame,
  encode,
  FEATURES,
  type Feature,
  LIMITS,
  type ServerFrame,
} from '../src/index.js';
import { chatClientFrameArb, EMOJI } from './arbitraries.js';

const ALL = new Set(FEATURES);
const s = (o: unknown) => JSON.stringify(o);
const only = (...f: Feature[]) => new Set<Feature>(f);
const emoji = '😀';
const ref = { from: 'alice', id: 'm1' };

/** Every chat client frame with the feature that defines it (`settings` has two). */
const examples: [ClientFrame, Feature[]][] = [
  [{ t: 'read', with: 'bob', upto: 'c9' }, ['read']],
  [{ t: 'read', with: 'bob', upto: 'c9', rid: 'r1' }, ['read']],
  [{ t: 'receipts', on: false }, ['read']],
  [{ t: 'receipts', on: true, rid: 'r2' }, ['read']],
  [{ t: 'settings', rid: 'r3' }, ['read', 'block']],
  [{ t: 'edit', ...ref, body: 'fixed typo' }, ['edit']],
  [{ t: 'delete', ...ref, rid: 'r4' }, ['edit']],
  [{ t: 'hide', from: 'bob', id: 'x-1' }, ['edit']],
  [{ t: 'react', ...ref, emoji: '👍🏽', rid: 'r5' }, ['react']],
  [{ t: 'react', ...ref, emoji: null }, ['react']],
  [{ t: 'block', user: 'spammer' }, ['block']],
  [{ t: 'unblock', user: 'spammer', rid: 'r6' }, ['block']],
  [{ t: 'search', q: '中文 hello' }, ['search']],
  [{ t: 'search', q: 'x', with: 'bob', before: 'c3', limit: 50, rid: 'r7' }, ['search']],
];

describe('chat client frames: round trips, and only with their feature', () => {
  it.each(examples.map(([f, feats]) => [f.t, f, feats] as const))('%s', (_t, frame, feats) => {
    for (const feature of FEATURES) {
      const r = decodeClientFrame(encode(frame), only(feature));
      if (feats.includes(feature)) expect(r).toEqual({ ok: true, frame });
      else expect(r).toMatchObject({ ok: false, error: { code: 'bad_frame' } });
    }
    // A version-1 connection: an unknown frame type, as in version 1.
    expect(decodeClientFrame(encode(frame))).toMatchObject({
      ok: false,
      error: { code: 'bad_frame', message: `unknown frame type ${frame.t}` },
    });
  });
  it('send.replyTo is decoded with reply, and ignored (an unknown field) without it', () => {
    const frame: ClientFrame = {
      t: 'send',
      id: 'm2',
      to: 'bob',
      body: 'yes',
      replyTo: { from: 'bob', id: 'q1' },
    };
    expect(decodeClientFrame(encode(frame), only('reply'))).toEqual({ ok: true, frame });
    const { replyTo: _r, ...v1 } = frame;
    expect(decodeClientFrame(encode(frame), only('edit', 'react'))).toEqual({ ok: true, frame: v1 });
    expect(decodeClientFrame(encode(frame))).toEqual({ ok: true, frame: v1 });
  });
  it('property: any chat client frame round-trips with every feature', () => {
    fc.assert(
      fc.property(chatClientFrameArb, (frame) => {
        expect(decodeClientFrame(encode(frame), ALL)).toEqual({ ok: true, frame });
      }),
      { numRuns: 500 },
    );
  });
  it('ids in the frames are lowercased like version 1 ids', () => {
    const r = decodeClientFrame(s({ t: 'react', from: 'Alice', id: 'M1', emoji, rid: 'q' }), ALL);
    expect(r).toEqual({ ok: true, frame: { t: 'react', from: 'alice', id: 'M1', emoji, rid: 'q' } });
  });
});

/** A ZWJ chain of `n` copies of 😀 (2 units each): 3n - 1 units. */
const chain = (parts: string[]) => parts.join('\u200d');
const emoji32 = chain(Array(11).fill(emoji));
const emoji33 = chain([...Array(10).fill(emoji), '1️⃣']);

describe('chat client frames: every field at its boundaries', () => {
  const edit = (fields: Record<string, unknown>) => s({ t: 'edit', ...ref, body: 'x', ...fields });
  const react = (e: unknown) => s({ t: 'react', ...ref, emoji: e });
  const search = (fields: Record<string, unknown>) => s({ t: 'search', q: 'hello', ...fields });
  const rows: [string, string, 'bad_frame' | 'too_large' | 'ok'][] = [
    ['edit body of 4000 units', edit({ body: 'x'.repeat(LIMITS.bodyMaxLength) }), 'ok'],
    ['edit body of 4001 units', edit({ body: 'x'.repeat(LIMITS.bodyMaxLength + 1) }), 'too_large'],
    ['edit body empty', edit({ body: '' }), 'bad_frame'],
    ['edit body with a lone surrogate', edit({ body: 'a\ud800' }), 'bad_frame'],
    ['edit without from', s({ t: 'edit', id: 'm1', body: 'x' }), 'bad_frame'],
    ['edit with a 65-char id', edit({ id: 'a'.repeat(65) }), 'bad_frame'],
    ['edit with from of 33 chars', edit({ from: 'a'.repeat(33) }), 'bad_frame'],
    ['delete without id', s({ t: 'delete', from: 'alice' }), 'bad_frame'],
    ['hide with a bad from', s({ t: 'hide', from: 'no way', id: 'm1' }), 'bad_frame'],
    [`react with ${emoji32.length} units (one ZWJ sequence)`, react(emoji32), 'ok'],
    [`react with ${emoji33.length} units`, react(emoji33), 'bad_frame'],
    ['react removing (null)', react(null), 'ok'],
    ['react without emoji', s({ t: 'react', ...ref }), 'bad_frame'],
    ['react with an empty emoji', react(''), 'bad_frame'],
    ['react with a letter', react('a'), 'bad_frame'],
    ['react with a digit (a keycap base alone)', react('1'), 'bad_frame'],
    ['react with two emoji', react('😀😀'), 'bad_frame'],
    ['react with an emoji and a space', react('😀 '), 'bad_frame'],
    ['react with a dangling ZWJ', react('😀\u200d'), 'bad_frame'],
    ['react with two skin tones', react('👍🏽🏽'), 'bad_frame'],
    ['react with a lone surrogate', react('\ud83d'), 'bad_frame'],
    ['react with a number', react(1), 'bad_frame'],
    ['read upto of 64 chars', s({ t: 'read', with: 'bob', upto: 'c'.repeat(64) }), 'ok'],
    ['read upto of 65 chars', s({ t: 'read', with: 'bob', upto: 'c'.repeat(65) }), 'bad_frame'],
    ['read upto empty', s({ t: 'read', with: 'bob', upto: '' }), 'bad_frame'],
    ['read with a bad user', s({ t: 'read', with: 'b b', upto: 'c1' }), 'bad_frame'],
    ['receipts on a string', s({ t: 'receipts', on: 'false' }), 'bad_frame'],
    ['block a bad user id', s({ t: 'block', user: '' }), 'bad_frame'],
    ['unblock without user', s({ t: 'unblock' }), 'bad_frame'],
    [
      `search q of ${LIMITS.searchQueryMaxLength} units`,
      search({ q: 'a'.repeat(LIMITS.searchQueryMaxLength) }),
      'ok',
    ],
    [`search q of ${LIMITS.searchQueryMaxLength + 1} units`, search({ q: 'a'.repeat(201) }), 'bad_frame'],
    ['search q empty', search({ q: '' }), 'bad_frame'],
    ['search q without a letter or digit', search({ q: '?! -- …' }), 'bad_frame'],
    ['search q of one CJK character', search({ q: '中' }), 'ok'],
    ['search q with a lone surrogate', search({ q: 'ab\udc00' }), 'bad_frame'],
    ['search limit 1', search({ limit: 1 }), 'ok'],
    [`search limit ${LIMITS.searchMaxLimit}`, search({ limit: LIMITS.searchMaxLimit }), 'ok'],
    ['search limit 0', search({ limit: 0 }), 'bad_frame'],
    [`search limit ${LIMITS.searchMaxLimit + 1}`, search({ limit: LIMITS.searchMaxLimit + 1 }), 'bad_frame'],
    ['search before of 65 chars', search({ before: 'c'.repeat(65) }), 'bad_frame'],
    ['search with a bad user', search({ with: 'BOB!' }), 'bad_frame'],
    [
      'send replyTo without id',
      s({ t: 'send', id: 'm', to: 'b', body: 'x', replyTo: { from: 'a' } }),
      'bad_frame',
    ],
    ['send replyTo a string', s({ t: 'send', id: 'm', to: 'b', body: 'x', replyTo: 'a/m1' }), 'bad_frame'],
  ];
  it.each(rows.map(([name, input, expected]) => [name, expected, input] as const))(
    '%s → %s',
    (_n, expected, input) => {
      const r = decodeClientFrame(input, ALL);
      expect(r.ok ? 'ok' : r.error.code).toBe(expected);
    },
  );
  it('every emoji the arbitraries use is valid, and a too-long edit echoes the rid', () => {
    for (const e of EMOJI) expect(decodeClientFrame(react(e), ALL).ok).toBe(true);
    expect(decodeClientFrame(edit({ body: 'y'.repeat(4001), rid: 'e1' }), ALL)).toMatchObject({
      ok: false,
      error: { code: 'too_large', t: 'edit', rid: 'e1' },
    });
  });
});

describe('chat server frames', () => {
  const msg = {
    t: 'msg' as const,
    cursor: 'c1',
    id: 'm1',
    from: 'alice',
    to: 'bob',
    body: 'hi',
    ts: 5,
    delivered: true,
  };
  const examples: ServerFrame[] = [
    { t: 'ok', rid: 'r1' },
    { t: 'update', cursor: 'c2', ts: 9, kind: 'read', with: 'bob', upto: 'c1', unread: 0 },
    { t: 'update', cursor: 'c3', ts: 9, kind: 'seen', with: 'bob', upto: 'c1' },
    { t: 'update', cursor: 'c4', ts: 9, kind: 'settings', readReceipts: false },
    { t: 'update', cursor: 'c5', ts: 9, kind: 'edit', ...ref, with: 'bob', body: 'new' },
    { t: 'update', cursor: 'c6', ts: 9, kind: 'delete', ...ref, with: 'bob' },
    { t: 'update', cursor: 'c7', ts: 9, kind: 'hide', ...ref, with: 'bob' },
    { t: 'update', cursor: 'c8', ts: 9, kind: 'react', ...ref, with: 'bob', by: 'bob', emoji: '❤️' },
    { t: 'update', cursor: 'c9', ts: 9, kind: 'react', ...ref, with: 'bob', by: 'bob', emoji: null },
    { t: 'update', cursor: 'ca', ts: 9, kind: 'block', user: 'eve', blocked: true },
    { t: 'settings', readReceipts: true, blocked: ['eve'], rid: 'r2' },
    { t: 'settings' },
    { t: 'search', items: [{ msg, highlights: [[0, 2]] }], more: true, rid: 'r3' },
    { t: 'search', items: [], more: false },
    { ...msg, read: true, edited: 7, replyTo: { from: 'bob', id: 'q', cursor: 'c0', body: 'orig' } },
    { ...msg, body: '', deleted: true, read: false },
    { ...msg, reactions: [{ by: 'bob', emoji: '👍' }], replyTo: { from: 'bob', id: 'q', deleted: true } },
    { t: 'conversations', items: [{ with: 'bob', last: msg, unread: 3, readUpto: null }], more: false },
  ];
  it.each(examples.map((f) => [f.t, f] as const))('%s round-trips', (_t, frame) => {
    expect(decodeServerFrame(encode(frame))).toEqual({ ok: true, frame });
  });
  const bad: [string, unknown][] = [
    ['update of an unknown kind', { t: 'update', cursor: 'c', ts: 1, kind: 'poke' }],
    ['read update without unread', { t: 'update', cursor: 'c', ts: 1, kind: 'read', with: 'b', upto: 'c' }],
    [
      'read update with a negative unread',
      { t: 'update', cursor: 'c', ts: 1, kind: 'read', with: 'b', upto: 'c', unread: -1 },
    ],
    [
      'react update with a numeric emoji',
      { t: 'update', cursor: 'c', ts: 1, kind: 'react', ...ref, with: 'b', by: 'b', emoji: 1 },
    ],
    ['ok without rid', { t: 'ok' }],
    [
      'search with a range that ends before it starts',
      { t: 'search', items: [{ msg, highlights: [[3, 2]] }], more: false },
    ],
    [
      'search with a three-number range',
      { t: 'search', items: [{ msg, highlights: [[1, 2, 3]] }], more: false },
    ],
    ['msg with deleted false', { ...msg, deleted: false }],
    ['msg with reactions not an array', { ...msg, reactions: { bob: '👍' } }],
    [
      'conversation row with a fractional unread',
      { t: 'conversations', items: [{ with: 'b', last: msg, unread: 1.5 }] },
    ],
  ];
  it.each(bad)('%s → bad_frame', (_name, frame) => {
    const r = decodeServerFrame(s(frame));
    expect(r.ok ? 'ok' : r.error.code).toBe('bad_frame');
  });
});
