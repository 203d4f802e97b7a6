import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { AdmitOp } from '../src/store/store.js';
import { tempDir } from './helpers.js';
import { ack, admitAll, mailboxIds, readMsgs, send } from './store-contract/harness.js';

/**
 * The SQLite store pipelines commits (the relay keeps several batches under way): batches
 * are checked by the reader thread and admitted on the main thread while the writer
 * commits earlier ones, and must still be applied in call order.
 */
describe('sqlite: pipelined commits', () => {
  let store: SqliteStore;
  beforeEach(async () => {
    store = await SqliteStore.open({
      path: path.join(tempDir(), 'p.db'),
      sync: 'full',
      mailboxMax: 1000,
      retentionDays: 30,
    });
    for (const u of ['a', 'b']) await store.createUser(u, null);
  });
  afterEach(() => store.close());

  it('applies commits called before earlier ones resolved in call order, a duplicate across them included', async () => {
    expect(store.pipelinesCommits).toBe(true);
    const asked: string[][] = [];
    const admit = async (sends: readonly AdmitOp[]) => {
      asked.push(sends.map((s) => (s.kind === 'send' ? s.id : s.kind)));
      return sends.map(() => null);
    };
    const first = store.commit([send('a', 'b', 'p1'), send('a', 'b', 'p2')], admit);
    const second = store.commit([send('a', 'b', 'p1', 'again'), send('a', 'b', 'p3')], admit);
    const third = store.commit([ack('b', 3), send('b', 'a', 'p4')], admitAll());
    const [r1, r2, r3] = await Promise.all([first, second, third]);
    expect(r1.map((r) => r.kind)).toEqual(['stored', 'stored']);
    // The repeat was checked before p1 was stored, so it was admitted (the relay refunds a
    // token granted to a send that is not stored); the writer answers it as a duplicate.
    expect(asked).toEqual([
      ['p1', 'p2'],
      ['p1', 'p3'],
    ]);
    expect(r2[0]).toEqual({ kind: 'duplicate', ts: (r1[0] as { ts: number }).ts });
    expect(r2[1]!.kind).toBe('stored');
    expect(r3[0]).toMatchObject({ kind: 'acked', changed: true });
    expect(await mailboxIds(store, 'b')).toEqual(['p1', 'p2', 'p3', 'p4']);
    const entries = await readMsgs(store, 'b', 0, 10, 10);
    expect(entries.map((e) => [e.seq, e.frame.body])).toEqual([
      [1, 'body of p1'],
      [2, 'body of p2'],
      [3, 'body of p3'],
      [4, 'body of p4'],
    ]);
  });
});
