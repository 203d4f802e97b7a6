// Over ~300 lines on purpose: one subject of the store contract: the state of a
// message (edit, delete, hide, react, reply), rule by rule.
import { LIMITS } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdmitOp, SendOp } from '../../src/store/store.js';
import {
  applied,
  cursorOf,
  everything,
  msgsOf,
  rejected,
  seqOf,
  stateOf,
  unchanged,
  updatesOf,
  write,
} from './features-harness.js';
import { admitAll, commitAll, makeContext, type StoreFactory, send, storeAll } from './harness.js';

/** PROTOCOL.md "Edit", "Reply", "React": message state and the updates that carry it. */
export function featureMessagesContract(factory: StoreFactory): void {
  describe('edit, delete for everyone, hide', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });
    const ref = (op: SendOp) => ({ from: op.from, id: op.id });

    it('edit: the body changes in the one stored message; both mailboxes get an edit update', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b');
      const m = send('a', 'b', 'm', 'first');
      const [stored] = await storeAll(store, [m]);
      clock.advance(1000);
      const entries = await applied(store, { kind: 'edit', user: 'a', ref: ref(m), body: 'second' });
      expect(entries.map((e) => [e.owner, e.frame])).toEqual([
        [
          'b',
          {
            t: 'update',
            cursor: await cursorOf(store, 'b', 2),
            ts: clock.now(),
            kind: 'edit',
            from: 'a',
            id: 'm',
            with: 'a',
            body: 'second',
          },
        ],
        [
          'a',
          {
            t: 'update',
            cursor: await cursorOf(store, 'a', 2),
            ts: clock.now(),
            kind: 'edit',
            from: 'a',
            id: 'm',
            with: 'b',
            body: 'second',
          },
        ],
      ]);
      expect((await store.mailbox('a'))!.headSeq).toBe(2);
      for (const [user, peer] of [
        ['a', 'b'],
        ['b', 'a'],
      ] as const) {
        const msg = await stateOf(store, user, peer, ref(m));
        expect(msg).toMatchObject({ body: 'second', edited: clock.now(), ts: stored!.ts });
        // Replay shows the current state too, and the update in its place.
        expect((await updatesOf(store, user)).map((u) => u.kind)).toEqual(['edit']);
        expect((await msgsOf(store, user))[0]).toEqual(msg);
      }
    });

    it('edit and delete: exactly 15 minutes after ts is allowed, one millisecond more is too_late', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b');
      const m1 = send('a', 'b');
      const m2 = send('a', 'b');
      await storeAll(store, [m1, m2]);
      clock.advance(LIMITS.editWindowMs);
      await applied(store, { kind: 'edit', user: 'a', ref: ref(m1), body: 'in time' });
      await applied(store, { kind: 'delete', user: 'a', ref: ref(m2) });
      const m3 = send('a', 'b');
      const m4 = send('a', 'b');
      await storeAll(store, [m3, m4]);
      clock.advance(LIMITS.editWindowMs + 1);
      expect(await write(store, { kind: 'edit', user: 'a', ref: ref(m3), body: 'late' })).toEqual(
        rejected('too_late'),
      );
      expect(await write(store, { kind: 'delete', user: 'a', ref: ref(m4) })).toEqual(rejected('too_late'));
      expect((await stateOf(store, 'b', 'a', ref(m3))).body).toBe(m3.body);
    });

    it('checks in the spec order: no_such_message, not_yours, unchanged, message_deleted, too_late', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b', 'c');
      const mine = send('a', 'b', 'mine', 'text');
      const theirs = send('b', 'a', 'theirs');
      const other = send('b', 'c', 'other');
      await storeAll(store, [mine, theirs, other]);
      const asked: AdmitOp[][] = [];
      const results = await commitAll(
        store,
        [
          { kind: 'edit', user: 'a', ref: { from: 'a', id: 'nope' }, body: 'x' },
          // A message of someone else's conversation is not in my mailbox.
          { kind: 'edit', user: 'a', ref: ref(other), body: 'x' },
          { kind: 'edit', user: 'a', ref: ref(theirs), body: 'x' },
          { kind: 'delete', user: 'a', ref: ref(theirs) },
          { kind: 'edit', user: 'a', ref: ref(mine), body: 'text' },
        ],
        admitAll(asked),
      );
      expect(results).toEqual([
        rejected('no_such_message'),
        rejected('no_such_message'),
        rejected('not_yours'),
        rejected('not_yours'),
        unchanged,
      ]);
      // Refused and no-op writes never ask for a token.
      expect(asked).toEqual([]);
      await applied(store, { kind: 'delete', user: 'a', ref: ref(mine) });
      // A deleted message: deleting again changes nothing; an edit is refused, even when late.
      clock.advance(LIMITS.editWindowMs + 1);
      expect(await write(store, { kind: 'delete', user: 'a', ref: ref(mine) })).toEqual(unchanged);
      expect(await write(store, { kind: 'edit', user: 'a', ref: ref(mine), body: 'y' })).toEqual(
        rejected('message_deleted'),
      );
      expect((await updatesOf(store, 'a')).map((u) => u.kind)).toEqual(['delete']);
    });

    it('delete erases body, quote and reactions; earlier edit updates lose the old text; the place stays', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const original = send('b', 'a', 'orig', 'the original');
      const m = send('a', 'b', 'm', 'secret one');
      m.replyTo = ref(original);
      await storeAll(store, [original, m]);
      await applied(store, { kind: 'edit', user: 'a', ref: ref(m), body: 'secret two' });
      await applied(store, { kind: 'react', user: 'b', ref: ref(m), emoji: '👍' });
      await applied(store, { kind: 'delete', user: 'a', ref: ref(m) });
      for (const [user, peer] of [
        ['a', 'b'],
        ['b', 'a'],
      ] as const) {
        const msg = await stateOf(store, user, peer, ref(m));
        expect(msg.body).toBe('');
        expect(msg.deleted).toBe(true);
        expect(msg).not.toHaveProperty('replyTo');
        expect(msg).not.toHaveProperty('reactions');
        expect(msg.cursor).toBe(await cursorOf(store, user, await seqOf(store, user, ref(m))));
        const all = JSON.stringify(await everything(store, user));
        expect(all).not.toContain('secret');
        // The earlier edit now says what is true: the message is deleted.
        expect((await updatesOf(store, user)).map((u) => u.kind)).toEqual(['delete', 'react', 'delete']);
      }
      expect(
        (await store.search('a', { q: 'secret', with: null, beforeSeq: null, limit: 10 })).items,
      ).toEqual([]);
    });

    it('hide: mine or theirs, in my mailbox only; gone from what I read, the row moves to the previous message', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const first = send('b', 'a', 'first');
      const last = send('b', 'a', 'last');
      await storeAll(store, [first, last]);
      const entries = await applied(store, { kind: 'hide', user: 'a', ref: ref(last) });
      expect(entries.map((e) => [e.owner, e.frame])).toEqual([
        ['a', expect.objectContaining({ kind: 'hide', with: 'b' })],
      ]);
      expect((await msgsOf(store, 'a')).map((m) => m.id)).toEqual(['first']);
      expect((await store.history('a', 'b', null, 10)).items.map((m) => m.id)).toEqual(['first']);
      expect((await store.historyAfter('a', 'b', 0, 10)).items.map((m) => m.id)).toEqual(['first']);
      const rows = await store.conversations('a', { limit: 10, beforeSeq: null });
      expect(rows.items.map((r) => [r.with, r.last.id])).toEqual([['b', 'first']]);
      // b still has both.
      expect((await msgsOf(store, 'b')).map((m) => m.id)).toEqual(['first', 'last']);
      expect(await write(store, { kind: 'hide', user: 'a', ref: ref(last) })).toEqual(unchanged);
      await applied(store, { kind: 'hide', user: 'a', ref: ref(first) });
      // A conversation whose messages are all hidden has no row.
      expect((await store.conversations('a', { limit: 10, beforeSeq: null })).items).toEqual([]);
      // A new message brings the row back.
      await storeAll(store, [send('b', 'a', 'again')]);
      const again = await store.conversations('a', { limit: 10, beforeSeq: null });
      expect(again.items.map((r) => r.last.id)).toEqual(['again']);
      // A deleted message can be hidden too; an unknown one cannot.
      expect(await write(store, { kind: 'hide', user: 'a', ref: { from: 'b', id: 'zzz' } })).toEqual(
        rejected('no_such_message'),
      );
    });

    it('a note to oneself: one entry, one update per change', async () => {
      const { store } = ctx;
      await ctx.users('a');
      const note = send('a', 'a', 'note', 'remember');
      await storeAll(store, [note]);
      const edited = await applied(store, { kind: 'edit', user: 'a', ref: ref(note), body: 'remember this' });
      expect(edited.map((e) => [e.owner, e.frame])).toEqual([['a', expect.objectContaining({ with: 'a' })]]);
      await applied(store, { kind: 'react', user: 'a', ref: ref(note), emoji: '⭐' });
      expect((await stateOf(store, 'a', 'a', ref(note))).reactions).toEqual([{ by: 'a', emoji: '⭐' }]);
      await applied(store, { kind: 'hide', user: 'a', ref: ref(note) });
      expect(await msgsOf(store, 'a')).toEqual([]);
    });
  });

  describe('react', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });
    const ref = (op: SendOp) => ({ from: op.from, id: op.id });

    it('one reaction per person: set, change, remove; both mailboxes get each; at any age', async () => {
      const { store, clock } = ctx;
      await ctx.users('a', 'b');
      const m = send('a', 'b');
      await storeAll(store, [m]);
      clock.advance(365 * 86_400_000);
      const set = await applied(store, { kind: 'react', user: 'b', ref: ref(m), emoji: '👍' });
      expect(set.map((e) => [e.owner, e.frame])).toEqual([
        [
          'b',
          expect.objectContaining({ kind: 'react', from: 'a', id: m.id, with: 'a', by: 'b', emoji: '👍' }),
        ],
        [
          'a',
          expect.objectContaining({ kind: 'react', from: 'a', id: m.id, with: 'b', by: 'b', emoji: '👍' }),
        ],
      ]);
      await applied(store, { kind: 'react', user: 'a', ref: ref(m), emoji: '❤️' });
      await applied(store, { kind: 'react', user: 'b', ref: ref(m), emoji: '👩🏽‍💻' });
      expect((await stateOf(store, 'a', 'b', ref(m))).reactions).toEqual([
        { by: 'b', emoji: '👩🏽‍💻' },
        { by: 'a', emoji: '❤️' },
      ]);
      expect(await write(store, { kind: 'react', user: 'a', ref: ref(m), emoji: '❤️' })).toEqual(unchanged);
      await applied(store, { kind: 'react', user: 'b', ref: ref(m), emoji: null });
      expect(await write(store, { kind: 'react', user: 'b', ref: ref(m), emoji: null })).toEqual(unchanged);
      await applied(store, { kind: 'react', user: 'a', ref: ref(m), emoji: null });
      expect(await stateOf(store, 'b', 'a', ref(m))).not.toHaveProperty('reactions');
      expect((await updatesOf(store, 'a')).map((u) => (u.kind === 'react' ? u.emoji : u.kind))).toEqual([
        '👍',
        '❤️',
        '👩🏽‍💻',
        null,
        null,
      ]);
    });

    it('refused: a message not in my mailbox (no_such_message), a deleted one (message_deleted)', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      const m = send('a', 'b');
      const elsewhere = send('b', 'c');
      await storeAll(store, [m, elsewhere]);
      expect(await write(store, { kind: 'react', user: 'a', ref: ref(elsewhere), emoji: '👍' })).toEqual(
        rejected('no_such_message'),
      );
      await applied(store, { kind: 'delete', user: 'a', ref: ref(m) });
      // message_deleted comes before the no-op check: removing no reaction from it is refused too.
      expect(await write(store, { kind: 'react', user: 'b', ref: ref(m), emoji: '👍' })).toEqual(
        rejected('message_deleted'),
      );
      expect(await write(store, { kind: 'react', user: 'b', ref: ref(m), emoji: null })).toEqual(
        rejected('message_deleted'),
      );
    });
  });

  describe('reply', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });
    const ref = (op: SendOp) => ({ from: op.from, id: op.id });
    const reply = (from: string, to: string, original: SendOp, id?: string): SendOp => ({
      ...send(from, to, id),
      replyTo: ref(original),
    });

    it('a reply quotes its original with its cursor in each mailbox; the quote follows edits and deletion', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const original = send('a', 'b', 'o', 'x'.repeat(LIMITS.quoteMaxLength + 5));
      await storeAll(store, [original]);
      const [r] = await storeAll(store, [reply('b', 'a', original, 'r')]);
      const quoted = `${'x'.repeat(LIMITS.quoteMaxLength)}…`;
      expect(r!.entries.map((e) => [e.owner, e.frame.replyTo])).toEqual([
        ['a', { from: 'a', id: 'o', cursor: await cursorOf(store, 'a', 1), body: quoted }],
        ['b', { from: 'a', id: 'o', cursor: await cursorOf(store, 'b', 1), body: quoted }],
      ]);
      expect((await stateOf(store, 'a', 'b', { from: 'b', id: 'r' })).replyTo).toEqual(
        r!.entries[0]!.frame.replyTo,
      );
      await applied(store, { kind: 'edit', user: 'a', ref: ref(original), body: 'short now' });
      expect((await stateOf(store, 'b', 'a', { from: 'b', id: 'r' })).replyTo).toMatchObject({
        body: 'short now',
      });
      await applied(store, { kind: 'delete', user: 'a', ref: ref(original) });
      expect((await stateOf(store, 'b', 'a', { from: 'b', id: 'r' })).replyTo).toEqual({
        from: 'a',
        id: 'o',
        cursor: await cursorOf(store, 'b', 1),
        deleted: true,
      });
    });

    it('checks after no_such_user and before the rate: no_such_message, message_deleted; a duplicate is answered first', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b', 'c');
      const inAB = send('a', 'b', 'ab');
      const inBC = send('b', 'c', 'bc');
      const gone = send('a', 'b', 'gone');
      await storeAll(store, [inAB, inBC, gone]);
      await applied(store, { kind: 'delete', user: 'a', ref: ref(gone) });
      const asked: AdmitOp[][] = [];
      const stored = reply('a', 'b', inAB, 'ok');
      await storeAll(store, [stored]);
      const results = await commitAll(
        store,
        [
          // Of another conversation: not in this one.
          reply('b', 'a', inBC),
          reply('a', 'b', gone),
          reply('a', 'b', { ...inAB, id: 'never' }),
          reply('a', 'nobody', inAB),
          // The same (from, id) again: a duplicate, whatever it says this time.
          { ...stored, replyTo: ref(gone) },
        ],
        admitAll(asked),
      );
      expect(results).toEqual([
        rejected('no_such_message'),
        rejected('message_deleted'),
        rejected('no_such_message'),
        { kind: 'no_such_user' },
        { kind: 'duplicate', ts: expect.any(Number) },
      ]);
      expect(asked).toEqual([]);
    });

    it('a reply to a message stored earlier in the same batch, and one to a message deleted earlier in it', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const first = send('a', 'b', 'first');
      const victim = send('a', 'b', 'victim');
      await storeAll(store, [victim]);
      const results = await commitAll(store, [
        first,
        reply('a', 'b', first, 'answer'),
        { kind: 'delete', user: 'a', ref: ref(victim) },
        reply('b', 'a', victim, 'too-late'),
      ]);
      expect(results.map((r) => r.kind)).toEqual(['stored', 'stored', 'applied', 'rejected']);
      expect(results[3]).toEqual(rejected('message_deleted'));
      expect((await stateOf(store, 'b', 'a', { from: 'a', id: 'answer' })).replyTo).toMatchObject({
        from: 'a',
        id: 'first',
        body: first.body,
      });
    });
  });
}
