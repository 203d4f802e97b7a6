import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, memoryStorage, type PigeonClient } from '../../src/index.js';
import { FakeSocket, FakeWebSocket, msg } from '../fake-socket.js';
import { flakyStorage, goOnline, startedClient, tick } from '../harness.js';

// Storage that fails or answers asynchronously (IndexedDB), and what one user's state may
// never do: be lost, or go out under another user's name.

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

const outboxOf = (dump: Record<string, string>, user = 'alice') =>
  (JSON.parse(dump[`pigeon:u:${user}:outbox`] ?? '[]') as { body: string; state: string }[]).map(
    (i) => `${i.body}:${i.state}`,
  );

describe('a storage that refuses writes (full quota)', () => {
  it('loses nothing: the message still goes out, the write is retried with backoff until it succeeds', async () => {
    const { storage, state, dump } = flakyStorage({ async: true });
    const client = await startedClient({ storageRetryMs: 1000 }, storage);
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    state.failWrites = true;
    const item = client.send('bob', 'kept in memory');
    await tick();
    expect(errors).toEqual(['storage_failed']);
    expect(client.outbox().map((i) => i.body)).toEqual(['kept in memory']);
    // Retried 1 s later, then 2 s after that (backoff); each failure is reported.
    await vi.advanceTimersByTimeAsync(999);
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1999);
    expect(errors).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors).toHaveLength(3);
    // Waiting for storage tries at once, and says it failed (the next retry is 8 s later).
    await expect(client.persisted()).rejects.toMatchObject({ code: 'storage_failed' });
    expect(errors).toHaveLength(4);
    // Sending does not wait for storage.
    const sock = await goOnline();
    expect(sock.framesOf('send').map((f) => f.id)).toEqual([item.id]);
    // Space is freed: the next retry writes the current state.
    state.failWrites = false;
    await vi.advanceTimersByTimeAsync(7999);
    expect(outboxOf(dump())).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(outboxOf(dump())).toEqual(['kept in memory:pending']);
    await expect(client.persisted()).resolves.toBeUndefined();
    expect(errors).toHaveLength(4);
  });

  it('a change while failing is written as soon as the storage accepts again, not only at the next retry', async () => {
    const { storage, state, dump } = flakyStorage();
    const client = await startedClient({ storageRetryMs: 60_000 }, storage);
    state.failWrites = true;
    client.send('bob', 'one');
    await tick();
    state.failWrites = false;
    client.send('bob', 'two');
    await tick();
    expect(outboxOf(dump())).toEqual(['one:pending', 'two:pending']);
  });

  it('logout keeps the session and the account when the outbox cannot be saved, and succeeds once it can', async () => {
    const { storage, state, dump } = flakyStorage();
    const client = await startedClient({}, storage);
    await client.logout(); // nothing pending: the session is removed
    await client.useToken('alice', 'tok');
    expect(dump()['pigeon:session']).toBeDefined();
    state.failWrites = true;
    client.send('bob', 'precious');
    await expect(client.logout()).rejects.toMatchObject({ code: 'storage_failed' });
    expect(client.user).toBe('alice');
    expect(client.outbox().map((i) => i.body)).toEqual(['precious']);
    expect(dump()['pigeon:session']).toBeDefined();
    state.failWrites = false;
    await client.logout();
    expect(client.user).toBeNull();
    expect(dump()['pigeon:session']).toBeUndefined();
    expect(outboxOf(dump())).toEqual(['precious:pending']);
  });

  it('a storage that cannot be read fails the sign-in with storage_failed instead of starting without the outbox', async () => {
    const { storage, state } = flakyStorage({ async: true });
    const client = createClient({ server: 'http://pigeon.test', WebSocket: FakeWebSocket, storage });
    state.failReads = true;
    await expect(client.useToken('alice', 'tok')).rejects.toMatchObject({ code: 'storage_failed' });
    await expect(client.restore()).rejects.toMatchObject({ code: 'storage_failed' });
    expect(client.user).toBeNull();
  });
});

