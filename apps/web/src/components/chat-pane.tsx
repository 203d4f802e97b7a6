import { type DragEvent, useEffect, useRef, useState } from 'react';
import { useT } from '../i18n/use-strings';
import { navigateTo } from '../lib/navigation';
import { addFiles } from '../store/attachment-actions';
import { useChatStore } from '../store/chat-store';
import { selectActiveConversation } from '../store/selectors';
import { Avatar } from './avatar';
import { ChatOptions } from './chat-options';
import { Composer } from './composer';
import { ImageViewer } from './image-viewer';
import { MessageLog } from './message-log';

export function ChatPane() {
  const t = useT();
  const conversation = useChatStore(selectActiveConversation);
  const me = useChatStore((s) => s.me);
  const online = useChatStore((s) => (s.activePeer ? s.presence.get(s.activePeer) === true : false));
  const typing = useChatStore((s) => (s.activePeer ? s.typingUntil.has(s.activePeer) : false));
  const titleRef = useRef<HTMLHeadingElement>(null);
  const peerId = conversation?.peer;
  const canAttach = useChatStore(
    (s) => s.features.has('files') && !(s.activePeer && s.blocked?.includes(s.activePeer)),
  );
  const viewing = useChatStore((s) => s.viewer !== null && s.viewer.peer === s.activePeer);
  const [dropping, setDropping] = useState(false);

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
  // Files dragged onto the conversation join its composer's tray.
  const hasFiles = (e: DragEvent) => canAttach && [...e.dataTransfer.types].includes('Files');
  return (
    <section
      className={`chat-pane${dropping ? ' is-dropping' : ''}`}
      aria-labelledby="chat-title"
      onDragEnter={(e) => {
        if (hasFiles(e)) setDropping(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={(e) => {
        // Leaving for a child is not leaving the conversation.
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropping(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setDropping(false);
        addFiles(peer, [...e.dataTransfer.files]);
      }}
    >
      {dropping && (
        <div className="drop-overlay" aria-hidden="true">
          <p>{t('dropFiles')}</p>
        </div>
      )}
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
        <ChatOptions peer={peer} />
      </div>
      <MessageLog key={`log-${peer}`} conversation={conversation} />
      {/* The header shows it; this tells screen readers, which do not watch the header. */}
      <div className="sr-only" aria-live="polite">
        {typing ? t('typing', { user: peer }) : ''}
      </div>
      <Composer key={`composer-${peer}`} peer={peer} />
      {viewing && <ImageViewer />}
    </section>
  );
}
