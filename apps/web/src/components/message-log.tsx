import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { useT } from '../i18n/use-strings';
import { dayNumber, formatDay } from '../lib/time-format';
import { type Conversation, useChatStore } from '../store/chat-store';
import { loadOlder } from '../store/client-bridge';
import type { ChatMessage } from '../store/message-model';
import { MessageBubble } from './message-bubble';

type Row =
  | { kind: 'top'; key: string }
  | { kind: 'day'; key: string; ts: number }
  | { kind: 'msg'; key: string; message: ChatMessage };

/** Rows of the log: a status row on top, then messages with a separator before each new day. */
export function buildRows(messages: readonly ChatMessage[]): Row[] {
  const rows: Row[] = [{ kind: 'top', key: 'top' }];
  let day = Number.NaN;
  for (const m of messages) {
    const d = dayNumber(m.ts);
    if (d !== day) {
      day = d;
      rows.push({ kind: 'day', key: `day-${d}`, ts: m.ts });
    }
    rows.push({ kind: 'msg', key: m.key, message: m });
  }
  return rows;
}

/** Within this many pixels of an edge counts as being at it. */
const EDGE_PX = 120;

/**
 * The chat log. Only the rows in and near the viewport are in the DOM (@tanstack/react-virtual),
 * so a conversation of 10,000 messages costs as little as one of 50. Scrolling near the top
 * loads older history and keeps the visible messages where they were; new messages keep the
 * log pinned to the bottom if it was there, and my own always bring it down.
 */
export function MessageLog({ conversation }: { conversation: Conversation }) {
  const t = useT();
  const me = useChatStore((s) => s.me);
  const language = useChatStore((s) => s.language);
  const { peer, messages, hasMore, loading, loadError } = conversation;
  const rows = useMemo(() => buildRows(messages), [messages]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  /** The first message row visible before an update and its distance from the top edge. */
  const anchor = useRef<{ key: string; offset: number } | null>(null);
  const prev = useRef<{ first: string | undefined; last: string | undefined; count: number }>({
    first: undefined,
    last: undefined,
    count: 0,
  });

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (rows[i]?.kind === 'msg' ? 64 : 44),
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 10,
  });

  const maybeLoadOlder = useCallback(() => {
    const el = scrollRef.current;
    if (!el || loading || hasMore === false || loadError) return;
    if (el.scrollTop < EDGE_PX && hasMore === true) void loadOlder(peer);
  }, [loading, hasMore, loadError, peer]);

  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < EDGE_PX;
    const first = virtualizer
      .getVirtualItems()
      .find((v) => v.end > el.scrollTop && rows[v.index]?.kind === 'msg');
    anchor.current = first ? { key: String(first.key), offset: first.start - el.scrollTop } : null;
    maybeLoadOlder();
  }, [virtualizer, rows, maybeLoadOlder]);

  const scrollToBottom = useCallback(() => {
    const el = scrollRef.current;
    if (!el || rows.length === 0) return;
    virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
    // Rows measured after this frame may grow the log; follow them once more.
    requestAnimationFrame(() => {
      if (pinned.current && scrollRef.current) scrollRef.current.scrollTop = scrollRef.current.scrollHeight;
    });
  }, [virtualizer, rows.length]);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    const firstMsg = messages[0]?.key;
    const lastMsg = messages[messages.length - 1];
    const before = prev.current;
    prev.current = { first: firstMsg, last: lastMsg?.key, count: messages.length };
    if (!el) return;
    if (before.count === 0 && messages.length > 0) {
      pinned.current = true;
      scrollToBottom();
      return;
    }
    const prepended = before.first !== undefined && firstMsg !== before.first && before.count > 0;
    const appended = lastMsg !== undefined && lastMsg.key !== before.last;
    if (prepended && anchor.current && !pinned.current) {
      // Older history arrived above: put the anchored message back where the reader saw it.
      const index = rows.findIndex((r) => r.key === anchor.current?.key);
      const item = index >= 0 ? virtualizer.measurementsCache[index] : undefined;
      if (item) el.scrollTop = item.start - anchor.current.offset;
    }
    if (appended && (pinned.current || lastMsg.from === me)) {
      pinned.current = true;
      scrollToBottom();
    }
  }, [messages, rows, virtualizer, scrollToBottom, me]);

  // A short log that does not fill the view cannot be scrolled up: load older at once.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && el.scrollHeight <= el.clientHeight + EDGE_PX) maybeLoadOlder();
  });

  const items = virtualizer.getVirtualItems();
  return (
    <div
      ref={scrollRef}
      className="log-scroll"
      role="log"
      aria-live="polite"
      aria-relevant="additions"
      aria-label={t('messagesWith', { user: peer })}
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
              {row.kind === 'msg' && <MessageBubble message={row.message} />}
              {row.kind === 'day' && (
                <div className="day-separator">
                  <span>{formatDay(row.ts, language, { today: t('today'), yesterday: t('yesterday') })}</span>
                </div>
              )}
              {row.kind === 'top' && (
                <div className="log-top">
                  {loading && <span role="status">{t('loadingOlder')}</span>}
                  {!loading && loadError && (
                    <span>
                      {t('loadOlderFailed')}{' '}
                      <button
                        type="button"
                        className="quiet-button small"
                        onClick={() => void loadOlder(peer)}
                      >
                        {t('retry')}
                      </button>
                    </span>
                  )}
                  {!loading && !loadError && hasMore === false && (
                    <span>{t('beginning', { user: peer })}</span>
                  )}
                </div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
