import { ClientErrorCode } from '@pigeon/client';
import { memo, type PointerEvent, useEffect, useRef } from 'react';
import { DEFAULTS } from '../config';
import type { StringKey } from '../i18n/strings';
import { en } from '../i18n/strings-en';
import { type Translate, useT } from '../i18n/use-strings';
import { isEmojiOnly, splitLinks } from '../lib/message-text';
import { groupReactions } from '../lib/reactions';
import { formatClock } from '../lib/time-format';
import { useChatStore } from '../store/chat-store';
import { discard, retry } from '../store/conversation-actions';
import { toggleReaction } from '../store/feature-requests';
import { showMessage } from '../store/log-positions';
import { type ChatMessage, peerOf } from '../store/message-model';
import { MessageFiles } from './message-files';

/** Each refusal a user can act on has its words (strings `failed_<code>`); others say their code. */
function failureText(t: Translate, code: string | undefined): string {
  const key = `failed_${code}`;
  if (code && code !== 'other' && Object.hasOwn(en, key)) return t(key as StringKey);
  return t('failed_other', { code: code ?? ClientErrorCode.internal });
}

/**
 * Sending ◷, sent ✓, delivered ✓✓ (grey, like sent), read ✓✓ in colour (the recipient had it
 * on screen, with read receipts on both sides), failed !.
 */
