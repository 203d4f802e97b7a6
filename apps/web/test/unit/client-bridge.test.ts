import type {
  ClientEventName,
  ClientEvents,
  ClientStatus,
  LogoutOptions,
  OutboxItem,
  PigeonClient,
} from '@pigeon/client';
import type { MsgFrame } from '@pigeon/protocol';
import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * The bridge against a stand-in client. Every test starts from fresh modules (a new store, a
 * new bridge, a new stand-in) and an empty localStorage, so each one says what it needs and
 * none depends on another having run before it.
 */
function makeFakeClient() {
  const listeners = new Map<ClientEventName, Set<(arg: never) => unknown>>();
  let status: ClientStatus = { state: 'offline' };
  const client = {
    user: null as string | null,
    status: { get: () => status, subscribe: () => () => undefined },
    restore: vi.fn(async () => null as { user: string; token: string } | null),
    login: vi.fn(async (user: string) => ({ user, token: `token-${user}` })),
    register: vi.fn(async (user: string) => ({ user, token: `token-${user}` })),
    useToken: vi.fn(async () => undefined),
    start: vi.fn(async () => undefined),
    stop: vi.fn(),
    logout: vi.fn(async (_options?: LogoutOptions) => undefined),
    on: <E extends ClientEventName>(event: E, listener: ClientEvents[E]) => {
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (arg: never) => unknown);
      listeners.set(event, set);
      return () => {
        set.delete(listener as (arg: never) => unknown);
      };
    },
    outbox: vi.fn((): OutboxItem[] => []),
    send: vi.fn(
      (to: string, body: string): OutboxItem => ({ id: 'n1', to, body, state: 'pending', createdAt: 30 }),
    ),
    retry: vi.fn(),
    discard: vi.fn(),
    history: vi.fn(async () => ({ items: [] as MsgFrame[], more: false })),
    conversations: vi.fn(async () => []),
    typing: vi.fn(),
    subscribePresence: vi.fn(),
    whenOnline: vi.fn(async () => undefined),
    flush: vi.fn(async (_options?: { signal?: unknown }) => undefined),
    pendingCount: { get: () => 0, subscribe: () => () => undefined },
    setNetwork: vi.fn((_online: boolean) => undefined),
    reconnectNow: vi.fn(),
    nextAttemptIn: vi.fn((): number | null => null),
    ping: vi.fn(async () => 1),
    persisted: vi.fn(async () => undefined),
    // (client helper: members added to PigeonClient with the protocol extensions)
    features: { get: () => [], subscribe: () => () => undefined },
    conversationsPage: vi.fn(async () => ({ items: [], more: false })),
    changePassword: vi.fn(async (_password: string, _newPassword: string) => undefined),
    // (featcli helper: the chat features of issue 10)
    readStates: { get: () => ({}), subscribe: () => () => undefined },
    settings: { get: () => ({ readReceipts: null, blocked: null }), subscribe: () => () => undefined },
    pendingWrites: { get: () => [], subscribe: () => () => undefined },
    markRead: vi.fn(async (_peer: string, _upto: string) => undefined),
    edit: vi.fn(async () => undefined),
    deleteForEveryone: vi.fn(async () => undefined),
    hide: vi.fn(async () => undefined),
    react: vi.fn(async () => undefined),
    block: vi.fn(async (_user: string) => undefined),
    unblock: vi.fn(async (_user: string) => undefined),
    setReadReceipts: vi.fn(async (_on: boolean) => undefined),
    refreshSettings: vi.fn(async () => ({ readReceipts: null, blocked: null })),
    search: vi.fn(async () => ({ items: [], more: false })),
    download: vi.fn(async () => ({ size: 0, from: 0, type: '', name: null, etag: null, chunks: [] })),
  } satisfies PigeonClient;
  /** Calls the listeners like the client does; a listener's throw reaches the caller (the client). */
  function emit<E extends ClientEventName>(event: E, ...arg: Parameters<ClientEvents[E]>): void {
    if (event === 'status') status = arg[0] as ClientStatus;
    for (const fn of listeners.get(event) ?? []) (fn as (...a: unknown[]) => unknown)(...arg);
  }
  return { client, emit };
}

