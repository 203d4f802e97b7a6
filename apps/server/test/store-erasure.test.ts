import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { OpResult, StoreOp } from '../src/store/store.js';
import { tempDir } from './helpers.js';

/*
 * Issue 10: a message deleted for everyone has its body "removed from the database, not
 * just hidden". The contract suite proves no read returns it; this reads the SQLite file
 * itself, page by page, after a checkpoint. What it pins down (README "Chat features"):
 * the message row, its edit update and freed cells hold no former body; the one place a
 * former WORD can remain is the search index's segment it was indexed in (FTS5 secure-delete
 * drops the entries, a term can stay in its leaf until that segment is next merged), where
 * nothing matches it.
 */

const admitAll = async (ops: readonly unknown[]) => ops.map(() => null);

async function commit(store: SqliteStore, op: StoreOp): Promise<OpResult> {
  const [result] = await store.commit([op], admitAll);
  return result!;
}

/** The b-trees (tables, indexes) whose pages hold `needle`, read from the file itself. */
function holders(dbPath: string, needle: string): Set<string> {
  const db = new Database(dbPath);
  try {
    // Everything committed into the main file, the WAL emptied.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const file = fs.readFileSync(dbPath);
    const owner = db.prepare<[number], { name: string }>('SELECT name FROM dbstat WHERE pageno = ?');
    const names = new Set<string>();
    for (let at = file.indexOf(needle, 0, 'latin1'); at >= 0; at = file.indexOf(needle, at + 1, 'latin1')) {
      const page = Math.floor(at / pageSize) + 1;
      // A page on no b-tree is free space: name it so the test says so.
      names.add(owner.get(page)?.name ?? `free page ${page}`);
    }
    return names;
  } finally {
    db.close();
  }
}

describe('delete for everyone on SQLite, in the file', () => {
  it('the row, its updates and freed space keep no former body; no search matches one', async () => {
    const dbPath = path.join(tempDir(), 'erase.db');
    const store = new SqliteStore({ path: dbPath, sync: 'full', mailboxMax: 10_000, retentionDays: 30 });
    await store.createUser('alice', null);
    await store.createUser('bob', null);
    // Neighbours on the same pages, so the deleted row's page is rewritten, not dropped.
    for (let i = 0; i < 50; i++) {
      const r = await commit(store, {
        kind: 'send',
        from: 'alice',
        to: 'bob',
        id: `n${i}`,
        body: `filler ${i}`,
      });
      expect(r.kind).toBe('stored');
    }
    const ref = { from: 'alice', id: 'secret' };
    const sent = await commit(store, {
      kind: 'send',
      from: 'alice',
      to: 'bob',
      id: 'secret',
      body: 'zqxfirst body',
    });
    expect(sent.kind).toBe('stored');
    expect((await commit(store, { kind: 'edit', user: 'alice', ref, body: 'zqxsecond body' })).kind).toBe(
      'applied',
    );
    expect((await commit(store, { kind: 'delete', user: 'alice', ref })).kind).toBe('applied');
    expect(
      (await store.search('bob', { q: 'zqxfirst', with: null, beforeSeq: null, limit: 10 })).items,
    ).toEqual([]);
    const page = await store.history('bob', 'alice', null, 100);
    expect(page.items.length).toBe(51);
    expect(page.items.at(-1)).toMatchObject({ id: 'secret', body: '', deleted: true });
    await store.close();

    // The neighbours are in the message table's pages: the scan does see rows.
    expect(holders(dbPath, 'filler 49').has('messages')).toBe(true);
    for (const former of ['zqxfirst', 'zqxsecond']) {
      const where = [...holders(dbPath, former)];
      // Only the search index's data may still hold the word (not messages, updates, free pages).
      expect(where.filter((name) => name !== 'search_data')).toEqual([]);
    }
  });
});
