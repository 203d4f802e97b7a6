import type { Feature } from '@pigeon/protocol';
import { ErrorCode, LIMITS } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ClientFeature,
  createClient,
  type KeyValueStorage,
  memoryStorage,
  type WriteFailure,
} from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../fake-socket.js';
import { startedClient, tick } from '../harness.js';

// Writes (PROTOCOL.md "Writes and their answers"): queued durably, sent in order once online,
// one at a time with a stable rid, settled by `ok`, refused with typed codes, paused on
// rate_limited; read marks coalesced per conversation and throttled. About 300 lines as one
// subject: the write queue, seen through the client's calls.

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

const ALL: ClientFeature[] = ['paging', 'read', 'edit', 'reply', 'react', 'block', 'search'];
const BOB_MSG = { from: 'bob', id: 'm1' };
const MY_MSG = { from: 'alice', id: 'mine1' };

async function online(features: Feature[] = ALL) {
  const sock = FakeSocket.last();
  sock.open();
  sock.push({ t: 'welcome', v: 1, user: 'alice', head: null, features });
  sock.push({ t: 'synced', head: null, gap: false });
  await tick();
  const req = sock.framesOf('settings').at(-1);
  if (req) sock.push({ t: 'settings', readReceipts: true, blocked: [], rid: req.rid });
  await tick();
  return sock;
}

/** The write frames sent (everything but hello, settings, ping, ack). */
function writes(sock: FakeSocket) {
  return sock.sent.filter((f) => !['hello', 'settings', 'ping', 'ack', 'presence'].includes(f.t));
}

function ridOf(frame: unknown): string {
  const rid = (frame as { rid?: unknown }).rid;
  if (typeof rid !== 'string') throw new Error('frame has no rid');
  return rid;
}

