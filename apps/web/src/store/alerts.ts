import { translate } from '../i18n/strings';
import { navigateTo } from '../lib/navigation';
import { inBackground, playChime, showNotification } from '../lib/notifications';
import { useChatStore } from './chat-store';
import type { NewMessages } from './runtime';

/**
 * New messages that were counted as unread (so never for the conversation open in a visible
 * tab) become a desktop notification and a chime, but only while Pigeon is in the background:
 * in front, the list's badges say it already.
 */
export function alertNewMessages(fresh: readonly NewMessages[]): void {
  if (!inBackground()) return;
  const { preferences, language } = useChatStore.getState();
  if (preferences.notify) {
    for (const { peer, count, last } of fresh) {
      if (!last) continue;
      const title = count > 1 ? `${peer} · ${translate(language, 'notificationMany', { count })}` : peer;
      showNotification(title, last.body, `pigeon:${peer}`, () => navigateTo(peer));
    }
  }
  if (preferences.sound) playChime();
}
