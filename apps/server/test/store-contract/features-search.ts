import { LIMITS, searchHighlights, searchTerms } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cursorSeq } from '../../src/store/cursor.js';
import type { SearchQuery } from '../../src/store/feature-types.js';
import type { SendOp } from '../../src/store/store.js';
import { applied, everything, msgsOf, updatesOf } from './features-harness.js';
import { makeContext, type StoreFactory, send, storeAll } from './harness.js';

const DAY = 86_400_000;

/** PROTOCOL.md "Search" on the store's own index, and retention with update entries. */
export function featureSearchContract(factory: StoreFactory): void {
  describe('search', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });
    const ref = (op: SendOp) => ({ from: op.from, id: op.id });
    const query = (q: string, more: Partial<SearchQuery> = {}): SearchQuery => ({
      q,
      with: null,
      beforeSeq: null,
      limit: LIMITS.searchDefaultLimit,
      ...more,
    });
    const ids = async (user: string, q: string, more: Partial<SearchQuery> = {}) =>
      (await ctx.store.search(user, query(q, more))).items.map((i) => i.msg.id);

    it('words match as prefixes, folded; every term must match; highlights are the reference ones', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      await storeAll(store, [
        send('a', 'b', 'w1', 'Meet at the Éclair café'),
        send('b', 'a', 'w2', 'eclairs are great'),
        send('a', 'b', 'w3', 'no pastry here'),
        send('b', 'a', 'w4', 'CAFÉ time, éclair'),
      ]);
      expect(await ids('a', 'eclair')).toEqual(['w4', 'w2', 'w1']);
      expect(await ids('b', 'ÉCL caf')).toEqual(['w4', 'w1']);
      expect(await ids('a', 'pastries')).toEqual([]);
      const result = await store.search('a', query('eclair cafe'));
      for (const item of result.items) {
        expect(item.highlights).toEqual(searchHighlights(item.msg.body, searchTerms('eclair cafe')));
      }
      expect(result.items[0]!.highlights).toEqual([
        [0, 4],
        [11, 17],
      ]);
    });

    it('CJK: a two-character word is found inside a run (中文 in 我会说中文吗), one character too', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      await storeAll(store, [
        send('a', 'b', 'c1', '我会说中文吗'),
        send('b', 'a', 'c2', '中国很大'),
        send('a', 'b', 'c3', '文中 mixed with english'),
        send('b', 'a', 'c4', 'カタカナとひらがな、한국어'),
      ]);
      expect(await ids('a', '中文')).toEqual(['c1']);
      expect(await ids('a', '中')).toEqual(['c3', 'c2', 'c1']);
      expect(await ids('a', '文')).toEqual(['c3', 'c1']);
      expect(await ids('a', '说中文')).toEqual(['c1']);
      expect(await ids('a', '中文 english')).toEqual([]);
      expect(await ids('a', '文中 english')).toEqual(['c3']);
      expect(await ids('a', 'ひらがな')).toEqual(['c4']);
      expect(await ids('a', '국')).toEqual(['c4']);
      const [hit] = (await store.search('a', query('中文'))).items;
      expect(hit!.highlights).toEqual([[3, 5]]);
    });

    it('only my mailbox, one conversation with `with`; deleted, hidden and blocked messages never match', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      const ab = send('a', 'b', 'ab', 'apple pie');
      const ac = send('a', 'c', 'ac', 'apple juice');
      const bc = send('b', 'c', 'bc', 'apple tart');
      const gone = send('b', 'a', 'gone', 'apple crumble');
      const hidden = send('b', 'a', 'hidden', 'apple sauce');
      await storeAll(store, [ab, ac, bc, gone, hidden]);
      expect(await ids('a', 'apple')).toEqual(['hidden', 'gone', 'ac', 'ab']);
      expect(await ids('a', 'apple', { with: 'b' })).toEqual(['hidden', 'gone', 'ab']);
      expect(await ids('a', 'apple', { with: 'c' })).toEqual(['ac']);
      await applied(store, { kind: 'delete', user: 'b', ref: ref(gone) });
      await applied(store, { kind: 'hide', user: 'a', ref: ref(hidden) });
      expect(await ids('a', 'apple')).toEqual(['ac', 'ab']);
      // b hid nothing: its copy of `hidden` still matches; `gone` is gone for everyone.
      expect(await ids('b', 'apple')).toEqual(['hidden', 'bc', 'ab']);
      await applied(store, { kind: 'block', user: 'c', target: 'a', blocked: true });
      await storeAll(store, [send('a', 'c', 'blocked', 'apple cake')]);
      expect(await ids('c', 'apple')).toEqual(['bc', 'ac']);
      expect(await ids('a', 'apple', { with: 'c' })).toEqual(['blocked', 'ac']);
    });

    it('an edited message matches its new text only', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const m = send('a', 'b', 'm', 'banana split');
      await storeAll(store, [m]);
      await applied(store, { kind: 'edit', user: 'a', ref: ref(m), body: 'cherry split' });
      expect(await ids('b', 'banana')).toEqual([]);
      expect(await ids('b', 'cherry')).toEqual(['m']);
    });

    it("pages newest first: `limit` items, more, and before = the last item's cursor", async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const ops = Array.from({ length: 7 }, (_, i) =>
        send(i % 2 ? 'a' : 'b', i % 2 ? 'b' : 'a', `p${i}`, `page word ${i}`),
      );
      await storeAll(store, [...ops.slice(0, 3), send('a', 'b', 'noise', 'unrelated'), ...ops.slice(3)]);
      const box = (await store.mailbox('a'))!;
      const first = await store.search('a', query('word', { limit: 3 }));
      expect(first.items.map((i) => i.msg.id)).toEqual(['p6', 'p5', 'p4']);
      expect(first.more).toBe(true);
      const beforeSeq = cursorSeq(box, first.items[2]!.msg.cursor);
      const second = await store.search('a', query('word', { limit: 3, beforeSeq }));
      expect(second.items.map((i) => i.msg.id)).toEqual(['p3', 'p2', 'p1']);
      expect(second.more).toBe(true);
      const third = await store.search(
        'a',
        query('word', { limit: 3, beforeSeq: cursorSeq(box, second.items[2]!.msg.cursor) }),
      );
      expect(third.items.map((i) => i.msg.id)).toEqual(['p0']);
      expect(third.more).toBe(false);
      // Exactly `limit` left: no more.
      const exact = await store.search(
        'a',
        query('word', { limit: 4, beforeSeq: cursorSeq(box, first.items[2]!.msg.cursor) }),
      );
      expect(exact.more).toBe(false);
      // The results are the mailbox's messages in their current state.
      const msgs = await msgsOf(store, 'a');
      expect(first.items[0]!.msg).toEqual(msgs.find((m) => m.id === 'p6'));
    });

    it(`candidates of the index that are not matches are skipped, over more than ${SEARCH_SCAN_HINT} of them`, async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      // Index tokens are cut at 64 characters, so every word sharing those 64 is a
      // candidate; the reference (searchHighlights) keeps only the real prefix matches.
      const stem = 'q'.repeat(64);
      await storeAll(store, [send('a', 'b', 'target', `${stem}zz`)]);
      for (let i = 0; i < 3; i++) {
        await storeAll(
          store,
          Array.from({ length: 100 }, () => send('b', 'a', undefined, `${stem}yy`)),
        );
      }
      expect(await ids('a', `${stem}z`)).toEqual(['target']);
      expect(await ids('a', `${stem}y`, { limit: 1 })).toHaveLength(1);
    });
  });

  describe('retention with update entries (mailboxMax 3, retentionDays 1)', () => {
    const ctx = makeContext(factory, { mailboxMax: 3, retentionDays: 1 }, { beforeEach, afterEach });
    const ref = (op: SendOp) => ({ from: op.from, id: op.id });

    it('updates never push messages out, and go with the prefix before the oldest message kept', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b');
      const ops = [send('a', 'b'), send('a', 'b'), send('a', 'b'), send('a', 'b')];
      await storeAll(store, ops.slice(0, 2));
      // b: 1 m0, 2 m1, 3 react, 4 read, 5 m2, 6 react, 7 m3, 8 react
      await applied(store, { kind: 'react', user: 'b', ref: ref(ops[0]!), emoji: '👍' });
      await applied(store, { kind: 'read', user: 'b', with: 'a', upto: 2 });
      await storeAll(store, [ops[2]!]);
      await applied(store, { kind: 'react', user: 'b', ref: ref(ops[2]!), emoji: '👍' });
      await storeAll(store, [ops[3]!]);
      await applied(store, { kind: 'react', user: 'b', ref: ref(ops[3]!), emoji: '👍' });
      clock.advance(DAY + 1);
      await store.sweepRetention(clock.now());
      // b keeps its newest 3 messages (m1 m2 m3) and everything after the oldest of them.
      expect(await store.mailbox('b')).toMatchObject({ headSeq: 8, removedUpto: 1 });
      expect((await everything(store, 'b')).map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7, 8]);
      // Only updates between removed messages and the next kept message go.
      await storeAll(store, [send('a', 'b')]);
      clock.advance(DAY + 1);
      await store.sweepRetention(clock.now());
      expect(await store.mailbox('b')).toMatchObject({ removedUpto: 4 });
      expect((await updatesOf(store, 'b')).map((u) => u.kind)).toEqual(['react', 'react']);
      expect((await msgsOf(store, 'b')).map((m) => m.id)).toEqual([
        ops[2]!.id,
        ops[3]!.id,
        expect.any(String),
      ]);
    });
  });
}

/** Candidates the index yields per step (sqlite-feature-reader.ts); the test above crosses it. */
const SEARCH_SCAN_HINT = 200;
