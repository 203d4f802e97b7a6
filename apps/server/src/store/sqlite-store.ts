import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ConversationItem, MsgFrame } from '@pigeon/protocol';
import Database from 'better-sqlite3';
import type { DbSync } from '../config.js';
import { encodeCursor } from './cursor.js';
import type {
  Admit,
  ConversationsPage,
  Entry,
  MailboxState,
  OpResult,
  Receipt,
  SendOp,
  SendRefusal,
  Store,
  StoreOp,
  UserRecord,
} from './store.js';

export interface SqliteStoreOptions {
  path: string;
  sync: DbSync;
  mailboxMax: number;
  retentionDays: number;
  /** Time source (tests). */
  now?: () => number;
  /** WAL pages after which a commit checkpoints by itself: the bound on the WAL's growth. */
  walMaxPages?: number;
  /** How often the WAL is checkpointed (PASSIVE) off the commit path when something was written. */
  checkpointMs?: number;
  /** Told about every checkpoint the timer ran (metrics; tests wait on it instead of sleeping). */
  onCheckpoint?: (result: CheckpointResult) => void;
}

/** SQLite's counts of a checkpoint: WAL frames in the log, and how many of them were copied back. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/*
 * Checkpoints. SQLite's default checkpoints inside the COMMIT that pushes the WAL past 1,000
 * pages; under load a group commit dirties ~500 pages, so nearly every other commit (and the
 * `sent` frames waiting on it) paid for copying pages back to the database, the same hot
 * mailbox pages again and again. Instead a timer checkpoints once a second, so each page is
 * copied once per interval; the auto-checkpoint stays on with a much higher bound (~40 MB of
 * WAL) so the WAL cannot grow without limit when the timer falls behind.
 */
const WAL_MAX_PAGES = 10_000;
const CHECKPOINT_MS = 1000;
/** Page cache per connection, KiB (default 2 MB): the hot mailbox and index pages stay in it. */
const CACHE_KIB = 65_536;

const SCHEMA_VERSION = 3;

/*
 * Layout. Every user has a mailbox: `users.head_seq` is the sequence of its newest entry,
 * `delivered_seq` its delivered mark, `removed_upto` how far retention has removed it. An
 * entry is (owner, seq) → message; a message row holds the body once and doubles as the
 * (sender, id) idempotency record, reference-counted by its entries so that it lives exactly
 * as long as they do. Per message that is six statements and five B-trees touched; the
 * conversation list and retention read the (owner, peer, seq) index and the primary key
 * instead of maintaining tables of their own on the hot path.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  password_hash TEXT,
  tag TEXT NOT NULL,
  head_seq INTEGER NOT NULL DEFAULT 0,
  delivered_seq INTEGER NOT NULL DEFAULT 0,
  removed_upto INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  token_epoch INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  rowid INTEGER PRIMARY KEY,
  sender TEXT NOT NULL,
  id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  body TEXT NOT NULL,
  ts INTEGER NOT NULL,
  recipient_seq INTEGER NOT NULL,
  refs INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_sender_id ON messages (sender, id);
CREATE TABLE IF NOT EXISTS entries (
  owner TEXT NOT NULL,
  seq INTEGER NOT NULL,
  peer TEXT NOT NULL,
  msg INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (owner, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_peer ON entries (owner, peer, seq);
CREATE TABLE IF NOT EXISTS revoked_tokens (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Version 1 kept a conversations table and a ts index on the hot path. */
const MIGRATE_1_TO_2 = `
DROP TABLE IF EXISTS conversations;
DROP INDEX IF EXISTS entries_ts;
`;

/** Version 3 adds token revocation: a per-user epoch (revoked_tokens is created by SCHEMA). */
const MIGRATE_2_TO_3 = `
ALTER TABLE users ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;
`;

/** version → the SQL that takes a database from it to the next version. */
const MIGRATIONS = new Map<number, string>([
  [1, MIGRATE_1_TO_2],
  [2, MIGRATE_2_TO_3],
]);

const ENTRY_COLUMNS = `e.owner AS owner, e.seq AS seq, m.sender AS sender, m.id AS id, m.recipient AS recipient,
  m.body AS body, m.ts AS ts, (r.delivered_seq >= m.recipient_seq) AS delivered`;
const ENTRY_JOIN = 'JOIN messages m ON m.rowid = e.msg JOIN users r ON r.id = m.recipient';

