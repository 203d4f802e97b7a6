import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClientFrame,
  decodeClientFrame,
  decodeServerFrame,
  encode,
  FEATURES,
  type MsgFrame,
  type ServerFrame,
} from '../src/index.js';
import { anyClientFrameArb, clientFrameArb, pagingClientFrameArb, serverFrameArb } from './arbitraries.js';

const ALL = new Set(FEATURES);
const PAGING = new Set(['paging'] as const);

const msg: MsgFrame = {
  t: 'msg',
  cursor: 'c1',
  id: 'm-1',
  from: 'alice',
  to: 'bob',
  body: 'hi 👋',
  ts: 1_700_000_000_000,
  delivered: false,
};

const clientExamples: ClientFrame[] = [
  { t: 'hello', v: 1, token: 'tok' },
  { t: 'hello', v: 1, token: 'tok', since: 'c9' },
  { t: 'send', id: '0190f7f4-8c2a-7b3e-9d1a-1234567890ab', to: 'bob', body: 'hello' },
  { t: 'ack', cursor: 'c12' },
  { t: 'history', with: 'bob' },
  { t: 'history', with: 'bob', before: 'c5', limit: 20, rid: 'r1' },
  { t: 'conversations' },
  { t: 'conversations', rid: 'r2' },
  { t: 'typing', to: 'bob' },
  { t: 'presence', users: ['bob', 'carol'] },
  { t: 'ping' },
  { t: 'ping', rid: 'r3' },
  { t: 'hello', v: 1, token: 'tok', features: [] },
  { t: 'hello', v: 1, token: 'tok', since: 'c9', features: ['paging', 'read', 'files'] },
];

/** Frames with fields of `paging`: they round-trip on a connection that negotiated it. */
const pagingExamples: ClientFrame[] = [
  { t: 'conversations', limit: 1 },
  { t: 'conversations', limit: 100, before: 'c40', rid: 'r5' },
  { t: 'conversations', before: 'c40' },
  { t: 'history', with: 'bob', after: 'c5', limit: 100, rid: 'r6' },
];

const serverExamples: ServerFrame[] = [
  { t: 'welcome', v: 1, user: 'alice', head: null },
  { t: 'welcome', v: 1, user: 'alice', head: 'c3' },
  { t: 'synced', head: 'c3', gap: false },
  { t: 'synced', head: null, gap: true },
  { t: 'sent', id: 'm-1', ts: 1_700_000_000_000 },
  msg,
  { ...msg, delivered: true },
  { t: 'receipt', id: 'm-1', to: 'bob' },
  { t: 'history', with: 'bob', items: [msg], more: true, rid: 'r1' },
  { t: 'history', with: 'bob', items: [], more: false },
  { t: 'conversations', items: [{ with: 'bob', last: msg }] },
  { t: 'conversations', items: [{ with: 'bob', last: msg }], more: true, rid: 'r7' },
  { t: 'conversations', items: [], more: false },
  { t: 'welcome', v: 1, user: 'alice', head: 'c3', features: [] },
  { t: 'welcome', v: 1, user: 'alice', head: null, features: ['paging', 'search'] },
  { t: 'typing', from: 'bob' },
  { t: 'presence', user: 'bob', online: true },
  { t: 'pong' },
  { t: 'pong', rid: 'r3' },
  { t: 'error', code: 'bad_frame', message: 'missing field body' },
  { t: 'error', code: 'rate_limited', message: 'slow down', id: 'm-2', retryAfterMs: 50 },
  { t: 'error', code: 'no_such_user', message: 'no user zed', rid: 'r4' },
];

