import { CloseCode, LIMITS } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type FetchLike, memoryStorage } from '../../src/index.js';
import { FakeSocket, FakeWebSocket, msg } from '../fake-socket.js';
import { startedClient, tick } from '../harness.js';

// Protocol extensions (PROTOCOL.md "Extensions"): negotiation, paging, 4029, and the HTTP
// session calls (sign out here / everywhere, password change).

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

async function welcomed(features?: string[]) {
  const sock = FakeSocket.last();
  sock.open();
  sock.push({ t: 'welcome', v: 1, user: 'alice', head: null, ...(features ? { features } : {}) });
  sock.push({ t: 'synced', head: null, gap: false });
  await tick();
  return sock;
}

const row = (peer: string, cursor: string) => ({ with: peer, last: msg(cursor, `id-${cursor}`, peer) });

describe('negotiation', () => {
  it('asks for nothing by default (exactly version 1) and for the configured features otherwise', async () => {
    await startedClient();
    FakeSocket.last().open();
    expect(FakeSocket.last().sent[0]).toEqual({ t: 'hello', v: 1, token: 'tok' });
    const client = await startedClient({ features: ['paging'] });
    expect(client.features.get()).toEqual([]);
    const sock = await welcomed(['paging']);
    expect(sock.framesOf('hello')[0]).toEqual({ t: 'hello', v: 1, token: 'tok', features: ['paging'] });
    expect(client.features.get()).toEqual(['paging']);
  });
});

describe('conversations in pages', () => {
  it('with paging: pages by limit and before, conversations() follows `more` to the end', async () => {
    const client = await startedClient({ features: ['paging'] });
    const sock = await welcomed(['paging']);
    const page = client.conversationsPage({ limit: 2 });
    const first = sock.framesOf('conversations')[0];
    expect(first).toEqual({ t: 'conversations', limit: 2, rid: first?.rid });
    sock.push({
      t: 'conversations',
      items: [row('bob', 'c9'), row('carol', 'c8')],
      more: true,
      rid: first?.rid,
    });
    await expect(page).resolves.toMatchObject({ more: true });

    const all = client.conversations();
    for (const [items, more] of [
      [[row('bob', 'c9'), row('carol', 'c8')], true],
      [[row('dave', 'c5')], false],
    ] as const) {
      const req = sock.framesOf('conversations').at(-1);
      sock.push({ t: 'conversations', items: [...items], more, rid: req?.rid });
      await tick();
    }
    const requests = sock.framesOf('conversations').slice(1);
    expect(requests.map((r) => [r.limit, r.before])).toEqual([
      [LIMITS.conversationsMaxLimit, undefined],
      [LIMITS.conversationsMaxLimit, 'c8'],
    ]);
    expect((await all).map((r) => r.with)).toEqual(['bob', 'carol', 'dave']);
  });

  it('limit 1..100 at its boundaries; a page that does not move on ends the loop', async () => {
    const client = await startedClient({ features: ['paging'] });
    const sock = await welcomed(['paging']);
    for (const limit of [0, LIMITS.conversationsMaxLimit + 1, 1.5]) {
      await expect(client.conversationsPage({ limit })).rejects.toMatchObject({ code: 'invalid_argument' });
    }
    void client.conversationsPage({ limit: 1 }).catch(() => {});
    void client.conversationsPage({ limit: LIMITS.conversationsMaxLimit }).catch(() => {});
    expect(sock.framesOf('conversations').map((f) => f.limit)).toEqual([1, LIMITS.conversationsMaxLimit]);
    const all = client.conversations();
    for (let i = 0; i < 2; i++) {
      const req = sock.framesOf('conversations').at(-1);
      sock.push({ t: 'conversations', items: [row('bob', 'c9')], more: true, rid: req?.rid });
      await tick();
    }
    expect((await all).map((r) => r.with)).toEqual(['bob', 'bob']);
  });

  it('without paging: the version-1 list, more false; a `before` is unsupported', async () => {
    const client = await startedClient({ features: ['paging'] });
    const sock = await welcomed(); // an older server: no `features` in welcome
    const page = client.conversationsPage({ limit: 5 });
    const req = sock.framesOf('conversations')[0];
    expect(req).toEqual({ t: 'conversations', rid: req?.rid });
    sock.push({ t: 'conversations', items: [row('bob', 'c1')], rid: req?.rid });
    await expect(page).resolves.toEqual({ items: [row('bob', 'c1')], more: false });
    await expect(client.conversationsPage({ before: 'c1' })).rejects.toMatchObject({ code: 'unsupported' });
  });
});

