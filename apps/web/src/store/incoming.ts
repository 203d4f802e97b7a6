import type { MsgFrame } from '@pigeon/protocol';
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

/** Applies one peer's new entries to the state being built (mutates only the fresh maps given). */
export function applyPeer(
  s: ChatState,
  peer: string,
  list: readonly ChatMessage[],
  out: { conversations: Map<string, Conversation>; readMarks: Map<string, ReadMark> },
): boolean {
  const c = out.conversations.get(peer) ?? emptyConversation(peer);
  const known = new Set(c.messages.map((m) => m.key));
  let unread = c.unread;
  let mark = out.readMarks.get(peer);
  let stoppedTyping = false;
  const viewing = isViewing(s, peer);
  for (const m of list) {
    if (m.state !== 'received') continue;
    // They sent a message, so they stopped typing it.
    stoppedTyping = true;
    if (known.has(m.key) || counted(mark, m)) continue;
    known.add(m.key);
    if (!viewing) unread++;
    mark = markThrough(mark, m);
  }
  if (viewing) {
    const last = list[list.length - 1];
    if (last) mark = markThrough(mark, last);
  }
  const messages = mergeMessages(c.messages, list);
  if (mark) out.readMarks.set(peer, mark);
  out.conversations.set(peer, { ...c, messages, unread });
  return stoppedTyping;
}
