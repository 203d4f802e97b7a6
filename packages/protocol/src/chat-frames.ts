// Frames and fields of the chat features (issue 10): read, edit, reply, react, block,
// search. PROTOCOL.md "Extensions" is the contract; this file is its TypeScript shape.

import type { MsgFrame } from './frames.js';

/** Names a message anywhere: its identity is `(from, id)`, as in version 1. */
export interface MessageRef {
  from: string;
  id: string;
}

/** `msg.replyTo` (`reply`): what a quote of the original needs. */
export interface ReplyQuote {
  from: string;
  id: string;
  /** The original's entry in this mailbox; absent once retention removed it. */
  cursor?: string;
  /** The original's body, cut to `LIMITS.quoteMaxLength`; absent when deleted or removed. */
  body?: string;
  /** The original was deleted for everyone. */
  deleted?: true;
}

/** One person's reaction (`react`); a message has at most one per person. */
export interface Reaction {
  by: string;
  emoji: string;
}

// ---------------------------------------------------------------- client → server

/** `read`: my read mark in the conversation with `with` moves to `upto` (never backwards). */
export interface ReadFrame {
  t: 'read';
  with: string;
  upto: string;
  rid?: string;
}
/** `read`: switch sending (and so seeing) read receipts on or off, for all my devices. */
export interface ReceiptsFrame {
  t: 'receipts';
  on: boolean;
  rid?: string;
}
/** `edit`: replace the body of my own message, within `LIMITS.editWindowMs` of its `ts`. */
export interface EditFrame extends MessageRef {
  t: 'edit';
  body: string;
  rid?: string;
}
/** `edit`: delete my own message for everyone, within the same window; its body is erased. */
export interface DeleteFrame extends MessageRef {
  t: 'delete';
  rid?: string;
}
/** `edit`: hide a message (mine or theirs) on all my devices only. */
export interface HideFrame extends MessageRef {
  t: 'hide';
  rid?: string;
}
/** `react`: set (`emoji` a string) or remove (`null`) my reaction to a message. */
export interface ReactFrame extends MessageRef {
  t: 'react';
  emoji: string | null;
  rid?: string;
}
/** `block`: block or unblock a user. */
export interface BlockFrame {
  t: 'block' | 'unblock';
  user: string;
  rid?: string;
}
/** `read` or `block`: my settings (what the connection's features cover). */
export interface SettingsRequestFrame {
  t: 'settings';
  rid?: string;
}
/** `search`: messages matching `q`, newest first; in one conversation with `with`. */
export interface SearchRequestFrame {
  t: 'search';
  q: string;
  with?: string;
  before?: string;
  limit?: number;
  rid?: string;
}

export type ChatClientFrame =
  | ReadFrame
  | ReceiptsFrame
  | EditFrame
  | DeleteFrame
  | HideFrame
  | ReactFrame
  | BlockFrame
  | SettingsRequestFrame
  | SearchRequestFrame;

// ---------------------------------------------------------------- server → client

/** A write with a `rid` is stored: answered before the update it causes, on that connection. */
export interface OkFrame {
  t: 'ok';
  rid: string;
}

interface UpdateBase {
  t: 'update';
  /** Its position in the mailbox, like a msg's: acked, replayed and resumed from the same way. */
  cursor: string;
  /** The server's time of the change, milliseconds since the epoch. */
  ts: number;
}
/** My read mark in the conversation with `with` moved to `upto`; `unread` is what is left. */
export interface ReadUpdate extends UpdateBase {
  kind: 'read';
  with: string;
  upto: string;
  unread: number;
}
/** `with` has read my messages to them up to my entry `upto` (a read receipt). */
export interface SeenUpdate extends UpdateBase {
  kind: 'seen';
  with: string;
  upto: string;
}
export interface SettingsUpdate extends UpdateBase {
  kind: 'settings';
  readReceipts: boolean;
}
export interface EditUpdate extends UpdateBase, MessageRef {
  kind: 'edit';
  /** The peer of the conversation, from this mailbox owner's side. */
  with: string;
  body: string;
}
export interface DeleteUpdate extends UpdateBase, MessageRef {
  kind: 'delete';
  with: string;
}
export interface HideUpdate extends UpdateBase, MessageRef {
  kind: 'hide';
  with: string;
}
export interface ReactUpdate extends UpdateBase, MessageRef {
  kind: 'react';
  with: string;
  by: string;
  emoji: string | null;
}
export interface BlockUpdate extends UpdateBase {
  kind: 'block';
  user: string;
  blocked: boolean;
}
/** A mailbox entry that is not a message (PROTOCOL.md "Updates"). */
export type UpdateFrame =
  | ReadUpdate
  | SeenUpdate
  | SettingsUpdate
  | EditUpdate
  | DeleteUpdate
  | HideUpdate
  | ReactUpdate
  | BlockUpdate;
export type UpdateKind = UpdateFrame['kind'];

export interface SettingsFrame {
  t: 'settings';
  /** With `read`. */
  readReceipts?: boolean;
  /** With `block`: the users I blocked, sorted. */
  blocked?: string[];
  rid?: string;
}

/** A UTF-16 range `[start, end)` of a body. */
export type Range = [start: number, end: number];
export interface SearchItem {
  msg: MsgFrame;
  /** Where the query's terms matched in `msg.body`, in order, not overlapping. */
  highlights: Range[];
}
export interface SearchFrame {
  t: 'search';
  items: SearchItem[];
  /** Older matches exist: ask again with `before` set to the last item's cursor. */
  more: boolean;
  rid?: string;
}

export type ChatServerFrame = OkFrame | UpdateFrame | SettingsFrame | SearchFrame;