describe('writes', () => {
  it('goes out one at a time, in order; ok resolves; each keeps its rid', async () => {
    const client = await startedClient({ features: ALL });
    const sock = await online();
    const react = client.react(BOB_MSG, '👍');
    const unreact = client.react(BOB_MSG, null);
    await tick();
    expect(writes(sock)).toEqual([
      { t: 'react', from: 'bob', id: 'm1', emoji: '👍', rid: expect.stringMatching(/^w/) },
    ]);
    expect(client.pendingWrites.get().map((w) => w.op.t)).toEqual(['react', 'react']);
    sock.push({ t: 'ok', rid: ridOf(writes(sock)[0]) });
    await expect(react).resolves.toBeUndefined();
    expect(writes(sock)[1]).toMatchObject({ t: 'react', emoji: null });
    sock.push({ t: 'ok', rid: ridOf(writes(sock)[1]) });
    await expect(unreact).resolves.toBeUndefined();
    expect(client.pendingWrites.get()).toEqual([]);
  });

  it('a refusal rejects with the server code, tells writeFailed, and lets the next write go', async () => {
    const client = await startedClient({ features: ALL });
    const failures: WriteFailure[] = [];
    client.on('writeFailed', (f) => failures.push(f));
    const sock = await online();
    const late = client.edit(MY_MSG, 'too late now');
    const block = client.block('mallory');
    await tick();
    const [first] = writes(sock);
    expect(first).toMatchObject({ t: 'edit', from: 'alice', id: 'mine1', body: 'too late now' });
    sock.push({ t: 'error', code: ErrorCode.tooLate, message: 'edit window passed', rid: ridOf(first) });
    await expect(late).rejects.toMatchObject({ code: ErrorCode.tooLate });
    expect(failures).toEqual([
      expect.objectContaining({
        code: ErrorCode.tooLate,
        write: expect.objectContaining({ op: expect.objectContaining({ t: 'edit' }) }),
      }),
    ]);
    const second = writes(sock)[1];
    expect(second).toMatchObject({ t: 'block', user: 'mallory' });
    sock.push({ t: 'ok', rid: ridOf(second) });
    await expect(block).resolves.toBeUndefined();
  });

  it('rate_limited pauses for retryAfterMs and resends the same write with the same rid', async () => {
    const client = await startedClient({ features: ALL });
    const sock = await online();
    const done = client.hide(BOB_MSG);
    await tick();
    const first = writes(sock)[0];
    sock.push({
      t: 'error',
      code: ErrorCode.rateLimited,
      message: 'slow down',
      rid: ridOf(first),
      retryAfterMs: 500,
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(writes(sock)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(writes(sock)).toEqual([first, first]);
    sock.push({ t: 'ok', rid: ridOf(first) });
    await expect(done).resolves.toBeUndefined();
  });

  it('offline: queued durably, survives a restart of the client, sent after synced; a lost ok is resent', async () => {
    const storage = memoryStorage();
    const client = await startedClient({ features: ALL }, storage);
    // Never online: the writes wait in storage.
    void client.setReadReceipts(false).catch(() => {});
    void client.unblock('eve').catch(() => {});
    await client.persisted();
    client.stop();
    expect(JSON.parse(storage.dump()['pigeon:u:alice:writes'] ?? '{}').writes).toHaveLength(2);

    const again = await startedClient({ features: ALL }, storage);
    expect(again.pendingWrites.get().map((w) => w.op)).toEqual([
      { t: 'receipts', on: false },
      { t: 'unblock', user: 'eve' },
    ]);
    const sock = await online();
    const first = writes(sock)[0];
    expect(first).toMatchObject({ t: 'receipts', on: false });
    // The connection drops before the ok: the same write goes again on the next one.
    sock.serverClose(1006);
    await vi.advanceTimersByTimeAsync(250);
    const sock2 = await online();
    expect(writes(sock2)[0]).toEqual(first);
    sock2.push({ t: 'ok', rid: ridOf(first) });
    await tick();
    sock2.push({ t: 'ok', rid: ridOf(writes(sock2)[1]) });
    await tick();
    await again.persisted();
    expect(storage.dump()['pigeon:u:alice:writes']).toBeUndefined();
  });

  it('needs its feature: not asked → unsupported at once; not enabled by the server → fails unsupported', async () => {
    const v1 = await startedClient({ features: ['paging'] });
    await expect(v1.react(BOB_MSG, '👍')).rejects.toMatchObject({ code: 'unsupported' });
    await expect(v1.markRead('bob', 'c1')).rejects.toMatchObject({ code: 'unsupported' });
    expect(() => v1.send('bob', 'hi', { replyTo: BOB_MSG })).toThrow(
      expect.objectContaining({ code: 'unsupported' }),
    );

    const client = await startedClient({ features: ALL });
    const failures: string[] = [];
    client.on('writeFailed', (f) => failures.push(f.code));
    const react = client.react(BOB_MSG, '👍').catch((e: unknown) => e);
    const sock = await online(['paging', 'edit']); // this server offers no `react`
    expect(await react).toMatchObject({ code: 'unsupported' });
    expect(failures).toEqual(['unsupported']);
    expect(writes(sock)).toEqual([]);
  });

  it('checks what the server would refuse before queueing, at the limits', async () => {
    const client = await startedClient({ features: ALL });
    await online();
    const at = 'x'.repeat(LIMITS.bodyMaxLength);
    await expect(client.edit(MY_MSG, `${at}x`)).rejects.toMatchObject({ code: ErrorCode.tooLarge });
    await expect(client.edit(MY_MSG, '')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(client.edit(MY_MSG, '\ud800')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(client.edit(BOB_MSG, 'mine?')).rejects.toMatchObject({ code: ErrorCode.notYours });
    await expect(client.deleteForEveryone(BOB_MSG)).rejects.toMatchObject({ code: ErrorCode.notYours });
    await expect(client.react(BOB_MSG, '1')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(client.react({ from: 'Bob!', id: 'm1' }, '👍')).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    await expect(client.block('alice')).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(client.pendingWrites.get()).toEqual([]);
    // The largest edit passes, and so does a ZWJ sequence.
    void client.edit(MY_MSG, at).catch(() => {});
    void client.react(BOB_MSG, '👩🏽‍💻').catch(() => {});
    expect(client.pendingWrites.get().map((w) => w.op.t)).toEqual(['edit', 'react']);
  });

  it('a message still in the outbox is edited or dropped there; a write about one in flight waits for its sent', async () => {
    const client = await startedClient({ features: ALL });
    // Offline: the message is pending, not on the wire.
    const item = client.send('bob', 'helo');
    await client.edit({ from: 'alice', id: item.id }, 'hello');
    expect(client.outbox()[0]).toMatchObject({ id: item.id, body: 'hello', state: 'pending' });
    const gone = client.send('bob', 'oops');
    await client.deleteForEveryone({ from: 'alice', id: gone.id });
    expect(client.outbox().map((i) => i.id)).toEqual([item.id]);
    expect(client.pendingWrites.get()).toEqual([]);

    const sock = await online();
    expect(sock.framesOf('send')).toEqual([{ t: 'send', id: item.id, to: 'bob', body: 'hello' }]);
    // In flight now: an edit must follow the message, never overtake it.
    const edited = client.edit({ from: 'alice', id: item.id }, 'hello!');
    await tick();
    expect(writes(sock).filter((f) => f.t === 'edit')).toEqual([]);
    sock.push({ t: 'sent', id: item.id, ts: 1_000_000 });
    await tick();
    const edit = writes(sock).find((f) => f.t === 'edit');
    expect(edit).toMatchObject({ from: 'alice', id: item.id, body: 'hello!' });
    sock.push({ t: 'ok', rid: ridOf(edit) });
    await expect(edited).resolves.toBeUndefined();
  });

  it('writes of one tab do not erase another tab’s unsent writes in a shared storage', async () => {
    const storage = memoryStorage();
    const tab1 = await startedClient({ features: ALL }, storage);
    const tab2 = await startedClient({ features: ALL }, storage);
    void tab1.block('eve').catch(() => {});
    await tab1.persisted();
    void tab2.react(BOB_MSG, '🎉').catch(() => {});
    await tab2.persisted();
    const stored = JSON.parse(storage.dump()['pigeon:u:alice:writes'] ?? '{}');
    expect(stored.writes.map((w: { op: { t: string } }) => w.op.t).sort()).toEqual(['block', 'react']);
  });
});

describe('settings follow a stored write at once', () => {
  it('block, unblock and receipts change `settings` on their ok, before their update arrives', async () => {
    const client = await startedClient({ features: ALL });
    const sock = await online(); // settings answered: readReceipts true, blocked []
    const block = client.block('Eve');
    const off = client.setReadReceipts(false);
    await tick();
    sock.push({ t: 'ok', rid: ridOf(writes(sock)[0]) });
    await block;
    expect(client.settings.get()).toEqual({ readReceipts: true, blocked: ['eve'] });
    await tick();
    sock.push({ t: 'ok', rid: ridOf(writes(sock)[1]) });
    await off;
    expect(client.settings.get()).toEqual({ readReceipts: false, blocked: ['eve'] });
  });
  it('an answer to a settings request that a block and receipts overtook keeps them', async () => {
    const client = await startedClient({ features: ALL });
    const sock = await online(); // blocked [], readReceipts true
    const asked = client.refreshSettings();
    const req = sock.framesOf('settings').at(-1);
    const block = client.block('eve');
    const off = client.setReadReceipts(false);
    await tick();
    sock.push({ t: 'ok', rid: ridOf(writes(sock)[0]) });
    await block;
    await tick();
    sock.push({ t: 'ok', rid: ridOf(writes(sock)[1]) });
    await off;
    // Read by the server before the two writes were stored, answered after their oks.
    sock.push({ t: 'settings', readReceipts: true, blocked: ['zed'], rid: req?.rid });
    await expect(asked).resolves.toEqual({ readReceipts: false, blocked: ['eve', 'zed'] });
    expect(client.settings.get()).toEqual({ readReceipts: false, blocked: ['eve', 'zed'] });
    // Nothing is out any more: a later answer is the whole truth again.
    const again = client.refreshSettings();
    sock.push({ t: 'settings', readReceipts: true, blocked: [], rid: sock.framesOf('settings').at(-1)?.rid });
    await expect(again).resolves.toEqual({ readReceipts: true, blocked: [] });
  });

  it('a block learnt before the first settings answer is kept when that answer arrives', async () => {
    const client = await startedClient({ features: ALL });
    const sock = FakeSocket.last();
    sock.open();
    sock.push({ t: 'welcome', v: 1, user: 'alice', head: null, features: ALL });
    sock.push({ t: 'synced', head: null, gap: false });
    await tick();
    const req = sock.framesOf('settings').at(-1);
    const block = client.block('eve');
    await tick();
    sock.push({ t: 'ok', rid: ridOf(writes(sock)[0]) });
    await block;
    // Unknown stays unknown until the list arrives, then the block is on it.
    expect(client.settings.get().blocked).toBeNull();
    sock.push({ t: 'settings', readReceipts: true, blocked: [], rid: req?.rid });
    await tick();
    expect(client.settings.get()).toEqual({ readReceipts: true, blocked: ['eve'] });
  });
});

describe('read marks', () => {
  it('one per conversation at most every readIntervalMs; a newer mark replaces an unsent one and answers both calls', async () => {
    const client = await startedClient({ features: ALL, readIntervalMs: 1000 });
    const sock = await online();
    const first = client.markRead('bob', 'c1');
    await tick();
    const reads = () => sock.framesOf('read');
    expect(reads()).toEqual([{ t: 'read', with: 'bob', upto: 'c1', rid: expect.any(String) }]);
    sock.push({ t: 'ok', rid: ridOf(reads()[0]) });
    await expect(first).resolves.toBeUndefined();

    const second = client.markRead('bob', 'c2');
    const third = client.markRead('bob', 'c3');
    const other = client.markRead('carol', 'c9');
    await tick();
    // carol goes at once; bob waits out the interval since his last mark, then sends only c3.
    expect(reads().map((f) => [f.with, f.upto])).toEqual([
      ['bob', 'c1'],
      ['carol', 'c9'],
    ]);
    await vi.advanceTimersByTimeAsync(999);
    expect(reads()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads().map((f) => [f.with, f.upto])).toEqual([
      ['bob', 'c1'],
      ['carol', 'c9'],
      ['bob', 'c3'],
    ]);
    sock.push({ t: 'ok', rid: ridOf(reads()[2]) });
    sock.push({ t: 'ok', rid: ridOf(reads()[1]) });
    await expect(Promise.all([second, third, other])).resolves.toEqual([undefined, undefined, undefined]);
  });

  it('are kept in storage while offline and sent after the restart; a refused one rejects with its code', async () => {
    const storage: KeyValueStorage = memoryStorage();
    const client = await startedClient({ features: ALL }, storage);
    void client.markRead('bob', 'c7').catch(() => {});
    await client.persisted();
    client.stop();

    const again = createClient({
      server: 'http://pigeon.test',
      WebSocket: FakeWebSocket,
      storage,
      features: ALL,
    });
    await again.useToken('alice', 'tok');
    await again.start();
    const sock = await online();
    const [mark] = sock.framesOf('read');
    expect(mark).toMatchObject({ with: 'bob', upto: 'c7' });
    const bad = again.markRead('nobody', 'c1');
    await tick();
    const errors: string[] = [];
    again.on('error', (e) => errors.push(e.code));
    sock.push({
      t: 'error',
      code: ErrorCode.noSuchUser,
      message: 'no such user',
      rid: ridOf(sock.framesOf('read')[1]),
    });
    await expect(bad).rejects.toMatchObject({ code: ErrorCode.noSuchUser });
    expect(errors).toEqual([ErrorCode.noSuchUser]);
  });
});
