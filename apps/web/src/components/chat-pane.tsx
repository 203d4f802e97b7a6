import { useEffect, useRef } from 'react';
import { useT } from '../i18n/use-strings';
import { navigateTo } from '../lib/navigation';
import { useChatStore } from '../store/chat-store';
import { selectActiveConversation } from '../store/selectors';
import { Avatar } from './avatar';
import { Composer } from './composer';
import { MessageLog } from './message-log';

export function ChatPane() {
  const t = useT();
  const conversation = useChatStore(selectActiveConversation);
  const me = useChatStore((s) => s.me);
  const online = useChatStore((s) => (s.activePeer ? s.presence.get(s.activePeer) === true : false));
  const typing = useChatStore((s) => (s.activePeer ? s.typingUntil.has(s.activePeer) : false));
  const titleRef = useRef<HTMLHeadingElement>(null);
  const peerId = conversation?.peer;

  // Opening a chat from the list moves the focus into it: to the composer where there is room
  // for both panes, to the chat's title on a phone (the list just disappeared, and focusing
  // the composer would pop up the keyboard unasked).
  useEffect(() => {
    if (!peerId) return;
    const active = document.activeElement;
    if (active && active !== document.body && !active.closest('.sidebar')) return;
    if (matchMedia('(max-width: 640px)').matches) titleRef.current?.focus();
    else document.querySelector<HTMLTextAreaElement>('.composer textarea')?.focus();
  }, [peerId]);

  if (!conversation) {
    return (
      <section className="chat-pane is-empty" aria-label={t('pickConversation')}>
        <p>{t('pickConversation')}</p>
      </section>
    );
  }
  const peer = conversation.peer;
  return (
    <section className="chat-pane" aria-labelledby="chat-title">
      <div className="chat-header">
        <button
          type="button"
          className="back-button"
          onClick={() => navigateTo(null)}
          aria-label={t('backToList')}
        >
          <span aria-hidden="true">←</span>
        </button>
        <Avatar user={peer} online={online} />
        <div className="chat-title-block">
          <h2 id="chat-title" className="chat-title" ref={titleRef} tabIndex={-1}>
            {peer === me ? t('noteToSelf', { user: peer }) : peer}
          </h2>
          <p className="chat-subtitle">
            {typing ? t('typing', { user: peer }) : online ? t('online') : '\u00a0'}
          </p>
        </div>
      </div>
      <MessageLog key={`log-${peer}`} conversation={conversation} />
      {/* The header shows it; this tells screen readers, which do not watch the header. */}
      <div className="sr-only" aria-live="polite">
        {typing ? t('typing', { user: peer }) : ''}
      </div>
      <Composer key={`composer-${peer}`} peer={peer} />
    </section>
  );
}
