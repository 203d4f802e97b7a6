import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAP_EVERY_MS } from '../src/router/redis-presence.js';
import { Cluster, clusterAvailable, TEST_NODE_TTL_MS } from './engines/cluster.js';
import { type Frame, http, mid, type Session, sendAndWait, session } from './helpers.js';

/**
 * Three nodes on one PostgreSQL and one Redis: alice on node A, bob on node B, alice's
 * second device on node C. Everything PROTOCOL.md promises between two users on one
 * server holds when they are on different nodes.
 */
const ready = clusterAvailable('the cross-node tests');
const RATE = 5;
const AUTH_RATE = 6;

describe.skipIf(!ready)('a cluster of three nodes', () => {
  let cluster: Cluster;
  let addresses = 0;
  /** Each registration from an address of its own: the shared auth bucket is tested on purpose below. */
  const nextAddress = (): string => `10.1.${Math.floor(++addresses / 250)}.${addresses % 250}`;

  beforeAll(async () => {
    cluster = await Cluster.start({
      env: { PIGEON_RATE: String(RATE), PIGEON_AUTH_RATE: String(AUTH_RATE), PIGEON_TRUST_PROXY: '1' },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function account(node: number, prefix: string): Promise<{ id: string; token: string }> {
    const id = `${prefix}${crypto.randomBytes(4).toString('hex')}`;
    const r = await http(
      cluster.url(node),
      'POST',
      '/api/register',
      { user: id, password: 'password123' },
      { 'x-forwarded-for': nextAddress() },
    );
    expect(r.status).toBe(201);
    return { id, token: String(r.json!.token) };
  }

  async function trio(): Promise<{
    alice: { id: string; token: string };
    bob: { id: string; token: string };
    a: Session;
    b: Session;
    c: Session;
  }> {
    // Registered on one node, used on the others: the token secret is shared.
    const alice = await account(1, 'alice');
    const bob = await account(2, 'bob');
    const a = await session(cluster.wsUrl(0), alice.token);
    const b = await session(cluster.wsUrl(1), bob.token);
    const c = await session(cluster.wsUrl(2), alice.token);
    return { alice, bob, a, b, c };
  }

  it("delivers live across nodes, echoes to the sender's device on a third node, in cursor order", async () => {
    const { alice, bob, a, b, c } = await trio();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = mid('x');
      ids.push(id);
      expect((await sendAndWait(a, bob.id, `hello ${i}`, id)).t).toBe('sent');
    }
    const reply = mid('r');
    expect((await sendAndWait(b, alice.id, 'hi alice', reply)).t).toBe('sent');
    await b.until(() => b.msgs().length === 6, 'bob: 5 + his own reply');
    await c.until(() => c.msgs().length === 6, 'alice on C: her 5 echoes + the reply');
    await a.until(() => a.msgs().length === 6, 'alice on A');
    expect(b.msgs().map((m) => m.id)).toEqual([...ids, reply]);
    expect(c.msgs().map((m) => m.id)).toEqual([...ids, reply]);
    // Both devices of alice show one mailbox: the same cursors, in the same order.
    expect(c.msgs().map((m) => m.cursor)).toEqual(a.msgs().map((m) => m.cursor));
    const sent = a.frames.find((f) => f.t === 'sent' && f.id === ids[0]);
    expect(b.msgs()[0]).toMatchObject({ from: alice.id, to: bob.id, body: 'hello 0', ts: sent?.ts });
    for (const s of [a, b, c]) await s.close();
  });

  it('a receipt reaches the sender on both of her nodes; typing reaches both devices', async () => {
    const { alice, bob, a, b, c } = await trio();
    const id = mid('rc');
    await sendAndWait(a, bob.id, 'read me', id);
    const m = await b.waitFor((f) => f.t === 'msg' && f.id === id);
    b.send({ t: 'ack', cursor: m.cursor });
    for (const s of [a, c]) {
      expect(await s.waitFor((f) => f.t === 'receipt' && f.id === id, 'receipt')).toEqual({
        t: 'receipt',
        id,
        to: bob.id,
      });
    }
    b.send({ t: 'typing', to: alice.id });
    for (const s of [a, c])
      expect(await s.waitFor((f) => f.t === 'typing', 'typing')).toEqual({ t: 'typing', from: bob.id });
    expect(b.frames.some((f) => f.t === 'typing' || f.t === 'receipt')).toBe(false);
    for (const s of [a, b, c]) await s.close();
  });

  it('history and conversations are the same on every node', async () => {
    const { alice, bob, a, b, c } = await trio();
    const ids = [mid('h'), mid('h'), mid('h')];
    await sendAndWait(a, bob.id, 'one', ids[0]);
    await sendAndWait(b, alice.id, 'two', ids[1]);
    await sendAndWait(c, bob.id, 'three', ids[2]);
    for (const s of [a, b, c]) {
      const peer = s === b ? alice.id : bob.id;
      s.send({ t: 'history', with: peer, rid: 'h1' });
      const h = await s.waitFor((f) => f.t === 'history' && f.rid === 'h1', 'history');
      expect((h.items as Frame[]).map((i) => i.id)).toEqual(ids);
      s.send({ t: 'conversations', rid: 'c1' });
      const conv = await s.waitFor((f) => f.t === 'conversations' && f.rid === 'c1', 'conversations');
      const items = conv.items as { with: string; last: Frame }[];
      expect(items[0]).toMatchObject({ with: peer, last: { id: ids[2] } });
    }
    for (const s of [a, b, c]) await s.close();
  });

  it('one send bucket per user across nodes: a burst over A and C together passes 2 × PIGEON_RATE, not twice that', async () => {
    const { bob, a, c } = await trio();
    // 4 × RATE sends at once, half on each node: two buckets of 2 × RATE would pass them
    // all; the one shared bucket passes 2 × RATE plus what refills during the burst.
    const ids = Array.from({ length: RATE * 4 }, () => mid('b'));
    const started = Date.now();
    for (const [i, id] of ids.entries()) (i % 2 ? c : a).send({ t: 'send', id, to: bob.id, body: 'burst' });
    const answers = await Promise.all(
      ids.map((id, i) =>
        (i % 2 ? c : a).waitFor((f) => (f.t === 'sent' || f.t === 'error') && f.id === id, `answer to ${id}`),
      ),
    );
    const refill = Math.ceil(((Date.now() - started) / 1000) * RATE);
    const sent = answers.filter((f) => f.t === 'sent').length;
    expect(sent).toBeGreaterThanOrEqual(RATE * 2);
    expect(sent).toBeLessThanOrEqual(RATE * 2 + refill);
    expect(sent).toBeLessThan(RATE * 4);
    const refused = answers.filter((f) => f.t === 'error');
    for (const f of refused) {
      expect(f.code).toBe('rate_limited');
      expect(f.retryAfterMs).toBeGreaterThan(0);
      expect(f.retryAfterMs).toBeLessThanOrEqual(1000 / RATE);
    }
    // A duplicate (from, id) takes no token: answered `sent` with its ts, even now.
    const first = answers.find((f) => f.t === 'sent')!;
    expect(await sendAndWait(c, bob.id, 'again', String(first.id))).toMatchObject({
      t: 'sent',
      ts: first.ts,
    });
    await a.close();
    await c.close();
  });

  it('one auth bucket per address across nodes: PIGEON_AUTH_RATE requests pass, the next gets 429', async () => {
    const address = '10.200.0.1';
    const statuses: number[] = [];
    for (let i = 0; i <= AUTH_RATE; i++) {
      const r = await http(
        cluster.url(i % 3),
        'POST',
        '/api/login',
        { user: 'nobody-here', password: 'password123' },
        { 'x-forwarded-for': address },
      );
      statuses.push(r.status);
      if (r.status === 429) expect(r.json?.error).toBe('rate_limited');
    }
    expect(statuses).toEqual([...Array(AUTH_RATE).fill(401), 429]);
    // Another address is a bucket of its own.
    const other = await http(
      cluster.url(1),
      'POST',
      '/api/login',
      { user: 'nobody-here', password: 'password123' },
      {
        'x-forwarded-for': '10.200.0.2',
      },
    );
    expect(other.status).toBe(401);
  });

  it('presence spans nodes, and a node killed with -9 takes its users offline within the bound', async () => {
    const { alice, bob, a, c } = await trio();
    const carol = await account(0, 'carol');
    a.send({ t: 'presence', users: [bob.id, carol.id] });
    expect(await a.waitFor((f) => f.t === 'presence' && f.user === bob.id, 'bob')).toMatchObject({
      online: true,
    });
    expect(await a.waitFor((f) => f.t === 'presence' && f.user === carol.id, 'carol')).toMatchObject({
      online: false,
    });
    const carolOnC = await session(cluster.wsUrl(2), carol.token);
    await a.next((f) => f.t === 'presence' && f.user === carol.id && f.online === true, 'carol online');
    // bob's only connection is on node B; kill it without a goodbye.
    const killedAt = Date.now();
    await cluster.node(1).stop('SIGKILL');
    const bound = TEST_NODE_TTL_MS + REAP_EVERY_MS;
    const off = await a.next(
      (f) => f.t === 'presence' && f.user === bob.id && f.online === false,
      'bob offline',
      bound + 3000,
    );
    expect(off).toMatchObject({ online: false });
    expect(Date.now() - killedAt).toBeLessThan(bound + 1000);
    // carol (on a live node) did not flicker.
    expect(a.frames.filter((f) => f.t === 'presence' && f.user === carol.id).map((f) => f.online)).toEqual([
      false,
      true,
    ]);
    // The node comes back; bob reconnects there and is online again.
    await cluster.node(1).start();
    const b2 = await session(cluster.wsUrl(1), bob.token);
    await a.next((f) => f.t === 'presence' && f.user === bob.id && f.online === true, 'bob back');
    for (const s of [a, b2, c, carolOnC]) await s.close();
    expect(alice.id).toBeTruthy();
  });
});
