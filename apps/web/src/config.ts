import { LIMITS } from '@pigeon/protocol';

/**
 * Every tunable of the web app and its value, in one place. Protocol limits come from
 * `@pigeon/protocol`'s LIMITS; the client's own options keep `@pigeon/client`'s defaults.
 */
export const DEFAULTS = {
  /** Messages per history page (the protocol allows 1..LIMITS.historyMaxLimit). */
  historyPageSize: Math.min(50, LIMITS.historyMaxLimit),
  /** Live entries are applied in batches this far apart, so a long backlog is a few renders. */
  receiveBatchMs: 30,
  /** Unread counts, read marks and recent messages are written at most this often (and when the page hides). */
  saveDelayMs: 300,
  /** Drafts are written this soon after a keystroke (and when the page hides). */
  draftSaveDelayMs: 50,
  /** "… is typing" shows this long after the last typing frame (the client sends one per 3 s). */
  typingShowMs: 5_000,
  /** The composer's counter appears when this few characters are left before the body limit. */
  counterFrom: 500,
  /** Within this many pixels of the log's top, older history is fetched; of its bottom, it follows new messages. */
  logEdgePx: 200,
  /** Rows rendered beyond the viewport on each side of the virtualized log. */
  logOverscan: 10,
  /** Unread badges show at most this number, then "N+". */
  unreadBadgeMax: 999,
  /** A desktop notification previews at most this many characters of the message. */
  notificationPreviewChars: 140,
  /** Kept for a reload without network: the newest messages of the most recent conversations. */
  recentConversations: 50,
  recentMessagesEach: 20,
  /** Messages loaded above a position opened in the middle (first unread, search result, quoted original). */
  contextAbove: 20,
  /** Search results per page (the protocol allows 1..LIMITS.searchMaxLimit). */
  searchPageSize: Math.min(20, LIMITS.searchMaxLimit),
  /** Without forward paging, a message to show is looked for this many history pages back. */
  searchBackPages: 20,
  /** Photos are scaled to at most this many pixels on their longer side (unless sent as the original file). */
  imageMaxSide: 2560,
  /** The placeholder drawn before upload is at most this many pixels on its longer side. */
  thumbSide: 32,
  /** Downloaded files kept as blob: URLs for this page (the oldest is let go beyond this). */
  fileCacheEntries: 200,
  /** A notice (a refused edit, "Copied") shows this long. */
  toastMs: 4_000,
  /** A finger held this long on a message opens its menu (touch screens). */
  longPressMs: 500,
  /** A message brought into view (search result, quoted original) stays marked this long. */
  focusMarkMs: 2_000,
  /** The reactions offered in the message menu; any emoji may arrive from others. */
  quickReactions: ['👍', '❤️', '😂', '😮', '😢', '🙏'],
} as const;
