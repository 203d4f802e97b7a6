/*
 * The chat log: virtualized rows, history both ways, the unread line, bringing a message into
 * view, what counts as read (only what was on screen in a visible tab), and the message menu.
 * About 300 lines: these share the scroll position and the rows, which is why they stay together.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { DEFAULTS } from '../config';
import { useT } from '../i18n/use-strings';
import { dayNumber, formatDay } from '../lib/time-format';
import { type Conversation, useChatStore } from '../store/chat-store';
import { loadOlder } from '../store/conversation-actions';
import { featureActions } from '../store/feature-actions';
import { jumpToLatest, loadNewer, markSeen } from '../store/log-positions';
import type { ChatMessage } from '../store/message-model';
import { DeleteDialog } from './delete-dialog';
import { MessageBubble } from './message-bubble';
import { type MenuTarget, MessageMenu } from './message-menu';

/**
 * Rows of the log: one per message (the first of each day carries the day's heading), the
 * "N unread messages" line above the first unread one when the conversation was opened with
 * some, and a "beginning of the conversation" row once there is nothing older. No row ever
 * sits above the first message while older history can still arrive, so the virtualizer can
 * anchor the view on a message when history is prepended.
 */
type Row =
  | { kind: 'beginning'; key: string }
  | { kind: 'divider'; key: string; count: number }
  | { kind: 'msg'; key: string; message: ChatMessage; day: boolean };

export function buildRows(
  messages: readonly ChatMessage[],
  complete: boolean,
  divider?: { key: string; count: number } | null,
): Row[] {
  const rows: Row[] = complete ? [{ kind: 'beginning', key: 'beginning' }] : [];
  let day = Number.NaN;
  for (const m of messages) {
    if (divider && m.key === divider.key)
      rows.push({ kind: 'divider', key: 'divider', count: divider.count });
    const d = dayNumber(m.ts);
    rows.push({ kind: 'msg', key: m.key, message: m, day: d !== day });
    day = d;
  }
  return rows;
}

const EDGE_PX = DEFAULTS.logEdgePx;

/** The newest message row at least partly on screen (a few pixels do not count). */
function newestOnScreen(scroller: HTMLElement, rows: readonly Row[]): ChatMessage | undefined {
  const view = scroller.getBoundingClientRect();
  let best: { index: number; m: ChatMessage } | null = null;
  for (const el of scroller.querySelectorAll<HTMLElement>('.log-row[data-index]')) {
    const r = el.getBoundingClientRect();
    if (r.bottom <= view.top + 8 || r.top >= view.bottom - 8) continue;
    const index = Number(el.dataset.index);
    const row = rows[index];
    if (row?.kind === 'msg' && row.message.cursor && (!best || index > best.index))
      best = { index, m: row.message };
  }
  return best?.m;
}

/**
 * The chat log. Only the rows in and near the viewport are in the DOM (@tanstack/react-virtual),
 * so a conversation of 10,000 messages costs as little as one of 50. The virtualizer anchors
 * on the end (`anchorTo: 'end'`): history prepended while scrolling up (or appended while
 * scrolling down a stretch opened in the middle) leaves the messages on screen where they
 * were, and new messages keep the log at the bottom if it was there; my own always bring it down.
 */
