import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../src/index.js';
import { FakeSocket, msg } from '../fake-socket.js';
import { goOnline, startedClient, tick } from '../harness.js';

// State-machine tests of the client against an in-memory socket, with fake timers so that
// backoff, watchdog and batching can be stepped exactly: opening, reconnecting, the inbox.
// The outbox is in client-sends.test.ts, requests and the other calls in client-calls.test.ts;
// the same behaviours run against the real server in test/integration.

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe('opening', () => {
  it('says hello with the persisted cursor and goes connecting → syncing → online', async () => {
    const storage = memoryStorage({ 'pigeon:u:alice:cursor': 'c41' });
    const client = await startedClient({}, storage);
    const states: string[] = [];
    client.status.subscribe((s) => states.push(s.state));
    const sock = FakeSocket.last();
    expect(sock.url).toBe('ws://pigeon.test/ws');
    expect(client.status.get().state).toBe('connecting');
    sock.open();
    expect(sock.sent[0]).toEqual({ t: 'hello', v: 1, token: 'tok', since: 'c41' });
    sock.push({ t: 'welcome', v: 1, user: 'alice', head: 'c42' });
    sock.push(msg('c42', 'm42'));
    sock.push({ t: 'synced', head: 'c42', gap: false });
    await tick();
    expect(states).toEqual(['syncing', 'online']);
  });

  it('emits gap when synced says so', async () => {
    const client = await startedClient();
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    await goOnline(FakeSocket.last(), [msg('c9', 'x')], true);
    expect(gaps).toEqual([{ head: 'c9' }]);
  });
});

