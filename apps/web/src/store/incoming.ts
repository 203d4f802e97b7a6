import type { MsgFrame, UpdateFrame } from '@pigeon/protocol';
import type { ChatState, Conversation, ReadMark } from './chat-store';
import { emptyConversation } from './chat-store';
import { type ChatMessage, fromFrame, mergeMessages, peerOf } from './message-model';

/**
 * Applying mailbox entries from the live stream or the backlog replay: each entry is checked
 * and converted on its own first (prepareIncoming), so one that cannot be handled is refused
 * alone, then a batch is applied per conversation (applyPeer).
 */

/**
 * Arrival numbers (see ChatMessage.seq): live entries count up from 0, history counts down,
 * so on equal timestamps history sorts before what arrived live, and each page keeps its order.
 */
let seqLive = 0;
let seqHistory = 0;
export function historySeqs(count: number): number {
  seqHistory -= count;
  return seqHistory;
}

export function isViewing(s: ChatState, peer: string): boolean {
  return s.activePeer === peer && s.visible;
}

export function markThrough(mark: ReadMark | undefined, m: ChatMessage): ReadMark {
  if (!mark || m.ts > mark.ts) return { ts: m.ts, keys: [m.key] };
  if (m.ts === mark.ts && !mark.keys.includes(m.key)) return { ts: m.ts, keys: [...mark.keys, m.key] };
  return mark;
}

function counted(mark: ReadMark | undefined, m: ChatMessage): boolean {
  if (!mark) return false;
  return m.ts < mark.ts || (m.ts === mark.ts && mark.keys.includes(m.key));
}

/** An incoming mailbox entry, checked and converted on its own (see prepareIncoming). */
export interface PreparedEntry {
  peer: string;
  message: ChatMessage;
}

/** An update entry (an edit, a read mark...), checked on its own like a message (see prepareUpdate). */
export interface PreparedUpdate {
  update: UpdateFrame;
}

/** What the queue of incoming entries holds, in mailbox order. */
export type Incoming = PreparedEntry | PreparedUpdate;

export function isUpdate(e: Incoming): e is PreparedUpdate {
  return 'update' in e;
}

const UPDATE_KINDS = new Set(['read', 'seen', 'settings', 'edit', 'delete', 'hide', 'react', 'block']);

/**
 * Checks an update entry before it is queued: one the app cannot handle throws, so the
 * client does not acknowledge it (as for messages). Kinds this app does not know are
 * refused the same way rather than acknowledged unseen.
 */
export function prepareUpdate(u: UpdateFrame): PreparedUpdate {
  if (typeof u !== 'object' || u === null || !UPDATE_KINDS.has(u.kind))
    throw new TypeError(`update of an unknown kind ${String((u as { kind?: unknown })?.kind)}`);
  if ('with' in u && typeof u.with !== 'string') throw new TypeError(`update ${u.kind} without a peer`);
  return { update: u };
}

/**
 * Checks one mailbox entry and turns it into what the log shows. Throws for an entry it
 * cannot handle, so the caller can refuse that entry alone (and not acknowledge it) while
 * the others go through.
 */
export function prepareIncoming(me: string, f: MsgFrame): PreparedEntry {
  if (typeof f.from !== 'string' || typeof f.to !== 'string' || typeof f.id !== 'string')
    throw new TypeError('mailbox entry without from/to/id');
  if (typeof f.body !== 'string' || typeof f.ts !== 'number' || !Number.isFinite(f.ts))
    throw new TypeError(`mailbox entry ${f.id} without a body or time`);
  if (f.from !== me && f.to !== me) throw new TypeError(`mailbox entry ${f.id} is not mine`);
  return { peer: peerOf(me, f), message: fromFrame(me, f, ++seqLive) };
}

/** New messages of one conversation that reached this device by one applied batch. */
export interface Fresh {
  count: number;
  last: ChatMessage | undefined;
}

/**
 * Applies one peer's new entries to the state being built (mutates only the fresh maps
 * given). Without the `read` feature unread messages are counted here (with it the server
 * counts them, see client-bridge.ts); either way the messages from the peer that are new
 * here and arrived while the conversation was not in view are reported in `fresh`.
 */
export function applyPeer(
  s: ChatState,
  peer: string,
  list: readonly ChatMessage[],
  out: { conversations: Map<string, Conversation>; readMarks: Map<string, ReadMark> },
  fresh?: Map<string, Fresh>,
): boolean {
  const c = out.conversations.get(peer) ?? emptyConversation(peer);
  const known = new Set(c.messages.map((m) => m.key));
  for (const m of c.tail) known.add(m.key);
  const serverCounts = s.features.has('read');
  let unread = c.unread;
  let mark = out.readMarks.get(peer);
  let stoppedTyping = false;
  const viewing = isViewing(s, peer);
  let news = 0;
  let lastNew: ChatMessage | undefined;
  for (const m of list) {
    if (m.state !== 'received') continue;
    // They sent a message, so they stopped typing it.
    stoppedTyping = true;
    if (known.has(m.key) || (serverCounts ? m.read === true : counted(mark, m))) continue;
    known.add(m.key);
    if (!viewing) {
      news++;
      lastNew = m;
      if (!serverCounts) unread++;
    }
    if (!serverCounts) mark = markThrough(mark, m);
  }
  if (viewing && !serverCounts) {
    const last = list[list.length - 1];
    if (last) mark = markThrough(mark, last);
  }
  // A stretch that stops short of the newest messages: the new ones wait in the tail.
  const next = c.hasNewer
    ? { ...c, tail: mergeMessages(c.tail, list), unread }
    : { ...c, messages: mergeMessages(c.messages, list), unread };
  if (mark) out.readMarks.set(peer, mark);
  out.conversations.set(peer, next);
  if (fresh && news > 0) {
    const before = fresh.get(peer);
    fresh.set(peer, { count: (before?.count ?? 0) + news, last: lastNew });
  }
  return stoppedTyping;
}
