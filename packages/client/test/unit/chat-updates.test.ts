import type { Feature, ServerFrame, UpdateFrame } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ClientFeature, memoryStorage } from '../../src/index.js';
import { FakeSocket, msg } from '../fake-socket.js';
import { startedClient, tick } from '../harness.js';

// Update entries (PROTOCOL.md "Updates"): in the mailbox order with messages, deduplicated,
// acknowledged like messages, typed per kind; and the observable chat state they feed
// (unread counts, read marks, receipts, settings).

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

const ALL: ClientFeature[] = ['paging', 'read', 'edit', 'reply', 'react', 'block', 'search'];
const TS = 1_700_000_000_000;

function read(cursor: string, peer: string, upto: string, unread: number): UpdateFrame {
  return { t: 'update', cursor, ts: TS + Number(cursor.slice(1)), kind: 'read', with: peer, upto, unread };
}
function edit(cursor: string, from: string, id: string, body: string): UpdateFrame {
  return { t: 'update', cursor, ts: TS + Number(cursor.slice(1)), kind: 'edit', from, id, with: 'bob', body };
}

/** Online with features; answers the settings request the client makes after `synced`. */
async function online(features: Feature[] = ALL, backlog: ServerFrame[] = [], settings = true) {
  const sock = FakeSocket.last();
  sock.open();
  sock.push({ t: 'welcome', v: 1, user: 'alice', head: null, features });
  for (const f of backlog) sock.push(f);
  sock.push({ t: 'synced', head: null, gap: false });
  await tick();
  const req = sock.framesOf('settings').at(-1);
  if (settings && req) {
    sock.push({ t: 'settings', readReceipts: true, blocked: ['mallory'], rid: req.rid });
    await tick();
  }
  return sock;
}

describe('update entries', () => {
  it('arrive in cursor order with messages, typed per kind, once each, and are acked like messages', async () => {
    const client = await startedClient({ features: ALL, ackDelayMs: 100 });
    const order: string[] = [];
    client.on('message', (m) => {
      order.push(`msg ${m.id}`);
    });
    client.on('update', (u) => {
      order.push(`update ${u.kind}`);
    });
    client.on('edit', (u) => {
      // typed: an EditUpdate has `body`
      order.push(`edit ${u.id} -> ${u.body}`);
    });
    client.on('read', (u) => {
      order.push(`read upto ${u.upto} unread ${u.unread}`);
    });
    const backlog = [
      msg('c1', 'm1'),
      edit('c2', 'bob', 'm1', 'fixed'),
      msg('c3', 'm2'),
      read('c4', 'bob', 'c3', 0),
    ];
    const sock = await online(ALL, backlog);
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual([
      'msg m1',
      'update edit',
      'edit m1 -> fixed',
      'msg m2',
      'update read',
      'read upto c3 unread 0',
    ]);
    expect(sock.framesOf('ack')).toEqual([{ t: 'ack', cursor: 'c4' }]);

    // A replay after a reconnect delivers nothing twice.
    sock.serverClose(1006);
    await vi.advanceTimersByTimeAsync(250);
    const again = await online(ALL, backlog);
    expect(again.framesOf('hello')[0]?.since).toBe('c4');
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toHaveLength(6);
  });

  it('an update whose listener throws is not acked and comes again on the next connection', async () => {
    const storage = memoryStorage();
    const client = await startedClient({ features: ALL, ackDelayMs: 100 }, storage);
    let failing = true;
    const got: string[] = [];
    client.on('react', (u) => {
      if (failing) throw new Error('cannot draw that');
      got.push(u.emoji ?? 'none');
    });
    const react: UpdateFrame = {
      t: 'update',
      cursor: 'c2',
      ts: TS,
      kind: 'react',
      from: 'alice',
      id: 'm1',
      with: 'bob',
      by: 'bob',
      emoji: '👍',
    };
    const sock = await online(ALL, [msg('c1', 'm1'), react, msg('c3', 'm3')]);
    await vi.advanceTimersByTimeAsync(100);
    expect(sock.framesOf('ack')).toEqual([{ t: 'ack', cursor: 'c1' }]);
    expect(storage.dump()['pigeon:u:alice:cursor']).toBe('c1');
    sock.serverClose(1006);
    await vi.advanceTimersByTimeAsync(250);
    failing = false;
    const again = await online(ALL, [react, msg('c3', 'm3')]);
    await vi.advanceTimersByTimeAsync(100);
    expect(got).toEqual(['👍']);
    expect(again.framesOf('ack')).toEqual([{ t: 'ack', cursor: 'c3' }]);
  });

  it('the same cursor naming a different update (a reset server) is not taken for a replay', async () => {
    const client = await startedClient({ features: ALL });
    const bodies: string[] = [];
    client.on('edit', (u) => {
      bodies.push(u.body);
    });
    const sock = await online(ALL, [edit('c1', 'bob', 'm1', 'one')]);
    sock.push({ ...edit('c1', 'bob', 'm1', 'one'), ts: TS + 99, body: 'two' });
    await tick();
    expect(bodies).toEqual(['one', 'two']);
  });
});

