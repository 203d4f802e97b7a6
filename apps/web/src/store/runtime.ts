import type { PigeonClient } from '@pigeon/client';
import { DEFAULTS } from '../config';
import { chatActions } from './chat-actions';
import { featureActions } from './feature-actions';
import { type Fresh, type Incoming, isUpdate, type PreparedEntry } from './incoming';
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

/** New messages of one conversation that reached this device out of view, by one applied batch. */
export interface NewMessages {
  peer: string;
  count: number;
  last: ChatMessage | undefined;
}
type NewMessageListener = (fresh: NewMessages[]) => void;

let incoming: Incoming[] = [];
let incomingTimer: ReturnType<typeof setTimeout> | null = null;
const newMessageListeners = new Set<NewMessageListener>();

/** Called after each applied batch with the conversations that got new messages out of view. */
export function onNewMessages(listener: NewMessageListener): () => void {
  newMessageListeners.add(listener);
  return () => newMessageListeners.delete(listener);
}

/** Live entries are applied in batches (DEFAULTS.receiveBatchMs), so a long backlog is a few renders. */
export function queueIncoming(entry: Incoming): void {
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
 * Applies the batched entries now, in mailbox order: runs of messages together, each update
 * where it stands (an edit comes after the message it edits). Called before any answer
 * (history, conversations, receipt) is applied, so an entry is always seen first as the live
 * entry it is, not first as an old row of a list.
 */
export function flushIncoming(): void {
  if (incomingTimer !== null) clearTimeout(incomingTimer);
  incomingTimer = null;
  if (incoming.length === 0) return;
  const batch = incoming;
  incoming = [];
  const fresh = new Map<string, Fresh>();
  let run: PreparedEntry[] = [];
  const applyRun = () => {
    if (run.length === 0) return;
    const failed = chatActions.receivePrepared(run, fresh);
    for (const f of failed) console.error('pigeon: could not show message', f.message.id);
    run = [];
  };
  for (const entry of batch) {
    if (!isUpdate(entry)) {
      run.push(entry);
      continue;
    }
    applyRun();
    try {
      featureActions.applyUpdate(entry.update);
    } catch (err) {
      console.error('pigeon: could not apply update', entry.update.kind, err);
    }
  }
  applyRun();
  if (newMessageListeners.size === 0 || fresh.size === 0) return;
  const news = [...fresh].map(([peer, f]) => ({ peer, count: f.count, last: f.last }));
  for (const listener of newMessageListeners) listener(news);
}
