import { describe, expect, it } from 'vitest';
import type { SendOp } from '../src/store/store.js';
import { openStoreFor } from './engines/test-engine.js';
import { type Frame, register, session, startServer } from './helpers.js';

const ENTRIES = 200_000;
const KEEP = 1000;

/**
 * Issue 14: the retention sweep never blocks the event loop. A mailbox of 200,000 entries
 * is swept (in slices, in the writer thread) while a live pair chats every 5 ms: the pair
 * keeps getting its messages during the sweep, none lost, in order. The pair's worst
 * latency is printed (speed is judged in `npm run bench`, not here).
 */
describe('retention sweep of a large mailbox', () => {
  it(`removes ${ENTRIES.toLocaleString('en')} entries while a live pair keeps chatting`, {
    timeout: 120_000,
  }, async () => {
    const r = await startServer({ mailboxMax: KEEP, retentionDays: 0, rate: 1_000_000 });
    try {
      const [a, b, c, d] = [
        await register(r.url),
        await register(r.url),
        await register(r.url),
        await register(r.url),
      ];
      // Fill c → d through a second store on the same file (the server has not touched
      // c's or d's mailbox, so nothing of theirs is cached in its writer); on
      // `npm run test:pg`, on the same PostgreSQL database.
      const filler = await openStoreFor(r.dbPath, { mailboxMax: KEEP, retentionDays: 0 });
      try {
        for (let n = 0; n < ENTRIES; ) {
          const ops: SendOp[] = [];
          for (let i = 0; i < 10_000 && n < ENTRIES; i++, n++) {
            ops.push({ kind: 'send', from: c.id, to: d.id, id: `fill${n}`, body: `filler ${n}` });
          }
          const results = await filler.commit(ops, async (s) => s.map(() => null));
          expect(results.every((x) => x.kind === 'stored')).toBe(true);
        }
      } finally {
        await filler.close();
      }

      const ca = await session(r.wsUrl, a.token);
      const cb = await session(r.wsUrl, b.token);
      let sweeping = true;
      let duringSweep = 0;
      const latencies: number[] = [];
      cb.ws.on('message', (data) => {
        const f = JSON.parse(data.toString()) as Frame;
        if (f.t !== 'msg') return;
        latencies.push(performance.now() - Number.parseFloat(String(f.body)));
        if (sweeping) duringSweep++;
      });
      let sent = 0;
      const chat = setInterval(() => {
        ca.send({ t: 'send', id: `live${sent}`, to: b.id, body: `${performance.now()}|${sent}` });
        sent++;
      }, 5);
      const started = performance.now();
      const removed = await r.server.sweepRetention();
      const sweepMs = performance.now() - started;
      sweeping = false;
      clearInterval(chat);
      await cb.until(() => cb.msgs().length === sent, `all ${sent} live messages`, 10_000);

      // Both mailboxes (c's and d's) keep their newest KEEP entries.
      expect(removed).toBe(2 * (ENTRIES - KEEP));
      expect(cb.msgs().map((m) => m.id)).toEqual(Array.from({ length: sent }, (_, i) => `live${i}`));
      // The loop kept running: messages went through while the sweep was under way.
      expect(duringSweep).toBeGreaterThan(0);
      const cd = await session(r.wsUrl, d.token);
      expect(cd.backlog.map((m) => m.id)).toEqual(
        Array.from({ length: KEEP }, (_, i) => `fill${ENTRIES - KEEP + i}`),
      );
      latencies.sort((x, y) => x - y);
      console.info(
        `sweep of ${removed} entries took ${sweepMs.toFixed(0)} ms; the live pair got ${duringSweep} messages meanwhile, ` +
          `latency p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms`,
      );
    } finally {
      await r.stop();
    }
  });
});
