import type { PigeonClient } from '@pigeon/client';
import { chatActions } from './chat-actions';

/**
 * The browser knows at once when the network goes away (`offline`), long before a silent
 * socket would be noticed; it is passed to the client (`setNetwork`), which drops the
 * connection and says `waiting_for_network` right away, and tries again the moment `online`
 * fires. The header shows the client's status; without a connection nobody's presence is
 * known, so no one is shown online until the server reports them again.
 */
export function watchNetwork(client: PigeonClient): () => void {
  const offStatus = client.on('status', (s) => {
    chatActions.setStatus({ kind: s.state, nextAttemptAt: s.nextAttemptAt });
    // The server reports everyone's state again after the next subscription.
    if (s.state !== 'online' && s.state !== 'syncing') chatActions.forgetPresence();
  });
  const tell = () => client.setNetwork(navigator.onLine !== false);
  addEventListener('offline', tell);
  addEventListener('online', tell);
  tell();
  return () => {
    offStatus();
    removeEventListener('offline', tell);
    removeEventListener('online', tell);
  };
}
