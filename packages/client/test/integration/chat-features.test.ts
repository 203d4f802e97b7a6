import type { MsgFrame, UpdateFrame, UpdateKind } from '@pigeon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyToConversation,
  CLIENT_FEATURES,
  createClient,
  type KeyValueStorage,
  memoryStorage,
  type PigeonClient,
} from '../../src/index.js';
import { NodeWebSocket } from '../../src/node/index.js';
import { recordingWebSocket } from '../recording-socket.js';
import { registerUser, ServerProcess, waitFor } from '../server-process.js';

// The chat features (issue 10) of the client against the real server: two devices of alice
// and one of bob, live, across a reconnect and a server restart; every update reaches every
// device exactly once; writes, refusals, search, blocks; a version-1 client sees none of it.
// "Nothing else arrives" is a ping fence (client.ping()), never a sleep.

const FEATURES = CLIENT_FEATURES.filter((f) => f !== 'files');
const server = new ServerProcess({ PIGEON_RATE: '1000' });
const clients: PigeonClient[] = [];

/** A started, online client of `user` with every chat feature, recording what it is handed. */
async function device(user: string, storage: KeyValueStorage = memoryStorage(), features = FEATURES) {
  const c = createClient({
    server: server.url,
    WebSocket: NodeWebSocket,
    storage,
    features,
    readIntervalMs: 0,
  });
  clients.push(c);
  const got = { messages: [] as MsgFrame[], updates: [] as UpdateFrame[] };
  c.on('message', (m) => {
    got.messages.push(m);
  });
  c.on('update', (u) => {
    got.updates.push(u);
  });
  if (!(await c.restore())) await c.login(user, 'password123');
  await c.start();
  await c.whenOnline();
  const kinds = (kind: UpdateKind) => got.updates.filter((u) => u.kind === kind);
  return { c, got, kinds };
}

beforeAll(async () => {
  await server.start();
  for (const u of ['cf_alice', 'cf_bob', 'cf_carol', 'cf_dave']) await registerUser(server.url, u);
});
afterAll(async () => {
  for (const c of clients) c.stop();
  await server.dispose();
});

describe('read marks and unread counts', () => {
  it('reading on one device clears the count on the other and tells the sender, once each, across a restart', async () => {
    const a1 = await device('cf_alice');
    const a2 = await device('cf_alice', memoryStorage());
    const bob = await device('cf_bob');
    expect(a1.c.features.get()).toEqual(
      expect.arrayContaining(['read', 'edit', 'reply', 'react', 'block', 'search']),
    );
    for (const text of ['one', 'two', 'three']) bob.c.send('cf_alice', text);
    await bob.c.flush();
    await a2.c.ping();
    await a1.c.conversations();
    expect(a1.c.readStates.get().cf_bob?.unread).toBe(3);
    expect(a2.c.readStates.get().cf_bob?.unread).toBe(3); // three messages arrived live

    const last = a1.got.messages.filter((m) => m.from === 'cf_bob').at(-1);
    await a1.c.markRead('cf_bob', last?.cursor ?? '');
    await a2.c.ping();
    await bob.c.ping();
    expect(a2.c.readStates.get().cf_bob).toMatchObject({ unread: 0, readUpto: last?.cursor });
    expect(a2.kinds('read')).toHaveLength(1);
    // bob's receipt names his own entry of the message
    const bobsLast = bob.got.messages.filter((m) => m.from === 'cf_bob').at(-1);
    expect(bob.kinds('seen')).toEqual([
      expect.objectContaining({ with: 'cf_alice', upto: bobsLast?.cursor }),
    ]);
    expect(bob.c.readStates.get().cf_alice?.seenUpto).toBe(bobsLast?.cursor);
    // the sender's history shows the ticks in colour; a reader's list marks them read
    const sent = (await bob.c.history('cf_alice')).items;
    expect(sent.map((m) => m.read)).toEqual([true, true, true]);
    expect(
      applyToConversation(a2.got.messages, a2.kinds('read')[0] as UpdateFrame, 'cf_alice').every(
        (m) => m.read,
      ),
    ).toBe(true);

    // A server restart: every device resumes, and nothing is delivered twice.
    await server.restart();
    for (const d of [a1, a2, bob]) await d.c.whenOnline();
    for (const d of [a1, a2, bob]) await d.c.ping();
    expect(a2.kinds('read')).toHaveLength(1);
    expect(bob.kinds('seen')).toHaveLength(1);
    // A new device shows the same count as the others (rows carry it).
    const a3 = await device('cf_alice', memoryStorage());
    const rows = await a3.c.conversations();
    expect(rows.find((r) => r.with === 'cf_bob')).toMatchObject({ unread: 0, readUpto: last?.cursor });
    // A mark that moves backwards changes nothing.
    const first = a1.got.messages.find((m) => m.from === 'cf_bob');
    await a1.c.markRead('cf_bob', first?.cursor ?? '');
    await a2.c.ping();
    expect(a2.kinds('read')).toHaveLength(1);
  });

  it('opens a conversation at its first unread message with history after the read mark', async () => {
    const carol = await device('cf_carol');
    const dave = await device('cf_dave');
    for (let i = 1; i <= 5; i++) dave.c.send('cf_carol', `n${i}`);
    await dave.c.flush();
    await carol.c.ping();
    const inbox = carol.got.messages.filter((m) => m.from === 'cf_dave');
    await carol.c.markRead('cf_dave', inbox[1]?.cursor ?? '');
    const row = (await carol.c.conversations()).find((r) => r.with === 'cf_dave');
    expect(row?.unread).toBe(3);
    const page = await carol.c.history('cf_dave', { after: row?.readUpto ?? undefined, limit: 2 });
    expect(page.items.map((m) => m.body)).toEqual(['n3', 'n4']);
    expect(page.more).toBe(true);
  });
});

