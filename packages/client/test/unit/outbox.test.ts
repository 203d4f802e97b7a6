import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/outbox.js';
import { parseStoredOutbox } from '../../src/stored-shapes.js';
import type { OutboxItem } from '../../src/types.js';

function item(id: string, state: OutboxItem['state'] = 'pending'): OutboxItem {
  return { id, to: 'bob', body: `body ${id}`, state, createdAt: 1 };
}

describe('Outbox state machine', () => {
  it('hands out pending items in order, at most maxInFlight at a time, each once per connection', () => {
    const box = new Outbox(10, 2);
    for (const id of ['a', 'b', 'c']) box.add(item(id));
    expect(box.takeSendable().map((i) => i.id)).toEqual(['a', 'b']);
    expect(box.takeSendable()).toEqual([]);
    expect(box.markSent('a', 5)).toBe(true);
    expect(box.takeSendable().map((i) => i.id)).toEqual(['c']);
    // The connection dropped: b and c go again, in order.
    box.resetInFlight();
    expect(box.takeSendable().map((i) => i.id)).toEqual(['b', 'c']);
  });

  it('moves pending → sent → delivered, and delivered settles a pending item directly', () => {
    const box = new Outbox(10, 10);
    box.add(item('a'));
    box.add(item('b'));
    expect(box.markSent('a', 42)).toBe(true);
    expect(box.get('a')).toMatchObject({ state: 'sent', ts: 42 });
    expect(box.markSent('a', 43)).toBe(false);
    expect(box.markDelivered('a')).toBe(true);
    expect(box.get('a')).toMatchObject({ state: 'delivered', ts: 42 });
    expect(box.markSent('a', 44)).toBe(false);
    expect(box.get('a')?.state).toBe('delivered');
    expect(box.markDelivered('b', 7)).toBe(true);
    expect(box.get('b')).toMatchObject({ state: 'delivered', ts: 7 });
    expect(box.markDelivered('nope')).toBe(false);
  });

  it('fails on no_such_user / too_large / bad_frame, pauses on rate_limited / internal', () => {
    const box = new Outbox(10, 10);
    for (const id of ['a', 'b', 'c', 'd', 'e']) box.add(item(id));
    box.takeSendable();
    expect(box.onError('a', 'no_such_user', 'x')).toEqual({ kind: 'failed' });
    expect(box.onError('b', 'too_large', 'x')).toEqual({ kind: 'failed' });
    expect(box.onError('c', 'bad_frame', 'x')).toEqual({ kind: 'failed' });
    expect(box.onError('d', 'rate_limited', 'x', 250)).toEqual({
      kind: 'pause',
      code: 'rate_limited',
      retryAfterMs: 250,
    });
    expect(box.onError('e', 'internal', 'x')).toEqual({
      kind: 'pause',
      code: 'internal',
      retryAfterMs: undefined,
    });
    expect(box.list().map((i) => [i.id, i.state, i.error])).toEqual([
      ['a', 'failed', 'no_such_user'],
      ['b', 'failed', 'too_large'],
      ['c', 'failed', 'bad_frame'],
      ['d', 'pending', undefined],
      ['e', 'pending', undefined],
    ]);
    // The paused ones are no longer in flight: they can be taken again, in order.
    expect(box.takeSendable().map((i) => i.id)).toEqual(['d', 'e']);
    expect(box.onError('zzz', 'bad_frame', 'x')).toEqual({ kind: 'ignored' });
  });

  it('retries and discards', () => {
    const box = new Outbox(10, 10);
    box.add(item('a'));
    box.markFailed('a', 'no_such_user', 'x');
    expect(box.retry('a')).toBe(true);
    expect(box.get('a')).toEqual(item('a'));
    expect(box.retry('a')).toBe(false);
    expect(box.discard('a')).toBe(true);
    expect(box.list()).toEqual([]);
    expect(box.discard('a')).toBe(false);
  });

  it('keeps every unsettled item but only the newest keepSettled settled ones', () => {
    const box = new Outbox(2, 10);
    for (const id of ['a', 'b', 'c', 'd', 'e']) box.add(item(id));
    box.markSent('a', 1);
    box.markSent('b', 2);
    box.markFailed('c', 'bad_frame', 'x');
    box.markSent('d', 3);
    expect(box.list().map((i) => i.id)).toEqual(['b', 'c', 'd', 'e']);
  });

  it('forStorage keeps foreign stored items, but not ones this client discarded or pruned', () => {
    const box = new Outbox(1, 10);
    box.add({ ...item('a'), createdAt: 1 });
    box.add({ ...item('b'), createdAt: 3 });
    box.add({ ...item('c'), createdAt: 4 });
    box.markSent('a', 1);
    box.markSent('b', 2); // prunes a (one settled kept)
    box.discard('c');
    const stored = [
      { ...item('a'), createdAt: 1 },
      { ...item('other'), createdAt: 2 },
      { ...item('c'), createdAt: 4 },
    ];
    expect(box.forStorage(stored).map((i) => i.id)).toEqual(['other', 'b']);
    expect(box.forStorage([]).map((i) => i.id)).toEqual(['b']);
  });

  it('load puts stored items first and keeps items added meanwhile', () => {
    const box = new Outbox(10, 10);
    box.add(item('new'));
    box.load([item('old1'), item('old2', 'failed')]);
    expect(box.list().map((i) => i.id)).toEqual(['old1', 'old2', 'new']);
  });

  it('parseStoredOutbox drops malformed entries instead of throwing', () => {
    expect(parseStoredOutbox(null)).toEqual([]);
    expect(parseStoredOutbox('not json')).toEqual([]);
    expect(parseStoredOutbox('{"a":1}')).toEqual([]);
    const good = item('a');
    const text = JSON.stringify([good, { id: 'b' }, null, { ...item('c'), state: 'weird' }]);
    expect(parseStoredOutbox(text)).toEqual([good]);
  });
});
