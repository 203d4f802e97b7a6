import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { tempDir } from './helpers.js';
import { admitAll, send } from './store-contract/harness.js';

/**
 * The SQLite store checks a batch in the reader thread while the writer still applies the
 * batches before it. A chat-feature write or a reply is checked against the state those
 * batches leave, so a batch holding one waits until they are applied; plain sends do not.
 */
describe('sqlite: pipelined commits with feature writes', () => {
  let store: SqliteStore;
  beforeEach(async () => {
    store = await SqliteStore.open({
      path: path.join(tempDir(), 'pipeline.db'),
      sync: 'normal',
      mailboxMax: 1000,
      retentionDays: 30,
    });
    await store.createUser('a', null);
    await store.createUser('b', null);
  });
  afterEach(async () => {
    await store.close();
  });

  it('writes and replies called before the batches they depend on resolved see those batches', async () => {
    const m = send('a', 'b', 'm');
    const ref = { from: 'a', id: 'm' };
    // All called at once: each is checked while the ones before it may still be applied.
    const results = await Promise.all([
      store.commit([m], admitAll()),
      store.commit([{ kind: 'react', user: 'b', ref, emoji: '👍' }], admitAll()),
      store.commit([{ kind: 'react', user: 'b', ref, emoji: null }], admitAll()),
      store.commit([{ ...send('b', 'a', 'r'), replyTo: ref }], admitAll()),
      store.commit([{ kind: 'delete', user: 'a', ref }], admitAll()),
      store.commit([{ ...send('b', 'a', 'late'), replyTo: ref }], admitAll()),
    ]);
    expect(results.map(([r]) => r!.kind)).toEqual([
      'stored',
      'applied',
      'applied',
      'stored',
      'applied',
      'rejected',
    ]);
    expect(results[5]![0]).toEqual({ kind: 'rejected', code: 'message_deleted' });
    const { items } = await store.history('b', 'a', null, 10);
    expect(items.map((i) => [i.id, i.deleted ?? false, i.reactions ?? []])).toEqual([
      ['m', true, []],
      ['r', false, []],
    ]);
    expect(items[1]!.replyTo).toMatchObject({ from: 'a', id: 'm', deleted: true });
  });
});
