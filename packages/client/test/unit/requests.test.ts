import { MESSAGE_ID_PATTERN } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Requests } from '../../src/requests.js';
import { randomId } from '../../src/runtime.js';
import { parseStoredOutbox, parseStoredSession } from '../../src/stored-shapes.js';
import { FakeSocket, msg } from '../fake-socket.js';
import { goOnline, startedClient } from '../harness.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('typed request answers', () => {
  it('an answer of the wrong kind rejects with unexpected_answer instead of passing for an empty list', async () => {
    const client = await startedClient();
    const sock = await goOnline();
    const convs = client.conversations();
    const rid = sock.framesOf('conversations')[0]?.rid;
    sock.push({ t: 'history', with: 'bob', items: [msg('c1', 'x')], more: false, rid });
    await expect(convs).rejects.toMatchObject({ code: 'unexpected_answer' });
  });

  it('ping resolves after every entry that arrived before its pong was handed over (a fence)', async () => {
    const client = await startedClient();
    const got: string[] = [];
    let release: () => void = () => {};
    client.on('message', async (m) => {
      if (m.id === 'slow') await new Promise<void>((r) => (release = r));
      got.push(m.id);
    });
    const sock = await goOnline();
    const fence = client.ping();
    sock.push(msg('c1', 'slow'));
    sock.push({ t: 'pong', rid: sock.framesOf('ping')[0]?.rid });
    let done = false;
    void fence.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(false);
    release();
    await fence;
    expect(got).toEqual(['slow']);
  });

  it('rejectAll, connectionLost and timeouts settle each request exactly once', async () => {
    const r = new Requests(1000);
    const write = (gen: number | null) => () => gen;
    const onFirst = r.start({ t: 'ping', rid: 'a' }, () => true, write(1));
    const onSecond = r.start({ t: 'ping', rid: 'b' }, () => true, write(2));
    const waiting = r.start({ t: 'ping', rid: 'c' }, () => true, write(null));
    r.connectionLost(1, 'test');
    await expect(onFirst).rejects.toMatchObject({ code: 'disconnected' });
    r.sendWaiting(() => 2);
    r.rejectAll('stopped', 'bye');
    await expect(onSecond).rejects.toMatchObject({ code: 'stopped' });
    await expect(waiting).rejects.toMatchObject({ code: 'stopped' });
    const late = r.start({ t: 'ping', rid: 'd' }, () => true, write(3));
    const check = expect(late).rejects.toMatchObject({ code: 'timeout' });
    await vi.advanceTimersByTimeAsync(999);
    expect(r.has('d')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await check;
    r.answer('d', { t: 'pong', rid: 'd' }); // a late answer is ignored
    expect(r.has('d')).toBe(false);
  });
});

describe('message ids', () => {
  it('are UUID v4 from getRandomValues and work where crypto.randomUUID is missing (plain http)', async () => {
    const real = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: real.getRandomValues.bind(real) });
    expect('randomUUID' in globalThis.crypto).toBe(false);
    const ids = new Set(Array.from({ length: 1000 }, () => randomId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(id).toMatch(MESSAGE_ID_PATTERN);
    }
    const client = await startedClient();
    const item = client.send('bob', 'from a LAN address');
    expect(item.state).toBe('pending');
    expect(item.id).toMatch(MESSAGE_ID_PATTERN);
  });
});

describe('stored shapes are validated', () => {
  it('a malformed saved session is no session', () => {
    expect(parseStoredSession(null)).toBeNull();
    expect(parseStoredSession('{')).toBeNull();
    expect(parseStoredSession('{"user":"a"}')).toBeNull();
    expect(parseStoredSession('{"user":"a","token":7}')).toBeNull();
    expect(parseStoredSession('{"user":"a","token":"t","server":"http://h"}')).toEqual({
      user: 'a',
      token: 't',
      server: 'http://h',
    });
  });

  it('restore() ignores a session of another server or with an invalid user id', async () => {
    const { createClient, memoryStorage } = await import('../../src/index.js');
    const { FakeWebSocket } = await import('../fake-socket.js');
    const make = (session: object) =>
      createClient({
        server: 'http://pigeon.test',
        WebSocket: FakeWebSocket,
        storage: memoryStorage({ 'pigeon:session': JSON.stringify(session) }),
      });
    await expect(make({ user: 'alice', token: 't', server: 'http://other' }).restore()).resolves.toBeNull();
    await expect(make({ user: 'not valid!', token: 't' }).restore()).resolves.toBeNull();
    await expect(make({ user: 'Alice', token: 't' }).restore()).resolves.toEqual({
      user: 'alice',
      token: 't',
    });
  });

  it('a stored outbox keeps its good items and drops bad ones, with optional fields only when present', () => {
    const good = {
      id: 'a',
      to: 'bob',
      body: 'x',
      state: 'failed',
      createdAt: 1,
      error: 'too_large',
      errorMessage: 'm',
    };
    const text = JSON.stringify([
      good,
      { ...good, id: 'b', state: 'weird' },
      { ...good, id: 'c', error: 'nope' },
      5,
    ]);
    expect(parseStoredOutbox(text)).toEqual([good]);
    expect(
      parseStoredOutbox(JSON.stringify([{ id: 'p', to: 'b', body: 'y', state: 'pending', createdAt: 2 }])),
    ).toEqual([{ id: 'p', to: 'b', body: 'y', state: 'pending', createdAt: 2 }]);
  });
});

describe('HTTP answers are validated', () => {
  it('a field of the wrong type counts as absent; a success without a session is not one', async () => {
    const { createClient } = await import('../../src/index.js');
    const { FakeWebSocket } = await import('../fake-socket.js');
    const answering = (status: number, body: unknown) =>
      createClient({
        server: 'http://pigeon.test',
        WebSocket: FakeWebSocket,
        fetch: async () => ({ status, headers: { get: () => null }, text: async () => JSON.stringify(body) }),
      });
    await expect(
      answering(400, { error: 5, message: 'typed wrong' }).login('a', 'password1'),
    ).rejects.toMatchObject({
      status: 400,
      code: 'http_400',
      message: 'typed wrong',
    });
    await expect(answering(200, { user: 'a', token: 7 }).login('a', 'password1')).rejects.toMatchObject({
      status: 200,
      code: 'http_200',
    });
    await expect(answering(200, { user: 'a', token: 't' }).login('a', 'password1')).resolves.toEqual({
      user: 'a',
      token: 't',
    });
  });
});
