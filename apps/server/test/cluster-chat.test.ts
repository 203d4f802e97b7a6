import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatSession, ok, request, sendMsg } from './chat-helpers.js';
import { Cluster, clusterAvailable } from './engines/cluster.js';
import { fence, http, session } from './helpers.js';

/**
 * The chat features (issue 10) across three nodes on one PostgreSQL and one Redis: alice
 * on node A and (second device) node C, bob on node B. Update entries travel the mailbox
 * order through the Redis router like messages; blocks reach the other node's presence.
 */
const ready = clusterAvailable('the cross-node chat tests');

describe.skipIf(!ready)('chat features across three nodes', () => {
  let cluster: Cluster;
  let addresses = 0;

  beforeAll(async () => {
    cluster = await Cluster.start({
      env: { PIGEON_RATE: '1000', PIGEON_AUTH_RATE: '1000', PIGEON_TRUST_PROXY: '1' },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function account(prefix: string): Promise<{ id: string; token: string }> {
    const id = `${prefix}${crypto.randomBytes(4).toString('hex')}`;
    const r = await http(
      cluster.url(0),
      'POST',
      '/api/register',
      { user: id, password: 'password123' },
      { 'x-forwarded-for': `10.2.0.${++addresses}` },
    );
    expect(r.status).toBe(201);
    return { id, token: String(r.json!.token) };
  }

  it('read marks, edits and deletions made on one node reach the devices on the others once, in order', async () => {
    const alice = await account('alice');
    const bob = await account('bob');
    const a = await chatSession(cluster.wsUrl(0), alice.token);
    const b = await chatSession(cluster.wsUrl(1), bob.token);
    const c = await chatSession(cluster.wsUrl(2), alice.token);
    const m1 = await sendMsg(b, alice.id, 'one');
    const m2 = await sendMsg(b, alice.id, 'two');
    const m2OnA = await a.waitFor((f) => f.t === 'msg' && f.id === m2.id, 'm2 on A');
    await c.waitFor((f) => f.t === 'msg' && f.id === m2.id, 'm2 on C');
    await ok(a, { t: 'read', with: bob.id, upto: m2OnA.cursor });
    await ok(b, { t: 'edit', from: bob.id, id: m1.id, body: 'one, edited' });
    await ok(b, { t: 'delete', from: bob.id, id: m2.id });
    const kinds = ['read', 'edit', 'delete'];
    for (const s of [a, c]) {
      await s.until(() => s.frames.filter((f) => f.t === 'update').length === 3, 'three updates');
      await fence(s);
      expect(s.frames.filter((f) => f.t === 'update').map((f) => f.kind)).toEqual(kinds);
    }
    // Both devices hold one mailbox: the same entries with the same cursors, in order.
    const entries = (s: typeof a) =>
      s.frames.filter((f) => f.t === 'msg' || f.t === 'update').map((f) => f.cursor);
    expect(entries(c)).toEqual(entries(a));
    await b.waitFor((f) => f.t === 'update' && f.kind === 'seen' && f.upto === m2.cursor, 'seen on B');
    const row = await request(c, { t: 'conversations', limit: 5 });
    expect(row.items).toMatchObject([{ with: bob.id, unread: 0, readUpto: m2OnA.cursor }]);
    for (const s of [a, b, c]) await s.close();
  });

  it('a block on one node turns presence off for the blocked user on another, and back after the unblock', async () => {
    const alice = await account('alice');
    const bob = await account('bob');
    const a = await chatSession(cluster.wsUrl(0), alice.token);
    const b = await session(cluster.wsUrl(1), bob.token);
    b.send({ t: 'presence', users: [alice.id] });
    const states = () =>
      b.frames.filter((f) => f.t === 'presence' && f.user === alice.id).map((f) => f.online);
    await b.until(() => states().length === 1, 'first presence');
    expect(states()).toEqual([true]);
    await ok(a, { t: 'block', user: bob.id });
    await b.until(() => states().length === 2, 'offline after the block');
    await ok(a, { t: 'unblock', user: bob.id });
    await b.until(() => states().length === 3, 'online after the unblock');
    expect(states()).toEqual([true, false, true]);
    for (const s of [a, b]) await s.close();
  });
});
