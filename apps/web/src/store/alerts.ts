import { translate } from '../i18n/strings';
import { navigateTo } from '../lib/navigation';
import { closeNotification, inBackground, playChime, showNotification } from '../lib/notifications';
import { type ChatState, useChatStore } from './chat-store';
import type { NewMessages } from './runtime';

/**
 * New messages that arrived out of view (so never for the conversation open in a visible
 * tab) become a desktop notification and a chime, but only while Pigeon is in the background:
 * in front, the list's badges say it already.
 */
export function alertNewMessages(all: readonly NewMessages[]): void {
  if (!inBackground()) return;
  const { preferences, language, blocked } = useChatStore.getState();
  // Never for someone I blocked (what they sent before the block may still be replayed).
  const fresh = blocked ? all.filter((f) => !blocked.includes(f.peer)) : all;
  if (fresh.length === 0) return;
  if (preferences.notify) {
    for (const { peer, count, last } of fresh) {
      if (!last) continue;
      const title = count > 1 ? `${peer} · ${translate(language, 'notificationMany', { count })}` : peer;
      const body = last.body !== '' ? last.body : (last.files ?? []).map((f) => `📎 ${f.name}`).join(' ');
      showNotification(title, body, `pigeon:${peer}`, () => navigateTo(peer));
    }
  }
  if (preferences.sound) playChime();
}

/**
 * A conversation read to the end (here, or on another device: the server's unread count went
 * to 0) takes its notification away, so no device keeps announcing what was read.
 */
export function closeReadNotifications(s: ChatState, prev: ChatState): void {
  if (s.conversations === prev.conversations) return;
  for (const [peer, c] of s.conversations) {
    const before = prev.conversations.get(peer);
    if (c.unread === 0 && before !== undefined && before.unread > 0) closeNotification(`pigeon:${peer}`);
  }
}
