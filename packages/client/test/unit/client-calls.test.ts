import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ClientOptions, createClient, type PigeonClient } from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../fake-socket.js';
import { goOnline, startedClient } from '../harness.js';

// The client's calls besides sending, against an in-memory socket with fake timers: requests
// matched by rid, the limits of the arguments at their boundaries, construction and the HTTP
// sign-in, typing and presence.

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

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