describe('version 1 stays version 1', () => {
  it('a client created without features asks for none, and asks for no settings', async () => {
    await startedClient();
    const sock = FakeSocket.last();
    sock.open();
    sock.push({ t: 'welcome', v: 1, user: 'alice', head: null });
    sock.push({ t: 'synced', head: null, gap: false });
    await tick();
    expect(sock.sent.map((f) => f.t)).toEqual(['hello']);
    expect(sock.sent[0]).toEqual({ t: 'hello', v: 1, token: 'tok' });
  });
});

describe('read state and settings', () => {
  it('conversation rows seed unread counts; new messages add, a read update sets, a hide takes back', async () => {
    const client = await startedClient({ features: ALL });
    const sock = await online();
    const page = client.conversationsPage({ limit: 10 });
    const req = sock.framesOf('conversations')[0];
    sock.push({
      t: 'conversations',
      items: [
        { with: 'bob', last: msg('c5', 'm5'), unread: 2, readUpto: 'c3' },
        { with: 'carol', last: msg('c4', 'm4', 'carol'), unread: 0, readUpto: null },
      ],
      more: false,
      rid: req?.rid,
    });
    await page;
    expect(client.readStates.get()).toEqual({
      bob: { unread: 2, readUpto: 'c3', seenUpto: null },
      carol: { unread: 0, readUpto: null, seenUpto: null },
    });
    // A message from bob counts one more; mine, and one already read elsewhere, do not.
    sock.push(msg('c6', 'm6'));
    sock.push(msg('c7', 'm7', 'alice', 'bob'));
    sock.push({ ...msg('c8', 'm8'), read: true });
    sock.push(msg('c9', 'm9'));
    await tick();
    expect(client.readStates.get().bob?.unread).toBe(4);
    sock.push({ t: 'update', cursor: 'c10', ts: TS, kind: 'hide', from: 'bob', id: 'm9', with: 'bob' });
    await tick();
    expect(client.readStates.get().bob?.unread).toBe(3);
    sock.push(read('c11', 'bob', 'c6', 0));
    sock.push({ t: 'update', cursor: 'c12', ts: TS + 1, kind: 'seen', with: 'bob', upto: 'c7' });
    await tick();
    expect(client.readStates.get().bob).toEqual({ unread: 0, readUpto: 'c6', seenUpto: 'c7' });
  });

  it('rows are applied in inbox order: entries that arrived before the answer are not counted again', async () => {
    const client = await startedClient({ features: ALL });
    let release: () => void = () => {};
    client.on('message', () => new Promise<void>((r) => (release = r)));
    const sock = await online();
    const page = client.conversationsPage({});
    sock.push(msg('c5', 'm5')); // held by the slow listener
    sock.push({
      t: 'conversations',
      items: [{ with: 'bob', last: msg('c5', 'm5'), unread: 1, readUpto: null }],
      more: false,
      rid: sock.framesOf('conversations')[0]?.rid,
    });
    await tick();
    release();
    await page;
    expect(client.readStates.get().bob?.unread).toBe(1);
  });

  it('settings are asked for after every synced and follow settings and block updates', async () => {
    const client = await startedClient({ features: ALL });
    expect(client.settings.get()).toEqual({ readReceipts: null, blocked: null });
    const sock = await online();
    expect(client.settings.get()).toEqual({ readReceipts: true, blocked: ['mallory'] });
    sock.push({ t: 'update', cursor: 'c1', ts: TS, kind: 'settings', readReceipts: false });
    sock.push({ t: 'update', cursor: 'c2', ts: TS, kind: 'block', user: 'eve', blocked: true });
    sock.push({ t: 'update', cursor: 'c3', ts: TS, kind: 'block', user: 'mallory', blocked: false });
    await tick();
    expect(client.settings.get()).toEqual({ readReceipts: false, blocked: ['eve'] });
    // Another user signs in: nothing of alice's state is shown for them.
    await client.useToken('carol', 'tok2');
    expect(client.settings.get()).toEqual({ readReceipts: null, blocked: null });
    expect(client.readStates.get()).toEqual({});
  });

  it('a connection without read keeps no counts and asks for no settings', async () => {
    const client = await startedClient({ features: ['paging', 'edit'] });
    const sock = await online(['paging', 'edit']);
    sock.push(msg('c1', 'm1'));
    await tick();
    expect(sock.framesOf('settings')).toEqual([]);
    expect(client.readStates.get()).toEqual({});
  });
});
