import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../src/store/cursor.js';
import { SCHEMA_VERSION } from '../src/store/sqlite-schema.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { tempDir } from './helpers.js';

/** The layout of schema version 2 (the release before this one): message rows plus entry rows. */
const V2 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE users (id TEXT PRIMARY KEY, password_hash TEXT, tag TEXT NOT NULL,
  head_seq INTEGER NOT NULL DEFAULT 0, delivered_seq INTEGER NOT NULL DEFAULT 0,
  removed_upto INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE messages (rowid INTEGER PRIMARY KEY, sender TEXT NOT NULL, id TEXT NOT NULL,
  recipient TEXT NOT NULL, body TEXT NOT NULL, ts INTEGER NOT NULL, recipient_seq INTEGER NOT NULL, refs INTEGER NOT NULL);
CREATE UNIQUE INDEX messages_sender_id ON messages (sender, id);
CREATE TABLE entries (owner TEXT NOT NULL, seq INTEGER NOT NULL, peer TEXT NOT NULL, msg INTEGER NOT NULL,
  ts INTEGER NOT NULL, PRIMARY KEY (owner, seq)) WITHOUT ROWID;
CREATE INDEX entries_peer ON entries (owner, peer, seq);
INSERT INTO meta VALUES ('schema', '2');
-- a: 1 m1 (removed by retention), 2 m2 from b, 3 a note to itself, 4 m3 to b
-- b: 1 m1 from a, 2 m2 to a, 3 m3 from a; delivered up to 2
INSERT INTO users VALUES ('a', 'hash-a', 'aaaaaaaa', 4, 0, 1, 1), ('b', NULL, 'bbbbbbbb', 3, 2, 0, 1),
  ('c', NULL, 'cccccccc', 0, 0, 0, 1);
INSERT INTO messages VALUES (1, 'a', 'm1', 'b', 'one', 1001, 1, 1), (2, 'b', 'm2', 'a', 'two', 1002, 2, 2),
  (3, 'a', 'note', 'a', 'self', 1003, 3, 1), (4, 'a', 'm3', 'b', 'three', 1004, 3, 2);
INSERT INTO entries VALUES ('a', 2, 'b', 2, 1002), ('a', 3, 'a', 3, 1003), ('a', 4, 'b', 4, 1004),
  ('b', 1, 'a', 1, 1001), ('b', 2, 'a', 2, 1002), ('b', 3, 'a', 4, 1004);
`;

describe('schema migration', () => {
  it('a version-2 database opens as the current version with every entry, position, mark and record kept, indexed for search', async () => {
    const file = path.join(tempDir(), 'old.db');
    const old = new Database(file);
    old.exec(V2);
    old.close();
    const store = await SqliteStore.open({ path: file, sync: 'full', mailboxMax: 100, retentionDays: 30 });
    try {
      const frame = (
        owner: string,
        seq: number,
        id: string,
        from: string,
        to: string,
        body: string,
        ts: number,
        delivered: boolean,
      ) => ({
        t: 'msg',
        cursor: encodeCursor(owner === 'a' ? 'aaaaaaaa' : 'bbbbbbbb', seq),
        id,
        from,
        to,
        body,
        ts,
        delivered,
        // No read marks existed before version 5; a note to oneself is always read.
        read: from === to,
      });
      expect(await store.mailbox('a')).toMatchObject({
        headSeq: 4,
        deliveredSeq: 0,
        removedUpto: 1,
        tag: 'aaaaaaaa',
      });
      expect(await store.getUser('a')).toEqual({ id: 'a', passwordHash: 'hash-a', tokenEpoch: 0 });
      const aEntries = await store.readRange('a', 0, 4, 10);
      expect(aEntries.map((e) => e.frame)).toEqual([
        frame('a', 2, 'm2', 'b', 'a', 'two', 1002, false),
        frame('a', 3, 'note', 'a', 'a', 'self', 1003, false),
        frame('a', 4, 'm3', 'a', 'b', 'three', 1004, false),
      ]);
      const bEntries = await store.readRange('b', 0, 3, 10);
      expect(bEntries.map((e) => e.frame)).toEqual([
        frame('b', 1, 'm1', 'a', 'b', 'one', 1001, true),
        frame('b', 2, 'm2', 'b', 'a', 'two', 1002, false),
        frame('b', 3, 'm3', 'a', 'b', 'three', 1004, false),
      ]);
      expect((await store.history('a', 'b', null, 10)).items.map((m) => m.id)).toEqual(['m2', 'm3']);
      expect((await store.history('b', 'a', null, 10)).items.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
      expect((await store.history('a', 'a', null, 10)).items.map((m) => m.id)).toEqual(['note']);
      const conv = async (u: string) =>
        (await store.conversations(u, { limit: 10, beforeSeq: null })).items.map((r) => [r.with, r.last.id]);
      expect(await conv('a')).toEqual([
        ['b', 'm3'],
        ['a', 'note'],
      ]);
      expect(await conv('b')).toEqual([['a', 'm3']]);
      expect(await conv('c')).toEqual([]);
      // Version 5 indexed the messages it found for search.
      const found = await store.search('b', { q: 'THREE', with: null, beforeSeq: null, limit: 5 });
      expect(found.items.map((i) => i.msg.id)).toEqual(['m3']);
      // The (from, id) records survive, and new entries continue each mailbox's sequence.
      const admit = async (s: readonly unknown[]) => s.map(() => null);
      const results = await store.commit(
        [
          { kind: 'send', from: 'a', id: 'm1', to: 'b', body: 'again' },
          { kind: 'send', from: 'a', id: 'm4', to: 'b', body: 'four' },
          { kind: 'send', from: 'c', id: 'm5', to: 'a', body: 'five' },
        ],
        admit,
      );
      expect(results[0]).toEqual({ kind: 'duplicate', ts: 1001 });
      expect(results[1]).toMatchObject({
        kind: 'stored',
        entries: [
          { owner: 'b', seq: 4 },
          { owner: 'a', seq: 5 },
        ],
      });
      expect(results[2]).toMatchObject({
        kind: 'stored',
        entries: [
          { owner: 'a', seq: 6 },
          { owner: 'c', seq: 1 },
        ],
      });
      expect(await conv('a')).toEqual([
        ['c', 'm5'],
        ['b', 'm4'],
        ['a', 'note'],
      ]);
      const [acked] = await store.commit([{ kind: 'ack', user: 'b', seq: 4 }], admit);
      expect(acked).toEqual({
        kind: 'acked',
        changed: true,
        receipts: [
          { sender: 'a', id: 'm3', to: 'b' },
          { sender: 'a', id: 'm4', to: 'b' },
        ],
      });
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      expect(after.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get()).toBe(
        String(SCHEMA_VERSION),
      );
      expect(after.prepare("SELECT name FROM sqlite_master WHERE name = 'entries'").get()).toBeUndefined();
    } finally {
      after.close();
    }
  });
});
