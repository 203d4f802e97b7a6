import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cursorSeq } from '../../src/store/cursor.js';
import { makeContext, readMsgs, type StoreFactory, send, storeAll } from './harness.js';

export function readsContract(factory: StoreFactory): void {
  describe('history', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });

    it('pages one conversation backwards: the newest `limit` before a seq, oldest first, and more', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      const withB: string[] = [];
      for (let i = 0; i < 7; i++) {
        const ops = [send(i % 2 ? 'a' : 'b', i % 2 ? 'b' : 'a'), send('c', 'a')];
        withB.push(ops[0]!.id);
        await storeAll(store, ops);
      }
      const p1 = await store.history('a', 'b', null, 3);
      expect(p1.items.map((m) => m.id)).toEqual(withB.slice(4));
      expect(p1.more).toBe(true);
      const box = (await store.mailbox('a'))!;
      const before = cursorSeq(box, p1.items[0]!.cursor);
      const p2 = await store.history('a', 'b', before, 3);
      expect(p2.items.map((m) => m.id)).toEqual(withB.slice(1, 4));
      expect(p2.more).toBe(true);
      const p3 = await store.history('a', 'b', cursorSeq(box, p2.items[0]!.cursor), 3);
      expect(p3.items.map((m) => m.id)).toEqual(withB.slice(0, 1));
      expect(p3.more).toBe(false);
      // Exactly the rest fits: no more.
      const exact = await store.history('a', 'b', before, 4);
      expect(exact.items.map((m) => m.id)).toEqual(withB.slice(0, 4));
      expect(exact.more).toBe(false);
      // The frames are the mailbox's own entries (its cursors).
      const entries = await readMsgs(store, 'a', 0, box.headSeq, 100);
      expect(p1.items).toEqual(
        entries.filter((e) => withB.slice(4).includes(e.frame.id)).map((e) => e.frame),
      );
    });

    it('pages one conversation forwards from a position: the oldest `limit` after a seq, and more', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      const withB: string[] = [];
      for (let i = 0; i < 6; i++) {
        const ops = [send('c', 'a'), send(i % 2 ? 'a' : 'b', i % 2 ? 'b' : 'a')];
        withB.push(ops[1]!.id);
        await storeAll(store, ops);
      }
      const box = (await store.mailbox('a'))!;
      const all = (await store.history('a', 'b', null, 10)).items;
      const seqOf = (i: number) => cursorSeq(box, all[i]!.cursor)!;
      const p1 = await store.historyAfter('a', 'b', seqOf(1), 2);
      expect(p1.items.map((m) => m.id)).toEqual(withB.slice(2, 4));
      expect(p1.more).toBe(true);
      const p2 = await store.historyAfter('a', 'b', seqOf(3), 2);
      expect(p2.items.map((m) => m.id)).toEqual(withB.slice(4, 6));
      expect(p2.more).toBe(false);
      // From before the first entry (a position in the mailbox that is not this conversation's).
      const p0 = await store.historyAfter('a', 'b', 0, 3);
      expect(p0.items.map((m) => m.id)).toEqual(withB.slice(0, 3));
      expect(p0.more).toBe(true);
      expect(p0.items).toEqual(all.slice(0, 3));
      expect(await store.historyAfter('a', 'b', seqOf(5), 5)).toEqual({ items: [], more: false });
      expect(await store.historyAfter('a', 'nobody', 0, 5)).toEqual({ items: [], more: false });
    });

    it('answers an empty page for a peer never written to, and notes to oneself as their own conversation', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      await storeAll(store, [send('a', 'a', 'self1'), send('a', 'b', 'ab')]);
      expect(await store.history('b', 'nobody', null, 10)).toEqual({ items: [], more: false });
      expect((await store.history('a', 'a', null, 10)).items.map((m) => m.id)).toEqual(['self1']);
      expect((await store.history('a', 'b', null, 10)).items.map((m) => m.id)).toEqual(['ab']);
      expect((await store.history('b', 'a', null, 1)).items.map((m) => m.id)).toEqual(['ab']);
    });
  });

  describe('conversations', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });

    it('one row per peer with its newest entry, newest first, paged by the seq of that entry', async () => {
      const { store } = ctx;
      await ctx.users('me', 'p1', 'p2', 'p3', 'p4');
      // Activity order (oldest first): p1, p2, p3, p1 again, p4, me→me.
      await storeAll(store, [send('p1', 'me', 'x1')]);
      await storeAll(store, [send('me', 'p2', 'x2'), send('p3', 'me', 'x3')]);
      await storeAll(store, [send('me', 'p1', 'x4'), send('p4', 'me', 'x5'), send('me', 'me', 'x6')]);
      const all = await store.conversations('me', { limit: 10, beforeSeq: null });
      expect(all.items.map((r) => [r.with, r.last.id])).toEqual([
        ['me', 'x6'],
        ['p4', 'x5'],
        ['p1', 'x4'],
        ['p3', 'x3'],
        ['p2', 'x2'],
      ]);
      expect(all.more).toBe(false);
      const entries = await readMsgs(store, 'me', 0, 100, 100);
      expect(all.items[1]!.last).toEqual(entries.find((e) => e.frame.id === 'x5')!.frame);

      const box = (await store.mailbox('me'))!;
      const page1 = await store.conversations('me', { limit: 2, beforeSeq: null });
      expect(page1.items.map((r) => r.with)).toEqual(['me', 'p4']);
      expect(page1.more).toBe(true);
      const page2 = await store.conversations('me', {
        limit: 2,
        beforeSeq: cursorSeq(box, page1.items[1]!.last.cursor),
      });
      expect(page2.items.map((r) => r.with)).toEqual(['p1', 'p3']);
      expect(page2.more).toBe(true);
      const page3 = await store.conversations('me', {
        limit: 2,
        beforeSeq: cursorSeq(box, page2.items[1]!.last.cursor),
      });
      expect(page3.items.map((r) => r.with)).toEqual(['p2']);
      expect(page3.more).toBe(false);
      // A limit of exactly the rows left: no more; one fewer: more.
      expect((await store.conversations('me', { limit: 5, beforeSeq: null })).more).toBe(false);
      expect((await store.conversations('me', { limit: 4, beforeSeq: null })).more).toBe(true);
      expect(await store.conversations('me', { limit: 3, beforeSeq: 1 })).toEqual({ items: [], more: false });
    });

    it('is empty for a user with no entries, and a peer moves to the top when written to', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      expect(await store.conversations('a', { limit: 5, beforeSeq: null })).toEqual({
        items: [],
        more: false,
      });
      await storeAll(store, [send('a', 'b'), send('a', 'c')]);
      expect(
        (await store.conversations('a', { limit: 5, beforeSeq: null })).items.map((r) => r.with),
      ).toEqual(['c', 'b']);
      await storeAll(store, [send('b', 'a')]);
      expect(
        (await store.conversations('a', { limit: 1, beforeSeq: null })).items.map((r) => r.with),
      ).toEqual(['b']);
    });
  });
}
