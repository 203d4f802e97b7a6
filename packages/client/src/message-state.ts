import { type MsgFrame, quoteBody, type Reaction, type UpdateFrame } from '@pigeon/protocol';

// Pure helpers that apply updates to messages an application holds (PROTOCOL.md "Updates",
// "Read", "Edit", "Reply", "React"). They never mutate: each returns the input itself when
// nothing changed, so a store (zustand, a signal, a plain array) can compare by identity and
// re-render only what moved.

/** The identity of a message, `(from, id)`, as one string (a key for maps and React lists). */
export function messageKey(m: { from: string; id: string }): string {
  return `${m.from}\n${m.id}`;
}

/** The conversation an update belongs to (its peer), or null for `settings` and `block`. */
export function updatePeer(u: UpdateFrame): string | null {
  return u.kind === 'settings' || u.kind === 'block' ? null : u.with;
}

/** What a sender shows for their own stored message: ✓ sent, ✓✓ delivered, ✓✓ in colour read. */
export type DeliveryState = 'sent' | 'delivered' | 'read';

export function deliveryState(m: MsgFrame): DeliveryState {
  if (m.read === true) return 'read';
  return m.delivered ? 'delivered' : 'sent';
}

function same(a: { from: string; id: string }, b: { from: string; id: string }): boolean {
  return a.from === b.from && a.id === b.id;
}

/**
 * One message after an update about it (`edit`, `delete`, `react`), or after an update about
 * the message it quotes (the quote follows the original). Other updates return it unchanged.
 */
export function applyToMessage(m: MsgFrame, u: UpdateFrame): MsgFrame {
  if (u.kind !== 'edit' && u.kind !== 'delete' && u.kind !== 'react') return m;
  if (same(m, u)) {
    if (m.deleted) return m; // nothing of a deleted message comes back
    if (u.kind === 'edit') {
      return m.body === u.body && m.edited === u.ts ? m : { ...m, body: u.body, edited: u.ts };
    }
    if (u.kind === 'delete') {
      const { replyTo: _q, reactions: _r, files: _f, edited: _e, ...rest } = m;
      return { ...rest, body: '', deleted: true };
    }
    return withReaction(m, u.by, u.emoji);
  }
  const quote = m.replyTo;
  if (!quote || !same(quote, u) || u.kind === 'react') return m;
  if (u.kind === 'edit') {
    if (quote.deleted) return m;
    const body = quoteBody(u.body);
    return quote.body === body ? m : { ...m, replyTo: { ...quote, body } };
  }
  if (quote.deleted) return m;
  const { body: _b, ...rest } = quote;
  return { ...m, replyTo: { ...rest, deleted: true } };
}

function withReaction(m: MsgFrame, by: string, emoji: string | null): MsgFrame {
  const current = m.reactions ?? [];
  const mine = current.find((r) => r.by === by);
  if ((mine?.emoji ?? null) === emoji) return m;
  const others = current.filter((r) => r.by !== by);
  const reactions: Reaction[] = emoji === null ? others : [...others, { by, emoji }];
  const { reactions: _old, ...rest } = m;
  return reactions.length > 0 ? { ...rest, reactions } : rest;
}

/**
 * One conversation's messages (in mailbox order: oldest first, as `history` and live delivery
 * give them) after an update of that conversation (`updatePeer(u)` is its peer; `me` is the
 * signed-in user):
 * - `edit`, `delete`, `react`: the message and the quotes of it change;
 * - `hide`: the message leaves the list;
 * - `read` (my mark) / `seen` (the peer's): the peer's / my messages at or before the entry
 *   whose cursor is `upto` turn `read: true`. When the list holds no such entry, the mark is
 *   older than everything in it and nothing changes (PROTOCOL.md "Read").
 * Returns `messages` itself when nothing changed.
 */
export function applyToConversation(
  messages: readonly MsgFrame[],
  u: UpdateFrame,
  me: string,
): readonly MsgFrame[] {
  switch (u.kind) {
    case 'settings':
    case 'block':
      return messages;
    case 'hide': {
      const kept = messages.filter((m) => !same(m, u));
      return kept.length === messages.length ? messages : kept;
    }
    case 'read':
    case 'seen': {
      const at = messages.findIndex((m) => m.cursor === u.upto);
      if (at < 0) return messages;
      // My read mark covers the peer's messages; the peer's receipt covers mine (messages to
      // oneself are always read already).
      const covers = (m: MsgFrame) => (u.kind === 'read' ? m.from !== me : m.from === me);
      let out: MsgFrame[] | null = null;
      for (let i = 0; i <= at; i++) {
        const m = messages[i];
        if (!m || m.read === true || !covers(m)) continue;
        out ??= [...messages];
        out[i] = { ...m, read: true };
      }
      return out ?? messages;
    }
    default: {
      let out: MsgFrame[] | null = null;
      messages.forEach((m, i) => {
        const next = applyToMessage(m, u);
        if (next === m) return;
        out ??= [...messages];
        out[i] = next;
      });
      return out ?? messages;
    }
  }
}

/** A `receipt` (version 1): my message `id` reached a device of the peer. */
export function applyReceipt(messages: readonly MsgFrame[], me: string, id: string): readonly MsgFrame[] {
  const at = messages.findIndex((m) => m.from === me && m.id === id);
  const m = messages[at];
  if (!m || m.delivered) return messages;
  const out = [...messages];
  out[at] = { ...m, delivered: true };
  return out;
}

/** Reactions grouped for display: most used first (ties: the one given first), with who gave each. */
export interface ReactionCount {
  emoji: string;
  count: number;
  by: string[];
  /** `me` gave this one. */
  mine: boolean;
}

export function reactionCounts(m: MsgFrame, me: string): ReactionCount[] {
  const groups = new Map<string, ReactionCount>();
  for (const r of m.reactions ?? []) {
    let g = groups.get(r.emoji);
    if (!g) {
      g = { emoji: r.emoji, count: 0, by: [], mine: false };
      groups.set(r.emoji, g);
    }
    g.count++;
    g.by.push(r.by);
    if (r.by === me) g.mine = true;
  }
  // Array.prototype.sort is stable: equal counts keep the order of first appearance.
  return [...groups.values()].sort((a, b) => b.count - a.count);
}
