import type { ChatState, Conversation } from './chat-store';
import type { ChatMessage } from './message-model';

export interface ConversationRow {
  peer: string;
  last: ChatMessage | undefined;
  unread: number;
  online: boolean;
}

function lastActivity(c: Conversation): number {
  const last = c.messages[c.messages.length - 1];
  return last ? last.ts : 0;
}

let rowsCache: {
  conversations: ChatState['conversations'];
  presence: ChatState['presence'];
  rows: ConversationRow[];
} | null = null;

/**
 * The sidebar: conversations with at least one message, newest activity first (a message
 * still sending counts as the newest), ties by peer id so the order is stable. Memoized on
 * its inputs so that React sees the same array while nothing relevant changed.
 */
export function selectConversationRows(s: ChatState): ConversationRow[] {
  if (rowsCache && rowsCache.conversations === s.conversations && rowsCache.presence === s.presence) {
    return rowsCache.rows;
  }
  const rows = Object.values(s.conversations)
    .filter((c) => c.messages.length > 0 || c.peer === s.activePeer)
    .sort((a, b) => lastActivity(b) - lastActivity(a) || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
    .map((c) => ({
      peer: c.peer,
      last: c.messages[c.messages.length - 1],
      unread: c.unread,
      online: s.presence[c.peer] === true,
    }));
  rowsCache = { conversations: s.conversations, presence: s.presence, rows };
  return rows;
}

/** Unread messages over all conversations: the tab title shows it while the tab is hidden. */
export function selectTotalUnread(s: ChatState): number {
  let n = 0;
  for (const c of Object.values(s.conversations)) n += c.unread;
  return n;
}

export function selectActiveConversation(s: ChatState): Conversation | undefined {
  return s.activePeer ? s.conversations[s.activePeer] : undefined;
}

/** Peers whose online state we want: everyone in the sidebar and the open conversation. */
export function selectPresencePeers(s: ChatState): string[] {
  const peers = new Set<string>();
  for (const c of Object.values(s.conversations)) if (c.messages.length > 0) peers.add(c.peer);
  if (s.activePeer) peers.add(s.activePeer);
  if (s.me) peers.delete(s.me);
  return [...peers].sort();
}

/** The tab title for a total unread count while hidden. */
export function titleFor(
  total: number,
  hidden: boolean,
  withCount: (n: number) => string,
  plain: string,
): string {
  return hidden && total > 0 ? withCount(total) : plain;
}
