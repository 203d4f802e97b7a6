import {
  ErrorCode,
  foldWord,
  LIMITS,
  type MessageRef,
  quoteBody,
  type Reaction,
  type ReplyQuote,
  type SearchTerm,
  type UpdateFrame,
} from '@pigeon/protocol';
import type { FeatureOp, FeatureRefusalCode } from './feature-types.js';

/*
 * The rules of the chat features that do not depend on the engine (PROTOCOL.md "Edit",
 * "React", "Block", "Read", "Search"): the order of the checks of each write, who is
 * sent which update, and how a body is indexed for search. SQLite and PostgreSQL load
 * the state these functions look at, ask them, and apply what they say, so the two
 * engines cannot drift apart on a rule.
 */

/** What the rules need to know about a message, from the point of view of one mailbox owner. */
export interface MessageState {
  from: string;
  to: string;
  id: string;
  ts: number;
  body: string;
  deleted: boolean;
  /** The owner hid it (delete for me). */
  hidden: boolean;
  reactions: Reaction[];
}

/** A check's verdict: go on (to the rate limit), answer `ok` without change, or refuse. */
export type Verdict = 'go' | 'unchanged' | { code: FeatureRefusalCode };

const refuse = (code: FeatureRefusalCode): Verdict => ({ code });

/**
 * `edit` (PROTOCOL.md "Edit", checks 2–6). `msg` is null when the message is not in the
 * editor's mailbox (never was, another conversation's, or removed by retention).
 */
export function checkEdit(me: string, msg: MessageState | null, body: string, now: number): Verdict {
  if (!msg) return refuse(ErrorCode.noSuchMessage);
  if (msg.from !== me) return refuse(ErrorCode.notYours);
  if (!msg.deleted && msg.body === body) return 'unchanged';
  if (msg.deleted) return refuse(ErrorCode.messageDeleted);
  if (now - msg.ts > LIMITS.editWindowMs) return refuse(ErrorCode.tooLate);
  return 'go';
}

/** `delete` (for everyone): as `edit`, and deleting a deleted message changes nothing. */
export function checkDelete(me: string, msg: MessageState | null, now: number): Verdict {
  if (!msg) return refuse(ErrorCode.noSuchMessage);
  if (msg.from !== me) return refuse(ErrorCode.notYours);
  if (msg.deleted) return 'unchanged';
  if (now - msg.ts > LIMITS.editWindowMs) return refuse(ErrorCode.tooLate);
  return 'go';
}

/** `hide` (delete for me): any message of my mailbox, mine or theirs, deleted or not. */
export function checkHide(msg: MessageState | null): Verdict {
  if (!msg) return refuse(ErrorCode.noSuchMessage);
  if (msg.hidden) return 'unchanged';
  return 'go';
}

/** `react`: either person, any message of the conversation at any age, unless deleted. */
export function checkReact(me: string, msg: MessageState | null, emoji: string | null): Verdict {
  if (!msg) return refuse(ErrorCode.noSuchMessage);
  if (msg.deleted) return refuse(ErrorCode.messageDeleted);
  const mine = msg.reactions.find((r) => r.by === me)?.emoji ?? null;
  if (mine === emoji) return 'unchanged';
  return 'go';
}

/** The reactions after `me` set (or removed, `null`) theirs: one per person, in the order people first reacted. */
export function withReaction(reactions: readonly Reaction[], me: string, emoji: string | null): Reaction[] {
  const out: Reaction[] = [];
  let placed = false;
  for (const r of reactions) {
    if (r.by !== me) out.push(r);
    else if (emoji !== null) {
      out.push({ by: me, emoji });
      placed = true;
    } else placed = true;
  }
  if (!placed && emoji !== null) out.push({ by: me, emoji });
  return out;
}

/**
 * `block` / `unblock` of an existing user: nothing to do when the state is already so;
 * a block past LIMITS.blockedMax is refused.
 */
export function checkBlock(already: boolean, blocked: boolean, count: number): Verdict {
  if (already === blocked) return 'unchanged';
  if (blocked && count >= LIMITS.blockedMax) return refuse(ErrorCode.limitReached);
  return 'go';
}

/**
 * `send.replyTo` (PROTOCOL.md "Reply"): the original must be a message of the conversation
 * between the sender and `to`, in the sender's mailbox, and not deleted. Null: fine.
 */
export function checkReply(
  from: string,
  to: string,
  original: MessageState | null,
): FeatureRefusalCode | null {
  if (!original) return ErrorCode.noSuchMessage;
  const inConversation =
    (original.from === from && original.to === to) || (original.from === to && original.to === from);
  if (!inConversation) return ErrorCode.noSuchMessage;
  if (original.deleted) return ErrorCode.messageDeleted;
  return null;
}

/** The other person of a message's conversation, seen from `owner`'s mailbox (oneself for a note to oneself). */
export function peerOf(owner: string, msg: { from: string; to: string }): string {
  return msg.from === owner ? msg.to : msg.from;
}

/** An update entry's fields besides `t`, `cursor` and `ts`, as stored. */
export type UpdateData = DistributiveOmit<UpdateFrame, 't' | 'cursor' | 'ts'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Builds the frame of a stored update entry. */
export function updateFrame(cursor: string, ts: number, data: UpdateData): UpdateFrame {
  return { t: 'update', cursor, ts, ...data } as UpdateFrame;
}

