import type { ClientEvents, OutboxItem } from '@pigeon/client';
import type { MsgFrame } from '@pigeon/protocol';
import { beforeAll, describe, expect, it, vi } from 'vitest';

// A stand-in for @pigeon/client's createClient: records calls and lets the test emit events.
const fake = vi.hoisted(() => {
  const listeners = new Map<string, ((arg: unknown) => void)[]>();
  const client = {
    user: null as string | null,
    status: { get: () => ({ state: 'offline' }), subscribe: () => () => undefined },
    restore: vi.fn(async () => null as { user: string; token: string } | null),
    login: vi.fn(),
    register: vi.fn(),
    useToken: vi.fn(),
    start: vi.fn(async () => undefined),
    stop: vi.fn(),
    logout: vi.fn(async () => undefined),
    outbox: vi.fn(() => [] as unknown[]),
    send: vi.fn(),
    retry: vi.fn(),
    discard: vi.fn(),
    history: vi.fn(),
    conversations: vi.fn(async () => []),
    typing: vi.fn(),
    subscribePresence: vi.fn(),
    whenOnline: vi.fn(),
    flush: vi.fn(),
    on: (event: string, fn: (arg: unknown) => void) => {
      listeners.set(event, [...(listeners.get(event) ?? []), fn]);
      return () => undefined;
    },
  };
  const emit = (event: string, arg?: unknown) => {
    for (const fn of listeners.get(event) ?? []) fn(arg);
  };
  return { client, emit };
});

vi.mock('@pigeon/client', async (importOriginal) => {
  const real = await importOriginal<typeof import('@pigeon/client')>();
  return { ...real, createClient: () => fake.client };
});

import { PigeonHttpError, PigeonRequestError } from '@pigeon/client';
import { useChatStore } from '../../src/store/chat-store';
import * as bridge from '../../src/store/client-bridge';

function emit<E extends keyof ClientEvents>(event: E, arg?: Parameters<ClientEvents[E]>[0]): void {
  fake.emit(event, arg);
}

let cursor = 0;
function msg(from: string, to: string, id: string, ts: number): MsgFrame {
  cursor++;
  return { t: 'msg', cursor: `c${cursor}`, id, from, to, body: `body ${id}`, ts, delivered: false };
}

const conv = (peer: string) => useChatStore.getState().conversations[peer];

