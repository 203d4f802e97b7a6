import type { PigeonClient } from '@pigeon/client';
import { DEFAULTS } from '../config';
import { chatActions } from './chat-actions';
import { useChatStore } from './chat-store';
import type { PreparedEntry } from './incoming';
import type { ChatMessage } from './message-model';

/**
 * The page's one client and the queue of incoming entries. They
 * live here, at module level, never in React state: components read the store and call the
 * actions of client-bridge.ts and conversation-actions.ts, which reach the client through here.
 */
let client: PigeonClient | null = null;

export function activeClient(): PigeonClient | null {
  return client;
}

export function setActiveClient(c: PigeonClient): void {
  client = c;
}

/** New messages of one conversation that were counted as unread by one applied batch. */
export interface NewMessages {
  peer: string;
  count: number;
  last: ChatMessage | undefined;
}
type NewMessageListener = (fresh: NewMessages[]) => void;

let incoming: PreparedEntry[] = [];
let incomingTimer: ReturnType<typeof setTimeout> | null = null;
const newMessageListeners = new Set<NewMessageListener>();

/** Called after each applied batch with the conversations that got new unread messages. */
export function onNewMessages(listener: NewMessageListener): () => void {
  newMessageListeners.add(listener);
  return () => newMessageListeners.delete(listener);
}

/** Live entries are applied in batches (DEFAULTS.receiveBatchMs), so a long backlog is a few renders. */
export function queueIncoming(entry: PreparedEntry): void {
  incoming.push(entry);
  if (incomingTimer === null) incomingTimer = setTimeout(flushIncoming, DEFAULTS.receiveBatchMs);
}

/** The session ended: entries not applied yet were that user's. */
export function dropIncoming(): void {
  if (incomingTimer !== null) clearTimeout(incomingTimer);
  incomingTimer = null;
  incoming = [];
}

/**
 * Applies the batched entries now. Called before any answer (history, conversations,
 * receipt) is applied, so an entry is always seen first as the live message it is and
 * counted as unread, not first as an old row of a list.
 */
export function flushIncoming(): void {
  if (incomingTimer !== null) clearTimeout(incomingTimer);
  incomingTimer = null;
  if (incoming.length === 0) return;
  const batch = incoming;
  incoming = [];
  const before = new Map<string, number>();
  for (const { peer } of batch)
    before.set(peer, useChatStore.getState().conversations.get(peer)?.unread ?? 0);
  const failed = chatActions.receivePrepared(batch);
  for (const f of failed) console.error('pigeon: could not show message', f.message.id);
  if (newMessageListeners.size === 0) return;
  const conversations = useChatStore.getState().conversations;
  const fresh: NewMessages[] = [];
  for (const [peer, was] of before) {
    const count = (conversations.get(peer)?.unread ?? 0) - was;
    if (count <= 0) continue;
    const theirs = batch.filter((e) => e.peer === peer && e.message.state === 'received');
    fresh.push({ peer, count, last: theirs[theirs.length - 1]?.message });
  }
  if (fresh.length > 0) for (const listener of newMessageListeners) listener(fresh);
}
