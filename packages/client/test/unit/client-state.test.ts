import type { MsgFrame } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ClientOptions, createClient, memoryStorage, type PigeonClient } from '../../src/index.js';
import { FakeSocket, FakeWebSocket, msg } from '../fake-socket.js';

// State-machine tests of the client against an in-memory socket, with fake timers so that
// backoff, watchdog and batching can be stepped exactly. The same behaviours run against
// the real server in test/integration.

const tick = () => vi.advanceTimersByTimeAsync(0);

async function startedClient(extra: Partial<ClientOptions> = {}, storage = memoryStorage()) {
  const client = createClient({
    server: 'http://pigeon.test',
    WebSocket: FakeWebSocket,
    storage,
    random: () => 0.5,
    ...extra,
  });
  await client.useToken('alice', 'tok');
  await client.start();
  return client;
}

async function goOnline(sock = FakeSocket.last(), backlog: MsgFrame[] = [], gap = false) {
  sock.open();
  sock.push({ t: 'welcome', v: 1, user: 'alice', head: null });
  for (const m of backlog) sock.push(m);
  sock.push({ t: 'synced', head: backlog.at(-1)?.cursor ?? null, gap });
  await tick();
  return sock;
}

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

describe('outbox', () => {
  it('sends one at a time after synced, pauses on rate_limited, fails on no_such_user, and persists', async () => {
    const storage = memoryStorage();
    const client = await startedClient({}, storage);
    const a = client.send('Bob', 'one');
    const b = client.send('bob', 'two');
    expect(a).toMatchObject({ state: 'pending', to: 'bob', body: 'one' });
    await tick();
    expect(JSON.parse(storage.dump()['pigeon:u:alice:outbox'] ?? '[]')).toHaveLength(2);
    const sock = await goOnline();
    const sends = () => sock.framesOf('send').map((f) => f.body);
    expect(sends()).toEqual(['one']); // the next waits for this one's `sent`: strict order
    sock.push({ t: 'sent', id: a.id, ts: 5 });
    expect(sends()).toEqual(['one', 'two']);
    sock.push({ t: 'error', code: 'rate_limited', message: 'slow down', id: b.id, retryAfterMs: 300 });
    const c = client.send('carol', 'three');
    await vi.advanceTimersByTimeAsync(299);
    expect(sends()).toEqual(['one', 'two']); // paused
    await vi.advanceTimersByTimeAsync(1);
    expect(sends()).toEqual(['one', 'two', 'two']);
    sock.push({ t: 'sent', id: b.id, ts: 6 });
    expect(sends()).toEqual(['one', 'two', 'two', 'three']);
    sock.push({ t: 'error', code: 'no_such_user', message: 'who?', id: c.id });
    sock.push({ t: 'receipt', id: a.id, to: 'bob' });
    await tick();
    expect(client.outbox().map((i) => [i.body, i.state, i.error])).toEqual([
      ['one', 'delivered', undefined],
      ['two', 'sent', undefined],
      ['three', 'failed', 'no_such_user'],
    ]);
    const stored = JSON.parse(storage.dump()['pigeon:u:alice:outbox'] ?? '[]') as { state: string }[];
    expect(stored.map((i) => i.state)).toEqual(['delivered', 'sent', 'failed']);
    client.retry(c.id);
    expect(sock.framesOf('send').at(-1)?.id).toBe(c.id);
    client.discard(c.id);
    expect(client.outbox()).toHaveLength(2);
  });

  it('pipelines up to maxInFlight and retries after internal errors', async () => {
    const client = await startedClient({ maxInFlight: 3, internalRetryMs: 500 });
    const items = ['a', 'b', 'c', 'd'].map((body) => client.send('bob', body));
    const sock = await goOnline();
    expect(sock.framesOf('send').map((f) => f.body)).toEqual(['a', 'b', 'c']);
    sock.push({ t: 'error', code: 'internal', message: 'disk', id: items[0]?.id });
    sock.push({ t: 'sent', id: items[1]?.id ?? '', ts: 1 });
    sock.push({ t: 'sent', id: items[2]?.id ?? '', ts: 2 });
    expect(sock.framesOf('send')).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(500);
    expect(sock.framesOf('send').map((f) => f.body)).toEqual(['a', 'b', 'c', 'a', 'd']);
  });

  it("two clients sharing one storage (two tabs) never erase each other's unsent messages", async () => {
    const storage = memoryStorage();
    const tabA = await startedClient({}, storage);
    const tabB = await startedClient({}, storage);
    const x = tabA.send('bob', 'from tab A');
    await vi.advanceTimersByTimeAsync(5);
    const y = tabB.send('bob', 'from tab B');
    await tick();
    const stored = () =>
      (JSON.parse(storage.dump()['pigeon:u:alice:outbox'] ?? '[]') as { id: string }[]).map((i) => i.id);
    expect(stored()).toEqual([x.id, y.id]);
    tabA.discard(x.id);
    await tick();
    expect(stored()).toEqual([y.id]);
    // A reload picks up everything that is still pending.
    const reloaded = await startedClient({}, storage);
    expect(reloaded.outbox().map((i) => i.body)).toEqual(['from tab B']);
  });

  it('drops a connection whose sends get no answer, and resends on the next one', async () => {
    const client = await startedClient({ requestTimeoutMs: 1000, pingIntervalMs: 300 });
    const sock = await goOnline();
    const a = client.send('bob', 'one');
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(300);
      sock.push({ t: 'pong' }); // the connection looks alive...
    }
    expect(client.status.get().state).toBe('online');
    await vi.advanceTimersByTimeAsync(100); // ...but the send is unanswered for 1000 ms
    expect(client.status.get()).toMatchObject({ state: 'reconnecting', reason: 'closed_4000' });
    await vi.advanceTimersByTimeAsync(250);
    const sock2 = await goOnline();
    expect(sock2.framesOf('send').map((f) => f.id)).toEqual([a.id]);
    sock2.push({ t: 'sent', id: a.id, ts: 1 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(client.status.get().state).toBe('online');
  });

  it('fails invalid messages at once with the server codes', async () => {
    const client = await startedClient();
    expect(client.send('bob', '').error).toBe('bad_frame');
    expect(client.send('not valid!', 'x').error).toBe('bad_frame');
    expect(client.send('bob', 'x'.repeat(4001)).error).toBe('too_large');
    expect(client.send('bob', 'x'.repeat(4000)).state).toBe('pending');
  });

  it('resends unsent messages after a reconnect, and an echo marks a pending one sent', async () => {
    const client = await startedClient();
    const sock = await goOnline();
    const a = client.send('bob', 'one');
    expect(sock.framesOf('send')).toHaveLength(1);
    sock.serverClose(1006);
    await vi.advanceTimersByTimeAsync(250);
    const sock2 = FakeSocket.last();
    sock2.open();
    sock2.push({ t: 'welcome', v: 1, user: 'alice', head: null });
    expect(sock2.framesOf('send')).toHaveLength(0); // not before synced
    sock2.push({ ...msg('c5', a.id, 'alice', 'bob', 'one'), delivered: false });
    sock2.push({ t: 'synced', head: 'c5', gap: false });
    await tick();
    expect(client.outbox()[0]?.state).toBe('sent');
    expect(sock2.framesOf('send')).toHaveLength(0);
  });
});

describe('requests', () => {
  it('matches answers by rid, rejects on disconnect and on timeout, and waits for online', async () => {
    const client = await startedClient({ requestTimeoutMs: 1000 });
    const early = client.conversations(); // issued while connecting
    const sock = await goOnline();
    const conv = sock.framesOf('conversations')[0];
    expect(conv?.rid).toBeDefined();
    const h = client.history('Bob', { limit: 2 });
    const hist = sock.framesOf('history')[0];
    expect(hist).toMatchObject({ with: 'bob', limit: 2 });
    sock.push({ t: 'history', with: 'bob', items: [], more: false, rid: hist?.rid });
    sock.push({ t: 'conversations', items: [], rid: conv?.rid });
    await expect(h).resolves.toEqual({ items: [], more: false });
    await expect(early).resolves.toEqual([]);

    const bad = client.history('zed');
    sock.push({ t: 'error', code: 'no_such_user', message: 'x', rid: sock.framesOf('history')[1]?.rid });
    await expect(bad).rejects.toMatchObject({ code: 'no_such_user' });

    const lost = client.conversations();
    sock.serverClose(1006);
    await expect(lost).rejects.toMatchObject({ code: 'disconnected' });

    const slow = client.conversations();
    const check = expect(slow).rejects.toMatchObject({ code: 'timeout' });
    await vi.advanceTimersByTimeAsync(1000);
    await check;
    await expect(client.history('bob', { limit: 101 })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('limits at their boundaries', () => {
  it('history limit 1..100, presence 1..200 users, user ids of 32, message ids of 64', async () => {
    const client = await startedClient();
    const sock = await goOnline();
    void client.history('bob', { limit: 100 }).catch(() => {});
    void client.history('bob', { limit: 1 }).catch(() => {});
    expect(sock.framesOf('history').map((f) => f.limit)).toEqual([100, 1]);
    for (const limit of [0, 101, 1.5]) {
      await expect(client.history('bob', { limit })).rejects.toMatchObject({ code: 'invalid_argument' });
    }
    const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
    client.subscribePresence(users);
    expect(sock.framesOf('presence').at(-1)?.users).toHaveLength(200);
    expect(() => client.subscribePresence([...users, 'one_more'])).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    expect(client.send('a'.repeat(32), 'hi').state).toBe('pending');
    expect(client.send('a'.repeat(33), 'hi')).toMatchObject({ state: 'failed', error: 'bad_frame' });
    expect(client.send('bob', 'hi', { id: 'x'.repeat(64) }).id).toBe('x'.repeat(64));
    expect(() => client.send('bob', 'hi', { id: 'x'.repeat(65) })).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    // The same id again is the same message, not a second one.
    expect(client.send('bob', 'hi', { id: 'x'.repeat(64) }).id).toBe('x'.repeat(64));
    expect(client.outbox().filter((i) => i.id === 'x'.repeat(64))).toHaveLength(1);
  });
});

describe('construction and HTTP', () => {
  it('refuses a server that is not a URL, and a missing WebSocket', () => {
    expect(() => createClient({ server: 'localhost:8080', WebSocket: FakeWebSocket })).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    expect(() =>
      createClient({ server: 'http://h', WebSocket: undefined as unknown as ClientOptions['WebSocket'] }),
    ).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('gives up on a login that gets no answer with unreachable', async () => {
    const client = createClient({
      server: 'http://pigeon.test',
      WebSocket: FakeWebSocket,
      requestTimeoutMs: 2000,
      fetch: () => new Promise(() => {}),
    });
    const result = client.login('alice', 'password123').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2000);
    expect(await result).toMatchObject({ status: 0, code: 'unreachable' });
  });

  it('reports the server code, status and Retry-After of a refused login', async () => {
    const client = createClient({
      server: 'http://pigeon.test/',
      WebSocket: FakeWebSocket,
      fetch: async (url) => {
        expect(url).toBe('http://pigeon.test/api/login');
        return {
          status: 429,
          headers: { get: (n: string) => (n === 'retry-after' ? '7' : null) },
          text: async () => JSON.stringify({ error: 'rate_limited', message: 'slow down' }),
        };
      },
    });
    await expect(client.login('alice', 'password123')).rejects.toMatchObject({
      status: 429,
      code: 'rate_limited',
      retryAfterSeconds: 7,
    });
  });
});

describe('typing and presence', () => {
  it('throttles typing per recipient and re-subscribes presence after a reconnect', async () => {
    const client: PigeonClient = await startedClient({ typingThrottleMs: 3000 });
    client.subscribePresence(['Bob', 'carol', 'bob']);
    const sock = await goOnline();
    expect(sock.framesOf('presence')).toEqual([{ t: 'presence', users: ['bob', 'carol'] }]);
    client.typing('bob');
    client.typing('bob');
    client.typing('carol');
    await vi.advanceTimersByTimeAsync(2999);
    client.typing('bob');
    expect(sock.framesOf('typing')).toEqual([
      { t: 'typing', to: 'bob' },
      { t: 'typing', to: 'carol' },
    ]);
    await vi.advanceTimersByTimeAsync(1);
    client.typing('bob');
    expect(sock.framesOf('typing')).toHaveLength(3);
    // Sending a message to bob ends his typing display, so typing right after shows again.
    client.send('bob', 'done');
    client.typing('bob');
    expect(sock.framesOf('typing')).toHaveLength(4);
    client.typing('bob');
    expect(sock.framesOf('typing')).toHaveLength(4);
    sock.serverClose(1001);
    await vi.advanceTimersByTimeAsync(250);
    const sock2 = await goOnline();
    expect(sock2.framesOf('presence')).toEqual([{ t: 'presence', users: ['bob', 'carol'] }]);
  });
});
