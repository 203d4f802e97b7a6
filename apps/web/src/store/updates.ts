import { quoteBody, type Reaction, type UpdateFrame } from '@pigeon/protocol';
import type { Conversation } from './chat-store';
import { type ChatMessage, deletedCopy, messageKey } from './message-model';

/**
 * Update entries (PROTOCOL.md "Updates") applied to what the app holds: each carries the
 * resulting state, so applying one twice changes nothing. Pure functions; each returns its
 * input itself when nothing changed, so the store and React compare by identity.
 */

/** One message after an update about it, or about the message it quotes (the quote follows the original). */
export function applyToMessage(m: ChatMessage, u: UpdateFrame): ChatMessage {
  if (u.kind !== 'edit' && u.kind !== 'delete' && u.kind !== 'react') return m;
  if (m.key === messageKey(u.from, u.id)) {
    if (m.deleted) return m; // nothing of a deleted message comes back
    if (u.kind === 'edit') {
      return m.body === u.body && m.edited === u.ts ? m : { ...m, body: u.body, edited: u.ts };
    }
    if (u.kind === 'delete') return deletedCopy(m);
    return withReaction(m, u.by, u.emoji);
  }
  const quote = m.replyTo;
  if (!quote || quote.deleted || u.kind === 'react' || quote.from !== u.from || quote.id !== u.id) return m;
  if (u.kind === 'edit') {
    const body = quoteBody(u.body);
    return quote.body === body ? m : { ...m, replyTo: { ...quote, body } };
  }
  const { body: _b, ...rest } = quote;
  return { ...m, replyTo: { ...rest, deleted: true } };
}

function withReaction(m: ChatMessage, by: string, emoji: string | null): ChatMessage {
  const current = m.reactions ?? [];
  const mine = current.find((r) => r.by === by);
  if ((mine?.emoji ?? null) === emoji) return m;
  const others = current.filter((r) => r.by !== by);
  const reactions: Reaction[] = emoji === null ? others : [...others, { by, emoji }];
  return { ...m, reactions: reactions.length > 0 ? reactions : undefined };
}

/** Applies `change` to every message of a list; the list itself when none changed. */
function mapList(list: ChatMessage[], change: (m: ChatMessage) => ChatMessage): ChatMessage[] {
  let out: ChatMessage[] | null = null;
  for (let i = 0; i < list.length; i++) {
    const m = list[i]!;
    const next = change(m);
    if (next === m) continue;
    out ??= list.slice();
    out[i] = next;
  }
  return out ?? list;
}

/**
 * Marks read the messages up to the entry whose cursor is `upto`: my read mark covers the
 * peer's messages (`read`), the peer's receipt covers mine (`seen`: ✓✓ in colour). A list
 * without that entry is entirely newer or entirely older than the mark (a stretch is
 * contiguous); `olderThanAll` says which (PROTOCOL.md "Read").
 */
function markUpTo(
  list: ChatMessage[],
  upto: string,
  covers: (m: ChatMessage) => boolean,
  mark: (m: ChatMessage) => ChatMessage,
  olderThanAll: boolean,
): ChatMessage[] {
  let at = list.findIndex((m) => m.cursor === upto);
  if (at < 0) {
    if (olderThanAll) return list;
    at = list.length - 1;
  }
  let out: ChatMessage[] | null = null;
  for (let i = 0; i <= at; i++) {
    const m = list[i]!;
    if (!covers(m)) continue;
    const next = mark(m);
    if (next === m) continue;
    out ??= list.slice();
    out[i] = next;
  }
  return out ?? list;
}

const readByMe = (m: ChatMessage) => (m.read === true ? m : { ...m, read: true });
/**
 * Only a message that reached a device of the peer (✓✓) can have been read there. One that
 * never will (sent while they blocked me: it never enters their mailbox) stays ✓ however far
 * their mark moves; one whose receipt is still on its way turns read when it comes (see
 * `seenUpto` and chat-actions' `receipt`).
 */
const readByPeer = (m: ChatMessage) => (m.state === 'delivered' ? { ...m, state: 'read' as const } : m);

/**
 * A conversation after an update of it (`u.with` is its peer): edits, deletions and
 * reactions change the message and the quotes of it; `hide` removes it; `read` / `seen`
 * mark messages read. Both the stretch shown and the newest messages (`tail`) follow.
 */
/** Whether the peer's receipt (`seenUpto`) covers the message at `index` of `list`. */
export function seenCovers(list: readonly ChatMessage[], index: number, seenUpto: string | null): boolean {
  if (seenUpto === null) return false;
  const at = list.findIndex((m) => m.cursor === seenUpto);
  return at >= index;
}

export function applyToConversation(c: Conversation, u: UpdateFrame, me: string): Conversation {
  switch (u.kind) {
    case 'settings':
    case 'block':
      return c;
    case 'hide': {
      const key = messageKey(u.from, u.id);
      const messages = c.messages.filter((m) => m.key !== key);
      const tail = c.tail.filter((m) => m.key !== key);
      if (messages.length === c.messages.length && tail.length === c.tail.length) return c;
      return { ...c, messages, tail };
    }
    case 'read':
    case 'seen': {
      const covers =
        u.kind === 'read' ? (m: ChatMessage) => m.from !== me : (m: ChatMessage) => m.from === me;
      const mark = u.kind === 'read' ? readByMe : readByPeer;
      // The mark is in the tail (the newest messages): then everything in the stretch is older.
      const inTail = c.tail.some((m) => m.cursor === u.upto);
      const messages = markUpTo(c.messages, u.upto, covers, mark, !inTail);
      const tail = markUpTo(c.tail, u.upto, covers, mark, true);
      const readUpto = u.kind === 'read' ? u.upto : c.readUpto;
      const seenUpto = u.kind === 'seen' ? u.upto : c.seenUpto;
      if (messages === c.messages && tail === c.tail && readUpto === c.readUpto && seenUpto === c.seenUpto)
        return c;
      return { ...c, messages, tail, readUpto, seenUpto };
    }
    default: {
      const messages = mapList(c.messages, (m) => applyToMessage(m, u));
      const tail = mapList(c.tail, (m) => applyToMessage(m, u));
      if (messages === c.messages && tail === c.tail) return c;
      return { ...c, messages, tail };
    }
  }
}
