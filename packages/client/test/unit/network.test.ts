import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from '../fake-socket.js';
import { goOnline, startedClient, tick } from '../harness.js';

// The application's network hints, "Retry now", and the faster liveness check while a
// message awaits its `sent` (issue 11: network truth at once).

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe('network hints', () => {
  it('offline: status changes at once, requests fail, no attempts; online: an attempt at once', async () => {
    const client = await startedClient();
    const sock = await goOnline();
    const request = client.conversations();
    client.setNetwork(false);
    expect(client.status.get()).toEqual({ state: 'waiting_for_network' });
    expect(sock.closed).not.toBeNull();
    await expect(request).rejects.toMatchObject({ code: 'disconnected' });
    // A request made meanwhile waits for a connection (and times out if none comes).
    const waiting = expect(client.conversations()).rejects.toMatchObject({ code: 'timeout' });
    // No attempt however long the network stays away; sending queues.
    const item = client.send('bob', 'written offline');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(client.status.get().state).toBe('waiting_for_network');
    await waiting;
    client.setNetwork(false); // repeated hints change nothing
    expect(FakeSocket.instances).toHaveLength(1);
    client.setNetwork(true);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(client.status.get()).toEqual({ state: 'connecting', attempt: 0 });
    const sock2 = await goOnline();
    expect(sock2.framesOf('send').map((f) => f.id)).toEqual([item.id]);
  });

  it('a client started while offline waits for the network', async () => {
    const client = await startedClient();
    client.stop();
    client.setNetwork(false);
    await client.start();
    expect(client.status.get()).toEqual({ state: 'waiting_for_network' });
    expect(FakeSocket.instances).toHaveLength(1);
    client.setNetwork(true);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('a connection that fails while offline waits instead of backing off', async () => {
    const client = await startedClient();
    client.setNetwork(false);
    client.reconnectNow(); // "Retry now" tries even when the platform says offline
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last().serverClose(1006);
    expect(client.status.get()).toEqual({ state: 'waiting_for_network' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.instances).toHaveLength(2);
  });
});

describe('reconnectNow and the delay until the next attempt', () => {
  it('tells how long until the next attempt and attempts at once on "Retry now"', async () => {
    const client = await startedClient();
    expect(client.nextAttemptIn()).toBeNull();
    FakeSocket.last().serverClose(1006);
    expect(client.nextAttemptIn()).toBe(250);
    await vi.advanceTimersByTimeAsync(100);
    expect(client.nextAttemptIn()).toBe(150);
    client.reconnectNow();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(client.nextAttemptIn()).toBeNull();
    // The replaced wait does not fire later.
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.instances).toHaveLength(2);
    await goOnline();
    client.reconnectNow(); // online: nothing to do
    expect(FakeSocket.instances).toHaveLength(2);
    expect(client.status.get().state).toBe('online');
  });
});

describe('liveness while a message awaits its answer', () => {
  it('pings after busyPingIntervalMs of silence and drops the link busyPingTimeoutMs later', async () => {
    const client = await startedClient({ busyPingIntervalMs: 1000, busyPingTimeoutMs: 1000 });
    const sock = await goOnline();
    // Idle: the slow watchdog (20 s) applies.
    await vi.advanceTimersByTimeAsync(5000);
    expect(sock.framesOf('ping')).toHaveLength(0);
    client.send('bob', 'hello?');
    await vi.advanceTimersByTimeAsync(999);
    expect(sock.framesOf('ping')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sock.framesOf('ping')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(client.status.get().state).toBe('online');
    await vi.advanceTimersByTimeAsync(1);
    expect(client.status.get()).toMatchObject({ state: 'reconnecting', reason: 'closed_4000' });
  });

  it('a pong keeps a busy link; once nothing is in flight the slow watchdog applies again', async () => {
    const client = await startedClient({ busyPingIntervalMs: 1000, busyPingTimeoutMs: 1000 });
    const sock = await goOnline();
    const a = client.send('bob', 'one');
    await vi.advanceTimersByTimeAsync(1000);
    sock.push({ t: 'pong', rid: sock.framesOf('ping')[0]?.rid });
    await vi.advanceTimersByTimeAsync(1999);
    expect(client.status.get().state).toBe('online');
    sock.push({ t: 'sent', id: a.id, ts: 1 });
    await tick();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(client.status.get().state).toBe('online');
  });
});