const TICKS: Record<string, string> = { sending: '◷', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

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

/** The quote of the message this one answers; choosing it shows the original (loading it if needed). */
function ReplyQuote({ m, me }: { m: ChatMessage; me: string | null }) {
  const t = useT();
  const q = m.replyTo;
  if (!q) return null;
  const author = q.from === me ? t('you') : q.from;
  const text = q.deleted ? t('quoteDeleted') : q.body === undefined ? t('quoteUnavailable') : q.body;
  const peer = me ? peerOf(me, m) : q.from;
  return (
    <button
      type="button"
      className={`reply-quote${q.deleted || q.body === undefined ? ' is-gone' : ''}`}
      onClick={() => void showMessage(peer, { from: q.from, id: q.id }, q.cursor)}
    >
      <span className="sr-only">{t('showOriginal')}:</span>{' '}
      <span className="reply-quote-author">{author}</span>
      <span className="sr-only">:</span>{' '}
      <span className="reply-quote-text" dir="auto">
        {text}
      </span>
    </button>
  );
}

/** Counts under the bubble; pressing one gives (or takes back) that reaction. */
function Reactions({ m, me }: { m: ChatMessage; me: string | null }) {
  const t = useT();
  const groups = groupReactions(m.reactions, me);
  if (groups.length === 0) return null;
  return (
    <ul className="reactions" aria-label={t('reactionsLabel')}>
      {groups.map((g) => {
        const users = g.by.map((u) => (u === me ? t('you') : u)).join(', ');
        return (
          <li key={g.emoji}>
            <button
              type="button"
              className={`reaction${g.mine ? ' is-mine' : ''}`}
              aria-pressed={g.mine}
              aria-label={t('reactionSummary', { emoji: g.emoji, count: g.by.length, users })}
              title={users}
              onClick={() => void toggleReaction(m, g.emoji)}
            >
              <span aria-hidden="true">{g.emoji}</span>
              <span className="reaction-count" aria-hidden="true">
                {g.by.length}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/**
 * A finger held still on a message opens its menu (iOS fires no `contextmenu` for it; Android
 * does, and the handler below takes whichever comes first).
 */
function useLongPress(open: ((anchor: HTMLElement) => void) | undefined) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const start = useRef<{ x: number; y: number } | null>(null);
  const cancel = () => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = null;
    start.current = null;
  };
  // Unmounted mid-press: the pending timer must not open a menu for a row that is gone.
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );
  if (!open) return {};
  return {
    onPointerDown: (e: PointerEvent<HTMLDivElement>) => {
      if (e.pointerType !== 'touch') return;
      cancel();
      const row = e.currentTarget;
      start.current = { x: e.clientX, y: e.clientY };
      timer.current = setTimeout(() => {
        timer.current = null;
        open(row.querySelector<HTMLElement>('.message-actions') ?? row);
      }, DEFAULTS.longPressMs);
    },
    onPointerMove: (e: PointerEvent<HTMLDivElement>) => {
      const s = start.current;
      // Scrolling is not a long press.
      if (s && Math.hypot(e.clientX - s.x, e.clientY - s.y) > 10) cancel();
    },
    onPointerUp: cancel,
    onPointerCancel: cancel,
  };
}

interface BubbleProps {
  message: ChatMessage;
  /** Opens the message menu at this bubble (its "⋯" button, a long press, a right click). */
  onMenu?: ((m: ChatMessage, anchor: HTMLElement) => void) | undefined;
  /** The menu is open for this message (the button says so). */
  menuOpen?: boolean | undefined;
  /** Marked for a moment: a search result or a quoted original brought into view. */
  focused?: boolean | undefined;
}

export const MessageBubble = memo(function MessageBubble({
  message: m,
  onMenu,
  menuOpen,
  focused,
}: BubbleProps) {
  const t = useT();
  const me = useChatStore((s) => s.me);
  const language = useChatStore((s) => s.language);
  const mine = m.from === me;
  const clock = formatClock(m.ts, language);
  const edited = m.edited !== undefined && !m.deleted;
  const press = useLongPress(onMenu ? (el) => onMenu(m, el) : undefined);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: long press and right click are shortcuts; the "⋯" button is the keyboard's way to the same menu
    <div
      className={`bubble-row ${mine ? 'is-mine' : 'is-theirs'}${focused ? ' is-focused' : ''}`}
      {...press}
      onContextMenu={
        onMenu
          ? (e) => {
              // A right click, or a long press on touch screens, opens the message menu.
              e.preventDefault();
              onMenu(m, e.currentTarget.querySelector<HTMLElement>('.message-actions') ?? e.currentTarget);
            }
          : undefined
      }
    >
      <div className="bubble-stack">
        <div
          className={`bubble state-${m.state}${m.deleted ? ' is-deleted' : ''}`}
          data-state={m.state}
          data-id={m.id}
        >
          <span className="sr-only">
            {mine ? t('messageFromYou', { time: clock }) : t('messageFrom', { user: m.from, time: clock })}:{' '}
          </span>
          {!m.deleted && <ReplyQuote m={m} me={me} />}
          {me && <MessageFiles m={m} peer={peerOf(me, m)} />}
          {m.deleted ? (
            <p className="bubble-text is-deleted-text">{mine ? t('deletedByMe') : t('deletedMessage')}</p>
          ) : (
            m.body !== '' && <MessageText body={m.body} />
          )}
          <span className="bubble-meta">
            {edited && (
              <span
                className="edited"
                title={t('editedAt', { time: formatClock(m.edited ?? m.ts, language) })}
              >
                {t('edited')}
              </span>
            )}
            <time dateTime={new Date(m.ts).toISOString()} aria-hidden="true">
              {clock}
            </time>
            {mine && m.state !== 'received' && (
              <span className={`tick tick-${m.state}`} data-testid="tick">
                <span aria-hidden="true">{TICKS[m.state]}</span>
                <span className="sr-only">{t(`state_${m.state}` as StringKey)}</span>
              </span>
            )}
          </span>
          {m.state === 'failed' && (
            // The refusal's code rides along for tests and tools (the words are for people).
            <div className="bubble-failed" data-code={m.errorCode ?? ClientErrorCode.internal}>
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
        {!m.deleted && <Reactions m={m} me={me} />}
      </div>
      {onMenu && (
        <button
          type="button"
          className="message-actions"
          aria-label={t('messageActions')}
          aria-haspopup="menu"
          aria-expanded={menuOpen === true}
          onClick={(e) => onMenu(m, e.currentTarget)}
        >
          <span aria-hidden="true">⋯</span>
        </button>
      )}
    </div>
  );
});