const holder = vi.hoisted(() => ({ current: null as unknown }));
vi.mock('@pigeon/client', async (importOriginal) => {
  const real = await importOriginal<typeof import('@pigeon/client')>();
  return { ...real, createClient: () => holder.current };
});

async function fresh(options: { session?: string } = {}) {
  vi.resetModules();
  const fake = makeFakeClient();
  holder.current = fake.client;
  if (options.session) fake.client.restore.mockResolvedValueOnce({ user: options.session, token: 't' });
  const bridge = await import('../../src/store/client-bridge');
  const actions = await import('../../src/store/conversation-actions');
  const { useChatStore } = await import('../../src/store/chat-store');
  const { PigeonHttpError, PigeonRequestError } = await import('@pigeon/client');
  await bridge.boot();
  const state = () => useChatStore.getState();
  const conv = (peer: string) => state().conversations.get(peer);
  return { fake, bridge, actions, state, conv, PigeonHttpError, PigeonRequestError };
}

let cursor = 0;
function msg(from: string, to: string, id: string, ts: number, extra: Partial<MsgFrame> = {}): MsgFrame {
  cursor++;
  return { t: 'msg', cursor: `c${cursor}`, id, from, to, body: `body ${id}`, ts, delivered: false, ...extra };
}

beforeEach(() => {
  localStorage.clear();
  history.replaceState(null, '', '/');
});

