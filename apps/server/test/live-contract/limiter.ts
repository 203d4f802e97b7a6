import { describe, expect, it } from 'vitest';
import type { LiveContext } from './contract.js';

export function limiterContract(ctx: LiveContext): void {
  describe('send limiter', () => {
    const T0 = Date.UTC(2026, 0, 1);

    it('one bucket per key across nodes: capacity takes pass, the next one waits exactly until a token', async () => {
      const [a, b, c] = ctx.nodes.map((n) => n.sendLimiter) as [
        (typeof ctx.nodes)[0]['sendLimiter'],
        (typeof ctx.nodes)[0]['sendLimiter'],
        (typeof ctx.nodes)[0]['sendLimiter'],
      ];
      const capacity = ctx.rate * 2;
      const nodes = [a, b, c];
      // The largest burst that passes, spread over the nodes…
      for (let i = 0; i < capacity; i++) expect(await nodes[i % 3]!.take('user-1', T0)).toBe(0);
      // …and the smallest that fails, on whichever node: one token takes 1000 / rate ms.
      expect(await a.take('user-1', T0)).toBe(1000 / ctx.rate);
      expect(await c.take('user-1', T0)).toBe(1000 / ctx.rate);
      // Half that time later, half a token is there: the wait halves.
      expect(await b.take('user-1', T0 + 500 / ctx.rate)).toBe(500 / ctx.rate);
      // A token later it is granted, and only one.
      expect(await c.take('user-1', T0 + 1000 / ctx.rate)).toBe(0);
      expect(await a.take('user-1', T0 + 1000 / ctx.rate)).toBeGreaterThan(0);
      // Another key is a bucket of its own.
      expect(await b.take('user-2', T0)).toBe(0);
    });

    it('takes asked together (one group commit) are decided in the order asked', async () => {
      const [a] = ctx.nodes.map((n) => n.sendLimiter) as [(typeof ctx.nodes)[0]['sendLimiter']];
      const capacity = ctx.rate * 2;
      const keys = [...Array(capacity + 2).fill('user-6'), 'user-7'];
      const waits = await Promise.all(keys.map((k) => a.take(k, T0)));
      expect(waits).toEqual([...Array(capacity).fill(0), 1000 / ctx.rate, 1000 / ctx.rate, 0]);
    });

    it('refills at its rate up to its capacity, never beyond', async () => {
      const [a, b] = ctx.nodes.map((n) => n.sendLimiter) as [
        (typeof ctx.nodes)[0]['sendLimiter'],
        (typeof ctx.nodes)[0]['sendLimiter'],
      ];
      const capacity = ctx.rate * 2;
      for (let i = 0; i < capacity; i++) expect(await a.take('user-3', T0)).toBe(0);
      // Idle for an hour: full again, not fuller.
      const later = T0 + 3_600_000;
      for (let i = 0; i < capacity; i++) expect(await b.take('user-3', later)).toBe(0);
      expect(await a.take('user-3', later)).toBe(1000 / ctx.rate);
    });

    it('refund gives one token back on any node, never beyond the capacity', async () => {
      const [a, b, c] = ctx.nodes.map((n) => n.sendLimiter) as [
        (typeof ctx.nodes)[0]['sendLimiter'],
        (typeof ctx.nodes)[0]['sendLimiter'],
        (typeof ctx.nodes)[0]['sendLimiter'],
      ];
      const capacity = ctx.rate * 2;
      for (let i = 0; i < capacity; i++) expect(await a.take('user-4', T0)).toBe(0);
      expect(await b.take('user-4', T0)).toBeGreaterThan(0);
      await c.refund('user-4', T0);
      expect(await b.take('user-4', T0)).toBe(0);
      expect(await a.take('user-4', T0)).toBeGreaterThan(0);
      // A full bucket stays full: refunds on top of it add nothing.
      expect(await a.take('user-5', T0)).toBe(0);
      await b.refund('user-5', T0);
      await b.refund('user-5', T0);
      for (let i = 0; i < capacity; i++) expect(await c.take('user-5', T0)).toBe(0);
      expect(await c.take('user-5', T0)).toBeGreaterThan(0);
    });

    it('grants a token at exactly its time, however the time arrived in pieces', async () => {
      const [a, b, c] = ctx.nodes.map((n) => n.sendLimiter) as [
        (typeof ctx.nodes)[0]['sendLimiter'],
        (typeof ctx.nodes)[0]['sendLimiter'],
        (typeof ctx.nodes)[0]['sendLimiter'],
      ];
      const capacity = ctx.rate * 2;
      const token = 1000 / ctx.rate;
      // A refused take at `early` refills the bucket in two float steps whose sum falls a
      // hair short of one token (e.g. 16 ms then 184 ms at 5 a second): find such a split.
      const short = (d: number) => (d / 1000) * ctx.rate + ((token - d) / 1000) * ctx.rate < 1;
      const early = Array.from({ length: token - 1 }, (_, i) => i + 1).find(short) ?? 1;
      for (let i = 0; i < capacity; i++) expect(await a.take('user-8', T0)).toBe(0);
      expect(await b.take('user-8', T0 + early)).toBeGreaterThan(0);
      expect(await c.take('user-8', T0 + token)).toBe(0);
      expect(await a.take('user-8', T0 + token)).toBeGreaterThan(0);
    });
  });
}
