import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, clusterAvailable } from './engines/cluster.js';
import { Client, type Frame, http } from './helpers.js';

/**
 * The replay race across nodes: connections of one user open on every node while others
 * send to that user from every node. Whatever a connection's node learns late (its
 * subscription is fresh, a publication from another node overtakes its backlog read),
 * each connection gets every entry exactly once, in cursor order.
 */
const ready = clusterAvailable('the cross-node replay race test');

describe.skipIf(!ready)('the replay race across nodes', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ env: { PIGEON_RATE: '10000' } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function account(node: number, id: string): Promise<string> {
    const r = await http(cluster.url(node), 'POST', '/api/register', { user: id, password: 'password123' });
    expect(r.status).toBe(201);
    return String(r.json!.token);
  }

  it('many connections of one user opening on different nodes while others send: every entry once, in order', async () => {
    const run = crypto.randomBytes(3).toString('hex');
    const target = `rr${run}`;
    const targetToken = await account(0, target);
    const senders = await Promise.all(
      [0, 1, 2].map(async (node) => {
        const id = `rs${run}${node}`;
        const token = await account(node, id);
        const c = await Client.open(`${cluster.wsUrl(node)}/ws`);
        c.send({ t: 'hello', v: 1, token });
        await c.waitFor((f) => f.t === 'synced', 'sender synced');
        return { id, c };
      }),
    );
    const PER_SENDER = 150;
    const OPENINGS = 15;
    const sending = Promise.all(
      senders.map(async ({ c }, s) => {
        for (let i = 0; i < PER_SENDER; i++) {
          c.send({ t: 'send', id: `s${s}m${i}`, to: target, body: `from ${s}: ${i}` });
          // Small bursts, so openings land between and during commits.
          if (i % 10 === 9) await c.waitFor((f) => f.t === 'sent' && f.id === `s${s}m${i}`, 'burst sent');
        }
      }),
    );
    const connections: Client[] = [];
    const opening = (async () => {
      for (let i = 0; i < OPENINGS; i++) {
        const c = await Client.open(`${cluster.wsUrl(i % 3)}/ws`);
        connections.push(c);
        // No since and nobody acks: each connection gets the whole mailbox.
        c.send({ t: 'hello', v: 1, token: targetToken });
        await c.waitFor((f) => f.t === 'welcome', 'welcome');
      }
    })();
    await Promise.all([sending, opening]);
    const total = PER_SENDER * senders.length;
    for (const c of connections) await c.until(() => c.msgs().length >= total, `${total} entries`, 20_000);
    // One more from each sender as a fence: nothing beyond `total` was still on its way.
    for (const [s, { c }] of senders.entries())
      c.send({ t: 'send', id: `s${s}fence`, to: target, body: 'fence' });
    for (const c of connections) await c.until(() => c.msgs().length >= total + 3, 'fences', 20_000);
    const reference = connections[0]!.msgs().map((m: Frame) => m.cursor);
    for (const c of connections) {
      const msgs = c.msgs();
      expect(msgs).toHaveLength(total + 3);
      const cursors = msgs.map((m) => String(m.cursor));
      // Once each, in cursor order, the same order on every connection.
      expect(new Set(cursors).size).toBe(cursors.length);
      expect([...cursors].sort()).toEqual(cursors);
      expect(cursors).toEqual(reference);
      // Each sender's messages in the order sent.
      for (let s = 0; s < 3; s++) {
        const mine = msgs
          .filter((m) => String(m.id).startsWith(`s${s}m`))
          .map((m) => Number(String(m.id).slice(`s${s}m`.length)));
        expect(mine).toEqual(Array.from({ length: PER_SENDER }, (_, i) => i));
      }
      // welcome … backlog … synced, then live: exactly one synced, and only msg frames before it.
      const syncedAt = c.frames.findIndex((f) => f.t === 'synced');
      expect(syncedAt).toBeGreaterThan(0);
      expect(c.frames.slice(1, syncedAt).every((f) => f.t === 'msg')).toBe(true);
    }
    for (const c of [...connections, ...senders.map((s) => s.c)]) await c.close();
  });
});