describe('reconnecting', () => {
  it('backs off with jitter after 1006, 1001 and 4008, and resets after a stable connection', async () => {
    const client = await startedClient({ stableAfterMs: 5000 });
    await goOnline();
    FakeSocket.last().serverClose(1006);
    // attempt 0 with random 0.5: 250 ms
    expect(client.status.get()).toMatchObject({
      state: 'reconnecting',
      nextAttemptAt: 1_000_250,
      attempt: 1,
    });
    await vi.advanceTimersByTimeAsync(249);
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last().serverClose(1001);
    expect(client.status.get().nextAttemptAt).toBe(Date.now() + 500);
    await vi.advanceTimersByTimeAsync(500);
    FakeSocket.last().serverClose(4008);
    expect(client.status.get().nextAttemptAt).toBe(Date.now() + 1000);
    await vi.advanceTimersByTimeAsync(1000);
    // This one stays up long enough: the next failure starts from attempt 0 again.
    await goOnline();
    await vi.advanceTimersByTimeAsync(5000);
    FakeSocket.last().serverClose(1006);
    expect(client.status.get()).toMatchObject({
      state: 'reconnecting',
      attempt: 1,
      nextAttemptAt: Date.now() + 250,
    });
    client.stop();
    expect(client.status.get()).toEqual({ state: 'offline', reason: 'stopped' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.instances).toHaveLength(4);
  });

  it('does not reconnect after 4001 (emits unauthorized) or 4003', async () => {
    const client = await startedClient();
    let unauthorized = 0;
    client.on('unauthorized', () => unauthorized++);
    FakeSocket.last().open();
    FakeSocket.last().serverClose(4001, 'bad token');
    expect(client.status.get().state).toBe('unauthorized');
    expect(unauthorized).toBe(1);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.instances).toHaveLength(1);

    const c2 = await startedClient();
    FakeSocket.last().serverClose(4003);
    expect(c2.status.get()).toEqual({ state: 'offline', reason: 'unsupported_version' });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('refuses a token that belongs to another user instead of sending as them', async () => {
    const client = await startedClient();
    client.send('bob', 'secret');
    let unauthorized = 0;
    client.on('unauthorized', () => unauthorized++);
    const sock = FakeSocket.last();
    sock.open();
    sock.push({ t: 'welcome', v: 1, user: 'mallory', head: null });
    sock.push({ t: 'synced', head: null, gap: false });
    await tick();
    expect(client.status.get().state).toBe('unauthorized');
    expect(unauthorized).toBe(1);
    expect(sock.framesOf('send')).toEqual([]);
    expect(sock.closed).not.toBeNull();
  });

  it('retries at once when the network comes back', async () => {
    let networkBack: () => void = () => {};
    const client = await startedClient({
      onNetworkOnline: (cb) => {
        networkBack = cb;
        return () => {
          networkBack = () => {};
        };
      },
    });
    FakeSocket.last().serverClose(1006);
    FakeSocket.last();
    await vi.advanceTimersByTimeAsync(250);
    FakeSocket.last().serverClose(1006);
    FakeSocket.last(); // attempt 1 now waits 500 ms
    expect(client.status.get().state).toBe('reconnecting');
    networkBack();
    expect(FakeSocket.instances).toHaveLength(3);
    expect(client.status.get().state).toBe('connecting');
    // An attempt still hanging from before the network came back is replaced at once too.
    networkBack();
    expect(FakeSocket.instances).toHaveLength(4);
    expect(FakeSocket.instances[2]?.closed).not.toBeNull();
    // Once connected, "online" events change nothing.
    await goOnline();
    networkBack();
    expect(FakeSocket.instances).toHaveLength(4);
    expect(client.status.get().state).toBe('online');
  });

  it('pings after silence and abandons a half-open connection', async () => {
    const client = await startedClient({ pingIntervalMs: 1000, pingTimeoutMs: 500 });
    const sock = await goOnline();
    await vi.advanceTimersByTimeAsync(999);
    expect(sock.framesOf('ping')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sock.framesOf('ping')).toHaveLength(1);
    // A pong (any frame) proves it alive.
    sock.push({ t: 'pong', rid: sock.framesOf('ping')[0]?.rid });
    await vi.advanceTimersByTimeAsync(1000);
    expect(sock.framesOf('ping')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(sock.closed).not.toBeNull();
    expect(client.status.get()).toMatchObject({ state: 'reconnecting', reason: 'closed_4000' });
  });

  it('gives up on a connection that never gets a welcome', async () => {
    const client = await startedClient({ connectTimeoutMs: 2000 });
    await vi.advanceTimersByTimeAsync(2000);
    expect(client.status.get().state).toBe('reconnecting');
  });
});

describe('inbox', () => {
  it('delivers each entry once (dedup by cursor and by (from,id)), in order, and acks after processing', async () => {
    const client = await startedClient();
    const got: string[] = [];
    let release: () => void = () => {};
    client.on('message', async (m) => {
      got.push(m.id);
      if (m.id === 'm2') await new Promise<void>((r) => (release = r));
    });
    const sock = await goOnline(FakeSocket.last(), [msg('c1', 'm1'), msg('c2', 'm2'), msg('c1', 'm1')]);
    sock.push(msg('c3', 'm3'));
    sock.push(msg('c9', 'm2')); // same (from,id) under another cursor: a replay
    sock.push(msg('c3', 'm3'));
    await vi.advanceTimersByTimeAsync(500);
    // m2's listener has not returned: nothing after it is processed, and c2 is not acked.
    expect(got).toEqual(['m1', 'm2']);
    expect(sock.framesOf('ack')).toEqual([{ t: 'ack', cursor: 'c1' }]);
    release();
    await vi.advanceTimersByTimeAsync(100);
    expect(got).toEqual(['m1', 'm2', 'm3']);
    expect(sock.framesOf('ack').at(-1)).toEqual({ t: 'ack', cursor: 'c3' });
  });

  it('does not mistake a reused cursor naming another message (server database reset) for a replay', async () => {
    const client = await startedClient();
    const got: string[] = [];
    client.on('message', (m) => {
      got.push(m.id);
    });
    const sock = await goOnline(FakeSocket.last(), [msg('1', 'old-a'), msg('2', 'old-b')]);
    sock.serverClose(1006);
    await vi.advanceTimersByTimeAsync(250);
    await goOnline(FakeSocket.last(), [msg('1', 'new-a'), msg('2', 'old-b')], true);
    expect(got).toEqual(['old-a', 'old-b', 'new-a']);
  });

  it('persists the processed cursor and resumes from it after a reconnect', async () => {
    const storage = memoryStorage();
    const client = await startedClient({}, storage);
    const sock = await goOnline(FakeSocket.last(), [msg('c1', 'm1'), msg('c2', 'm2')]);
    await vi.advanceTimersByTimeAsync(100);
    expect(storage.dump()['pigeon:u:alice:cursor']).toBe('c2');
    sock.serverClose(1006);
    await vi.advanceTimersByTimeAsync(250);
    FakeSocket.last().open();
    expect(FakeSocket.last().sent[0]).toMatchObject({ t: 'hello', since: 'c2' });
    expect(client.status.get().state).toBe('connecting');
  });
});
