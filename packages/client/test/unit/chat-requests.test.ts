import type { Feature } from '@pigeon/protocol';
import { LIMITS } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientFeature } from '../../src/index.js';
import { FakeSocket, msg } from '../fake-socket.js';
import { startedClient, tick } from '../harness.js';

// The requests of the chat features: search (checked at its limits before anything is sent),
// history forwards (`after`), settings; each with its typed answer or `unsupported`.

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

const ALL: ClientFeature[] = ['paging', 'read', 'edit', 'reply', 'react', 'block', 'search'];

async function online(features: Feature[]) {
  const sock = FakeSocket.last();
  sock.open();
  sock.push({ t: 'welcome', v: 1, user: 'alice', head: null, features });
  sock.push({ t: 'synced', head: null, gap: false });
  await tick();
  return sock;
}

describe('search', () => {
  it('sends what the server accepts and refuses the rest at once, at the limits', async () => {
    const client = await startedClient({ features: ALL });
    const sock = await online(ALL);
    const maxQ = 'a'.repeat(LIMITS.searchQueryMaxLength);
    for (const [q, options] of [
      [`${maxQ}a`, {}],
      ['', {}],
      ['!!! ...', {}],
      ['\udc00x', {}],
      ['ok', { limit: 0 }],
      ['ok', { limit: LIMITS.searchMaxLimit + 1 }],
      ['ok', { with: 'Not An Id' }],
    ] as const) {
      await expect(client.search(q, options)).rejects.toMatchObject({ code: 'invalid_argument' });
    }
    expect(sock.framesOf('search')).toEqual([]);
    void client.search(maxQ, { limit: LIMITS.searchMaxLimit, with: 'Bob', before: 'c9' });
    void client.search('中文', { limit: 1 });
    expect(sock.framesOf('search').map(({ rid: _rid, ...f }) => f)).toEqual([
      { t: 'search', q: maxQ, with: 'bob', before: 'c9', limit: LIMITS.searchMaxLimit },
      { t: 'search', q: '中文', limit: 1 },
    ]);
  });

  it('resolves with typed items and highlights', async () => {
    const client = await startedClient({ features: ALL });
    const sock = await online(ALL);
    const page = client.search('hello');
    const rid = sock.framesOf('search')[0]?.rid;
    sock.push({ t: 'search', items: [{ msg: msg('c3', 'm3'), highlights: [[0, 4]] }], more: true, rid });
    await expect(page).resolves.toEqual({
      items: [{ msg: msg('c3', 'm3'), highlights: [[0, 4]] }],
      more: true,
    });
  });

  it('needs `search`: not asked → unsupported at once; not enabled by the server → unsupported, nothing sent', async () => {
    const v1 = await startedClient();
    await expect(v1.search('hello')).rejects.toMatchObject({ code: 'unsupported' });
    const client = await startedClient({ features: ALL });
    const sock = await online(['paging']);
    await expect(client.search('hello')).rejects.toMatchObject({ code: 'unsupported' });
    await expect(client.refreshSettings()).rejects.toMatchObject({ code: 'unsupported' });
    expect(sock.framesOf('search')).toEqual([]);
  });
});

describe('history forwards and settings', () => {
  it('`after` needs paging and excludes `before`; the answer says whether newer entries exist', async () => {
    const client = await startedClient({ features: ALL });
    const sock = await online(ALL);
    await expect(client.history('bob', { before: 'c1', after: 'c2' })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    const page = client.history('bob', { after: 'c2', limit: 2 });
    const req = sock.framesOf('history')[0];
    expect(req).toMatchObject({ t: 'history', with: 'bob', after: 'c2', limit: 2 });
    sock.push({
      t: 'history',
      with: 'bob',
      items: [msg('c3', 'm3'), msg('c4', 'm4')],
      more: true,
      rid: req?.rid,
    });
    await expect(page).resolves.toMatchObject({ more: true, items: [{ id: 'm3' }, { id: 'm4' }] });

    const v1 = await startedClient();
    await expect(v1.history('bob', { after: 'c2' })).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('refreshSettings answers and updates the observable', async () => {
    const client = await startedClient({ features: ALL });
    const sock = await online(ALL);
    // the automatic request after synced
    const auto = sock.framesOf('settings')[0];
    const asked = client.refreshSettings();
    const mine = sock.framesOf('settings')[1];
    sock.push({ t: 'settings', readReceipts: true, blocked: ['zed', 'amy'], rid: auto?.rid });
    sock.push({ t: 'settings', readReceipts: false, blocked: ['zed'], rid: mine?.rid });
    await tick();
    await expect(asked).resolves.toEqual({ readReceipts: false, blocked: ['zed'] });
    expect(client.settings.get()).toEqual({ readReceipts: false, blocked: ['zed'] });
  });
});
