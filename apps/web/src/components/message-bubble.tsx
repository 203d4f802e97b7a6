import { memo } from 'react';
import type { StringKey } from '../i18n/strings';
import { type Translate, useT } from '../i18n/use-strings';
import { isEmojiOnly, splitLinks } from '../lib/message-text';
import { formatClock } from '../lib/time-format';
import { useChatStore } from '../store/chat-store';
import { discard, retry } from '../store/conversation-actions';
import type { ChatMessage } from '../store/message-model';

function failureText(t: Translate, code: string | undefined): string {
  if (code === 'too_large' || code === 'no_such_user' || code === 'rate_limited') {
    return t(`failed_${code}` as StringKey);
  }
  return t('failed_other', { code: code ?? 'internal' });
}

/** Sending ◷, sent ✓, delivered ✓✓ (grey, like sent: chat users read blue as "read"), failed !. */
const TICKS: Record<string, string> = { sending: '◷', sent: '✓', delivered: '✓✓', failed: '!' };

/**
 * The body with its links. Text is always a React text child, so whatever a message contains
 * (markup included) is shown as text and never parsed as HTML; links are only http(s) and
 * mailto (see splitLinks) and open in a new tab without giving it this page.
 */
function MessageText({ body }: { body: string }) {
  return (
    <p className={`bubble-text${isEmojiOnly(body) ? ' is-emoji' : ''}`} dir="auto">
      {splitLinks(body).map((part, i) =>
        part.kind === 'link' ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one body never reorder
          <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">
            {part.text}
          </a>
        ) : (
          part.text
        ),
      )}
    </p>
  );
}

export const MessageBubble = memo(function MessageBubble({ message: m }: { message: ChatMessage }) {
  const t = useT();
  const me = useChatStore((s) => s.me);
  const language = useChatStore((s) => s.language);
  const mine = m.from === me;
  const clock = formatClock(m.ts, language);
  return (
    <div className={`bubble-row ${mine ? 'is-mine' : 'is-theirs'}`}>
      <div className={`bubble state-${m.state}`} data-state={m.state} data-id={m.id}>
        <span className="sr-only">
          {mine ? t('messageFromYou', { time: clock }) : t('messageFrom', { user: m.from, time: clock })}:{' '}
        </span>
        <MessageText body={m.body} />
        <span className="bubble-meta">
          <time dateTime={new Date(m.ts).toISOString()} aria-hidden="true">
            {clock}
          </time>
          {mine && m.state !== 'received' && (
            <span className={`tick tick-${m.state}`}>
              <span aria-hidden="true">{TICKS[m.state]}</span>
              <span className="sr-only">{t(`state_${m.state}` as StringKey)}</span>
            </span>
          )}
        </span>
        {m.state === 'failed' && (
          <div className="bubble-failed">
            <span>{failureText(t, m.errorCode)}</span>
            <span className="bubble-actions">
              <button type="button" className="quiet-button small" onClick={() => retry(m.id)}>
                {t('retry')}
              </button>
              <button type="button" className="quiet-button small" onClick={() => discard(m.id)}>
                {t('discard')}
              </button>
            </span>
          </div>
        )}
      </div>
    </div>
  );
});
