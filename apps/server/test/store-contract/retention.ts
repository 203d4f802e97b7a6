import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SendOp } from '../../src/store/store.js';
import {
  commitAll,
  mailboxIds,
  makeContext,
  readMsgs,
  type StoreFactory,
  send,
  storeAll,
} from './harness.js';

const DAY = 86_400_000;

export function retentionContract(factory: StoreFactory): void {
  describe('retention (mailboxMax 3, retentionDays 1)', () => {
    const ctx = makeContext(factory, { mailboxMax: 3, retentionDays: 1 }, { beforeEach, afterEach });

    async function fill(from: string, to: string, count: number): Promise<SendOp[]> {
      const ops = Array.from({ length: count }, () => send(from, to));
      await storeAll(ctx.store, ops);
      return ops;
    }

    it('removes entries beyond the newest mailboxMax that are older than the cutoff; removedUpto tells', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b');
      const ops = await fill('a', 'b', 6);
      clock.advance(DAY + 1);
      expect(await store.sweepRetention(clock.now())).toBe(6);
      expect(await store.sweepRetention(clock.now())).toBe(0);
      for (const user of ['a', 'b']) {
        expect(await store.mailbox(user)).toMatchObject({ headSeq: 6, removedUpto: 3 });
        expect(await mailboxIds(store, user)).toEqual(ops.slice(3).map((o) => o.id));
      }
      // Positions stay: the next entry continues the sequence.
      const [r] = await storeAll(store, [send('a', 'b')]);
      expect(r!.entries[0]!.seq).toBe(7);
    });

    it('at the boundaries: exactly mailboxMax entries stay; an entry exactly at the cutoff age stays', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b', 'c', 'd');
      await fill('a', 'b', 3);
      await fill('c', 'd', 4);
      clock.advance(DAY);
      // ts == now - 1 day: not older than the cutoff.
      expect(await store.sweepRetention(clock.now())).toBe(0);
      clock.advance(1);
      // a and b hold exactly 3; c and d one more.
      expect(await store.sweepRetention(clock.now())).toBe(2);
      expect(await store.mailbox('b')).toMatchObject({ removedUpto: 0 });
      expect(await store.mailbox('d')).toMatchObject({ removedUpto: 1 });
    });

    it('keeps everything younger than the cutoff, however many', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b');
      const old = await fill('a', 'b', 2);
      clock.advance(DAY / 2);
      const young = await fill('a', 'b', 5);
      clock.advance(DAY / 2 + 1);
      // The 2 old ones may go (7 > 3); the 5 young ones stay although only 3 must.
      expect(await store.sweepRetention(clock.now())).toBe(4);
      expect(await mailboxIds(store, 'b')).toEqual(young.map((o) => o.id));
      expect(old).toHaveLength(2);
    });

    it('a message and its (from, id) record live as long as either of its entries', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b', 'c');
      // b: a1 a2 c1 c2 c3 c4 c5 → keeps c3..c5. a keeps both its entries, c keeps c3..c5.
      const fromA = await fill('a', 'b', 2);
      const fromC = await fill('c', 'b', 5);
      clock.advance(DAY + 1);
      expect(await store.sweepRetention(clock.now())).toBe(4 + 2);
      expect(await mailboxIds(store, 'b')).toEqual(fromC.slice(2).map((o) => o.id));
      expect(await mailboxIds(store, 'a')).toEqual(fromA.map((o) => o.id));
      // a's entry still holds the message: a resend is a duplicate; its frame is whole.
      const [dup] = await commitAll(store, [fromA[0]!]);
      expect(dup!.kind).toBe('duplicate');
      const aEntries = await readMsgs(store, 'a', 0, 10, 10);
      expect(aEntries[0]!.frame).toMatchObject({
        id: fromA[0]!.id,
        body: fromA[0]!.body,
        from: 'a',
        to: 'b',
      });
      // Both entries of c's first message are gone: so is the message, and a resend is new.
      const [again] = await commitAll(store, [fromC[0]!]);
      expect(again!.kind).toBe('stored');
    });

    it('history and conversations only see what is left', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b', 'c');
      await fill('c', 'b', 1);
      const ab = await fill('a', 'b', 4);
      clock.advance(DAY + 1);
      await store.sweepRetention(clock.now());
      expect((await store.historyAfter('b', 'a', 0, 10)).items.map((m) => m.id)).toEqual(
        ab.slice(1).map((o) => o.id),
      );
      const h = await store.history('b', 'a', null, 10);
      expect(h).toMatchObject({ more: false });
      expect(h.items.map((m) => m.id)).toEqual(ab.slice(1).map((o) => o.id));
      const conv = await store.conversations('b', { limit: 10, beforeSeq: null });
      expect(conv.items.map((r) => r.with)).toEqual(['a']);
      expect(await store.history('b', 'c', null, 10)).toEqual({ items: [], more: false });
    });
  });
}