describe('edit, delete, reply, react, hide', () => {
  it('reach both people on every device once; refusals are typed', async () => {
    const a1 = await device('cf_alice');
    const a2 = await device('cf_alice', memoryStorage());
    const bob = await device('cf_bob');
    const original = a1.c.send('cf_bob', 'helo wrld');
    await a1.c.flush();
    await bob.c.ping();
    const ref = { from: 'cf_alice', id: original.id };
    const reply = bob.c.send('cf_alice', 'what?', { replyTo: ref });
    await bob.c.flush();
    await a1.c.edit(ref, 'hello world');
    await a1.c.react({ from: 'cf_bob', id: reply.id }, '👍');
    for (const d of [a1, a2, bob]) await d.c.ping();
    for (const d of [a1, a2, bob]) {
      expect(d.kinds('edit')).toEqual([expect.objectContaining({ id: original.id, body: 'hello world' })]);
      expect(d.kinds('react')).toEqual([
        expect.objectContaining({ id: reply.id, by: 'cf_alice', emoji: '👍' }),
      ]);
    }
    // history carries the current state: edited, the quote following the edit, the reaction
    const seen = (await bob.c.history('cf_alice')).items;
    expect(seen.find((m) => m.id === original.id)).toMatchObject({
      body: 'hello world',
      edited: expect.any(Number),
    });
    expect(seen.find((m) => m.id === reply.id)).toMatchObject({
      replyTo: { from: 'cf_alice', id: original.id, body: 'hello world' },
      reactions: [{ by: 'cf_alice', emoji: '👍' }],
    });
    // the pure helpers give the same view from the updates as history does
    const view = bob.got.updates.reduce<readonly MsgFrame[]>(
      (list, u) => applyToConversation(list, u, 'cf_bob'),
      bob.got.messages.filter((m) => m.from === 'cf_alice' || m.to === 'cf_alice'),
    );
    expect(view.find((m) => m.id === reply.id)?.replyTo?.body).toBe('hello world');

    await expect(bob.c.edit(ref, 'mine now')).rejects.toMatchObject({ code: 'not_yours' });
    await a1.c.deleteForEveryone(ref);
    await expect(a1.c.edit(ref, 'back')).rejects.toMatchObject({ code: 'message_deleted' });
    await expect(a1.c.react({ from: 'cf_alice', id: 'no-such-id' }, '🎉')).rejects.toMatchObject({
      code: 'no_such_message',
    });
    await bob.c.hide({ from: 'cf_bob', id: reply.id });
    for (const d of [a1, a2, bob]) await d.c.ping();
    expect(bob.kinds('delete')).toEqual([expect.objectContaining({ id: original.id })]);
    expect(bob.kinds('hide')).toEqual([expect.objectContaining({ id: reply.id })]);
    expect(a1.kinds('hide')).toEqual([]); // hiding is bob's own view
    const after = (await bob.c.history('cf_alice')).items;
    expect(after.find((m) => m.id === original.id)).toMatchObject({ body: '', deleted: true });
    expect(after.find((m) => m.id === reply.id)).toBeUndefined();
  });

  it('a write made offline is kept across a restart of the client and stored once online', async () => {
    const storage = memoryStorage();
    const first = await device('cf_carol', storage);
    const sent = first.c.send('cf_dave', 'typo hree');
    await first.c.flush();
    first.c.setNetwork(false);
    const edit = first.c.edit({ from: 'cf_carol', id: sent.id }, 'typo here').catch((e: unknown) => e);
    await first.c.persisted();
    first.c.stop();
    expect(await Promise.race([edit, Promise.resolve('still queued')])).toBe('still queued');

    const again = await device('cf_carol', storage);
    await waitFor(() => again.c.pendingWrites.get().length === 0, 10_000, 'the queued edit to be stored');
    const dave = await device('cf_dave', memoryStorage());
    expect((await dave.c.history('cf_carol')).items.find((m) => m.id === sent.id)?.body).toBe('typo here');
  });
});

