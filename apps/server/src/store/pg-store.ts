// Over ~300 lines on purpose: the Store interface's methods on PostgreSQL, each one or two statements;
// the group commit, features, retention, schema and rows are in their own pg-*.ts files.
import crypto from 'node:crypto';
import type { ConversationItem, MsgFrame, UpdateKind } from '@pigeon/protocol';
import type { Registry } from 'prom-client';
import { encodeCursor } from './cursor.js';
import type { BlockRelations, SearchQuery, SearchResult, UserSettings } from './feature-types.js';
import { PgClient } from './pg-client.js';
import { type CommitCache, groupCommit } from './pg-commit.js';
import { blockRelations, search, settings, viewHead } from './pg-feature-reads.js';
import { sweepRetention } from './pg-retention.js';
import {
  type EntryRow,
  entryFrame,
  QUOTE_JOIN,
  REMOVED,
  ROW,
  type UpdateRow,
  updateRowFrame,
  VISIBLE,
} from './pg-rows.js';
import { migrate } from './pg-schema.js';
import type {
  Admit,
  ConversationsPage,
  Entry,
  MailboxState,
  OpResult,
  Store,
  StoreOp,
  UserRecord,
} from './store.js';
import { mailboxState, type UserRow, userRecord } from './user-rows.js';

export interface PgStoreOptions {
  /** `PIGEON_DATABASE_URL`. */
  url: string;
  /** Connections in this node's pool. */
  poolSize: number;
  mailboxMax: number;
  retentionDays: number;
  /** Time source (tests). */
  now?: () => number;
  /** Where the connection metrics go. */
  registry?: Registry;
  /** Told about errors of idle connections (logged by the node). */
  onConnectionError?: (err: Error) => void;
  /** Entries the retention sweep removes per transaction (tests make it small). */
  retentionSlice?: number;
}

/*
 * The reads, on the one-row-per-message layout (pg-schema.ts), mirroring sqlite-reader.ts.
 * `$1` is always the mailbox's owner; pg-rows.ts has a message's columns (with its state,
 * issue 10) and what a mailbox shows of it.
 */

// A mailbox's messages in seq order: its received ones merged with its sent ones, hidden
// ones left out (the owner hid them: nothing sent to them shows them again).
const READ_RANGE = `
  SELECT * FROM (
    SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
    WHERE m.recipient = $1 AND m.rseq > GREATEST($2, ${REMOVED}) AND m.rseq <= $3 AND m.hidden & 1 = 0
    UNION ALL
    SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
    WHERE m.sender = $1 AND m.sseq > GREATEST($2, ${REMOVED}) AND m.sseq <= $3 AND m.recipient <> $1
      AND m.hidden & 2 = 0
  ) x ORDER BY seq LIMIT $4`;
// …and its update entries, merged with them by seq (PROTOCOL.md "Updates").
const READ_UPDATES = `SELECT seq, ts, data FROM updates
  WHERE owner = $1 AND seq > GREATEST($2, ${REMOVED}) AND seq <= $3 ORDER BY seq LIMIT $4`;
// History pages the pair's conversation by rowid (rowid order is seq order in a mailbox):
// the bound is the rowid of the mailbox's last entry before `$3` (first after, forward).
const CONV = '(SELECT conv FROM conversations WHERE owner = $1 AND peer = $2)';
const HISTORY = `
  SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
  WHERE m.conv = ${CONV} AND ${VISIBLE}
    AND m.rowid <= GREATEST(
      (SELECT rowid FROM messages WHERE recipient = $1 AND rseq > 0 AND rseq < $3 ORDER BY rseq DESC LIMIT 1),
      (SELECT rowid FROM messages WHERE sender = $1 AND sseq < $3 ORDER BY sseq DESC LIMIT 1))
  ORDER BY m.rowid DESC LIMIT $4`;
const HISTORY_AFTER = `
  SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
  WHERE m.conv = ${CONV} AND ${VISIBLE}
    AND m.rowid >= LEAST(
      (SELECT rowid FROM messages WHERE recipient = $1 AND rseq > $3 ORDER BY rseq LIMIT 1),
      (SELECT rowid FROM messages WHERE sender = $1 AND sseq > $3 ORDER BY sseq LIMIT 1))
  ORDER BY m.rowid LIMIT $4`;
// Newest first from the conversations table, each row with the message at its newest seq,
// the read mark and what is unread after it (PROTOCOL.md "Read").
const CONVERSATIONS = `
  SELECT c.peer, COALESCE(k.read_upto, 0) AS read_upto,
    CASE WHEN c.peer = $1 THEN 0 ELSE (
      SELECT count(*)::int FROM messages u
      WHERE u.conv = c.conv AND u.recipient = $1 AND u.sender = c.peer
        AND u.rseq > GREATEST(COALESCE(k.read_upto, 0), ${REMOVED}) AND u.hidden & 1 = 0) END AS unread,
    x.*
  FROM conversations c
  LEFT JOIN marks k ON k.owner = $1 AND k.peer = c.peer
  CROSS JOIN LATERAL (
    SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
    WHERE (m.recipient = $1 AND m.rseq = c.last_seq) OR (m.sender = $1 AND m.sseq = c.last_seq AND m.recipient <> $1)
    LIMIT 1
  ) x
  WHERE c.owner = $1 AND c.last_seq < $2 AND c.last_seq > ${REMOVED}
  ORDER BY c.last_seq DESC LIMIT $3`;