describe('round trip: decode(encode(f)) equals f', () => {
  it.each(clientExamples.map((f) => [f.t, f] as const))('client %s', (_t, frame) => {
    expect(decodeClientFrame(encode(frame))).toEqual({ ok: true, frame });
  });
  it.each(serverExamples.map((f) => [f.t, f] as const))('server %s', (_t, frame) => {
    expect(decodeServerFrame(encode(frame))).toEqual({ ok: true, frame });
  });
  it.each(pagingExamples.map((f) => [f.t, f] as const))('client %s with paging', (_t, frame) => {
    expect(decodeClientFrame(encode(frame), PAGING)).toEqual({ ok: true, frame });
    expect(decodeClientFrame(encode(frame), ALL)).toEqual({ ok: true, frame });
  });
  it('every frame type has a fixed example', () => {
    expect(new Set(clientExamples.map((f) => f.t)).size).toBe(8);
    expect(new Set(pagingExamples.map((f) => f.t))).toEqual(new Set(['conversations', 'history']));
    expect(new Set(serverExamples.map((f) => f.t)).size).toBe(11);
  });

  it('property: any valid version-1 client frame, on any connection', () => {
    fc.assert(
      fc.property(clientFrameArb, (frame) => {
        expect(decodeClientFrame(encode(frame))).toEqual({ ok: true, frame });
        expect(decodeClientFrame(encode(frame), ALL)).toEqual({ ok: true, frame });
      }),
      { numRuns: 500 },
    );
  });
  it('property: any valid client frame, with every feature', () => {
    fc.assert(
      fc.property(anyClientFrameArb, (frame) => {
        expect(decodeClientFrame(encode(frame), ALL)).toEqual({ ok: true, frame });
      }),
      { numRuns: 500 },
    );
  });
  it('property: a version-1 connection ignores the fields of paging, as unknown fields', () => {
    fc.assert(
      fc.property(pagingClientFrameArb, (frame) => {
        const {
          limit,
          before: _before,
          after: _after,
          ...rest
        } = frame as unknown as Record<string, unknown>;
        // history.limit is version 1; conversations.limit and the cursors are paging's.
        const v1 = frame.t === 'history' && limit !== undefined ? { ...rest, limit } : rest;
        expect(decodeClientFrame(encode(frame))).toEqual({ ok: true, frame: v1 });
      }),
      { numRuns: 500 },
    );
  });
  it('property: any valid server frame', () => {
    fc.assert(
      fc.property(serverFrameArb, (frame) => {
        expect(decodeServerFrame(encode(frame))).toEqual({ ok: true, frame });
      }),
      { numRuns: 500 },
    );
  });
});

describe('decoding normalises what the spec says it may', () => {
  it('lowercases ASCII letters of user ids wherever a client sends them', () => {
    const send = decodeClientFrame('{"t":"send","id":"A","to":"BoB","body":"x"}');
    expect(send).toEqual({ ok: true, frame: { t: 'send', id: 'A', to: 'bob', body: 'x' } });
    const hist = decodeClientFrame('{"t":"history","with":"Carol_1"}');
    expect(hist.ok && hist.frame.t === 'history' && hist.frame.with).toBe('carol_1');
    const pres = decodeClientFrame('{"t":"presence","users":["A","b.C"]}');
    expect(pres.ok && pres.frame.t === 'presence' && pres.frame.users).toEqual(['a', 'b.c']);
    const typing = decodeClientFrame('{"t":"typing","to":"DAVE"}');
    expect(typing.ok && typing.frame.t === 'typing' && typing.frame.to).toBe('dave');
  });
  it('drops unknown fields instead of echoing them', () => {
    const r = decodeClientFrame('{"t":"ping","rid":"x","extra":{"a":1},"__proto__":{"polluted":1}}');
    expect(r).toEqual({ ok: true, frame: { t: 'ping', rid: 'x' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('accepts error codes a newer server may add', () => {
    const r = decodeServerFrame(JSON.stringify({ t: 'error', code: 'shiny_new', message: 'm' }));
    expect(r).toEqual({ ok: true, frame: { t: 'error', code: 'shiny_new', message: 'm' } });
  });
  it('gives items of history and conversations their t when a server leaves it out', () => {
    const { t: _t, ...bare } = msg;
    const r = decodeServerFrame(JSON.stringify({ t: 'history', with: 'bob', items: [bare], more: false }));
    expect(r).toEqual({ ok: true, frame: { t: 'history', with: 'bob', items: [msg], more: false } });
  });
});