interface EntryRow {
  owner: string;
  seq: number;
  sender: string;
  id: string;
  recipient: string;
  body: string;
  ts: number;
  delivered: number;
}

/** An EntryRow as an array, in ENTRY_COLUMNS order. */
type RawEntryRow = [string, number, string, string, string, string, number, number];

interface UserRow {
  id: string;
  password_hash: string | null;
  tag: string;
  head_seq: number;
  delivered_seq: number;
  removed_upto: number;
  token_epoch: number;
}

/** The durable store on one SQLite file (better-sqlite3, WAL). */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly tags = new Map<string, string>();
  private closed = false;
  private readonly q;

  constructor(private readonly opts: SqliteStoreOptions) {
    this.now = opts.now ?? Date.now;
    fs.mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true });
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    // In WAL mode, FULL fsyncs the log at every commit: an acknowledged message survives
    // power loss. NORMAL survives a crash or kill -9 of the process (the OS has the write)
    // but not a power cut. See README.
    this.db.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = OFF');
    // Only another process can hold the write lock (we are its single writer); wait for it
    // briefly, since the wait blocks the event loop, then fail the batch with `internal`.
    this.db.pragma('busy_timeout = 1000');
    this.db.pragma(`cache_size = -${CACHE_KIB}`);
    this.db.pragma(`wal_autocheckpoint = ${opts.walMaxPages ?? WAL_MAX_PAGES}`);
    // After a checkpoint that reset the WAL, truncate the file back to this size.
    this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    this.db.exec(SCHEMA);
    const version = this.db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get() as
      | string
      | undefined;
    if (version === undefined) {
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
    } else {
      let v = Number(version);
      if (!MIGRATIONS.has(v) && v !== SCHEMA_VERSION) {
        throw new Error(`database schema ${version} is not supported (expected ${SCHEMA_VERSION})`);
      }
      // Each step in its own transaction, so a crash leaves a version that migrates again.
      for (let sql = MIGRATIONS.get(v); sql !== undefined; sql = MIGRATIONS.get(v)) {
        const step = v;
        this.db.transaction(() => {
          this.db.exec(sql as string);
          this.db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(String(step + 1));
        })();
        v = step + 1;
      }
    }
    const db = this.db;
    this.q = {
      insertUser: db.prepare(
        'INSERT INTO users (id, password_hash, tag, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      getHead: db.prepare<[string], number>('SELECT head_seq FROM users WHERE id = ?').pluck(),
      setHead: db.prepare('UPDATE users SET head_seq = ? WHERE id = ?'),
      findMessage: db.prepare<[string, string], { ts: number }>(
        'SELECT ts FROM messages WHERE sender = ? AND id = ?',
      ),
      insertMessage: db.prepare(
        'INSERT INTO messages (sender, id, recipient, body, ts, recipient_seq, refs) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertEntry: db.prepare('INSERT INTO entries (owner, seq, peer, msg, ts) VALUES (?, ?, ?, ?, ?)'),
      setDelivered: db.prepare('UPDATE users SET delivered_seq = ? WHERE id = ?'),
      newlyDelivered: db.prepare<[string, number, number, string, string], { sender: string; id: string }>(
        `SELECT m.sender AS sender, m.id AS id FROM entries e JOIN messages m ON m.rowid = e.msg
         WHERE e.owner = ? AND e.seq > ? AND e.seq <= ? AND m.recipient = ? AND m.sender <> ? ORDER BY e.seq`,
      ),
      // Rows as arrays (ENTRY_COLUMNS order): the replay reads thousands of them.
      readRangeRaw: db
        .prepare<[string, number, number, number], RawEntryRow>(
          `SELECT ${ENTRY_COLUMNS} FROM entries e ${ENTRY_JOIN}
         WHERE e.owner = ? AND e.seq > ? AND e.seq <= ? ORDER BY e.seq LIMIT ?`,
        )
        .raw(),
      history: db.prepare<[string, string, number, number], EntryRow>(
        `SELECT ${ENTRY_COLUMNS} FROM entries e ${ENTRY_JOIN}
         WHERE e.owner = ? AND e.peer = ? AND e.seq < ? ORDER BY e.seq DESC LIMIT ?`,
      ),
      // The newest entry per peer, from the covering (owner, peer, seq) index.
      conversations: db.prepare<[string, string, number, number], EntryRow & { peer: string }>(
        `WITH last AS (SELECT peer, MAX(seq) AS seq FROM entries WHERE owner = ? GROUP BY peer)
         SELECT last.peer AS peer, ${ENTRY_COLUMNS} FROM last
         JOIN entries e ON e.owner = ? AND e.seq = last.seq ${ENTRY_JOIN}
         WHERE last.seq < ? ORDER BY e.seq DESC LIMIT ?`,
      ),
      setPassword: db.prepare<[string, string], number>(
        'UPDATE users SET password_hash = ?, token_epoch = token_epoch + 1 WHERE id = ? RETURNING token_epoch',
      ),
      bumpEpoch: db.prepare<[string], number>(
        'UPDATE users SET token_epoch = token_epoch + 1 WHERE id = ? RETURNING token_epoch',
      ),
      revokeToken: db.prepare(
        'INSERT INTO revoked_tokens (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)',
      ),
      isRevoked: db.prepare<[string, number], number>(
        'SELECT 1 FROM revoked_tokens WHERE id = ? AND expires_at > ?',
      ),
      sweepRevoked: db.prepare('DELETE FROM revoked_tokens WHERE expires_at <= ?'),
      /** Mailboxes holding more entries than they must keep. */
      overfull: db.prepare<[number], { id: string; head_seq: number; removed_upto: number }>(
        'SELECT id, head_seq, removed_upto FROM users WHERE head_seq - removed_upto > ?',
      ),
      /** The newest entry in a seq range older than the cutoff (a primary-key range scan). */
      lastOld: db.prepare<[string, number, number, number], { max_seq: number | null }>(
        'SELECT MAX(seq) AS max_seq FROM entries WHERE owner = ? AND seq > ? AND seq <= ? AND ts < ?',
      ),
      rangeMsgs: db.prepare<[string, number, number], { msg: number }>(
        'SELECT msg FROM entries WHERE owner = ? AND seq > ? AND seq <= ?',
      ),
      unref: db.prepare<[number], { refs: number }>(
        'UPDATE messages SET refs = refs - 1 WHERE rowid = ? RETURNING refs',
      ),
      deleteMessage: db.prepare('DELETE FROM messages WHERE rowid = ?'),
      deleteEntries: db.prepare('DELETE FROM entries WHERE owner = ? AND seq > ? AND seq <= ?'),
      setRemoved: db.prepare('UPDATE users SET removed_upto = ? WHERE id = ?'),
    };
    this.checkpointTimer = setInterval(() => {
      if (!this.written) return;
      const result = this.checkpoint();
      opts.onCheckpoint?.(result);
    }, opts.checkpointMs ?? CHECKPOINT_MS);
    this.checkpointTimer.unref();
  }

  private readonly checkpointTimer: NodeJS.Timeout;
  /** Something was committed since the last checkpoint. */
  private written = false;

  /**
   * Copies committed WAL pages back into the database without waiting for readers or
   * writers (PASSIVE), so the WAL is reused from its start. Returns SQLite's counts.
   */
  checkpoint(): CheckpointResult {
    if (this.closed) return { busy: 0, log: 0, checkpointed: 0 };
    this.written = false;
    const row = this.db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    return row[0]!;
  }

  private tagOf(user: string): string {
    const tag = this.knownTag(user);
    if (tag === null) throw new Error(`no mailbox for ${user}`);
    return tag;
  }

  /** The user's mailbox tag (cached: tags never change), or null when there is no such user. */
  private knownTag(user: string): string | null {
    let tag = this.tags.get(user);
    if (tag === undefined) {
      const row = this.q.getUser.get(user);
      if (!row) return null;
      tag = row.tag;
      this.tags.set(user, tag);
    }
    return tag;
  }

  private toFrame(row: EntryRow): MsgFrame {
    return {
      t: 'msg',
      cursor: encodeCursor(this.tagOf(row.owner), row.seq),
      id: row.id,
      from: row.sender,
      to: row.recipient,
      body: row.body,
      ts: row.ts,
      delivered: row.delivered === 1,
    };
  }

  async createUser(id: string, passwordHash: string | null): Promise<boolean> {
    const tag = crypto.randomBytes(4).toString('hex');
    return this.q.insertUser.run(id, passwordHash, tag, this.now()).changes === 1;
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const row = this.q.getUser.get(id);
    return row ? { id: row.id, passwordHash: row.password_hash, tokenEpoch: row.token_epoch } : null;
  }

  async setPassword(id: string, passwordHash: string): Promise<number | null> {
    const epoch = this.q.setPassword.pluck().get(passwordHash, id) as number | undefined;
    this.written = true;
    return epoch ?? null;
  }

  async revokeAllTokens(id: string): Promise<number | null> {
    const epoch = this.q.bumpEpoch.pluck().get(id) as number | undefined;
    this.written = true;
    return epoch ?? null;
  }

  async revokeToken(tokenId: string, expiresAt: number): Promise<void> {
    this.q.revokeToken.run(tokenId, expiresAt);
    this.written = true;
  }

  async isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.q.isRevoked.pluck().get(tokenId, this.now()) !== undefined;
  }

  async ensureUser(id: string): Promise<void> {
    await this.createUser(id, null);
  }

  async mailbox(user: string): Promise<MailboxState | null> {
    const row = this.q.getUser.get(user);
    if (!row) return null;
    return {
      user,
      headSeq: row.head_seq,
      head: row.head_seq > 0 ? encodeCursor(row.tag, row.head_seq) : null,
      deliveredSeq: row.delivered_seq,
      removedUpto: row.removed_upto,
      tag: row.tag,
    };
  }

  async commit(ops: readonly StoreOp[], admit: Admit): Promise<OpResult[]> {
    if (this.closed) throw new Error('store is closed');
    // Checks first (duplicate, recipient), outside the transaction: admit may take a
    // network round trip, and a transaction open across it would let other reads on this
    // connection see uncommitted rows. Nothing else writes meanwhile (one writer).
    const early: (OpResult | null)[] = new Array(ops.length).fill(null);
    const eligible: SendOp[] = [];
    const eligibleAt: number[] = [];
    // The same (from, id) again in this batch is answered as its first occurrence is.
    const firstOf = new Map<string, number>();
    const twinOf = new Map<number, number>();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.kind !== 'send') continue;
      const key = `${op.from}\n${op.id}`;
      const first = firstOf.get(key);
      if (first !== undefined) {
        twinOf.set(i, first);
        continue;
      }
      const existing = this.q.findMessage.get(op.from, op.id);
      if (existing) early[i] = { kind: 'duplicate', ts: existing.ts };
      // Users are never deleted: a known tag means the recipient exists.
      else if (this.knownTag(op.to) === null) early[i] = { kind: 'no_such_user' };
      else {
        firstOf.set(key, i);
        eligible.push(op);
        eligibleAt.push(i);
      }
    }
    const refusals = eligible.length > 0 ? await admit(eligible) : [];
    if (this.closed) throw new Error('store is closed');
    const refusalAt = new Map<number, SendRefusal | null>();
    for (let k = 0; k < eligibleAt.length; k++) refusalAt.set(eligibleAt[k]!, refusals[k] ?? null);
    const run = this.db.transaction((): OpResult[] => {
      // Mailbox heads of this batch are counted here and written once per mailbox at the
      // end (we hold the write lock, so nobody else moves them meanwhile).
      const heads = new Map<string, number>();
      const results: OpResult[] = [];
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        const decided = early[i];
        const twin = twinOf.get(i);
        if (decided) results.push(decided);
        else if (twin !== undefined) results.push(twinResult(results[twin]!));
        else if (op.kind === 'ack') results.push(this.applyAck(op.user, op.seq, heads));
        else {
          const refusal = refusalAt.get(i) ?? null;
          results.push(refusal ? { kind: 'refused', refusal } : this.applySend(op, heads));
        }
      }
      for (const [user, head] of heads) this.q.setHead.run(head, user);
      return results;
    });
    const results = run.immediate();
    this.written = true;
    return results;
  }

  private nextSeq(user: string, heads: Map<string, number>): number {
    const seq = (heads.get(user) ?? (this.q.getHead.get(user) as number)) + 1;
    heads.set(user, seq);
    return seq;
  }

  /** Stores an admitted send (its checks passed before the transaction). */
  private applySend(op: SendOp, heads: Map<string, number>): OpResult {
    const recipientTag = this.tagOf(op.to);
    const ts = this.now();
    const toSeq = this.nextSeq(op.to, heads);
    const self = op.from === op.to;
    const fromSeq = self ? toSeq : this.nextSeq(op.from, heads);
    const rowid = Number(
      this.q.insertMessage.run(op.from, op.id, op.to, op.body, ts, toSeq, self ? 1 : 2).lastInsertRowid,
    );
    const base = {
      t: 'msg' as const,
      id: op.id,
      from: op.from,
      to: op.to,
      body: op.body,
      ts,
      delivered: false,
    };
    this.q.insertEntry.run(op.to, toSeq, op.from, rowid, ts);
    const entries: Entry[] = [
      { owner: op.to, seq: toSeq, frame: { ...base, cursor: encodeCursor(recipientTag, toSeq) } },
    ];
    if (!self) {
      this.q.insertEntry.run(op.from, fromSeq, op.to, rowid, ts);
      entries.push({
        owner: op.from,
        seq: fromSeq,
        frame: { ...base, cursor: encodeCursor(this.tagOf(op.from), fromSeq) },
      });
    }
    return { kind: 'stored', ts, entries };
  }

  private applyAck(user: string, seq: number, heads: Map<string, number>): OpResult {
    const row = this.q.getUser.get(user);
    if (!row || seq <= row.delivered_seq) return { kind: 'acked', changed: false, receipts: [] };
    const upto = Math.min(seq, heads.get(user) ?? row.head_seq);
    if (upto <= row.delivered_seq) return { kind: 'acked', changed: false, receipts: [] };
    this.q.setDelivered.run(upto, user);
    const receipts: Receipt[] = this.q.newlyDelivered
      .all(user, row.delivered_seq, upto, user, user)
      .map((r) => ({ sender: r.sender, id: r.id, to: user }));
    return { kind: 'acked', changed: true, receipts };
  }

  async readRange(user: string, afterSeq: number, uptoSeq: number, limit: number): Promise<Entry[]> {
    const rows = this.q.readRangeRaw.all(user, afterSeq, uptoSeq, limit) as unknown as RawEntryRow[];
    const tag = this.tagOf(user);
    const entries: Entry[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const frame: MsgFrame = {
        t: 'msg',
        cursor: encodeCursor(tag, r[1]),
        id: r[3],
        from: r[2],
        to: r[4],
        body: r[5],
        ts: r[6],
        delivered: r[7] === 1,
      };
      entries[i] = { owner: r[0], seq: r[1], frame };
    }
    return entries;
  }

  async history(
    user: string,
    peer: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<{ items: MsgFrame[]; more: boolean }> {
    const rows = this.q.history.all(user, peer, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit + 1);
    const more = rows.length > limit;
    const items = rows
      .slice(0, limit)
      .reverse()
      .map((r) => this.toFrame(r));
    return { items, more };
  }

  async conversations(
    user: string,
    page: ConversationsPage,
  ): Promise<{ items: ConversationItem[]; more: boolean }> {
    const rows = this.q.conversations.all(
      user,
      user,
      page.beforeSeq ?? Number.MAX_SAFE_INTEGER,
      page.limit + 1,
    );
    const more = rows.length > page.limit;
    const items = rows.slice(0, page.limit).map((row) => ({ with: row.peer, last: this.toFrame(row) }));
    return { items, more };
  }

  async sweepRetention(now: number): Promise<number> {
    if (this.closed) return 0;
    if (this.q.sweepRevoked.run(now).changes > 0) this.written = true;
    const cutoff = now - this.opts.retentionDays * 86_400_000;
    const keep = this.opts.mailboxMax;
    let removed = 0;
    for (const box of this.q.overfull.all(keep)) {
      // Keep the newest mailboxMax entries and everything younger than the cutoff.
      const limit = box.head_seq - keep;
      const upto = this.q.lastOld.get(box.id, box.removed_upto, limit, cutoff)?.max_seq ?? null;
      if (upto === null) continue;
      // Remove in slices so one huge mailbox does not hold the write lock for long.
      let from = box.removed_upto;
      while (from < upto) {
        const to = Math.min(upto, from + 5000);
        removed += this.removeRange(box.id, from, to);
        this.written = true;
        from = to;
      }
    }
    return removed;
  }

  private removeRange(owner: string, fromSeq: number, uptoSeq: number): number {
    return this.db
      .transaction((): number => {
        const msgs = this.q.rangeMsgs.all(owner, fromSeq, uptoSeq);
        for (const { msg } of msgs) {
          const left = this.q.unref.get(msg);
          if (left && left.refs <= 0) this.q.deleteMessage.run(msg);
        }
        this.q.deleteEntries.run(owner, fromSeq, uptoSeq);
        this.q.setRemoved.run(uptoSeq, owner);
        return msgs.length;
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.checkpointTimer);
    this.db.close();
  }
}

/** The answer to a repeat of a send earlier in the same batch: a duplicate of it once it is stored. */
function twinResult(first: OpResult): OpResult {
  return first.kind === 'stored' ? { kind: 'duplicate', ts: first.ts } : first;
}
