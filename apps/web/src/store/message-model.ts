import type { OutboxFile } from '@pigeon/client';
import type { FileInfo, MessageRef, MsgFrame, Reaction, ReplyQuote } from '@pigeon/protocol';

/**
 * How one message looks to the UI. `received` is a message someone else wrote to me; the
 * other states are my own messages on their way: `sending` (in the outbox, also while
 * offline), `sent` (stored durably by the server, ✓), `delivered` (a device of the
 * recipient acknowledged it, ✓✓), `read` (the recipient had it on screen while both of us
 * had read receipts on, ✓✓ in colour), `failed` (refused with `errorCode`; retry or discard).
 */
export type MessageState = 'sending' | 'sent' | 'delivered' | 'read' | 'failed' | 'received';

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
  /** A message I received: my read mark covers it (the server says so, `read` feature). */
  read?: boolean | undefined;
  /** When it was last edited (server time), `edit` feature. */
  edited?: number | undefined;
  /** Deleted for everyone: the body is gone (`""`), and so are quote, reactions and files. */
  deleted?: boolean | undefined;
  /** The message this one answers, as the server quotes it (`reply`). */
  replyTo?: ReplyQuote | undefined;
  /** The message it answers, while mine is still in the outbox (the server has not quoted it yet). */
  replyRef?: MessageRef | undefined;
  /** At most one per person (`react`). */
  reactions?: readonly Reaction[] | undefined;
  /** Attachments (`files`); the body is then a caption, possibly empty. */
  files?: readonly FileInfo[] | undefined;
  /** My message still in the outbox: its attachments on their way (uploaded bytes, the stored file once done). */
  uploads?: readonly OutboxFile[] | undefined;
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
  if (mine && f.to === me) state = 'sent';
  else if (mine) state = f.read === true ? 'read' : f.delivered ? 'delivered' : 'sent';
  const m: ChatMessage = {
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
  // Only the fields the connection was sent (its features), so a version-1 view stays lean.
  if (!mine && f.read !== undefined) m.read = f.read;
  if (f.edited !== undefined) m.edited = f.edited;
  if (f.deleted) m.deleted = true;
  if (f.replyTo) m.replyTo = f.replyTo;
  if (f.reactions && f.reactions.length > 0) m.reactions = f.reactions;
  if (f.files && f.files.length > 0) m.files = f.files;
  return m;
}

const RANK: Record<MessageState, number> = {
  sending: 0,
  failed: 0,
  sent: 1,
  delivered: 2,
  read: 3,
  received: 4,
};

/**
 * The content of two views of one stored message, newest state winning: a deletion is final,
 * the later edit wins (an answer computed before an edit can arrive after the edit's update),
 * a read mark never goes back; quote and reactions come with the view received last.
 */
function mergeContent(old: ChatMessage, next: ChatMessage): ChatMessage {
  if (old.deleted) return old;
  let out = old;
  const change = (patch: Partial<ChatMessage>) => {
    out = { ...out, ...patch };
  };
  if (next.deleted) return deletedCopy(old);
  if ((next.edited ?? 0) > (old.edited ?? 0)) change({ body: next.body, edited: next.edited });
  if (next.read === true && old.read !== true) change({ read: true });
  if (next.replyTo !== undefined && !sameQuote(old.replyTo, next.replyTo)) change({ replyTo: next.replyTo });
  // Only a view from the server knows the reactions: the outbox's copy of my message (no
  // cursor), reported again with every outbox change, has none and must not wipe them.
  if (next.cursor !== undefined && !sameReactions(old.reactions, next.reactions))
    change({ reactions: next.reactions });
  if (next.files !== undefined && old.files === undefined) change({ files: next.files });
  return out;
}

/** A message deleted for everyone keeps its place, time, author and state, nothing of its content. */
export function deletedCopy(m: ChatMessage): ChatMessage {
  const { replyTo: _q, replyRef: _r, reactions: _x, files: _f, edited: _e, ...rest } = m;
  return { ...rest, body: '', deleted: true };
}

function sameUploads(a: readonly OutboxFile[] | undefined, b: readonly OutboxFile[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((f, i) => f.uploaded === b[i]?.uploaded && f.file?.id === b[i]?.file?.id);
}

function sameQuote(a: ReplyQuote | undefined, b: ReplyQuote | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.from === b.from &&
    a.id === b.id &&
    a.cursor === b.cursor &&
    a.body === b.body &&
    a.deleted === b.deleted
  );
}

function sameReactions(a: readonly Reaction[] | undefined, b: readonly Reaction[] | undefined): boolean {
  if (a === b) return true;
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((r, i) => r.by === y[i]?.by && r.emoji === y[i]?.emoji);
}

/**
 * Combines two views of the same message. What the server has confirmed never goes back:
 * a stored message cannot become `sending` or `failed` again, and ✓✓ never drops to ✓.
 * Between the unconfirmed states the newer view wins (a failed message that is retried is
 * `sending` again).
 */
function mergeMessage(old: ChatMessage, next: ChatMessage): ChatMessage {
  if (old.confirmed && !next.confirmed) return old;
  if (old.confirmed && next.confirmed) {
    const merged = mergeContent(old, next);
    const state = RANK[next.state] >= RANK[old.state] ? next.state : old.state;
    const cursor = old.cursor ?? next.cursor;
    const seq = old.seq ?? next.seq;
    if (merged === old && state === old.state && cursor === old.cursor && seq === old.seq) return old;
    return { ...merged, state, cursor, seq };
  }
  if (!old.confirmed && next.confirmed) {
    // The outbox copy knew what it answers, and its files, before the server said so.
    const replyRef = next.replyTo ? undefined : (next.replyRef ?? old.replyRef);
    const files = next.files ?? old.files;
    return { ...next, cursor: next.cursor ?? old.cursor, seq: next.seq ?? old.seq, replyRef, files };
  }
  if (
    old.state === next.state &&
    old.errorCode === next.errorCode &&
    old.body === next.body &&
    sameUploads(old.uploads, next.uploads)
  )
    return old;
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
