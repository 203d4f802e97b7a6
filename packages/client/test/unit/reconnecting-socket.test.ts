import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULTS } from '../../src/options.js';
import { type LinkStatus, ReconnectingSocket } from '../../src/reconnecting-socket.js';
import { FakeSocket, FakeWebSocket } from '../fake-socket.js';

// The reconnecting socket alone, without the protocol: what it reports and when it tries.

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

function make(closedAnswer: (code: number) => false | number = () => 0) {
  const log: string[] = [];
  const statuses: LinkStatus[] = [];
  const socket = new ReconnectingSocket(
    {
      url: 'ws://h/ws',
      WebSocket: FakeWebSocket,
      backoff: DEFAULTS.backoff,
      random: () => 0.5,
      now: Date.now,
      connectTimeoutMs: 1000,
      stableAfterMs: 5000,
      pingIntervalMs: 300,
      pingTimeoutMs: 200,
      busyPingIntervalMs: 50,
      busyPingTimeoutMs: 50,
    },
    {
      open: () => log.push('open'),
      message: (data) => log.push(`message ${String(data)}`),
      closed: (code, reason) => {
        log.push(`closed ${code} ${reason}`);
        return closedAnswer(code);
      },
      probe: () => log.push('probe'),
      status: (s) => statuses.push(s),
    },
  );
  return { socket, log, statuses };
}

describe('ReconnectingSocket', () => {
  it('connects, reports every message, and backs off (full jitter) after each drop', async () => {
    const { socket, log, statuses } = make();
    socket.start();
    expect(statuses).toEqual([{ state: 'connecting', attempt: 0 }]);
    FakeSocket.last().open();
    FakeSocket.last().push({ t: 'x' });
    expect(log).toEqual(['open', 'message {"t":"x"}']);
    expect(socket.send('{"t":"ping"}')).toBe(true);
    FakeSocket.last().serverClose(1006, 'gone');
    expect(log.at(-1)).toBe('closed 1006 gone');
    expect(statuses.at(-1)).toEqual({
      state: 'reconnecting',
      nextAttemptAt: 1_000_250,
      attempt: 1,
      reason: 'closed_1006',
    });
    expect(socket.send('{"t":"ping"}')).toBe(false);
    await vi.advanceTimersByTimeAsync(250);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('gives up on an attempt that is not welcomed within connectTimeoutMs', async () => {
    const { socket } = make();
    socket.start();
    FakeSocket.last().open();
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.last().closed).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances[0]?.closed).toEqual({ code: 4000, reason: 'connect_timeout' });
  });

  it('after welcome: probes after silence, drops the link when the probe is not answered; busy is faster', async () => {
    const { socket, log } = make();
    socket.start();
    FakeSocket.last().open();
    socket.welcomed();
    await vi.advanceTimersByTimeAsync(300);
    expect(log.filter((l) => l === 'probe')).toHaveLength(1);
    FakeSocket.last().push({ t: 'pong' });
    socket.setBusy(true);
    await vi.advanceTimersByTimeAsync(50);
    expect(log.filter((l) => l === 'probe')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(49);
    expect(FakeSocket.last().closed).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(log.at(-1)).toBe('closed 4000 ping_timeout');
  });

  it('a false answer from closed() stops it; a number delays the next attempt by that much more', async () => {
    const stopping = make(() => false);
    stopping.socket.start();
    FakeSocket.last().serverClose(4001);
    expect(stopping.socket.isRunning).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.instances).toHaveLength(1);

    const pausing = make(() => 5000);
    pausing.socket.start();
    FakeSocket.last().serverClose(4029);
    expect(pausing.socket.nextAttemptIn()).toBe(5250);
  });

  it('stop() closes with 1000 and never reconnects; network hints decide when to try', async () => {
    const { socket, statuses } = make();
    socket.setNetwork(false);
    socket.start();
    expect(statuses).toEqual([{ state: 'waiting_for_network' }]);
    expect(FakeSocket.instances).toHaveLength(0);
    socket.setNetwork(true);
    expect(FakeSocket.instances).toHaveLength(1);
    socket.stop();
    expect(FakeSocket.last().closed).toEqual({ code: 1000, reason: 'client stopped' });
    socket.setNetwork(false);
    socket.setNetwork(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});
