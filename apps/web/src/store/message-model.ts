import type { MsgFrame } from '@pigeon/protocol';

/**
 * How one message looks to the UI. `received` is a message someone else wrote to me; the
 * other states are my own messages on their way: `sending` (in the outbox, also while
 * offline), `sent` (stored durably by the server, ✓), `delivered` (a device of the
 * recipient acknowledged it, ✓✓), `failed` (refused with `errorCode`; retry or discard).
 */
type MessageState = 'sending' | 'sent' | 'delivered' | 'failed' | 'received';

export interface ChatMessage {
  /** The message's identity `(from, id)` as the protocol defines it; the dedup key. */
  key: string;
  id: string;
  from: string;
  to: string;
  body: string;
  /** The server's time of storing once `confirmed`; until then, when it was written here. */
  ts: number;
  /** The server has stored it (we have its server timestamp). */
  confirmed: boolean;
  /** A position in my mailbox, usable as `history.before`; absent for outbox copies. */
  cursor?: string | undefined;
  /**
   * Mailbox order where timestamps tie (several messages can be stored in one millisecond).
   * Cursors are opaque and never compared, so the order they arrived in stands in for them:
   * live entries get rising numbers, history (older than anything live) falling ones.
   * Absent until the entry itself has been seen (an outbox copy confirmed by `sent`).
   */
  seq?: number | undefined;
  state: MessageState;
  errorCode?: string | undefined;
}

export function messageKey(from: string, id: string): string {
  return `${from}\u0000${id}`;
}

/** The other side of a message in my mailbox (myself for notes to self). */
export function peerOf(me: string, m: { from: string; to: string }): string {
  return m.from === me ? m.to : m.from;
}

/** A mailbox entry as the UI shows it; `seq`: its place in arrival order (see ChatMessage). */
export function fromFrame(me: string, f: MsgFrame, seq?: number): ChatMessage {
  const mine = f.from === me;
  let state: MessageState = 'received';
  if (mine) state = f.delivered && f.to !== me ? 'delivered' : 'sent';
  return {
    key: messageKey(f.from, f.id),
    id: f.id,
    from: f.from,
    to: f.to,
    body: f.body,
    ts: f.ts,
    confirmed: true,
    cursor: f.cursor,
    seq,
    state,
  };
}

const RANK: Record<MessageState, number> = { sending: 0, failed: 0, sent: 1, delivered: 2, received: 3 };

/**
 * Combines two views of the same message. What the server has confirmed never goes back:
 * a stored message cannot become `sending` or `failed` again, and ✓✓ never drops to ✓.
 * Between the unconfirmed states the newer view wins (a failed message that is retried is
 * `sending` again).
 */
function mergeMessage(old: ChatMessage, next: ChatMessage): ChatMessage {
  if (old.confirmed && !next.confirmed) return old;
  if (old.confirmed && next.confirmed) {
    const state = RANK[next.state] >= RANK[old.state] ? next.state : old.state;
    const cursor = old.cursor ?? next.cursor;
    const seq = old.seq ?? next.seq;
    if (state === old.state && cursor === old.cursor && seq === old.seq) return old;
    return { ...old, state, cursor, seq };
  }
  if (!old.confirmed && next.confirmed)
    return { ...next, cursor: next.cursor ?? old.cursor, seq: next.seq ?? old.seq };
  if (old.state === next.state && old.errorCode === next.errorCode && old.body === next.body) return old;
  return next;
}

/**
 * Order of the chat log: stored messages by server time, ties in mailbox order (`seq`; one
 * not seen in the mailbox yet goes last), then my unconfirmed ones in the order I wrote
 * them: they have no place in the mailbox yet, so they sit at the bottom.
 */
function before(a: ChatMessage, b: ChatMessage): boolean {
  if (a.confirmed !== b.confirmed) return a.confirmed;
  if (a.ts !== b.ts) return a.ts < b.ts;
  return (a.seq ?? Number.POSITIVE_INFINITY) < (b.seq ?? Number.POSITIVE_INFINITY);
}

/**
 * Merges `incoming` into the ordered, duplicate-free `existing` list and returns a new
 * list (or `existing` itself when nothing changed). Each message appears once, keyed by
 * `(from, id)`, however often the server or the outbox report it.
 *
 * `older`: `incoming` is a page of history from before the oldest message held (in mailbox
 * order), so its new messages go first whatever their timestamps say: several messages can
 * share one millisecond, and only the mailbox knows their order then.
 */
export function mergeMessages(
  existing: readonly ChatMessage[],
  incoming: readonly ChatMessage[],
  older = false,
): ChatMessage[] {
  if (incoming.length === 0) return existing as ChatMessage[];
  const index = new Map<string, number>();
  for (let i = 0; i < existing.length; i++) index.set(existing[i]!.key, i);
  let list: ChatMessage[] | null = null;
  const added: ChatMessage[] = [];
  const addedIndex = new Map<string, number>();
  let reposition = false;
  for (const m of incoming) {
    const at = index.get(m.key);
    if (at !== undefined) {
      const cur = (list ?? existing)[at]!;
      const merged = mergeMessage(cur, m);
      if (merged !== cur) {
        list ??= existing.slice();
        list[at] = merged;
        // Confirmation gives an outbox copy its server time, so its place may change.
        if (merged.confirmed !== cur.confirmed || merged.ts !== cur.ts || merged.seq !== cur.seq) {
          reposition = true;
        }
      }
      continue;
    }
    const a = addedIndex.get(m.key);
    if (a !== undefined) {
      added[a] = mergeMessage(added[a]!, m);
      continue;
    }
    addedIndex.set(m.key, added.length);
    added.push(m);
  }
  if (added.length === 0 && !reposition) return list ?? (existing as ChatMessage[]);
  const base = list ?? existing.slice();
  if (older && !reposition) return added.concat(base);
  // The common cases, one new message at the end or a page of history at the start, need
  // no sort; otherwise a stable sort restores the order.
  if (!reposition && added.length > 0) {
    const last = base[base.length - 1];
    const first = base[0];
    const sortedAdded = isSorted(added);
    if (sortedAdded && (!last || !before(added[0]!, last))) return base.concat(added);
    if (sortedAdded && first && before(added[added.length - 1]!, first)) return added.concat(base);
  }
  const all = base.concat(added);
  return stableSort(all);
}

function isSorted(list: readonly ChatMessage[]): boolean {
  for (let i = 1; i < list.length; i++) if (before(list[i]!, list[i - 1]!)) return false;
  return true;
}

function stableSort(list: ChatMessage[]): ChatMessage[] {
  return list
    .map((m, i) => [m, i] as const)
    .sort(([a, i], [b, j]) => (before(a, b) ? -1 : before(b, a) ? 1 : i - j))
    .map(([m]) => m);
}
