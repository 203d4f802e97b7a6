import { describe, expect, it } from 'vitest';
import type { LiveContext } from './contract.js';
import { Recorder, relay, send, upto } from './harness.js';

/**
 * The chat features (issue 10) through the live parts: update entries are mailbox entries
 * like messages (handed once, in order, with the messages, on every node), and a block
 * reaches the connections of both users on every node.
 */
export function featuresContract(ctx: LiveContext): void {
  describe('chat features', () => {
    async function users(...ids: string[]): Promise<void> {
      for (const id of ids) await ctx.store.createUser(id, null);
    }

    it('hands update entries with the messages, once, in mailbox order, to both mailboxes on every node', async () => {
      const [a, b, c] = ctx.nodes as [(typeof ctx.nodes)[0], (typeof ctx.nodes)[0], (typeof ctx.nodes)[0]];
      await users('gil', 'hal');
      const gilOnB = new Recorder('gil', ctx.signal);
      const halOnC = new Recorder('hal', ctx.signal);
      await gilOnB.open(b, ctx.store);
      await halOnC.open(c, ctx.store);
      for (let round = 0; round < 5; round++) {
        const m = send('gil', 'hal');
        const ref = { from: m.from, id: m.id };
        await relay(ctx.nodes[round % 3]!, ctx.store, [
          m,
          { kind: 'react', user: 'hal', ref, emoji: '👍' },
          { kind: 'edit', user: 'gil', ref, body: `edited ${round}` },
        ]);
      }
      await relay(a, ctx.store, [{ kind: 'read', user: 'hal', with: 'gil', upto: 15 }]);
      // Per round: the message, the reaction and the edit, in both mailboxes; then hal's
      // read mark (hal's mailbox) and gil's read receipt (gil's).
      await ctx.signal.until(() => gilOnB.emitted.length === 16 && halOnC.emitted.length === 16, 'all 16');
      for (const r of [gilOnB, halOnC]) {
        expect(r.handedLive).toEqual(upto(16));
        expect(r.kinds.slice(0, 3)).toEqual(['msg', 'react', 'edit']);
      }
      expect(gilOnB.kinds[15]).toBe('seen');
      expect(halOnC.kinds[15]).toBe('read');
    });

    it('a backlog replayed from the store holds the updates in place', async () => {
      await users('ida', 'jon');
      const m = send('ida', 'jon');
      await relay(ctx.nodes[0]!, ctx.store, [
        m,
        { kind: 'hide', user: 'jon', ref: { from: 'ida', id: m.id } },
      ]);
      await relay(ctx.nodes[1]!, ctx.store, [send('ida', 'jon')]);
      const late = new Recorder('jon', ctx.signal);
      await late.open(ctx.nodes[2]!, ctx.store);
      // The hidden message is left out of what jon is sent; its hide entry is there.
      expect(late.emitted).toEqual([2, 3]);
      expect(late.kinds).toEqual(['hide', 'msg']);
    });

    it('hands a block to the connections of the blocker and of the blocked user on every node, and no one else', async () => {
      const [a, b, c] = ctx.nodes as [(typeof ctx.nodes)[0], (typeof ctx.nodes)[0], (typeof ctx.nodes)[0]];
      await users('kim', 'lou', 'max');
      const kimOnB = new Recorder('kim', ctx.signal);
      const louOnC = new Recorder('lou', ctx.signal);
      const maxOnC = new Recorder('max', ctx.signal);
      for (const [r, n] of [
        [kimOnB, b],
        [louOnC, c],
        [maxOnC, c],
      ] as const) {
        await r.open(n, ctx.store);
      }
      await relay(a, ctx.store, [{ kind: 'block', user: 'kim', target: 'lou', blocked: true }]);
      await relay(a, ctx.store, [{ kind: 'block', user: 'kim', target: 'lou', blocked: false }]);
      await ctx.signal.until(() => kimOnB.blocks.length === 2 && louOnC.blocks.length === 2, 'blocks');
      const changes = [
        { blocker: 'kim', target: 'lou', blocked: true },
        { blocker: 'kim', target: 'lou', blocked: false },
      ];
      expect(kimOnB.blocks).toEqual(changes);
      expect(louOnC.blocks).toEqual(changes);
      // The blocker's mailbox has the durable entries; the blocked user's has nothing.
      expect(kimOnB.kinds).toEqual(['block', 'block']);
      expect(louOnC.emitted).toEqual([]);
      expect(maxOnC.blocks).toEqual([]);
    });
  });
}