describe('close 4029 (too many connections or hellos)', () => {
  it('waits tooManyBackoffMs plus the backoff before the next attempt', async () => {
    const client = await startedClient();
    FakeSocket.last().open();
    FakeSocket.last().serverClose(CloseCode.tooMany, 'user_connections');
    const wait = LIMITS.tooManyBackoffMs + 250; // random 0.5 of the first 500 ms cap
    expect(client.status.get()).toMatchObject({ state: 'reconnecting', reason: 'closed_4029' });
    expect(client.nextAttemptIn()).toBe(wait);
    await vi.advanceTimersByTimeAsync(wait - 1);
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances).toHaveLength(2);
  });
});

describe('HTTP session calls', () => {
  function recordingFetch(answers: Record<string, { status: number; body?: unknown }>) {
    const calls: { url: string; headers: Record<string, string>; body: unknown }[] = [];
    const fetch: FetchLike = async (url, init) => {
      calls.push({ url, headers: init.headers, body: JSON.parse(init.body) });
      const path = new URL(url).pathname;
      const answer = answers[path] ?? { status: 404, body: { error: 'not_found', message: 'x' } };
      const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
      return { status: answer.status, headers: { get: () => null }, text: async () => text };
    };
    return { fetch, calls };
  }

  async function signedIn(fetch: FetchLike, storage = memoryStorage()) {
    const c = createClient({ server: 'http://pigeon.test', WebSocket: FakeWebSocket, storage, fetch });
    await c.useToken('alice', 'tok');
    return c;
  }

  it('revokes this token (or every token) before signing out; a dead token (401) signs out too', async () => {
    const { fetch, calls } = recordingFetch({
      '/api/logout': { status: 204 },
      '/api/logout-all': { status: 401, body: { error: 'unauthorized', message: 'revoked' } },
    });
    const storage = memoryStorage();
    const client = await signedIn(fetch, storage);
    await client.logout({ revoke: 'session' });
    expect(calls[0]).toEqual({
      url: 'http://pigeon.test/api/logout',
      headers: { 'content-type': 'application/json', authorization: 'Bearer tok' },
      body: {},
    });
    expect(client.user).toBeNull();
    await client.useToken('alice', 'tok');
    await client.logout({ revoke: 'everywhere' });
    expect(calls[1]?.url).toBe('http://pigeon.test/api/logout-all');
    expect(client.user).toBeNull();
    expect(storage.dump()['pigeon:session']).toBeUndefined();
  });

  it('a revocation that fails otherwise signs nothing out and says why', async () => {
    const { fetch } = recordingFetch({
      '/api/logout': { status: 503, body: { error: 'unavailable', message: 'x' } },
    });
    const client = await signedIn(fetch);
    await expect(client.logout({ revoke: 'session' })).rejects.toMatchObject({
      status: 503,
      code: 'unavailable',
    });
    expect(client.user).toBe('alice');
    const offline = await signedIn(() => Promise.reject(new TypeError('fetch failed')));
    await expect(offline.logout({ revoke: 'everywhere' })).rejects.toMatchObject({
      status: 0,
      code: 'unreachable',
    });
    expect(offline.user).toBe('alice');
  });

  it('changePassword stores the fresh token and the next hello uses it; failures keep the old one', async () => {
    const { fetch, calls } = recordingFetch({
      '/api/password': { status: 200, body: { user: 'alice', token: 'fresh' } },
    });
    const storage = memoryStorage();
    const client = await signedIn(fetch, storage);
    await client.changePassword('old password', 'new password');
    expect(calls[0]).toMatchObject({
      url: 'http://pigeon.test/api/password',
      headers: { authorization: 'Bearer tok' },
      body: { password: 'old password', newPassword: 'new password' },
    });
    expect(JSON.parse(storage.dump()['pigeon:session'] ?? '{}')).toMatchObject({
      user: 'alice',
      token: 'fresh',
    });
    await client.start();
    FakeSocket.last().open();
    expect(FakeSocket.last().sent[0]).toMatchObject({ t: 'hello', token: 'fresh' });

    const refused = recordingFetch({
      '/api/password': { status: 403, body: { error: 'bad_credentials', message: 'wrong password' } },
    });
    const other = await signedIn(refused.fetch, storage);
    await expect(other.changePassword('wrong', 'new password')).rejects.toMatchObject({
      status: 403,
      code: 'bad_credentials',
    });
  });
});