/**
 * The durable store on PostgreSQL: the system of record shared by every node of a cluster.
 * Open it with `PgStore.open` (it migrates the schema). See pg-schema.ts for the layout,
 * pg-commit.ts for the group commit, pg-retention.ts for the sweep.
 */
export class PgStore implements Store {
  private readonly now: () => number;
  /** Mailbox tags and conversation ids never change (users are never deleted): cached. */
  private readonly cache: CommitCache = { tags: new Map(), convs: new Map() };
  private readonly tags = this.cache.tags;
  private closed = false;

  private constructor(
    private readonly db: PgClient,
    private readonly opts: PgStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Connects, migrates the schema (under an advisory lock) and returns the store. */
  static async open(opts: PgStoreOptions): Promise<PgStore> {
    const db = new PgClient({
      url: opts.url,
      max: opts.poolSize,
      registry: opts.registry,
      onError: opts.onConnectionError,
    });
    try {
      await migrate(db);
      await db.healthy();
    } catch (err) {
      await db.close().catch(() => {});
      throw err;
    }
    return new PgStore(db, opts);
  }

  /** True while PostgreSQL answers (for `/healthz`). */
  /** The connection pool, shared with the file catalog and large objects (files/file-parts.ts). */
  get client(): PgClient {
    return this.db;
  }

  healthy(): Promise<boolean> {
    return this.db.healthy();
  }

  /**
   * The token signing key shared by every node: generated by whichever node asks first and
   * kept in the database, so a token one node issued is valid on all.
   */
  async sharedSecret(): Promise<string> {
    const fresh = crypto.randomBytes(32).toString('hex');
    await this.db.query({
      text: "INSERT INTO meta (key, value) VALUES ('token_secret', $1) ON CONFLICT (key) DO NOTHING",
      values: [fresh],
    });
    const rows = await this.db.query<{ value: string }>({
      text: "SELECT value FROM meta WHERE key = 'token_secret'",
    });
    return rows[0]!.value;
  }

  async createUser(id: string, passwordHash: string | null): Promise<boolean> {
    const tag = crypto.randomBytes(4).toString('hex');
    const rows = await this.db.query({
      text: `INSERT INTO users (id, password_hash, tag, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO NOTHING RETURNING id`,
      values: [id, passwordHash, tag, this.now()],
    });
    return rows.length === 1;
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const rows = await this.db.query<UserRow>({
      name: 'pigeon_get_user',
      text: 'SELECT id, password_hash, tag, token_epoch FROM users WHERE id = $1',
      values: [id],
    });
    const row = rows[0];
    if (!row) return null;
    this.tags.set(row.id, row.tag);
    return userRecord(row);
  }

  async ensureUser(id: string): Promise<void> {
    await this.createUser(id, null);
  }

  async setPassword(id: string, passwordHash: string): Promise<number | null> {
    const rows = await this.db.query<{ token_epoch: number }>({
      text: 'UPDATE users SET password_hash = $2, token_epoch = token_epoch + 1 WHERE id = $1 RETURNING token_epoch',
      values: [id, passwordHash],
    });
    return rows[0]?.token_epoch ?? null;
  }

  async revokeAllTokens(id: string): Promise<number | null> {
    const rows = await this.db.query<{ token_epoch: number }>({
      text: 'UPDATE users SET token_epoch = token_epoch + 1 WHERE id = $1 RETURNING token_epoch',
      values: [id],
    });
    return rows[0]?.token_epoch ?? null;
  }

  async revokeToken(tokenId: string, expiresAt: number): Promise<void> {
    await this.db.query({
      text: `INSERT INTO revoked_tokens (id, expires_at) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, EXCLUDED.expires_at)`,
      values: [tokenId, expiresAt],
    });
  }

  async isTokenRevoked(tokenId: string): Promise<boolean> {
    const rows = await this.db.query({
      name: 'pigeon_is_revoked',
      text: 'SELECT 1 FROM revoked_tokens WHERE id = $1 AND expires_at > $2',
      values: [tokenId, this.now()],
    });
    return rows.length > 0;
  }

  async mailbox(user: string): Promise<MailboxState | null> {
    const rows = await this.db.query<UserRow>({
      name: 'pigeon_mailbox',
      text: 'SELECT tag, head_seq, delivered_seq, removed_upto FROM users WHERE id = $1',
      values: [user],
    });
    const row = rows[0];
    if (!row) return null;
    this.tags.set(user, row.tag);
    return mailboxState(user, row);
  }

  /** One group commit = one transaction; see pg-commit.ts. */
  async commit(ops: readonly StoreOp[], admit: Admit): Promise<OpResult[]> {
    if (this.closed) throw new Error('store is closed');
    return groupCommit(this.db, ops, admit, this.now, this.cache);
  }

  private async tagOf(user: string): Promise<string> {
    const cached = this.tags.get(user);
    if (cached !== undefined) return cached;
    const rows = await this.db.query<{ tag: string }>({
      text: 'SELECT tag FROM users WHERE id = $1',
      values: [user],
    });
    if (!rows[0]) throw new Error(`no mailbox for ${user}`);
    this.tags.set(user, rows[0].tag);
    return rows[0].tag;
  }

  private frame(tag: string, r: EntryRow): MsgFrame {
    return entryFrame(tag, r);
  }

  async readRange(user: string, afterSeq: number, uptoSeq: number, limit: number): Promise<Entry[]> {
    const values = [user, afterSeq, uptoSeq, limit];
    const [tag, rows, updates] = await Promise.all([
      this.tagOf(user),
      this.db.query<EntryRow>({ name: 'pigeon_read_range', text: READ_RANGE, values }),
      this.db.query<UpdateRow>({ name: 'pigeon_read_updates', text: READ_UPDATES, values }),
    ]);
    // Both are in seq order: merge them, the first `limit` in all.
    const entries: Entry[] = [];
    let i = 0;
    let j = 0;
    while (entries.length < limit && (i < rows.length || j < updates.length)) {
      const r = rows[i];
      const u = updates[j];
      if (r && (!u || r.seq < u.seq)) {
        entries.push({ owner: user, seq: r.seq, frame: this.frame(tag, r) });
        i++;
      } else if (u) {
        entries.push({ owner: user, seq: u.seq, frame: updateRowFrame(tag, u) });
        j++;
      }
    }
    return entries;
  }

  async history(
    user: string,
    peer: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<{ items: MsgFrame[]; more: boolean }> {
    const [tag, rows] = await Promise.all([
      this.tagOf(user),
      this.db.query<EntryRow>({
        name: 'pigeon_history',
        text: HISTORY,
        values: [user, peer, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit + 1],
      }),
    ]);
    const more = rows.length > limit;
    const items = rows
      .slice(0, limit)
      .reverse()
      .map((r) => this.frame(tag, r));
    return { items, more };
  }

  async historyAfter(
    user: string,
    peer: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ items: MsgFrame[]; more: boolean }> {
    const [tag, rows] = await Promise.all([
      this.tagOf(user),
      this.db.query<EntryRow>({
        name: 'pigeon_history_after',
        text: HISTORY_AFTER,
        values: [user, peer, afterSeq, limit + 1],
      }),
    ]);
    const more = rows.length > limit;
    return { items: rows.slice(0, limit).map((r) => this.frame(tag, r)), more };
  }

  async conversations(
    user: string,
    page: ConversationsPage,
  ): Promise<{ items: ConversationItem[]; more: boolean }> {
    const [tag, rows] = await Promise.all([
      this.tagOf(user),
      this.db.query<EntryRow & { peer: string; read_upto: number; unread: number }>({
        name: 'pigeon_conversations',
        text: CONVERSATIONS,
        values: [user, page.beforeSeq ?? Number.MAX_SAFE_INTEGER, page.limit + 1],
      }),
    ]);
    const more = rows.length > page.limit;
    return {
      items: rows.slice(0, page.limit).map((r) => ({
        with: r.peer,
        last: this.frame(tag, r),
        unread: r.unread,
        readUpto: r.read_upto > 0 ? encodeCursor(tag, r.read_upto) : null,
      })),
      more,
    };
  }

  viewHead(user: string, uptoSeq: number, kinds: readonly UpdateKind[]): Promise<number> {
    return viewHead(this.db, user, uptoSeq, kinds);
  }

  settings(user: string): Promise<UserSettings> {
    return settings(this.db, user);
  }

  blockRelations(user: string): Promise<BlockRelations> {
    return blockRelations(this.db, user);
  }

  async search(user: string, query: SearchQuery): Promise<SearchResult> {
    return search(this.db, user, await this.tagOf(user), query);
  }

  /** The sweep this node is running, if any. */
  private sweeping: Promise<unknown> = Promise.resolve();

  /**
   * One sweep at a time per node, queued (a call made while one runs waits for it, then
   * sweeps), and one at a time across nodes through the advisory lock (a node that finds
   * another sweeping skips: that one removes what there is).
   */
  async sweepRetention(now: number): Promise<number> {
    const run = this.sweeping.then(() =>
      this.closed
        ? 0
        : sweepRetention(this.db, {
            now,
            cutoff: now - this.opts.retentionDays * 86_400_000,
            keep: this.opts.mailboxMax,
            slice: this.opts.retentionSlice,
          }),
    );
    this.sweeping = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}
