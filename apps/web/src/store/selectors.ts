import { type ChatState, type Conversation, newestOf } from './chat-store';
import type { ChatMessage } from './message-model';

interface ConversationRow {
  peer: string;
  last: ChatMessage | undefined;
  unread: number;
  online: boolean;
  /** The unsent text in this conversation's composer, if any. */
  draft: string | undefined;
}

function lastActivity(c: Conversation): number {
  return newestOf(c)?.ts ?? 0;
}

let rowsCache: {
  conversations: ChatState['conversations'];
  presence: ChatState['presence'];
  drafts: ChatState['drafts'];
  activePeer: ChatState['activePeer'];
  rows: ConversationRow[];
} | null = null;

/**
 * The sidebar: conversations with at least one message, a draft, or open, newest activity
 * first (a message still sending counts as the newest), ties by peer id so the order is
 * stable. Memoized on every input it reads (the open conversation decides whether an empty
 * one is listed) so that React sees the same array while nothing relevant changed.
 */
export function selectConversationRows(s: ChatState): ConversationRow[] {
  const c = rowsCache;
  if (
    c &&
    c.conversations === s.conversations &&
    c.presence === s.presence &&
    c.drafts === s.drafts &&
    c.activePeer === s.activePeer
  ) {
    return c.rows;
  }
  const rows = [...s.conversations.values()]
    .filter((c) => newestOf(c) !== undefined || c.peer === s.activePeer || s.drafts.has(c.peer))
    .sort((a, b) => lastActivity(b) - lastActivity(a) || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
    .map((c) => ({
      peer: c.peer,
      last: newestOf(c),
      unread: c.unread,
      online: s.presence.get(c.peer) === true,
      draft: s.drafts.get(c.peer),
    }));
  rowsCache = {
    conversations: s.conversations,
    presence: s.presence,
    drafts: s.drafts,
    activePeer: s.activePeer,
    rows,
  };
  return rows;
}

/** Unread messages over all conversations: the tab title and the favicon badge show it. */
export function selectTotalUnread(s: ChatState): number {
  let n = 0;
  for (const c of s.conversations.values()) n += c.unread;
  return n;
}

export function selectActiveConversation(s: ChatState): Conversation | undefined {
  return s.activePeer === null ? undefined : s.conversations.get(s.activePeer);
}

/** Peers whose online state we want: everyone in the sidebar and the open conversation. */
export function selectPresencePeers(s: ChatState): string[] {
  const peers = new Set<string>();
  for (const c of s.conversations.values()) if (newestOf(c) !== undefined) peers.add(c.peer);
  if (s.activePeer) peers.add(s.activePeer);
  if (s.me) peers.delete(s.me);
  return [...peers].sort();
}

/** The tab title: the unread total whenever there is one (also while the tab is visible). */
export function titleFor(total: number, withCount: (n: number) => string, plain: string): string {
  return total > 0 ? withCount(total) : plain;
}
