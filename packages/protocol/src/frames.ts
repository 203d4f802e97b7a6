import type { ChatClientFrame, ChatServerFrame, MessageRef, Reaction, ReplyQuote } from './chat-frames.js';
import type { FrameErrorCode } from './codes.js';
import type { Feature } from './features.js';
import type { FileInfo } from './files.js';

// ---------------------------------------------------------------- client → server

export interface HelloFrame {
  t: 'hello';
  v: 1;
  token: string;
  since?: string;
  /** Extension: the features this client understands (known names only, once each, after decoding). */
  features?: Feature[];
}
export interface SendFrame {
  t: 'send';
  id: string;
  to: string;
  body: string;
  /** `reply`: the message this one answers, in the same conversation. */
  replyTo?: MessageRef;
  /** `files`: ids of the sender's completed uploads; then `body` (the caption) may be empty. */
  files?: string[];
}
export interface AckFrame {
  t: 'ack';
  cursor: string;
}
export interface HistoryRequestFrame {
  t: 'history';
  with: string;
  before?: string;
  /** `paging`: the oldest `limit` entries newer than this cursor (never together with `before`). */
  after?: string;
  limit?: number;
  rid?: string;
}
export interface ConversationsRequestFrame {
  t: 'conversations';
  /** `paging`: rows per page, 1..`LIMITS.conversationsMaxLimit`. */
  limit?: number;
  /** `paging`: rows whose `last` is older than this cursor (the `last.cursor` of the previous page's last row). */
  before?: string;
  rid?: string;
}
export interface TypingRequestFrame {
  t: 'typing';
  /** Lowercased but not validated: an invalid id is dropped silently by the server, not an error. */
  to: string;
}
export interface PresenceRequestFrame {
  t: 'presence';
  users: string[];
}
export interface PingFrame {
  t: 'ping';
  rid?: string;
}

export type ClientFrame =
  | HelloFrame
  | SendFrame
  | AckFrame
  | HistoryRequestFrame
  | ConversationsRequestFrame
  | TypingRequestFrame
  | PresenceRequestFrame
  | PingFrame
  | ChatClientFrame;

// ---------------------------------------------------------------- server → client

export interface WelcomeFrame {
  t: 'welcome';
  v: 1;
  user: string;
  head: string | null;
  /** Extension: what is enabled for this connection; present exactly when the hello had `features`. */
  features?: Feature[];
}
export interface SyncedFrame {
  t: 'synced';
  head: string | null;
  gap: boolean;
}
export interface SentFrame {
  t: 'sent';
  id: string;
  ts: number;
}
/**
 * One mailbox entry. Also the shape of `history.items[]` and `conversations.items[].last`.
 * The optional fields reach only connections with their feature (PROTOCOL.md "Messages").
 */
export interface MsgFrame {
  t: 'msg';
  cursor: string;
  id: string;
  from: string;
  to: string;
  /** Empty exactly when `deleted`. */
  body: string;
  ts: number;
  delivered: boolean;
  /** `read`: received: I have read it; sent: the recipient has (and receipts were on). */
  read?: boolean;
  /** `edit`: time of the last edit. */
  edited?: number;
  /** `edit`: deleted for everyone; body, quote and reactions are gone. */
  deleted?: true;
  /** `reply`: the message this one answers. */
  replyTo?: ReplyQuote;
  /** `react`: present when not empty; at most one per person. */
  reactions?: Reaction[];
  /** `files`: the attachments; `body` is then the caption, possibly empty. */
  files?: FileInfo[];
}
export interface ReceiptFrame {
  t: 'receipt';
  id: string;
  to: string;
}
export interface HistoryFrame {
  t: 'history';
  with: string;
  items: MsgFrame[];
  more: boolean;
  rid?: string;
}
export interface ConversationItem {
  with: string;
  last: MsgFrame;
  /** `read`: messages from `with` after my read mark (not hidden). */
  unread?: number;
  /** `read`: my read mark in this conversation; null before I read anything in it. */
  readUpto?: string | null;
}
export interface ConversationsFrame {
  t: 'conversations';
  items: ConversationItem[];
  /** `paging`: rows older than the last one exist. */
  more?: boolean;
  rid?: string;
}
export interface TypingFrame {
  t: 'typing';
  from: string;
}
export interface PresenceFrame {
  t: 'presence';
  user: string;
  online: boolean;
}
export interface PongFrame {
  t: 'pong';
  rid?: string;
}
export interface ErrorFrame {
  t: 'error';
  /** One of `FrameErrorCode` from a v1 server; decoders accept any other string a newer server may add. */
  code: FrameErrorCode | (string & {});
  message: string;
  /** Echoes the `send` this error concerns, when that send had a well-formed id. */
  id?: string;
  /** Echoes the `rid` of the `history`, `conversations` or `ping` this error answers. */
  rid?: string;
  /** With `rate_limited`: when a token is next available. */
  retryAfterMs?: number;
}

export type ServerFrame =
  | WelcomeFrame
  | SyncedFrame
  | SentFrame
  | MsgFrame
  | ReceiptFrame
  | HistoryFrame
  | ConversationsFrame
  | TypingFrame
  | PresenceFrame
  | PongFrame
  | ErrorFrame
  | ChatServerFrame;

export type Frame = ClientFrame | ServerFrame;
