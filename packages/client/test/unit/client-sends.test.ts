import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../src/index.js';
import { FakeSocket, msg } from '../fake-socket.js';
import { goOnline, startedClient, tick } from '../harness.js';

// The outbox through the whole client, against an in-memory socket with fake timers: order,
// pipelining, rate limits and refusals, two tabs on one storage, unanswered sends, resending
// after a reconnect. (The Outbox state machine alone is outbox.test.ts.)

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

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
