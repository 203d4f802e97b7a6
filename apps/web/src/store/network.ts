import type { ClientStatus, PigeonClient } from '@pigeon/client';
import { chatActions } from './chat-actions';

/**
 * The connection status the header shows, from the client's status and the browser's own
 * knowledge of the network. The browser's `offline` event arrives at once when the network
 * goes away, long before a silent socket would be noticed: the status says "waiting for
 * network" immediately, nobody is shown online any more, and the client is made to drop its
 * socket. The `online` event makes the client try again at once (ClientOptions.onNetworkOnline).
 */
export function watchNetwork(client: PigeonClient): () => void {
  const show = (s: ClientStatus) => {
    const noNetwork = navigator.onLine === false && s.state !== 'unauthorized';
    chatActions.setStatus(
      noNetwork ? { kind: 'no-network' } : { kind: s.state, nextAttemptAt: s.nextAttemptAt },
    );
    // The server reports everyone's state again after the next subscription.
    if (noNetwork || (s.state !== 'online' && s.state !== 'syncing')) chatActions.forgetPresence();
  };
  const offStatus = client.on('status', show);
  const wentOffline = () => {
    show(client.status.get());
    if (client.user && client.status.get().state !== 'unauthorized') reconnectNow(client);
  };
  const cameBack = () => show(client.status.get());
  addEventListener('offline', wentOffline);
  addEventListener('online', cameBack);
  return () => {
    offStatus();
    removeEventListener('offline', wentOffline);
    removeEventListener('online', cameBack);
  };
}

/**
 * Drops the current socket (it may be dead without knowing it) and connects again right away,
 * or waits for the network when there is none. Used by "Retry now" and when the network changes.
 */
export function reconnectNow(client: PigeonClient): void {
  if (!client.user) return;
  client.stop();
  void client.start().catch(() => undefined);
}
