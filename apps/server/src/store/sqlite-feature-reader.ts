import { type SearchTerm, searchHighlights, searchTerms, type UpdateKind } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import { type IndexTerm, indexTerms, ownerKey } from './feature-rules.js';
import type { BlockRelations, SearchQuery, SearchResult, UserSettings } from './feature-types.js';
import { LAST_ROWID_BELOW } from './sqlite-feature-sql.js';
import { QUOTE_JOIN, ROW, type Row, rowFrame, VISIBLE } from './sqlite-rows.js';

/** Index candidates read per step of a search; the index is a superset, so a step may yield fewer matches. */
const SEARCH_STEP = 200;

/**
 * The chat features' reads, on the reader thread's read-only connection: heads per set of
 * features, settings, block relations and search.
 */
export class SqliteFeatureReader {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      user: db
        .prepare<[string], [string, number, number]>(
          'SELECT tag, removed_upto, read_receipts FROM users WHERE id = ?',
        )
        .raw(),
      newestReceived: db
        .prepare<Record<string, unknown>, number>(
          `SELECT rseq FROM messages WHERE recipient = @u AND rseq > 0 AND rseq <= @upto AND hidden & 1 = 0
           ORDER BY rseq DESC LIMIT 1`,
        )
        .pluck(),
      newestSent: db
        .prepare<Record<string, unknown>, number>(
          `SELECT sseq FROM messages WHERE sender = @u AND recipient <> @u AND sseq <= @upto AND hidden & 2 = 0
           ORDER BY sseq DESC LIMIT 1`,
        )
        .pluck(),
      newestUpdate: db
        .prepare<Record<string, unknown>, number | null>(
          'SELECT MAX(seq) FROM updates WHERE owner = @u AND kind = @kind AND seq <= @upto',
        )
        .pluck(),
      blocked: db
        .prepare<[string], string>('SELECT blocked FROM blocks WHERE blocker = ? ORDER BY blocked')
        .pluck(),
      blockedBy: db
        .prepare<[string], string>('SELECT blocker FROM blocks WHERE blocked = ? ORDER BY blocker')
        .pluck(),
      conv: db
        .prepare<[string, string], number>('SELECT conv FROM conversations WHERE owner = ? AND peer = ?')
        .pluck(),
      lastRowidBelow: db.prepare<Record<string, unknown>, number | null>(LAST_ROWID_BELOW).pluck(),
      search: db
        .prepare<Record<string, unknown>, [...Row, number]>(
          `SELECT ${ROW}, m.rowid FROM search s JOIN messages m ON m.rowid = s.rowid ${QUOTE_JOIN}
           WHERE search MATCH @match AND s.rowid <= @bound AND m.deleted = 0 AND ${VISIBLE}
           ORDER BY s.rowid DESC LIMIT @step`,
        )
        .raw(),
    };
  }

  viewHead(user: string, uptoSeq: number, kinds: readonly UpdateKind[]): number {
    const at = { u: user, upto: uptoSeq };
    let head = Math.max(this.q.newestReceived.get(at) ?? 0, this.q.newestSent.get(at) ?? 0);
    for (const kind of kinds) head = Math.max(head, this.q.newestUpdate.get({ ...at, kind }) ?? 0);
    return head;
  }

  settings(user: string): UserSettings {
    const row = this.q.user.get(user);
    return { readReceipts: (row?.[2] ?? 1) === 1, blocked: this.q.blocked.all(user) };
  }

  blockRelations(user: string): BlockRelations {
    return { blocked: this.q.blocked.all(user), blockedBy: this.q.blockedBy.all(user) };
  }

  /**
   * Search (PROTOCOL.md "Search"): the FTS5 index yields the searcher's candidates newest
   * first (a superset: pairs of CJK characters, word prefixes), and the codec's
   * `searchHighlights` decides which are matches and where, so the answer is exactly the
   * reference's.
   */
  search(user: string, query: SearchQuery): SearchResult {
    const row = this.q.user.get(user);
    const terms = searchTerms(query.q);
    if (!row || terms.length === 0) return { items: [], more: false };
    const [tag, removed] = row;
    let conv: number | null = null;
    if (query.with !== null) {
      conv = this.q.conv.get(user, query.with) ?? null;
      if (conv === null) return { items: [], more: false };
    }
    let bound =
      query.beforeSeq === null
        ? Number.MAX_SAFE_INTEGER
        : (this.q.lastRowidBelow.get({ u: user, seq: query.beforeSeq }) ?? null);
    if (bound === null) return { items: [], more: false };
    const match = ftsMatch(indexTerms(terms), user, conv);
    const items: SearchResult['items'] = [];
    for (;;) {
      const rows = this.q.search.all({ match, bound, u: user, removed, step: SEARCH_STEP });
      for (const r of rows) {
        const highlights = searchHighlights(r[4], terms as SearchTerm[]);
        if (!highlights) continue;
        if (items.length === query.limit) return { items, more: true };
        items.push({ msg: rowFrame(tag, r as unknown as Row), highlights });
      }
      if (rows.length < SEARCH_STEP) return { items, more: false };
      // m.rowid is the column after ROW's.
      const last = rows[rows.length - 1]!;
      bound = (last[last.length - 1] as number) - 1;
    }
  }
}

/**
 * The FTS5 query: every term in column `words` (a word as a prefix, a CJK term as the
 * phrase of its pairs) and the searcher's mailbox (and conversation) in column `keys`.
 * Tokens hold only letters and digits, never a quote, so quoting them is enough.
 */
function ftsMatch(terms: readonly IndexTerm[], user: string, conv: number | null): string {
  const parts = terms.map((t) => ('prefix' in t ? `words:"${t.prefix}"*` : `words:"${t.phrase.join(' ')}"`));
  parts.push(`keys:"${ownerKey(user)}"`);
  if (conv !== null) parts.push(`keys:"c${conv}"`);
  return parts.join(' AND ');
}
