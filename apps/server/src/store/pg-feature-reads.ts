import { searchHighlights, searchTerms, type UpdateKind } from '@pigeon/protocol';
import { type IndexTerm, indexTerms } from './feature-rules.js';
import type { BlockRelations, SearchQuery, SearchResult, UserSettings } from './feature-types.js';
import type { PgClient } from './pg-client.js';
import { pgOwnerKey } from './pg-feature-schema.js';
import { type EntryRow, entryFrame, OWN_SEQ, QUOTE_JOIN, ROW, VISIBLE } from './pg-rows.js';

/** Index candidates read per step of a search (the index is a superset of the matches). */
const SEARCH_STEP = 200;

// The searcher's messages (either side of each conversation, or one conversation) that the
// index says may match, newest first; within one mailbox rowid order is seq order.
const SEARCH = `SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
  WHERE (m.recipient = $1 OR m.sender = $1) AND ${OWN_SEQ} < $2 AND ${VISIBLE} AND NOT m.deleted
    AND ($3::text IS NULL OR m.conv = (SELECT conv FROM conversations WHERE owner = $1 AND peer = $3))
    AND m.search @@ $4::tsquery
  ORDER BY m.rowid DESC LIMIT $5`;

/** The newest entry at or below `uptoSeq` a connection receiving `kinds` would be sent (see FeatureReads). */
export async function viewHead(
  db: PgClient,
  user: string,
  uptoSeq: number,
  kinds: readonly UpdateKind[],
): Promise<number> {
  const [row] = await db.query<{ head: number | null }>({
    name: 'pigeon_view_head',
    text: `SELECT GREATEST(
        (SELECT rseq FROM messages WHERE recipient = $1 AND rseq > 0 AND rseq <= $2 AND hidden & 1 = 0
          ORDER BY rseq DESC LIMIT 1),
        (SELECT sseq FROM messages WHERE sender = $1 AND recipient <> $1 AND sseq <= $2 AND hidden & 2 = 0
          ORDER BY sseq DESC LIMIT 1),
        (SELECT MAX(seq) FROM updates WHERE owner = $1 AND seq <= $2 AND kind = ANY($3::text[]))) AS head`,
    values: [user, uptoSeq, kinds],
  });
  return row?.head ?? 0;
}

export async function settings(db: PgClient, user: string): Promise<UserSettings> {
  const [receipts, blocked] = await Promise.all([
    db.query<{ read_receipts: boolean }>({
      text: 'SELECT read_receipts FROM users WHERE id = $1',
      values: [user],
    }),
    db.query<{ blocked: string }>({
      text: 'SELECT blocked FROM blocks WHERE blocker = $1 ORDER BY blocked',
      values: [user],
    }),
  ]);
  return { readReceipts: receipts[0]?.read_receipts ?? true, blocked: blocked.map((r) => r.blocked) };
}

export async function blockRelations(db: PgClient, user: string): Promise<BlockRelations> {
  const rows = await db.query<{ blocker: string; blocked: string }>({
    name: 'pigeon_block_relations',
    text: 'SELECT blocker, blocked FROM blocks WHERE blocker = $1 OR blocked = $1 ORDER BY blocker, blocked',
    values: [user],
  });
  return {
    blocked: rows.filter((r) => r.blocker === user).map((r) => r.blocked),
    blockedBy: rows.filter((r) => r.blocked === user).map((r) => r.blocker),
  };
}

/**
 * Search (PROTOCOL.md "Search"): the GIN index on `messages.search` yields the searcher's
 * candidates newest first (a superset: pairs of CJK characters without positions, word
 * prefixes), and the codec's `searchHighlights` decides which match and where, so the
 * answer is exactly the reference's, as on SQLite.
 */
export async function search(
  db: PgClient,
  user: string,
  tag: string,
  query: SearchQuery,
): Promise<SearchResult> {
  const terms = searchTerms(query.q);
  if (terms.length === 0) return { items: [], more: false };
  // Only the searcher's messages: their mailbox key is in the vector (pg-feature-schema.ts).
  const tsquery = `${toTsquery(indexTerms(terms))} & '${pgOwnerKey(user)}'`;
  const items: SearchResult['items'] = [];
  let before = query.beforeSeq ?? Number.MAX_SAFE_INTEGER;
  for (;;) {
    const rows = await db.query<EntryRow>({
      name: 'pigeon_search',
      text: SEARCH,
      values: [user, before, query.with, tsquery, SEARCH_STEP],
    });
    for (const r of rows) {
      const highlights = searchHighlights(r.body, terms);
      if (!highlights) continue;
      if (items.length === query.limit) return { items, more: true };
      items.push({ msg: entryFrame(tag, r), highlights });
    }
    if (rows.length < SEARCH_STEP) return { items, more: false };
    before = rows[rows.length - 1]!.seq;
  }
}

/**
 * The tsquery of a query's index terms, in tsquery's own syntax (no parser or dictionary
 * touches it, as none touched the lexemes): a word is a prefix (`'eclair':*`), a CJK term
 * the conjunction of its pairs. Tokens hold letters and digits only, never a quote.
 */
function toTsquery(terms: readonly IndexTerm[]): string {
  return terms
    .map((t) => ('prefix' in t ? `'${t.prefix}':*` : t.phrase.map((p) => `'${p}'`).join(' & ')))
    .join(' & ');
}
