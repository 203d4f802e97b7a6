import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { translate } from '../../src/i18n/strings';
import { alertNewMessages, closeReadNotifications } from '../../src/store/alerts';
import { chatActions } from '../../src/store/chat-actions';
import { useChatStore } from '../../src/store/chat-store';
import { featureActions } from '../../src/store/feature-actions';
import { messageKey } from '../../src/store/message-model';

/** Desktop notifications and the chime for new messages: only in the background, as chosen. */
const shown: { title: string; body?: string; tag?: string }[] = [];
const closed: string[] = [];
class FakeNotification {
  static permission: NotificationPermission = 'granted';
  onclick: (() => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(
    title: string,
    private readonly options?: NotificationOptions,
  ) {
    shown.push({ title, body: options?.body, tag: options?.tag });
  }
  close(): void {
    closed.push(this.options?.tag ?? '');
  }
}

function fresh(peer: string, count: number, body = 'hello there') {
  return {
    peer,
    count,
    last: {
      key: messageKey(peer, 'm'),
      id: 'm',
      from: peer,
      to: 'alice',
      body,
      ts: 1,
      confirmed: true,
      state: 'received' as const,
    },
  };
}

let focused = true;
beforeEach(() => {
  shown.length = 0;
  closed.length = 0;
  vi.stubGlobal('Notification', FakeNotification);
  vi.spyOn(document, 'hasFocus').mockImplementation(() => focused);
  chatActions.reset('en');
  chatActions.signedIn('alice');
  chatActions.setPreferences({ notify: true, sound: true });
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  focused = true;
});

describe('alerts for new messages', () => {
  it('shows nothing while Pigeon is in front', () => {
    alertNewMessages([fresh('bob', 1)]);
    expect(shown).toEqual([]);
  });

  it('notifies per conversation with the sender and a preview in the background', () => {
    focused = false;
    alertNewMessages([fresh('bob', 1), fresh('carol', 3, 'x'.repeat(300))]);
    expect(shown).toEqual([
      { title: 'bob', body: 'hello there', tag: 'pigeon:bob' },
      {
        title: `carol · ${translate('en', 'notificationMany', { count: 3 })}`,
        body: `${'x'.repeat(139)}…`,
        tag: 'pigeon:carol',
      },
    ]);
  });

  it('cuts a preview at 140 characters: 140 stay whole, 141 end in an ellipsis', () => {
    focused = false;
    alertNewMessages([fresh('bob', 1, 'y'.repeat(140))]);
    alertNewMessages([fresh('bob', 1, 'y'.repeat(141))]);
    expect(shown.map((n) => n.body)).toEqual(['y'.repeat(140), `${'y'.repeat(139)}…`]);
  });

  it('respects the setting and the permission', () => {
    focused = false;
    chatActions.setPreferences({ notify: false });
    alertNewMessages([fresh('bob', 1)]);
    chatActions.setPreferences({ notify: true });
    FakeNotification.permission = 'denied';
    alertNewMessages([fresh('bob', 1)]);
    FakeNotification.permission = 'granted';
    expect(shown).toEqual([]);
  });

  it('never notifies for someone I blocked', () => {
    focused = false;
    featureActions.setSettings({ readReceipts: true, blocked: ['bob'] });
    alertNewMessages([fresh('bob', 2), fresh('carol', 1)]);
    expect(shown.map((n) => n.title)).toEqual(['carol']);
  });

  it('takes a notification away once its conversation was read, here or on another device', () => {
    focused = false;
    featureActions.setFeatures(['read']);
    featureActions.setReadStates({
      bob: { unread: 1, readUpto: null },
      carol: { unread: 2, readUpto: null },
    });
    alertNewMessages([fresh('bob', 1), fresh('carol', 2)]);
    const before = useChatStore.getState();
    // The server's count for bob drops to 0 (read on the phone); carol's stays.
    featureActions.setReadStates({ bob: { unread: 0, readUpto: 'c9' } });
    closeReadNotifications(useChatStore.getState(), before);
    expect(closed).toEqual(['pigeon:bob']);
  });
});
