import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../src/index.js';
import { FakeSocket, msg } from '../fake-socket.js';
import { goOnline, startedClient, tick } from '../harness.js';

// An entry the application could not handle is never acknowledged (issue 9.4): the cursor
// stops before it for the rest of the connection, and the next connection delivers it again.

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe('a message listener that throws', () => {
  it('leaves its entry unacked, keeps delivering later ones, and gets it again on the next connection', async () => {
    const storage = memoryStorage();
    const client = await startedClient({ ackDelayMs: 100 }, storage);
    const got: string[] = [];
    const errors: string[] = [];
    let failing = true;
    client.on('message', (m) => {
      if (m.id === 'm2' && failing) throw new Error('cannot render');
      got.push(m.id);
    });
    client.on('error', (e) => errors.push(e.code));
    const sock = await goOnline(FakeSocket.last(), [msg('c1', 'm1'), msg('c2', 'm2'), msg('c3', 'm3')]);
    sock.push(msg('c4', 'm4'));
    await vi.advanceTimersByTimeAsync(100);
    expect(got).toEqual(['m1', 'm3', 'm4']);
    expect(errors).toEqual(['listener']);
    // Cumulative acks stop just before the failed entry, and so does the stored cursor.
    expect(sock.framesOf('ack')).toEqual([{ t: 'ack', cursor: 'c1' }]);
    expect(storage.dump()['pigeon:u:alice:cursor']).toBe('c1');

    sock.serverClose(1006);
    await vi.advanceTimersByTimeAsync(250);
    failing = false;
    const sock2 = FakeSocket.last();
    sock2.open();
    expect(sock2.framesOf('hello')[0]?.since).toBe('c1');
    await goOnlineAgain(sock2, [msg('c2', 'm2'), msg('c3', 'm3'), msg('c4', 'm4')]);
    await vi.advanceTimersByTimeAsync(100);
    // m2 once more (handled now); m3 and m4 were handled and are not repeated.
    expect(got).toEqual(['m1', 'm3', 'm4', 'm2']);
    expect(sock2.framesOf('ack')).toEqual([{ t: 'ack', cursor: 'c4' }]);
  });

  it('an entry that fails maxListenerFailures times counts as processed, so acks cannot stay stuck forever', async () => {
    const client = await startedClient({ maxListenerFailures: 2 });
    const errors: string[] = [];
    client.on('message', (m) => {
      if (m.id === 'bad') return Promise.reject(new Error('never works'));
    });
    client.on('error', (e) => errors.push(e.code));
    const sock = await goOnline(FakeSocket.last(), [msg('c1', 'bad'), msg('c2', 'ok')]);
    await vi.advanceTimersByTimeAsync(100);
    expect(sock.framesOf('ack')).toEqual([]);
    sock.serverClose(1006);
    await vi.advanceTimersByTimeAsync(250);
    const sock2 = FakeSocket.last();
    sock2.open();
    await goOnlineAgain(sock2, [msg('c1', 'bad'), msg('c2', 'ok')]);
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toEqual(['listener', 'listener', 'listener_gave_up']);
    expect(sock2.framesOf('ack')).toEqual([{ t: 'ack', cursor: 'c2' }]);
  });
});

async function goOnlineAgain(sock: FakeSocket, backlog: ReturnType<typeof msg>[]) {
  sock.push({ t: 'welcome', v: 1, user: 'alice', head: null });
  for (const m of backlog) sock.push(m);
  sock.push({ t: 'synced', head: backlog.at(-1)?.cursor ?? null, gap: false });
  await tick();
}
