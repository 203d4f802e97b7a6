// Over ~300 lines on purpose: one subject of the store contract: read marks, receipts,
// unread counts and blocks, rule by rule.
import { LIMITS } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdmitOp, SendOp } from '../../src/store/store.js';
import {
  applied,
  cursorOf,
  msgsOf,
  rejected,
  seqOf,
  stateOf,
  unchanged,
  updatesOf,
  write,
} from './features-harness.js';
import { admitAll, commitAll, makeContext, refuseAll, type StoreFactory, send, storeAll } from './harness.js';

/** PROTOCOL.md "Read" and "Block", what connections see, and how a batch orders feature writes. */
export function featureMarksContract(factory: StoreFactory): void {
  describe('read marks, receipts, unread', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });
    const ref = (op: SendOp) => ({ from: op.from, id: op.id });

    it('a read moves my mark (read update with unread) and tells the sender (seen, in their cursors)', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b', 'c');
      // b's mailbox: 1 a1, 2 c1, 3 a2, 4 a3 ; a's: 1 a1, 2 a2, 3 a3
      const a1 = send('a', 'b');
      const c1 = send('c', 'b');
      const a2 = send('a', 'b');
      const a3 = send('a', 'b');
      await storeAll(store, [a1, c1, a2, a3]);
      clock.advance(5);
      const entries = await applied(store, { kind: 'read', user: 'b', with: 'a', upto: 3 });
      expect(entries.map((e) => [e.owner, e.frame])).toEqual([
        [
          'b',
          {
            t: 'update',
            cursor: await cursorOf(store, 'b', 5),
            ts: clock.now(),
            kind: 'read',
            with: 'a',
            upto: await cursorOf(store, 'b', 3),
            unread: 1,
          },
        ],
        [
          'a',
          {
            t: 'update',
            cursor: await cursorOf(store, 'a', 4),
            ts: clock.now(),
            kind: 'seen',
            with: 'b',
            upto: await cursorOf(store, 'a', 2),
          },
        ],
      ]);
      expect((await stateOf(store, 'a', 'b', ref(a2))).read).toBe(true);
      expect((await stateOf(store, 'a', 'b', ref(a3))).read).toBe(false);
      expect((await stateOf(store, 'b', 'a', ref(a1))).read).toBe(true);
      expect((await stateOf(store, 'b', 'a', ref(a3))).read).toBe(false);
      const rows = await store.conversations('b', { limit: 10, beforeSeq: null });
      expect(rows.items.map((r) => [r.with, r.unread, r.readUpto])).toEqual([
        ['a', 1, await cursorOf(store, 'b', 3)],
        ['c', 1, null],
      ]);
    });

    it('marks only move forward: the same or an older upto changes nothing and takes no token', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      await storeAll(store, [send('a', 'b'), send('a', 'b'), send('a', 'b')]);
      await applied(store, { kind: 'read', user: 'b', with: 'a', upto: 2 });
      const asked: AdmitOp[][] = [];
      const results = await commitAll(
        store,
        [
          { kind: 'read', user: 'b', with: 'a', upto: 2 },
          { kind: 'read', user: 'b', with: 'a', upto: 1 },
          { kind: 'read', user: 'b', with: 'nobody', upto: 3 },
        ],
        admitAll(asked),
      );
      expect(results).toEqual([unchanged, unchanged, rejected('no_such_user')]);
      expect(asked).toEqual([]);
      expect((await updatesOf(store, 'b')).map((u) => u.kind)).toEqual(['read']);
    });

    it('no seen when either has receipts off, and never afterwards for what was read meanwhile', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const ops = [send('a', 'b'), send('a', 'b'), send('a', 'b')];
      await storeAll(store, ops);
      const off = await applied(store, { kind: 'receipts', user: 'b', on: false });
      expect(
        off.map((e) => [e.owner, e.frame.kind, e.frame.kind === 'settings' && e.frame.readReceipts]),
      ).toEqual([['b', 'settings', false]]);
      expect(await write(store, { kind: 'receipts', user: 'b', on: false })).toEqual(unchanged);
      expect((await store.settings('b')).readReceipts).toBe(false);
      const read = await applied(store, { kind: 'read', user: 'b', with: 'a', upto: 2 });
      expect(read.map((e) => e.owner)).toEqual(['b']);
      await applied(store, { kind: 'receipts', user: 'b', on: true });
      // Switching on again tells nothing about what was read meanwhile.
      expect(await updatesOf(store, 'a')).toEqual([]);
      expect((await stateOf(store, 'a', 'b', ref(ops[0]!))).read).toBe(false);
      // The sender having them off stops them too.
      await applied(store, { kind: 'receipts', user: 'a', on: false });
      await applied(store, { kind: 'read', user: 'b', with: 'a', upto: 3 });
      expect((await updatesOf(store, 'a')).map((u) => u.kind)).toEqual(['settings']);
      await applied(store, { kind: 'receipts', user: 'a', on: true });
      const more = send('a', 'b');
      await storeAll(store, [more]);
      const [, seen] = await applied(store, {
        kind: 'read',
        user: 'b',
        with: 'a',
        upto: await seqOf(store, 'b', ref(more)),
      });
      // `upto` is the newest message now read, in the sender's own cursors.
      const upto = await cursorOf(store, 'a', await seqOf(store, 'a', ref(more)));
      expect(seen).toMatchObject({ owner: 'a', frame: { kind: 'seen', upto } });
    });

    it("unread: the peer's messages after my mark, hidden ones excepted, deleted ones counted; never to oneself", async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const ops = [send('a', 'b'), send('a', 'b'), send('b', 'a'), send('a', 'b'), send('a', 'b')];
      await storeAll(store, [...ops, send('b', 'b')]);
      const unreadOf = async (user: string) =>
        Object.fromEntries(
          (await store.conversations(user, { limit: 10, beforeSeq: null })).items.map((r) => [
            r.with,
            r.unread,
          ]),
        );
      expect(await unreadOf('b')).toEqual({ a: 4, b: 0 });
      await applied(store, { kind: 'hide', user: 'b', ref: ref(ops[3]!) });
      await applied(store, { kind: 'delete', user: 'a', ref: ref(ops[4]!) });
      expect(await unreadOf('b')).toEqual({ a: 3, b: 0 });
      const [mark] = await applied(store, { kind: 'read', user: 'b', with: 'a', upto: 2 });
      expect(mark!.frame).toMatchObject({ kind: 'read', unread: 1 });
      expect(await unreadOf('b')).toEqual({ a: 1, b: 0 });
      expect(await unreadOf('a')).toEqual({ b: 1 });
    });
  });

  describe('block', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });
    const ref = (op: SendOp) => ({ from: op.from, id: op.id });

    it("a blocked sender's messages are stored in their mailbox only, sent as usual, and never reach the blocker", async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const before = send('b', 'a', 'before');
      await storeAll(store, [before]);
      const entries = await applied(store, { kind: 'block', user: 'a', target: 'b', blocked: true });
      expect(entries.map((e) => [e.owner, e.frame])).toEqual([
        ['a', expect.objectContaining({ kind: 'block', user: 'b', blocked: true })],
      ]);
      const during = send('b', 'a', 'during');
      const [r] = await storeAll(store, [during]);
      expect(r!.entries.map((e) => e.owner)).toEqual(['b']);
      expect((await store.mailbox('a'))!.headSeq).toBe(2);
      // A may still write to B.
      const [fromA] = await storeAll(store, [send('a', 'b', 'from-a')]);
      expect(fromA!.entries.map((e) => e.owner)).toEqual(['b', 'a']);
      // B's changes to a message A has get to A's mailbox no more; A's to B's still do.
      expect(
        (await applied(store, { kind: 'edit', user: 'b', ref: ref(before), body: 'edited' })).map(
          (e) => e.owner,
        ),
      ).toEqual(['b']);
      expect(
        (
          await applied(store, { kind: 'react', user: 'b', ref: { from: 'a', id: 'from-a' }, emoji: '👍' })
        ).map((e) => e.owner),
      ).toEqual(['b']);
      expect(
        (await applied(store, { kind: 'react', user: 'a', ref: ref(before), emoji: '👎' })).map(
          (e) => e.owner,
        ),
      ).toEqual(['a', 'b']);
      // …but the message itself changed, as A sees when loading history.
      expect((await stateOf(store, 'a', 'b', ref(before))).body).toBe('edited');
      await applied(store, { kind: 'block', user: 'a', target: 'b', blocked: false });
      expect((await msgsOf(store, 'a')).map((m) => m.id)).toEqual(['before', 'from-a']);
      // Never delivered, even after the unblock: it stays ✓ for B.
      expect((await stateOf(store, 'b', 'a', ref(during))).delivered).toBe(false);
      expect((await store.history('a', 'b', null, 10)).items.map((m) => m.id)).toEqual(['before', 'from-a']);
      expect(await write(store, { kind: 'react', user: 'a', ref: ref(during), emoji: '👍' })).toEqual(
        rejected('no_such_message'),
      );
      // From now on everything flows again.
      const after = await storeAll(store, [send('b', 'a', 'after')]);
      expect(after[0]!.entries.map((e) => e.owner)).toEqual(['a', 'b']);
    });

    it('blocking someone blocked (or unblocking someone not) changes nothing; no_such_user; settings and relations', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      expect(await write(store, { kind: 'block', user: 'a', target: 'b', blocked: false })).toEqual(
        unchanged,
      );
      await applied(store, { kind: 'block', user: 'a', target: 'c', blocked: true });
      await applied(store, { kind: 'block', user: 'a', target: 'b', blocked: true });
      await applied(store, { kind: 'block', user: 'c', target: 'a', blocked: true });
      expect(await write(store, { kind: 'block', user: 'a', target: 'b', blocked: true })).toEqual(unchanged);
      expect(await write(store, { kind: 'block', user: 'a', target: 'zed', blocked: true })).toEqual(
        rejected('no_such_user'),
      );
      expect(await store.settings('a')).toEqual({ readReceipts: true, blocked: ['b', 'c'] });
      expect(await store.blockRelations('a')).toEqual({ blocked: ['b', 'c'], blockedBy: ['c'] });
      expect(await store.blockRelations('b')).toEqual({ blocked: [], blockedBy: ['a'] });
    });

    it(`at most ${LIMITS.blockedMax} blocked users: the next one is limit_reached`, async () => {
      const { store } = ctx;
      const ids = Array.from({ length: LIMITS.blockedMax + 1 }, (_, i) => `t${i}`);
      await ctx.users('a', ...ids);
      // In batches: a batch answers each block from the state the earlier ones left.
      for (let i = 0; i < LIMITS.blockedMax; i += 250) {
        const ops = ids
          .slice(i, i + 250)
          .map((t) => ({ kind: 'block' as const, user: 'a', target: t, blocked: true }));
        const results = await commitAll(store, ops);
        expect(results.every((r) => r.kind === 'applied')).toBe(true);
      }
      const last = ids[LIMITS.blockedMax]!;
      expect(await write(store, { kind: 'block', user: 'a', target: last, blocked: true })).toEqual(
        rejected('limit_reached'),
      );
      // Unblocking one makes room for exactly one.
      await applied(store, { kind: 'block', user: 'a', target: 't0', blocked: false });
      await applied(store, { kind: 'block', user: 'a', target: last, blocked: true });
      expect((await store.settings('a')).blocked).toHaveLength(LIMITS.blockedMax);
    });
  });

  describe('views, batches and tokens', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });
    const ref = (op: SendOp) => ({ from: op.from, id: op.id });

    it("viewHead: the newest entry a set of update kinds would be sent; hidden messages are nobody's", async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      expect(await store.viewHead('a', 0, [])).toBe(0);
      const m1 = send('b', 'a');
      const m2 = send('a', 'b');
      await storeAll(store, [m1, m2]);
      await applied(store, { kind: 'read', user: 'a', with: 'b', upto: 1 }); // a:3
      await applied(store, { kind: 'react', user: 'a', ref: ref(m1), emoji: '👍' }); // a:4
      await applied(store, { kind: 'receipts', user: 'a', on: false }); // a:5
      const head = (await store.mailbox('a'))!.headSeq;
      expect(head).toBe(5);
      expect(await store.viewHead('a', head, [])).toBe(2);
      expect(await store.viewHead('a', head, ['react'])).toBe(4);
      expect(await store.viewHead('a', head, ['read', 'seen', 'settings'])).toBe(5);
      expect(await store.viewHead('a', 4, ['read', 'seen', 'settings'])).toBe(3);
      await applied(store, { kind: 'hide', user: 'a', ref: ref(m2) }); // a:6
      expect(await store.viewHead('a', 6, [])).toBe(1);
      expect(await store.viewHead('a', 6, ['hide'])).toBe(6);
    });

    it('writes of one batch see the earlier ones: react then unreact, block then unblock', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const m = send('a', 'b');
      await storeAll(store, [m]);
      const asked: AdmitOp[][] = [];
      const results = await commitAll(
        store,
        [
          { kind: 'react', user: 'b', ref: ref(m), emoji: '👍' },
          { kind: 'react', user: 'b', ref: ref(m), emoji: null },
          { kind: 'react', user: 'b', ref: ref(m), emoji: null },
          { kind: 'block', user: 'b', target: 'a', blocked: true },
          { kind: 'block', user: 'b', target: 'a', blocked: false },
          { kind: 'read', user: 'b', with: 'a', upto: 1 },
          { kind: 'read', user: 'b', with: 'a', upto: 1 },
        ],
        admitAll(asked),
      );
      expect(results.map((r) => r.kind)).toEqual([
        'applied',
        'applied',
        'unchanged',
        'applied',
        'applied',
        'applied',
        'unchanged',
      ]);
      // Each write that depends on an earlier one of the batch asked for its token, as did
      // every first write; the caller refunds what the unchanged ones were granted.
      expect(asked[0]!.map((op) => op.kind)).toEqual([
        'react',
        'react',
        'react',
        'block',
        'block',
        'read',
        'read',
      ]);
      expect(await stateOf(store, 'a', 'b', ref(m))).not.toHaveProperty('reactions');
      expect((await store.settings('b')).blocked).toEqual([]);
    });

    it('a write refused by the rate limit changes nothing; checks that fail come first', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const m = send('a', 'b');
      await storeAll(store, [m]);
      const results = await commitAll(
        store,
        [
          { kind: 'react', user: 'b', ref: ref(m), emoji: '👍' },
          { kind: 'hide', user: 'b', ref: { from: 'a', id: 'none' } },
          { kind: 'edit', user: 'a', ref: ref(m), body: m.body },
        ],
        refuseAll(90),
      );
      expect(results).toEqual([
        { kind: 'refused', refusal: { code: 'rate_limited', retryAfterMs: 90 } },
        rejected('no_such_message'),
        unchanged,
      ]);
      expect(await updatesOf(store, 'b')).toEqual([]);
    });

    it('updates are entries: consecutive seqs with the messages, kept across a reopen', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const m = send('a', 'b');
      await storeAll(store, [m]);
      await applied(store, { kind: 'react', user: 'b', ref: ref(m), emoji: '🎉' });
      await storeAll(store, [send('b', 'a')]);
      const again = await ctx.sut.reopen();
      const box = (await again.mailbox('a'))!;
      const entries = await again.readRange('a', 0, box.headSeq, 10);
      expect(entries.map((e) => [e.seq, e.frame.t])).toEqual([
        [1, 'msg'],
        [2, 'update'],
        [3, 'msg'],
      ]);
      expect((await again.readRange('a', 1, 2, 10))[0]!.frame).toMatchObject({ kind: 'react', emoji: '🎉' });
    });
  });
}
