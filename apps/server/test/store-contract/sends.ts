// Over ~300 lines on purpose: one subject of the store contract, sends and acks, rule by rule.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/store/cursor.js';
import type { SendOp } from '../../src/store/store.js';
import {
  ack,
  admitAll,
  commitAll,
  mailboxIds,
  makeContext,
  readMsgs,
  refuseAll,
  type StoreFactory,
  send,
  storeAll,
} from './harness.js';

export function sendsContract(factory: StoreFactory): void {
  describe('sends: check order, idempotency, ordering', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });

    it('a send appends one entry to each mailbox, at the next seq, with the store clock as ts', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b');
      const [r] = await storeAll(store, [send('a', 'b', 'hi', 'hello')]);
      const a = (await store.mailbox('a'))!;
      const b = (await store.mailbox('b'))!;
      const frame = {
        t: 'msg',
        id: 'hi',
        from: 'a',
        to: 'b',
        body: 'hello',
        ts: clock.now(),
        delivered: false,
        read: false,
      };
      expect(r).toEqual({
        kind: 'stored',
        ts: clock.now(),
        entries: [
          { owner: 'b', seq: 1, frame: { ...frame, cursor: encodeCursor(b.tag, 1) } },
          { owner: 'a', seq: 1, frame: { ...frame, cursor: encodeCursor(a.tag, 1) } },
        ],
      });
      expect(a).toMatchObject({ headSeq: 1, head: encodeCursor(a.tag, 1), deliveredSeq: 0 });
      expect(b).toMatchObject({ headSeq: 1, head: encodeCursor(b.tag, 1), deliveredSeq: 0 });
      expect(await readMsgs(store, 'b', 0, 1, 10)).toEqual([r!.entries[0]]);
    });

    it('a note to oneself is one entry', async () => {
      const { store } = ctx;
      await ctx.users('a');
      const [r] = await storeAll(store, [send('a', 'a', 'note')]);
      expect(r!.entries).toHaveLength(1);
      expect(r!.entries[0]).toMatchObject({ owner: 'a', seq: 1, frame: { from: 'a', to: 'a' } });
      expect((await store.mailbox('a'))!.headSeq).toBe(1);
    });

    it('checks in the spec order: duplicate, then recipient, then admit, which only sees what passed', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const [first] = await storeAll(store, [send('a', 'b', 'old')]);
      ctx.clock.advance(5000);
      const asked: SendOp[][] = [];
      const ops = [
        send('a', 'b', 'old'),
        send('a', 'nobody', 'n1'),
        send('a', 'b', 'new1'),
        send('a', 'b', 'new2'),
      ];
      const results = await commitAll(store, ops, admitAll(asked));
      expect(results.map((r) => r.kind)).toEqual(['duplicate', 'no_such_user', 'stored', 'stored']);
      expect(results[0]).toEqual({ kind: 'duplicate', ts: first!.ts });
      expect(asked).toEqual([[ops[2], ops[3]]]);
    });

    it('a duplicate is sent and a send to nobody no_such_user even when admit refuses everything', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const [first] = await storeAll(store, [send('a', 'b', 'x')]);
      const results = await commitAll(
        store,
        [send('a', 'b', 'x'), send('a', 'ghost'), send('a', 'b', 'y')],
        refuseAll(250),
      );
      expect(results).toEqual([
        { kind: 'duplicate', ts: first!.ts },
        { kind: 'no_such_user' },
        { kind: 'refused', refusal: { code: 'rate_limited', retryAfterMs: 250 } },
      ]);
    });

    it('admit is not called when no send passes the checks (an ack-only batch either)', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      await storeAll(store, [send('a', 'b', 'd')]);
      const asked: SendOp[][] = [];
      await commitAll(store, [send('a', 'b', 'd'), send('a', 'nobody'), ack('b', 1)], admitAll(asked));
      expect(asked).toEqual([]);
    });

    it('a refused send stores nothing, and the same id is stored when sent again later', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      await commitAll(store, [send('a', 'b', 'later')], refuseAll());
      expect(await store.mailbox('b')).toMatchObject({ headSeq: 0, head: null });
      expect(await store.mailbox('a')).toMatchObject({ headSeq: 0, head: null });
      expect(await mailboxIds(store, 'b')).toEqual([]);
      const [r] = await storeAll(store, [send('a', 'b', 'later')]);
      expect(r!.entries[0]!.seq).toBe(1);
    });

    it('admit decides per send, in op order: refused ones leave no gap in the seqs', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const ops = [send('a', 'b', 's1'), send('a', 'b', 's2'), send('a', 'b', 's3')];
      const results = await commitAll(store, ops, async (sends) =>
        sends.map((s) =>
          s.kind === 'send' && s.id === 's2' ? { code: 'rate_limited', retryAfterMs: 7 } : null,
        ),
      );
      expect(results.map((r) => r.kind)).toEqual(['stored', 'refused', 'stored']);
      expect(await mailboxIds(store, 'b')).toEqual(['s1', 's3']);
      expect((await readMsgs(store, 'b', 0, 10, 10)).map((e) => e.seq)).toEqual([1, 2]);
    });

    it('when admit rejects, the commit rejects and stores nothing', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const failing = store.commit([send('a', 'b', 'f1'), ack('b', 0)], async () => {
        throw new Error('limiter down');
      });
      await expect(failing).rejects.toThrow('limiter down');
      expect(await store.mailbox('b')).toMatchObject({ headSeq: 0 });
      await storeAll(store, [send('a', 'b', 'f1')]);
      expect(await mailboxIds(store, 'b')).toEqual(['f1']);
    });

    it('the same (from, id) twice in one batch: admit sees it once; stored once, the repeat answers its ts', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const asked: SendOp[][] = [];
      const ops = [send('a', 'b', 'twice', 'one'), send('a', 'b', 'other'), send('a', 'b', 'twice', 'two')];
      const results = await commitAll(store, ops, admitAll(asked));
      expect(asked).toEqual([[ops[0], ops[1]]]);
      expect(results[0]!.kind).toBe('stored');
      expect(results[2]).toEqual({ kind: 'duplicate', ts: (results[0] as { ts: number }).ts });
      const entries = await readMsgs(store, 'b', 0, 10, 10);
      expect(entries.map((e) => e.frame.body)).toEqual(['one', 'body of other']);
    });

    it('the repeat of a refused send in the same batch is refused the same way', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const refusal = { code: 'rate_limited' as const, retryAfterMs: 40 };
      const results = await commitAll(store, [send('a', 'b', 'r'), send('a', 'b', 'r')], async (s) =>
        s.map(() => refusal),
      );
      expect(results).toEqual([
        { kind: 'refused', refusal },
        { kind: 'refused', refusal },
      ]);
      expect(await mailboxIds(store, 'b')).toEqual([]);
    });

    it('idempotency is per (from, id): another sender may use the id; the same sender may not, to anyone', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      const [first] = await storeAll(store, [send('a', 'b', 'shared')]);
      ctx.clock.advance(60_000);
      const results = await commitAll(store, [send('c', 'b', 'shared'), send('a', 'c', 'shared')]);
      expect(results[0]!.kind).toBe('stored');
      expect(results[1]).toEqual({ kind: 'duplicate', ts: first!.ts });
      expect(await mailboxIds(store, 'c')).toEqual(['shared']);
      expect((await readMsgs(store, 'c', 0, 10, 10))[0]!.frame.from).toBe('c');
    });

    it('seqs are consecutive per mailbox across batches; cursors sort as they grow', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      const expected: Record<string, string[]> = { a: [], b: [], c: [] };
      for (let batch = 0; batch < 8; batch++) {
        const ops: SendOp[] = [];
        for (let i = 0; i < 6; i++) {
          const [from, to] = i % 3 === 0 ? ['a', 'b'] : i % 3 === 1 ? ['b', 'c'] : ['c', 'a'];
          const op = send(from!, to!);
          ops.push(op);
          expected[to!]!.push(op.id);
          expected[from!]!.push(op.id);
        }
        await storeAll(store, ops);
      }
      for (const user of ['a', 'b', 'c']) {
        const box = (await store.mailbox(user))!;
        expect(box.headSeq).toBe(32);
        const entries = await readMsgs(store, user, 0, box.headSeq, 100);
        expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
        expect(entries.map((e) => e.frame.id)).toEqual(expected[user]);
        const cursors = entries.map((e) => e.frame.cursor);
        expect([...cursors].sort()).toEqual(cursors);
        expect(box.head).toBe(cursors[31]);
      }
    });

    it('readRange: after is exclusive, upto inclusive, at most limit, oldest first', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const ops = Array.from({ length: 10 }, () => send('a', 'b'));
      await storeAll(store, ops);
      const ids = ops.map((o) => o.id);
      expect((await readMsgs(store, 'b', 3, 7, 100)).map((e) => e.frame.id)).toEqual(ids.slice(3, 7));
      expect((await readMsgs(store, 'b', 3, 7, 2)).map((e) => e.frame.id)).toEqual(ids.slice(3, 5));
      expect((await readMsgs(store, 'b', 9, 10, 1)).map((e) => e.frame.id)).toEqual(ids.slice(9));
      expect(await readMsgs(store, 'b', 10, 10, 5)).toEqual([]);
      expect(await readMsgs(store, 'b', 0, 0, 5)).toEqual([]);
    });

    it('a commit on a closed store rejects', async () => {
      await ctx.users('a', 'b');
      await ctx.store.close();
      await expect(ctx.store.commit([send('a', 'b')], admitAll())).rejects.toThrow();
    });
  });

  describe('acks and receipts', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });

    it('an ack moves the delivered mark and yields one receipt per newly covered message from others', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      // b's mailbox: 1 a→b, 2 c→b, 3 b→a (own), 4 b→b (note), 5 a→b
      const ops = [
        send('a', 'b', 'm1'),
        send('c', 'b', 'm2'),
        send('b', 'a', 'm3'),
        send('b', 'b', 'm4'),
        send('a', 'b', 'm5'),
      ];
      await storeAll(store, ops);
      const [r1] = await commitAll(store, [ack('b', 3)]);
      expect(r1).toEqual({
        kind: 'acked',
        changed: true,
        receipts: [
          { sender: 'a', id: 'm1', to: 'b' },
          { sender: 'c', id: 'm2', to: 'b' },
        ],
      });
      expect((await store.mailbox('b'))!.deliveredSeq).toBe(3);
      const [again] = await commitAll(store, [ack('b', 3)]);
      expect(again).toEqual({ kind: 'acked', changed: false, receipts: [] });
      const [older] = await commitAll(store, [ack('b', 2)]);
      expect(older).toEqual({ kind: 'acked', changed: false, receipts: [] });
      expect((await store.mailbox('b'))!.deliveredSeq).toBe(3);
      const [r2] = await commitAll(store, [ack('b', 5)]);
      expect(r2).toEqual({ kind: 'acked', changed: true, receipts: [{ sender: 'a', id: 'm5', to: 'b' }] });
    });

    it('an ack beyond the head stops at the head', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      await storeAll(store, [send('a', 'b', 'h1'), send('a', 'b', 'h2')]);
      const [r] = await commitAll(store, [ack('b', 50)]);
      expect(r).toMatchObject({ kind: 'acked', changed: true });
      expect((await store.mailbox('b'))!.deliveredSeq).toBe(2);
      await storeAll(store, [send('a', 'b', 'h3')]);
      const [next] = await commitAll(store, [ack('b', 3)]);
      expect(next).toEqual({ kind: 'acked', changed: true, receipts: [{ sender: 'a', id: 'h3', to: 'b' }] });
    });

    it('delivered flags follow the recipient mark, in both mailboxes', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      await storeAll(store, [send('a', 'b', 'd1'), send('a', 'b', 'd2')]);
      await commitAll(store, [ack('b', 1)]);
      const flags = async (user: string) =>
        (await readMsgs(store, user, 0, 10, 10)).map((e) => [e.frame.id, e.frame.delivered]);
      expect(await flags('b')).toEqual([
        ['d1', true],
        ['d2', false],
      ]);
      expect(await flags('a')).toEqual([
        ['d1', true],
        ['d2', false],
      ]);
      // The sender acking its own mailbox says nothing about the recipient having it.
      await commitAll(store, [ack('a', 2)]);
      expect(await flags('a')).toEqual([
        ['d1', true],
        ['d2', false],
      ]);
    });

    it('sends and acks in one batch apply in op order', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const results = await commitAll(store, [
        send('a', 'b', 'o1'),
        ack('b', 1),
        send('a', 'b', 'o2'),
        ack('b', 2),
      ]);
      expect(results.map((r) => r.kind)).toEqual(['stored', 'acked', 'stored', 'acked']);
      expect(results[1]).toEqual({
        kind: 'acked',
        changed: true,
        receipts: [{ sender: 'a', id: 'o1', to: 'b' }],
      });
      expect(results[3]).toEqual({
        kind: 'acked',
        changed: true,
        receipts: [{ sender: 'a', id: 'o2', to: 'b' }],
      });
      expect((await store.mailbox('b'))!.deliveredSeq).toBe(2);
    });

    it('an ack of a user with nothing is unchanged', async () => {
      await ctx.users('a');
      const [r] = await commitAll(ctx.store, [ack('a', 1)]);
      expect(r).toEqual({ kind: 'acked', changed: false, receipts: [] });
    });
  });
}
