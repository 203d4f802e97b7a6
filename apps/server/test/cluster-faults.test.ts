import crypto from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REAP_EVERY_MS } from '../src/router/redis-presence.js';
import { ClusterUser, checkDelivery } from './cluster-client.js';
import { Cluster, clusterAvailable, TEST_NODE_TTL_MS } from './engines/cluster.js';
import { http } from './helpers.js';

/**
 * Faults under load, each bounded in time: six users, two per node, each sending to the
 * others all along; one fault in the middle; then every acknowledged message must be
 * shown once to its recipient and its sender, nothing twice, each sender's in order.
 */
const ready = clusterAvailable('the cluster fault tests');
const USERS = 6;
/** Messages a second each user sends while the load runs. */
const PER_USER_RATE = 25;

describe.skipIf(!ready)('faults under load', () => {
  let cluster: Cluster;
  let users: ClusterUser[] = [];
  let load: NodeJS.Timeout | null = null;

  beforeEach(async () => {
    cluster = await Cluster.start({ env: { PIGEON_RATE: '1000' } });
    const run = crypto.randomBytes(3).toString('hex');
    users = [];
    for (let i = 0; i < USERS; i++) {
      const id = `f${run}u${i}`;
      const r = await http(cluster.url(i % 3), 'POST', '/api/register', {
        user: id,
        password: 'password123',
      });
      expect(r.status).toBe(201);
      users.push(
        new ClusterUser(
          id,
          String(r.json!.token),
          () => cluster.nodes.map((n) => n.url.replace(/^http/, 'ws')),
          i % 3,
        ),
      );
    }
    await Promise.all(users.map((u) => u.start()));
  });
  afterEach(async () => {
    if (load) clearInterval(load);
    load = null;
    for (const u of users) u.stop();
    await cluster?.stop();
  });

  /** Every user sends to the next ones round robin, PER_USER_RATE a second, until stopLoad. */
  function startLoad(): void {
    let tick = 0;
    load = setInterval(() => {
      tick++;
      for (const [i, u] of users.entries()) {
        const to = users[(i + 1 + (tick % (USERS - 1))) % USERS]!;
        u.send(to.id, `t${tick}`);
      }
    }, 1000 / PER_USER_RATE);
  }

  async function stopLoadAndSettle(boundMs: number): Promise<ReturnType<typeof checkDelivery>> {
    if (load) clearInterval(load);
    load = null;
    const started = Date.now();
    // Every message gets its `sent` (resent as needed), then everyone has everything.
    for (const u of users) await u.until(() => u.acked().length === u.outbox.length, 'all sent', boundMs);
    const expected = (u: ClusterUser): number =>
      users.reduce((n, s) => n + s.outbox.filter((o) => o.to === u.id || s === u).length, 0);
    for (const u of users) {
      const left = Math.max(1, boundMs - (Date.now() - started));
      await u.until(() => u.received.length >= expected(u), `all ${expected(u)} entries`, left);
    }
    return checkDelivery(users);
  }

  async function loadFor(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  it('kill -9 of a node: its users reconnect elsewhere with their cursor and resend; 0 lost, 0 twice, order kept', async () => {
    startLoad();
    await loadFor(1500);
    await cluster.node(1).stop('SIGKILL');
    await loadFor(2000);
    // Dead node: its last commits may have had no publication; the others catch up once it
    // is declared dead (TTL + reaper), or their own sweep.
    const result = await stopLoadAndSettle(TEST_NODE_TTL_MS + REAP_EVERY_MS + 15_000);
    expect(result.lost).toEqual([]);
    expect(result.doubled).toEqual([]);
    expect(result.reordered).toEqual([]);
    // Every message sent got its `sent` in the end, and there was real load around the kill.
    expect(result.acked).toBe(users.reduce((n, u) => n + u.outbox.length, 0));
    expect(result.acked).toBeGreaterThan(100);
    // The users of node 1 did move.
    for (const u of users.filter((_, i) => i % 3 === 1)) {
      expect(u.drops.length).toBeGreaterThanOrEqual(1);
      expect(u.visits.at(-1)).not.toBe(1);
    }
  });

  it('kill -9 of Redis and a restart: live delivery resumes by itself, nothing lost or doubled', async () => {
    startLoad();
    await loadFor(1000);
    await cluster.redis.kill();
    await loadFor(1500);
    await cluster.redis.restart();
    await loadFor(1500);
    const result = await stopLoadAndSettle(20_000);
    expect(result.lost).toEqual([]);
    expect(result.doubled).toEqual([]);
    expect(result.reordered).toEqual([]);
    // Nobody had to reconnect: nodes lived on without Redis.
    expect(users.flatMap((u) => u.drops)).toEqual([]);
  });

  it('SIGSTOP of Redis for 5 s: live delivery resumes by itself, nothing lost or doubled', async () => {
    startLoad();
    await loadFor(1000);
    cluster.redis.signal('SIGSTOP');
    try {
      await loadFor(5000);
    } finally {
      cluster.redis.signal('SIGCONT');
    }
    await loadFor(1000);
    const result = await stopLoadAndSettle(20_000);
    expect(result.lost).toEqual([]);
    expect(result.doubled).toEqual([]);
    expect(result.reordered).toEqual([]);
    expect(users.flatMap((u) => u.drops)).toEqual([]);
  });
});
