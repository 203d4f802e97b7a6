import type { MsgFrame } from '@pigeon/protocol';
import { vi } from 'vitest';
import { type ClientOptions, createClient, type KeyValueStorage, memoryStorage } from '../src/index.js';
import { FakeSocket, FakeWebSocket } from './fake-socket.js';

// Shared set-up of the unit tests that drive a whole client against FakeSocket with vitest's
// fake timers (installed by each test file).

export const tick = () => vi.advanceTimersByTimeAsync(0);

export async function startedClient(
  extra: Partial<ClientOptions> = {},
  storage: KeyValueStorage = memoryStorage(),
  user = 'alice',
) {
  const client = createClient({
    server: 'http://pigeon.test',
    WebSocket: FakeWebSocket,
    storage,
    random: () => 0.5,
    ...extra,
  });
  await client.useToken(user, 'tok');
  await client.start();
  return client;
}

export async function goOnline(
  sock = FakeSocket.last(),
  backlog: MsgFrame[] = [],
  gap = false,
  user = 'alice',
) {
  sock.open();
  sock.push({ t: 'welcome', v: 1, user, head: null });
  for (const m of backlog) sock.push(m);
  sock.push({ t: 'synced', head: backlog.at(-1)?.cursor ?? null, gap });
  await tick();
  return sock;
}

/**
 * A storage whose calls can be made to fail (a full quota) and that answers asynchronously
 * like IndexedDB, counting the calls.
 */
export function flakyStorage(options: { async?: boolean; atomicUpdate?: boolean } = {}) {
  const inner = memoryStorage();
  const state = { failWrites: false, failReads: false, writes: 0, updates: 0 };
  const later = <T>(value: () => T): T | Promise<T> =>
    options.async ? Promise.resolve().then(value) : value();
  const quota = () => {
    const err = new Error('QuotaExceededError: the quota has been exceeded');
    err.name = 'QuotaExceededError';
    return err;
  };
  const storage: KeyValueStorage = {
    get: (key) =>
      later(() => {
        if (state.failReads) throw new Error('read failed');
        return inner.get(key) as string | null;
      }),
    set: (key, value) =>
      later(() => {
        state.writes++;
        if (state.failWrites) throw quota();
        inner.set(key, value);
      }),
    remove: (key) =>
      later(() => {
        if (state.failWrites) throw quota();
        inner.remove(key);
      }),
  };
  if (options.atomicUpdate) {
    storage.update = (key, fn) =>
      later(() => {
        state.updates++;
        if (state.failWrites) throw quota();
        const next = fn((inner.get(key) as string | null) ?? null);
        if (next === null) inner.remove(key);
        else inner.set(key, next);
      });
  }
  return { storage, state, dump: () => inner.dump() };
}