describe('the client bridge (with a stand-in client that satisfies PigeonClient)', () => {
  it('starts signed out without a saved session', async () => {
    const { state } = await fresh();
    expect(state().auth).toBe('signed-out');
    expect(state().language).toBe('en');
  });

  it('reports a refused sign-in by its code and stays signed out', async () => {
    const { fake, bridge, state, PigeonHttpError } = await fresh();
    fake.client.login.mockRejectedValueOnce(new PigeonHttpError(429, 'rate_limited', 'slow down', 12));
    expect(await bridge.signIn('signin', 'alice', 'password1')).toEqual({
      code: 'rate_limited',
      retryAfterSeconds: 12,
    });
    fake.client.register.mockRejectedValueOnce(new PigeonHttpError(409, 'user_taken', 'taken'));
    expect(await bridge.signIn('register', 'alice', 'password1')).toEqual({ code: 'user_taken' });
    fake.client.login.mockRejectedValueOnce(new TypeError('fetch failed'));
    expect(await bridge.signIn('signin', 'alice', 'password1')).toEqual({ code: 'unreachable' });
    expect(state().auth).toBe('signed-out');
  });

  it('signs in, shows the persisted outbox as sending, counts it unsent, and connects', async () => {
    const { fake, bridge, state, conv } = await fresh();
    fake.client.outbox.mockReturnValue([
      { id: 'o1', to: 'bob', body: 'queued', state: 'pending', createdAt: 5 },
    ]);
    expect(await bridge.signIn('signin', 'alice', 'password1')).toBeNull();
    expect(state()).toMatchObject({ auth: 'signed-in', me: 'alice', unsent: 1 });
    expect(conv('bob')?.messages.map((m) => [m.id, m.state])).toEqual([['o1', 'sending']]);
    expect(fake.client.start).toHaveBeenCalled();
    expect(fake.client.subscribePresence).toHaveBeenLastCalledWith(['bob']);
  });

  it('applies entries in batches, counts unread, and takes receipts', async () => {
    const { fake, conv } = await fresh({ session: 'alice' });
    fake.emit('outbox', [{ id: 'o1', to: 'bob', body: 'x', state: 'pending', createdAt: 1 }]);
    fake.emit('message', msg('carol', 'alice', 'c1', 10));
    fake.emit('message', msg('carol', 'alice', 'c2', 11));
    fake.emit('message', msg('alice', 'bob', 'o1', 12));
    await vi.waitFor(() => expect(conv('carol')?.unread).toBe(2));
    expect(conv('bob')?.messages.map((m) => m.state)).toEqual(['sent']);
    fake.emit('receipt', { id: 'o1', to: 'bob' });
    expect(conv('bob')?.messages.map((m) => m.state)).toEqual(['delivered']);
    await vi.waitFor(() => expect(fake.client.subscribePresence).toHaveBeenLastCalledWith(['bob', 'carol']));
  });

  it('refuses an entry it cannot handle by throwing to the client (so it is not acked); the others show', async () => {
    const { fake, conv, state } = await fresh({ session: 'alice' });
    const bad = { ...msg('bob', 'alice', 'bad', 2), ts: Number.NaN };
    fake.emit('message', msg('bob', 'alice', 'before', 1));
    expect(() => fake.emit('message', bad)).toThrow(TypeError);
    fake.emit('message', msg('constructor', 'alice', 'after', 3));
    await vi.waitFor(() => expect(conv('constructor')?.messages.map((m) => m.id)).toEqual(['after']));
    expect(conv('bob')?.messages.map((m) => m.id)).toEqual(['before']);
    expect(state()).toMatchObject({ auth: 'signed-in', me: 'alice' });
  });

  it('opens #/c/constructor from the URL and stays signed in', async () => {
    history.replaceState(null, '', '/#/c/constructor');
    const { fake, state, conv } = await fresh({ session: 'alice' });
    expect(state()).toMatchObject({ auth: 'signed-in', activePeer: 'constructor' });
    expect(fake.client.history).toHaveBeenCalledWith('constructor', { limit: 50 });
    await vi.waitFor(() => expect(conv('constructor')?.hasMore).toBe(false));
  });

  it('removes a discarded message when it leaves the outbox', async () => {
    const { fake, conv } = await fresh({ session: 'alice' });
    fake.emit('message', msg('alice', 'bob', 'o1', 5));
    fake.emit('outbox', [
      { id: 'f1', to: 'bob', body: 'x', state: 'failed', createdAt: 20, error: 'no_such_user' },
    ]);
    expect(conv('bob')?.messages.find((m) => m.id === 'f1')?.errorCode).toBe('no_such_user');
    fake.emit('outbox', []);
    expect(conv('bob')?.messages.find((m) => m.id === 'f1')).toBeUndefined();
    await vi.waitFor(() => expect(conv('bob')?.messages.find((m) => m.id === 'o1')).toBeDefined());
  });

  it('shows a new message at once as sending, and empties the draft', async () => {
    const { fake, actions, conv, state } = await fresh({ session: 'alice' });
    actions.setDraft('carol', 'hi');
    actions.send('carol', 'hi');
    expect(fake.client.send).toHaveBeenCalledWith('carol', 'hi');
    expect(conv('carol')?.messages.at(-1)).toMatchObject({ id: 'n1', state: 'sending' });
    expect(state().drafts.has('carol')).toBe(false);
  });

  it('keeps drafts per user across a reload of the page', async () => {
    const first = await fresh({ session: 'alice' });
    first.actions.setDraft('bob', 'half a sentence');
    await vi.waitFor(() =>
      expect(localStorage.getItem('pigeon-web:drafts:alice')).toContain('half a sentence'),
    );
    const second = await fresh({ session: 'alice' });
    expect(second.state().drafts.get('bob')).toBe('half a sentence');
    const other = await fresh({ session: 'erin' });
    expect(other.state().drafts.size).toBe(0);
  });

  it('starts a chat only with someone who exists', async () => {
    const { fake, actions, conv, PigeonRequestError } = await fresh({ session: 'alice' });
    expect(await actions.startChat('Not Valid!')).toBe('invalid');
    fake.client.history.mockRejectedValueOnce(new PigeonRequestError('no_such_user', 'no'));
    expect(await actions.startChat('ghost')).toBe('no_such_user');
    fake.client.history.mockRejectedValueOnce(new PigeonRequestError('timeout', 'slow'));
    expect(await actions.startChat('dave')).toBe('offline');
    fake.client.history.mockResolvedValueOnce({ items: [msg('dave', 'alice', 'd1', 40)], more: false });
    expect(await actions.startChat('  Dave ')).toBe('ok');
    expect(location.hash).toBe('#/c/dave');
    expect(conv('dave')?.hasMore).toBe(false);
    expect(conv('dave')?.unread).toBe(0);
  });

  it('tells the client at once when the browser goes offline or online; forgets presence meanwhile', async () => {
    const { fake, state } = await fresh({ session: 'alice' });
    fake.emit('status', { state: 'online' });
    fake.emit('presence', { user: 'bob', online: true });
    expect([...state().presence]).toEqual([['bob', true]]);
    fake.emit('status', { state: 'reconnecting', nextAttemptAt: 123 });
    expect(state().presence.size).toBe(0);
    expect(state().status).toEqual({ kind: 'reconnecting', nextAttemptAt: 123 });
    fake.emit('status', { state: 'online' });
    fake.emit('presence', { user: 'bob', online: true });
    // The browser's own word reaches the client at once, both ways.
    const onLine = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    try {
      dispatchEvent(new Event('offline'));
      expect(fake.client.setNetwork).toHaveBeenLastCalledWith(false);
    } finally {
      onLine.mockRestore();
    }
    fake.emit('status', { state: 'waiting_for_network' });
    expect(state().status.kind).toBe('waiting_for_network');
    expect(state().presence.size).toBe(0);
    dispatchEvent(new Event('online'));
    expect(fake.client.setNetwork).toHaveBeenLastCalledWith(true);
  });

  it('returns to the sign-in page with a notice when the token is refused, keeping the outbox', async () => {
    const { fake, state } = await fresh({ session: 'alice' });
    fake.emit('unauthorized');
    expect(state()).toMatchObject({ auth: 'signed-out', authNotice: 'sessionExpired', me: null });
    expect(fake.client.logout).toHaveBeenLastCalledWith({ clearData: false });
  });

  it('stays signed in when the outbox cannot be saved at sign-out', async () => {
    const { fake, bridge, state, PigeonRequestError } = await fresh({ session: 'alice' });
    fake.client.logout.mockRejectedValueOnce(new PigeonRequestError('storage_failed', 'quota'));
    expect(await bridge.signOut()).toBe(false);
    expect(state()).toMatchObject({ auth: 'signed-in', me: 'alice' });
  });

  it('signing out with unsent messages keeps them for this user; with none, clears everything', async () => {
    const kept = await fresh({ session: 'alice' });
    kept.fake.emit('outbox', [{ id: 'o1', to: 'bob', body: 'x', state: 'pending', createdAt: 1 }]);
    await kept.bridge.signOut();
    expect(kept.fake.client.logout).toHaveBeenLastCalledWith({ revoke: 'session', clearData: false });
    expect(kept.state().auth).toBe('signed-out');
    const cleared = await fresh({ session: 'alice' });
    await cleared.bridge.signOut();
    expect(cleared.fake.client.logout).toHaveBeenLastCalledWith({ revoke: 'session', clearData: true });
  });

  it('signs out on this device even when the server cannot be told (offline)', async () => {
    const { fake, bridge, state, PigeonHttpError } = await fresh({ session: 'alice' });
    fake.client.logout.mockRejectedValueOnce(new PigeonHttpError(0, 'unreachable', 'offline'));
    expect(await bridge.signOut()).toBe(true);
    expect(fake.client.logout).toHaveBeenLastCalledWith({ clearData: true });
    expect(state().auth).toBe('signed-out');
  });
});
