import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { DEFAULTS } from '../config';
import { useT } from '../i18n/use-strings';
import { dayNumber, formatDay } from '../lib/time-format';
import { type Conversation, useChatStore } from '../store/chat-store';
import { loadOlder } from '../store/conversation-actions';
import type { ChatMessage } from '../store/message-model';
import { MessageBubble } from './message-bubble';

/**
 * Rows of the log: one per message (the first of each day carries the day's heading), and a
 * "beginning of the conversation" row once there is nothing older. No row ever sits above
 * the first message while older history can still arrive, so the virtualizer can anchor the
 * view on a message when history is prepended.
 */
type Row =
  | { kind: 'beginning'; key: string }
  | { kind: 'msg'; key: string; message: ChatMessage; day: boolean };

export function buildRows(messages: readonly ChatMessage[], complete: boolean): Row[] {
  const rows: Row[] = complete ? [{ kind: 'beginning', key: 'beginning' }] : [];
  let day = Number.NaN;
  for (const m of messages) {
    const d = dayNumber(m.ts);
    rows.push({ kind: 'msg', key: m.key, message: m, day: d !== day });
    day = d;
  }
  return rows;
}

const EDGE_PX = DEFAULTS.logEdgePx;

/**
 * The chat log. Only the rows in and near the viewport are in the DOM (@tanstack/react-virtual),
 * so a conversation of 10,000 messages costs as little as one of 50. The virtualizer anchors
 * on the end (`anchorTo: 'end'`): older history prepended while scrolling up leaves the
 * messages on screen where they were, and new messages keep the log at the bottom if it was
 * there (`followOnAppend`); my own always bring it down.
 */
export function MessageLog({ conversation }: { conversation: Conversation }) {
  const t = useT();
  const me = useChatStore((s) => s.me);
  const language = useChatStore((s) => s.language);
  const { peer, messages, hasMore, loading, loadError } = conversation;
  const rows = useMemo(() => buildRows(messages, hasMore === false), [messages, hasMore]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const getItemKey = useCallback((i: number) => rows[i]?.key ?? i, [rows]);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (rows[i]?.kind === 'msg' ? (rows[i].day ? 80 : 40) : 44),
    getItemKey,
    overscan: DEFAULTS.logOverscan,
    anchorTo: 'end',
    followOnAppend: true,
  });

  const maybeLoadOlder = useCallback(() => {
    const el = scrollRef.current;
    if (!el || loading || loadError || hasMore !== true) return;
    if (el.scrollTop < EDGE_PX) void loadOlder(peer);
  }, [loading, hasMore, loadError, peer]);

  /** The reader is at the newest messages; whatever arrives, the log stays there. */
  const pinned = useRef(true);
  /** New messages arrived below while the reader was further up: offer a way down. */
  const [behind, setBehind] = useState(false);
  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < EDGE_PX;
    if (pinned.current) setBehind(false);
    maybeLoadOlder();
  }, [maybeLoadOlder]);

  const jumpToLatest = useCallback(() => {
    pinned.current = true;
    setBehind(false);
    virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
    scrollRef.current?.focus();
  }, [virtualizer, rows.length]);

  const edges = useRef<{ first: string | undefined; last: string | undefined }>({
    first: undefined,
    last: undefined,
  });
  useLayoutEffect(() => {
    const before = edges.current;
    const lastMsg = messages[messages.length - 1];
    edges.current = { first: messages[0]?.key, last: lastMsg?.key };
    if (rows.length === 0) return;
    if (lastMsg && lastMsg.key !== before.last && lastMsg.from === me) pinned.current = true;
    const changed = messages[0]?.key !== before.first || lastMsg?.key !== before.last;
    // Otherwise the virtualizer keeps the rows on screen in place (anchorTo: 'end').
    if (pinned.current && changed) virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
    else if (before.last !== undefined && lastMsg && lastMsg.key !== before.last) setBehind(true);
  }, [messages, rows.length, virtualizer, me]);

  // A log too short to scroll cannot be scrolled up: fetch older history straight away.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && el.scrollHeight <= el.clientHeight + EDGE_PX) maybeLoadOlder();
  });

  const items = virtualizer.getVirtualItems();
  return (
    <div className="log-frame">
      {(loading || loadError) && (
        <div className="log-status">
          {loading ? (
            <span role="status">{t('loadingOlder')}</span>
          ) : (
            <span>
              {t('loadOlderFailed')}{' '}
              <button type="button" className="quiet-button small" onClick={() => void loadOlder(peer)}>
                {t('retry')}
              </button>
            </span>
          )}
        </div>
      )}
      {behind && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          <span aria-hidden="true">↓ </span>
          {t('jumpToLatest')}
        </button>
      )}
      <div
        ref={scrollRef}
        className="log-scroll"
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        aria-label={t('messagesWith', { user: peer })}
        aria-busy={loading}
        data-history={hasMore === null ? 'unknown' : hasMore ? 'more' : 'complete'}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable log must be reachable by keyboard to scroll it
        tabIndex={0}
        onScroll={onScroll}
      >
        <div className="log-inner" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((v) => {
            const row = rows[v.index];
            if (!row) return null;
            return (
              <div
                key={v.key}
                data-index={v.index}
                ref={virtualizer.measureElement}
                className="log-row"
                style={{ transform: `translateY(${v.start}px)` }}
              >
                {row.kind === 'beginning' && (
                  <p className="log-beginning">{t('beginning', { user: peer })}</p>
                )}
                {row.kind === 'msg' && row.day && (
                  <div className="day-separator">
                    <span>
                      {formatDay(row.message.ts, language, { today: t('today'), yesterday: t('yesterday') })}
                    </span>
                  </div>
                )}
                {row.kind === 'msg' && <MessageBubble message={row.message} />}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