export function MessageLog({ conversation }: { conversation: Conversation }) {
  const t = useT();
  const me = useChatStore((s) => s.me);
  const language = useChatStore((s) => s.language);
  const visible = useChatStore((s) => s.visible);
  const counts = useChatStore((s) => s.features.has('read'));
  const { peer, messages, hasMore, hasNewer, loading, loadError, unread } = conversation;
  const divider = useChatStore((s) => (s.divider?.peer === peer ? s.divider : null));
  const focus = useChatStore((s) => (s.focus?.peer === peer ? s.focus : null));
  const positioning = useChatStore((s) => s.positioning === peer);
  const rows = useMemo(() => buildRows(messages, hasMore === false, divider), [messages, hasMore, divider]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const getItemKey = useCallback((i: number) => rows[i]?.key ?? i, [rows]);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (rows[i]?.kind === 'msg' ? (rows[i].day ? 80 : 40) : 44),
    getItemKey,
    overscan: DEFAULTS.logOverscan,
    anchorTo: 'end',
    // The bottom of a stretch in the middle is not the newest message: do not stick to it.
    followOnAppend: !hasNewer,
  });

  const maybeLoadMore = useCallback(() => {
    const el = scrollRef.current;
    if (!el || loading || loadError) return;
    if (hasMore === true && el.scrollTop < EDGE_PX) void loadOlder(peer);
    else if (hasNewer && el.scrollHeight - el.scrollTop - el.clientHeight < EDGE_PX) void loadNewer(peer);
  }, [loading, hasMore, hasNewer, loadError, peer]);

  /** The reader is at the newest messages; whatever arrives, the log stays there. */
  const pinned = useRef(true);
  /** Messages from the peer that arrived below while the reader was further up. */
  const [behind, setBehind] = useState(0);

  // What is on screen in a visible tab is read: the newest message shown carries the mark.
  const readFrame = useRef(0);
  const checkRead = useCallback(() => {
    cancelAnimationFrame(readFrame.current);
    readFrame.current = requestAnimationFrame(() => {
      const el = scrollRef.current;
      if (!el || !useChatStore.getState().visible) return;
      const m = newestOnScreen(el, rows);
      if (m) markSeen(peer, m);
    });
  }, [rows, peer]);
  useEffect(() => () => cancelAnimationFrame(readFrame.current), []);

  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    pinned.current = !hasNewer && el.scrollHeight - el.scrollTop - el.clientHeight < EDGE_PX;
    if (pinned.current) setBehind(0);
    maybeLoadMore();
    checkRead();
  }, [maybeLoadMore, checkRead, hasNewer]);

  const toBottom = useCallback(() => {
    pinned.current = true;
    setBehind(0);
    virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
    scrollRef.current?.focus();
  }, [virtualizer, rows.length]);

  const onJump = useCallback(() => {
    if (hasNewer) {
      pinned.current = true;
      void jumpToLatest(peer);
      scrollRef.current?.focus();
    } else toBottom();
  }, [hasNewer, peer, toBottom]);

  const edges = useRef<{ first: string | undefined; last: string | undefined }>({
    first: undefined,
    last: undefined,
  });
  useLayoutEffect(() => {
    const before = edges.current;
    const lastMsg = messages[messages.length - 1];
    edges.current = { first: messages[0]?.key, last: lastMsg?.key };
    if (rows.length === 0) return;
    if (lastMsg && lastMsg.key !== before.last && lastMsg.from === me && !hasNewer) pinned.current = true;
    const changed = messages[0]?.key !== before.first || lastMsg?.key !== before.last;
    // Otherwise the virtualizer keeps the rows on screen in place (anchorTo: 'end').
    if (pinned.current && changed && !focus && !positioning)
      virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
    else if (before.last !== undefined && lastMsg && lastMsg.key !== before.last && lastMsg.from !== me) {
      const at = messages.findIndex((m) => m.key === before.last);
      const arrived = at < 0 ? 1 : messages.slice(at + 1).filter((m) => m.from !== me).length;
      setBehind((n) => n + arrived);
    }
  }, [messages, rows.length, virtualizer, me, hasNewer, focus, positioning]);

  // A message to bring into view (a search result, a quoted original, the first unread one).
  const [marked, setMarked] = useState<string | null>(null);
  useLayoutEffect(() => {
    if (!focus) return;
    const index = rows.findIndex((r) => r.kind === 'msg' && r.key === focus.key);
    if (index < 0) return;
    pinned.current = false;
    const at = divider?.key === focus.key ? index - 1 : index;
    virtualizer.scrollToIndex(Math.max(0, at), { align: divider?.key === focus.key ? 'start' : 'center' });
    setMarked(focus.key);
    featureActions.clearFocus();
  }, [focus, rows, virtualizer, divider]);
  useEffect(() => {
    if (!marked) return;
    const timer = setTimeout(() => setMarked(null), DEFAULTS.focusMarkMs);
    return () => clearTimeout(timer);
  }, [marked]);

  // A log too short to scroll cannot be scrolled: fetch on straight away. And after every
  // render (new rows, a measured height, the tab shown again), what is on screen may be new.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && el.scrollHeight <= el.clientHeight + EDGE_PX) maybeLoadMore();
    if (visible) checkRead();
  });

  const [menu, setMenu] = useState<MenuTarget | null>(null);
  const [deleting, setDeleting] = useState<ChatMessage | null>(null);
  const openMenu = useCallback(
    (message: ChatMessage, anchor: HTMLElement) => setMenu({ message, anchor }),
    [],
  );
  // Escape (or Tab) gives the focus back to the "⋯" button that opened the menu, once it closed.
  const returnFocus = useRef<MenuTarget | null>(null);
  const closeMenu = useCallback((refocus: boolean) => {
    setMenu((cur) => {
      returnFocus.current = refocus ? cur : null;
      return null;
    });
  }, []);
  useEffect(() => {
    const target = returnFocus.current;
    if (menu || !target) return;
    returnFocus.current = null;
    // The row may have been rendered anew meanwhile (virtualized): find its button again.
    const button = target.anchor.isConnected
      ? target.anchor
      : scrollRef.current
          ?.querySelector(`.bubble[data-id="${CSS.escape(target.message.id)}"]`)
          ?.closest('.bubble-row')
          ?.querySelector<HTMLElement>('.message-actions');
    button?.focus();
  }, [menu]);

  const newCount = counts ? unread : behind;
  const showJump = hasNewer || behind > 0 || (counts && unread > 0 && !pinned.current);
  const items = virtualizer.getVirtualItems();
  return (
    <div className="log-frame">
      {(loading || loadError) && (
        <div className="log-status">
          {loading ? (
            <span role="status">{hasNewer ? t('loadingNewer') : t('loadingOlder')}</span>
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
      {showJump && (
        <button
          type="button"
          className="jump-latest"
          onClick={onJump}
          aria-label={
            newCount > 0 ? `${t('jumpToLatest')}, ${t('newBelow', { count: newCount })}` : t('jumpToLatest')
          }
        >
          <span aria-hidden="true">
            ↓ {newCount > 0 ? t('newBelow', { count: newCount }) : t('jumpToLatest')}
          </span>
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
        data-newer={hasNewer ? 'more' : 'newest'}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable log must be reachable by keyboard to scroll it
        tabIndex={0}
        onScroll={onScroll}
        // The menu is placed at the bubble; the reader scrolling away from it closes it.
        onWheel={menu ? () => setMenu(null) : undefined}
        onTouchMove={menu ? () => setMenu(null) : undefined}
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
                {row.kind === 'divider' && (
                  <p className="unread-divider" data-testid="unread-divider">
                    <span>{t('unreadDivider', { count: row.count })}</span>
                  </p>
                )}
                {row.kind === 'msg' && row.day && (
                  <div className="day-separator">
                    <span>
                      {formatDay(row.message.ts, language, { today: t('today'), yesterday: t('yesterday') })}
                    </span>
                  </div>
                )}
                {row.kind === 'msg' && (
                  <MessageBubble
                    message={row.message}
                    onMenu={openMenu}
                    menuOpen={menu?.message.key === row.key}
                    focused={marked === row.key}
                  />
                )}
              </div>
            );
          })}
        </div>
      </div>
      {menu && <MessageMenu target={menu} peer={peer} onClose={closeMenu} onDelete={(m) => setDeleting(m)} />}
      {deleting && <DeleteDialog message={deleting} peer={peer} onClose={() => setDeleting(null)} />}
    </div>
  );
}