/**
 * The mailboxes a change to `msg` made by `actor` is appended to (edit, delete, react):
 * both of the message's mailboxes where it has an entry, except that of someone who
 * blocks the actor (PROTOCOL.md "Block": A's mailbox gets no update for what B does).
 */
export function changeOwners(
  msg: { from: string; to: string },
  actor: string,
  hasEntry: (owner: string) => boolean,
  blocks: (blocker: string, blocked: string) => boolean,
): string[] {
  const owners = msg.from === msg.to ? [msg.from] : [msg.to, msg.from];
  return owners.filter((o) => hasEntry(o) && (o === actor || !blocks(o, actor)));
}

/** The quote of a reply as the receiving mailbox shows it: cursor and body only while the original is there. */
export function replyQuote(
  ref: MessageRef,
  original: { cursor: string; body: string; deleted: boolean } | null,
): ReplyQuote {
  const quote: ReplyQuote = { from: ref.from, id: ref.id };
  if (!original) return quote;
  quote.cursor = original.cursor;
  if (original.deleted) quote.deleted = true;
  else quote.body = quoteBody(original.body);
  return quote;
}

// ------------------------------------------------------------------ search index

/**
 * Tokens longer than this are cut to it, in the index and in queries alike: a word term is
 * a prefix match, so a cut query token still finds everything the whole one would (the
 * store's answer is a superset that `searchHighlights` filters), and PostgreSQL's lexemes
 * stay far below their 2 KB limit.
 */
const TOKEN_MAX = 64;

const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const ASCII_WORD = /[A-Za-z0-9]+/g;

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;

/**
 * The tokens a body is indexed under, for either engine's full-text index: every word,
 * folded as `searchTerms` folds the query's (so "Éclair" is `eclair`), and every CJK run as
 * its overlapping pairs of characters plus its last character alone (我会说中文 →
 * 我会 会说 说中 中文 文). A CJK term of two or more characters is then the phrase of its
 * pairs, and one character the prefix of a pair or the run's last character: every place
 * a CJK term occurs inside a run is found, which neither a word tokenizer (the whole run
 * is one word) nor trigrams (nothing under three characters) can do.
 */
export function indexTokens(body: string): string[] {
  const out: string[] = [];
  if (isAscii(body)) {
    // The common case, on every send: in ASCII the words are runs of letters and digits,
    // folding is lowercasing, and there is no CJK (the same tokens, several times faster).
    for (const w of body.matchAll(ASCII_WORD)) out.push(cut(w[0].toLowerCase()));
    return out;
  }
  for (const w of body.matchAll(WORD)) {
    const word = w[0];
    let at = 0;
    for (const c of word.matchAll(CJK_RUN)) {
      if (c.index > at) pushWord(out, word.slice(at, c.index));
      pushRun(out, c[0]);
      at = c.index + c[0].length;
    }
    if (at < word.length) pushWord(out, word.slice(at));
  }
  return out;
}

function pushWord(out: string[], text: string): void {
  const folded = foldWord(text);
  if (folded.length > 0) out.push(cut(folded));
}

function pushRun(out: string[], run: string): void {
  const chars = [...run];
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  out.push(chars[chars.length - 1]!);
}

/** Cuts a token to TOKEN_MAX UTF-16 units without splitting a surrogate pair. */
function cut(token: string): string {
  if (token.length <= TOKEN_MAX) return token;
  const code = token.charCodeAt(TOKEN_MAX - 1);
  return token.slice(0, code >= 0xd800 && code <= 0xdbff ? TOKEN_MAX - 1 : TOKEN_MAX);
}

/** What the index is asked for one term: a token prefix, or a sequence of pair tokens (a phrase). */
export type IndexTerm = { prefix: string } | { phrase: string[] };

/** A query's terms as index lookups (see indexTokens); their conjunction is a superset of the matches. */
export function indexTerms(terms: readonly SearchTerm[]): IndexTerm[] {
  return terms.map((term): IndexTerm => {
    if (!term.cjk) return { prefix: cut(term.text) };
    const chars = [...term.text];
    if (chars.length === 1) return { prefix: chars[0]! };
    const pairs: string[] = [];
    for (let i = 0; i + 1 < chars.length; i++) pairs.push(chars[i]! + chars[i + 1]!);
    return { phrase: pairs };
  });
}

/**
 * The keys a message is indexed under besides its words: one token per mailbox it has an
 * entry in (not the recipient's when the sender was blocked) and one for its conversation,
 * so a search narrows to the searcher's messages (and one conversation) inside the index.
 */
export function searchKeys(sender: string, recipient: string, delivered: boolean, conv: number): string {
  const keys = [ownerKey(sender), `c${conv}`];
  if (recipient !== sender && delivered) keys.push(ownerKey(recipient));
  return keys.join(' ');
}

/** A mailbox's token in `keys`: user ids hold `.`, `-` and `_`, which the tokenizer splits on. */
export function ownerKey(user: string): string {
  return `o${Buffer.from(user).toString('hex')}`;
}

/**
 * What a feature write reads and changes, for ordering the checks of one batch (both
 * engines): two writes with a key in common are checked in the order they were called.
 */
export function featureKeys(op: FeatureOp): string[] {
  switch (op.kind) {
    case 'read':
      return [`k:${op.user}\n${op.with}`];
    case 'receipts':
      return [`r:${op.user}`];
    case 'block':
      // The count of a user's blocks is part of every block's check.
      return [`b:${op.user}`];
    default:
      return [`m:${op.ref.from}\n${op.ref.id}`];
  }
}
