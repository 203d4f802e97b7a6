import { describe, expect, it } from 'vitest';
import type { LiveContext } from './contract.js';
import { Recorder, relay, send, upto } from './harness.js';

export function routerContract(ctx: LiveContext): void {
  describe('router', () => {
    async function users(...ids: string[]): Promise<void> {
      for (const id of ids) await ctx.store.createUser(id, null);
    }

    it('hands each entry committed on any node to every target of its owner on every node, once, in order', async () => {
      const [a, b, c] = ctx.nodes as [(typeof ctx.nodes)[0], (typeof ctx.nodes)[0], (typeof ctx.nodes)[0]];
      await users('alice', 'bob', 'carol');
      const bobOnA = new Recorder('bob', ctx.signal);
      const bobOnB = new Recorder('bob', ctx.signal);
      const carolOnC = new Recorder('carol', ctx.signal);
      await bobOnA.open(a, ctx.store);
      await bobOnB.open(b, ctx.store);
      await carolOnC.open(c, ctx.store);
      // From all three nodes, in batches of several entries.
      for (let round = 0; round < 10; round++) {
        await relay(ctx.nodes[round % 3]!, ctx.store, [
          send('alice', 'bob'),
          send('carol', 'bob'),
          send('bob', 'bob'),
        ]);
      }
      // Per round: alice's, carol's and bob's own message (one entry: a message to oneself).
      await ctx.signal.until(
        () => bobOnA.emitted.length === 30 && bobOnB.emitted.length === 30,
        'bob gets 30',
      );
      for (const r of [bobOnA, bobOnB]) {
        expect(r.emitted).toEqual(upto(30));
        expect(r.handedLive).toEqual(upto(30));
      }
      await ctx.signal.until(() => carolOnC.emitted.length === 10, 'carol gets her 10 own entries');
      expect(carolOnC.emitted).toEqual(upto(10));
    });

    it('closes the replay race: targets opening on every node while others send miss nothing and repeat nothing', async () => {
      await users('dora', 'eve', 'finn');
      const opened: Recorder[] = [];
      let sends = 0;
      const sending = (async () => {
        for (let i = 0; i < 40; i++) {
          const node = ctx.nodes[i % ctx.nodes.length]!;
          await relay(node, ctx.store, [send(i % 2 ? 'eve' : 'finn', 'dora'), send('eve', 'dora')]);
          sends += 2;
        }
      })();
      const opening = (async () => {
        for (let i = 0; i < 12; i++) {
          const r = new Recorder('dora', ctx.signal);
          opened.push(r);
          await r.open(ctx.nodes[i % ctx.nodes.length]!, ctx.store);
        }
      })();
      await Promise.all([sending, opening]);
      expect(sends).toBe(80);
      await ctx.signal.until(() => opened.every((r) => r.emitted.length === 80), 'every target has all 80');
      for (const r of opened) {
        expect(r.emitted).toEqual(upto(80));
        // While live, handed strictly in order and never twice.
        for (let i = 1; i < r.handedLive.length; i++) {
          expect(r.handedLive[i]).toBeGreaterThan(r.handedLive[i - 1]!);
        }
      }
    });

    it('an entry committed right after attach resolved is handed without any later publication', async () => {
      // No later entry would reveal a gap, and the sweep is far away: only the attach
      // order (subscription confirmed, then the head read) gets these through.
      for (let i = 0; i < 20; i++) {
        const user = `solo${i}`;
        await users(user, `peer${i}`);
        const r = new Recorder(user, ctx.signal);
        await r.open(ctx.nodes[i % 3]!, ctx.store);
        await relay(ctx.nodes[(i + 1) % 3]!, ctx.store, [send(`peer${i}`, user)]);
        await ctx.signal.until(() => r.emitted.length === 1, `${user} gets its one entry`, 5000);
      }
    });

    it('stops handing to a target at detach, and other users get nothing', async () => {
      const [a, b] = ctx.nodes as [(typeof ctx.nodes)[0], (typeof ctx.nodes)[0]];
      await users('gus', 'hal', 'ivy');
      const gus1 = new Recorder('gus', ctx.signal);
      const gus2 = new Recorder('gus', ctx.signal);
      const ivy = new Recorder('ivy', ctx.signal);
      await gus1.open(a, ctx.store);
      await gus2.open(b, ctx.store);
      await ivy.open(b, ctx.store);
      await relay(a, ctx.store, [send('hal', 'gus')]);
      await ctx.signal.until(() => gus1.emitted.length === 1 && gus2.emitted.length === 1, 'first entry');
      b.router.detach(gus2);
      await relay(a, ctx.store, [send('hal', 'gus'), send('hal', 'gus')]);
      await ctx.signal.until(() => gus1.emitted.length === 3, 'gus1 gets 3');
      // A fence through the same path as gus2's entries: ivy's entry on node b arrives after them.
      await relay(a, ctx.store, [send('hal', 'ivy')]);
      await ctx.signal.until(() => ivy.emitted.length === 1, 'ivy gets hers');
      expect(gus2.emitted).toEqual([1]);
      expect(gus1.emitted).toEqual([1, 2, 3]);
      expect(ivy.emitted).toEqual([1]);
    });

    it('hands receipts to every target of the sender, typing to every target of the recipient', async () => {
      const [a, b, c] = ctx.nodes as [(typeof ctx.nodes)[0], (typeof ctx.nodes)[0], (typeof ctx.nodes)[0]];
      await users('jo', 'kim');
      const jo1 = new Recorder('jo', ctx.signal);
      const jo2 = new Recorder('jo', ctx.signal);
      const kim = new Recorder('kim', ctx.signal);
      await jo1.open(a, ctx.store);
      await jo2.open(c, ctx.store);
      await kim.open(b, ctx.store);
      const [stored] = await relay(a, ctx.store, [send('jo', 'kim')]);
      expect(stored?.kind).toBe('stored');
      await ctx.signal.until(() => kim.emitted.length === 1, 'kim gets the message');
      // kim's device acknowledges on node b: one receipt to each of jo's targets.
      const [acked] = await relay(b, ctx.store, [{ kind: 'ack', user: 'kim', seq: 1 }]);
      expect(acked).toMatchObject({ kind: 'acked', changed: true });
      await ctx.signal.until(() => jo1.receipts.length === 1 && jo2.receipts.length === 1, 'receipts');
      expect(jo1.receipts[0]).toMatchObject({ sender: 'jo', to: 'kim' });
      // kim types to jo from node b; jo is on a and c.
      b.router.publishTyping('kim', 'jo');
      await ctx.signal.until(() => jo1.typing.length === 1 && jo2.typing.length === 1, 'typing');
      expect(jo1.typing).toEqual(['kim']);
      expect(kim.typing).toEqual([]);
      expect(kim.receipts).toEqual([]);
    });
  });
}