describe('an asynchronous storage (IndexedDB)', () => {
  it('restores the outbox and cursor before the first hello, and sends the stored outbox after synced', async () => {
    const { storage, dump } = flakyStorage({ async: true, atomicUpdate: true });
    const first = await startedClient({}, storage);
    const item = first.send('bob', 'from before the reload');
    await goOnline(FakeSocket.last(), [msg('c7', 'm7')]);
    await vi.advanceTimersByTimeAsync(100);
    first.stop();
    await first.persisted();
    expect(dump()['pigeon:u:alice:cursor']).toBe('c7');

    const reloaded = createClient({ server: 'http://pigeon.test', WebSocket: FakeWebSocket, storage });
    await expect(reloaded.restore()).resolves.toEqual({ user: 'alice', token: 'tok' });
    expect(reloaded.outbox().map((i) => i.id)).toContain(item.id);
    await reloaded.start();
    const sock = FakeSocket.last();
    sock.open();
    expect(sock.sent[0]).toEqual({ t: 'hello', v: 1, token: 'tok', since: 'c7' });
    expect(sock.framesOf('send')).toEqual([]);
    sock.push({ t: 'welcome', v: 1, user: 'alice', head: 'c7' });
    sock.push({ t: 'synced', head: 'c7', gap: false });
    await tick();
    expect(sock.framesOf('send').map((f) => f.id)).toEqual([item.id]);
  });

  it('uses update() when the storage offers it, so two tabs merge their outboxes atomically', async () => {
    const { storage, state, dump } = flakyStorage({ async: true, atomicUpdate: true });
    const tabA = await startedClient({}, storage);
    const tabB = await startedClient({}, storage);
    tabA.send('bob', 'A');
    tabB.send('bob', 'B');
    await tabA.persisted();
    await tabB.persisted();
    expect(state.updates).toBeGreaterThanOrEqual(2);
    expect(outboxOf(dump()).sort()).toEqual(['A:pending', 'B:pending']);
  });
});

describe('the outbox belongs to one user', () => {
  async function signedIn(storage = memoryStorage(), user = 'alice'): Promise<PigeonClient> {
    const c = createClient({
      server: 'http://pigeon.test',
      WebSocket: FakeWebSocket,
      storage,
      random: () => 0.5,
    });
    await c.useToken(user, `tok-${user}`);
    return c;
  }

  it("is kept at sign-out, never sent as the next user, and sent at its owner's next sign-in", async () => {
    const storage = memoryStorage();
    const client = await signedIn(storage);
    const pending = client.send('carol', 'from alice');
    await client.logout();
    expect(client.outbox()).toEqual([]);
    await client.useToken('bob', 'tok-bob');
    expect(client.outbox()).toEqual([]);
    await client.start();
    const bobSock = await goOnline(FakeSocket.last(), [], false, 'bob');
    expect(bobSock.framesOf('hello')[0]?.token).toBe('tok-bob');
    expect(bobSock.framesOf('send')).toEqual([]);
    // Alice signs in again on the same storage (same client object): her message goes, as her.
    await client.logout();
    await client.useToken('alice', 'tok-alice');
    await client.start();
    const aliceSock = await goOnline(FakeSocket.last());
    expect(aliceSock.framesOf('hello')[0]?.token).toBe('tok-alice');
    expect(aliceSock.framesOf('send').map((f) => [f.id, f.body])).toEqual([[pending.id, 'from alice']]);
  });

  it("switching user without signing out saves the first user's outbox under their own key", async () => {
    const storage = memoryStorage();
    const client = await signedIn(storage);
    client.send('carol', 'alice wrote this');
    await client.useToken('bob', 'tok-bob');
    expect(client.outbox()).toEqual([]);
    client.send('carol', 'bob wrote this');
    await client.persisted();
    expect(outboxOf(storage.dump(), 'alice')).toEqual(['alice wrote this:pending']);
    expect(outboxOf(storage.dump(), 'bob')).toEqual(['bob wrote this:pending']);
  });

  it('logout({ clearData: true }) removes the outbox and the cursor', async () => {
    const storage = memoryStorage({ 'pigeon:u:alice:cursor': 'c1' });
    const client = await signedIn(storage);
    client.send('carol', 'gone');
    await client.logout({ clearData: true });
    expect(Object.keys(storage.dump())).toEqual([]);
  });
});

describe('pending count and waiting until the outbox is empty', () => {
  it('counts pending items, and flush resolves when they are sent (or aborts on the signal)', async () => {
    const client = await startedClient();
    const counts: number[] = [];
    client.pendingCount.subscribe((n) => counts.push(n));
    const a = client.send('bob', 'one');
    client.send('bob', '');
    const b = client.send('bob', 'two');
    expect(client.pendingCount.get()).toBe(2); // the empty one failed at once
    const controller = new AbortController();
    const aborted = client.flush({ signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'aborted' });
    await expect(client.flush({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });

    let flushed = false;
    const flushing = client.flush().then(() => {
      flushed = true;
    });
    const sock = await goOnline();
    sock.push({ t: 'sent', id: a.id, ts: 1 });
    await tick();
    expect(flushed).toBe(false);
    sock.push({ t: 'sent', id: b.id, ts: 2 });
    await flushing;
    expect(counts).toEqual([1, 2, 1, 0]);
  });
});