describe('block and search', () => {
  it('a blocked sender is told nothing and reaches nobody; unblock restores delivery', async () => {
    const alice = await device('cf_alice');
    const bob = await device('cf_bob');
    await bob.c.block('cf_alice');
    expect(bob.c.settings.get().blocked).toContain('cf_alice');
    const during = alice.c.send('cf_bob', 'can you hear me?');
    await alice.c.flush();
    expect(alice.c.outbox().find((i) => i.id === during.id)?.state).toBe('sent');
    await bob.c.unblock('cf_alice');
    const after = alice.c.send('cf_bob', 'and now?');
    await alice.c.flush();
    await bob.c.ping();
    const bodies = bob.got.messages.filter((m) => m.from === 'cf_alice').map((m) => m.body);
    expect(bodies).toContain('and now?');
    expect(bodies).not.toContain('can you hear me?');
    expect(after.id).not.toBe(during.id);
    const other = await device('cf_bob', memoryStorage());
    expect((await other.c.refreshSettings()).blocked).not.toContain('cf_alice');
  });

  it('finds a Chinese word inside a sentence, with its highlight', async () => {
    const alice = await device('cf_alice');
    const bob = await device('cf_bob');
    alice.c.send('cf_bob', '我会说中文吗？');
    alice.c.send('cf_bob', 'nothing here');
    await alice.c.flush();
    const page = await bob.c.search('中文', { with: 'cf_alice' });
    expect(page.items.map((i) => [i.msg.body, i.highlights])).toEqual([['我会说中文吗？', [[3, 5]]]]);
    await expect(bob.c.search('中文', { limit: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('version 1 stays version 1', () => {
  it('a client without features is sent no update and no feature field', async () => {
    const { WebSocket, wire } = recordingWebSocket();
    const v1 = createClient({ server: server.url, WebSocket, storage: memoryStorage() });
    clients.push(v1);
    await v1.login('cf_dave', 'password123');
    await v1.start();
    await v1.whenOnline();
    const carol = await device('cf_carol');
    const m = carol.c.send('cf_dave', 'plain');
    await carol.c.flush();
    await carol.c.edit({ from: 'cf_carol', id: m.id }, 'plain, edited');
    await carol.c.react({ from: 'cf_carol', id: m.id }, '🎉');
    await v1.ping();
    expect(wire.in.some((f) => f.t === 'update')).toBe(false);
    expect(wire.in.find((f) => f.t === 'welcome')).not.toHaveProperty('features');
    const hist = (await v1.history('cf_carol')).items.find((x) => x.id === m.id);
    expect(hist?.body).toBe('plain, edited');
    expect(Object.keys(hist ?? {}).sort()).toEqual([
      'body',
      'cursor',
      'delivered',
      'from',
      'id',
      't',
      'to',
      'ts',
    ]);
  });
});