describe('the client bridge (with a stand-in client)', () => {
  beforeAll(async () => {
    await bridge.boot();
  });

  it('starts signed out without a saved session', () => {
    expect(useChatStore.getState().auth).toBe('signed-out');
    expect(useChatStore.getState().language).toBe('en');
  });

  it('reports a refused sign-in by its code and stays signed out', async () => {
    fake.client.login.mockRejectedValueOnce(new PigeonHttpError(429, 'rate_limited', 'slow down', 12));
    expect(await bridge.signIn('signin', 'alice', 'password1')).toEqual({
      code: 'rate_limited',
      retryAfterSeconds: 12,
    });
    fake.client.register.mockRejectedValueOnce(new PigeonHttpError(409, 'user_taken', 'taken'));
    expect(await bridge.signIn('register', 'alice', 'password1')).toEqual({ code: 'user_taken' });
    fake.client.login.mockRejectedValueOnce(new TypeError('fetch failed'));
    expect(await bridge.signIn('signin', 'alice', 'password1')).toEqual({ code: 'unreachable' });
    expect(useChatStore.getState().auth).toBe('signed-out');
  });

  it('signs in, shows the persisted outbox as sending, and connects', async () => {
    const pending: OutboxItem = { id: 'o1', to: 'bob', body: 'queued', state: 'pending', createdAt: 5 };
    fake.client.outbox.mockReturnValueOnce([pending]);
    fake.client.login.mockResolvedValueOnce({ user: 'alice', token: 't' });
    expect(await bridge.signIn('signin', 'alice', 'password1')).toBeNull();
    expect(useChatStore.getState()).toMatchObject({ auth: 'signed-in', me: 'alice' });
    expect(conv('bob')?.messages.map((m) => [m.id, m.state])).toEqual([['o1', 'sending']]);
    expect(fake.client.start).toHaveBeenCalled();
    expect(fake.client.subscribePresence).toHaveBeenLastCalledWith(['bob']);
  });

  it('applies entries in batches, counts unread, and takes receipts', async () => {
    emit('message', msg('carol', 'alice', 'c1', 10));
    emit('message', msg('carol', 'alice', 'c2', 11));
    emit('message', msg('alice', 'bob', 'o1', 12));
    await vi.waitFor(() => expect(conv('carol')?.unread).toBe(2));
    expect(conv('bob')?.messages.map((m) => m.state)).toEqual(['sent']);
    emit('receipt', { id: 'o1', to: 'bob' });
    expect(conv('bob')?.messages.map((m) => m.state)).toEqual(['delivered']);
    await vi.waitFor(() => expect(fake.client.subscribePresence).toHaveBeenLastCalledWith(['bob', 'carol']));
  });

  it('removes a discarded message when it leaves the outbox', () => {
    const failed: OutboxItem = {
      id: 'f1',
      to: 'bob',
      body: 'x',
      state: 'failed',
      createdAt: 20,
      error: 'no_such_user',
    };
    emit('outbox', [failed]);
    expect(conv('bob')?.messages.find((m) => m.id === 'f1')?.errorCode).toBe('no_such_user');
    emit('outbox', []);
    expect(conv('bob')?.messages.find((m) => m.id === 'f1')).toBeUndefined();
    expect(conv('bob')?.messages.find((m) => m.id === 'o1')).toBeDefined();
  });

  it('shows a new message at once as sending', () => {
    fake.client.send.mockReturnValueOnce({
      id: 'n1',
      to: 'carol',
      body: 'hi',
      state: 'pending',
      createdAt: 30,
    });
    bridge.send('carol', 'hi');
    expect(fake.client.send).toHaveBeenCalledWith('carol', 'hi');
    expect(conv('carol')?.messages.at(-1)).toMatchObject({ id: 'n1', state: 'sending' });
  });

  it('starts a chat only with someone who exists', async () => {
    expect(await bridge.startChat('Not Valid!')).toBe('invalid');
    fake.client.history.mockRejectedValueOnce(new PigeonRequestError('no_such_user', 'no'));
    expect(await bridge.startChat('ghost')).toBe('no_such_user');
    fake.client.history.mockRejectedValueOnce(new PigeonRequestError('timeout', 'slow'));
    expect(await bridge.startChat('dave')).toBe('offline');
    fake.client.history.mockResolvedValueOnce({ items: [msg('dave', 'alice', 'd1', 40)], more: false });
    expect(await bridge.startChat('  Dave ')).toBe('ok');
    expect(location.hash).toBe('#/c/dave');
    expect(conv('dave')?.hasMore).toBe(false);
    expect(conv('dave')?.unread).toBe(0);
  });

  it('forgets who is online while disconnected', () => {
    emit('presence', { user: 'bob', online: true });
    expect(useChatStore.getState().presence).toEqual({ bob: true });
    emit('status', { state: 'reconnecting', nextAttemptAt: 123 });
    expect(useChatStore.getState().presence).toEqual({});
    expect(useChatStore.getState().status).toEqual({ kind: 'reconnecting', nextAttemptAt: 123 });
  });

  it('returns to the sign-in page with a notice when the token is refused, keeping the outbox', () => {
    emit('unauthorized');
    expect(useChatStore.getState()).toMatchObject({
      auth: 'signed-out',
      authNotice: 'sessionExpired',
      me: null,
    });
    expect(fake.client.logout).toHaveBeenLastCalledWith({ clearData: false });
  });
});
