import { useEffect, useRef } from 'react';
import { DEFAULTS } from '../config';
import type { StringKey } from '../i18n/strings';
import { useT } from '../i18n/use-strings';
import { navigateTo } from '../lib/navigation';
import { formatShort } from '../lib/time-format';
import { useChatStore } from '../store/chat-store';
import type { MessageState } from '../store/message-model';
import { selectConversationRows } from '../store/selectors';
import { Avatar } from './avatar';

const LIST_TICKS: Partial<Record<MessageState, string>> = {
  sending: '◷',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
};

/** My last message's state in its row, as in the log: ✓ sent, ✓✓ delivered, ✓✓ in colour read. */
function ListTick({ state }: { state: MessageState }) {
  const t = useT();
  const mark = LIST_TICKS[state];
  if (!mark) return null;
  return (
    <span className={`tick tick-${state} list-tick`} data-testid="list-tick" data-state={state}>
      <span aria-hidden="true">{mark}</span>
      <span className="sr-only">{t(`state_${state}` as StringKey)}, </span>
    </span>
  );
}

/** A message in one line: its text, or for attachments without a caption, their names. */
export function previewText(m: {
  body: string;
  files?: readonly { name: string }[];
  uploads?: readonly { name: string }[];
}): string {
  if (m.body !== '') return m.body;
  const files = m.files ?? m.uploads ?? [];
  return files.map((f) => `📎 ${f.name}`).join(' ');
}

export function ConversationList() {
  const t = useT();
  const rows = useChatStore(selectConversationRows);
  const me = useChatStore((s) => s.me);
  const active = useChatStore((s) => s.activePeer);
  const language = useChatStore((s) => s.language);
  const typingUntil = useChatStore((s) => s.typingUntil);
  const listRef = useRef<HTMLUListElement>(null);
  const lastActive = useRef<string | null>(null);

  // Coming back from a chat on a phone (its pane, and the focused back button, are gone):
  // the focus returns to that chat's row.
  useEffect(() => {
    const previous = lastActive.current;
    lastActive.current = active;
    if (active !== null || previous === null) return;
    const focused = document.activeElement;
    if (focused && focused !== document.body && !focused.closest('.chat-pane')) return;
    listRef.current?.querySelector<HTMLButtonElement>(`button[data-peer="${CSS.escape(previous)}"]`)?.focus();
  }, [active]);

  if (rows.length === 0) return <p className="empty-list">{t('noConversations')}</p>;
  const words = { today: t('today'), yesterday: t('yesterday') };
  return (
    <ul className="conversation-list" ref={listRef}>
      {rows.map((row) => {
        const last = row.last;
        const typing = typingUntil.has(row.peer);
        const draft = row.peer !== active ? row.draft : undefined;
        const name = row.peer === me ? t('noteToSelf', { user: row.peer }) : row.peer;
        return (
          <li key={row.peer}>
            <button
              type="button"
              className={`conversation${row.peer === active ? ' is-active' : ''}${row.unread > 0 ? ' has-unread' : ''}`}
              aria-current={row.peer === active ? 'true' : undefined}
              data-peer={row.peer}
              onClick={() => navigateTo(row.peer)}
            >
              <Avatar user={row.peer} online={row.online} />
              <span className="conversation-main">
                <span className="conversation-top">
                  <span className="conversation-name" dir="auto">
                    {name}
                  </span>
                  {row.online && <span className="sr-only">, {t('online')}</span>}
                  {last && (
                    <time className="conversation-time" dateTime={new Date(last.ts).toISOString()}>
                      {formatShort(last.ts, language, words)}
                    </time>
                  )}
                </span>
                <span className="conversation-bottom">
                  {typing ? (
                    <span className="conversation-preview is-typing">{t('typing', { user: row.peer })}</span>
                  ) : draft ? (
                    <span className="conversation-preview" data-testid="draft">
                      <span className="draft-label">{t('draftPrefix')}</span>
                      <bdi>{draft}</bdi>
                    </span>
                  ) : (
                    <span className="conversation-preview">
                      {last && last.from === me && row.peer !== me && <ListTick state={last.state} />}
                      {last && last.from === me && row.peer !== me ? t('youPrefix') : ''}
                      {last &&
                        (last.deleted ? (
                          <i>{last.from === me ? t('deletedByMe') : t('deletedMessage')}</i>
                        ) : (
                          <bdi>{previewText(last)}</bdi>
                        ))}
                    </span>
                  )}
                  {row.unread > 0 && (
                    <span className="unread-badge" data-testid="unread">
                      <span aria-hidden="true">
                        {row.unread > DEFAULTS.unreadBadgeMax ? `${DEFAULTS.unreadBadgeMax}+` : row.unread}
                      </span>
                      <span className="sr-only">{t('unreadCount', { count: row.unread })}</span>
                    </span>
                  )}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
