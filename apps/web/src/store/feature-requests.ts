/*
 * What the chat screen asks of the client for the chat features (issue 10) besides where the
 * log stands (log-positions.ts): edit, delete, react, reply, block, the read-receipts
 * setting, copy, and search. The store's side is feature-actions.ts.
 */
import { ClientErrorCode, PigeonRequestError } from '@pigeon/client';
import { ErrorCode, LIMITS } from '@pigeon/protocol';
import { DEFAULTS } from '../config';
import { chatActions } from './chat-actions';
import { useChatStore } from './chat-store';
import { featureActions } from './feature-actions';
import { LocalCode } from './local-codes';
import type { ChatMessage } from './message-model';
import { peerOf } from './message-model';
import { activeClient } from './runtime';

const get = useChatStore.getState;

function codeOf(err: unknown): string {
  return err instanceof PigeonRequestError ? err.code : ClientErrorCode.internal;
}

// ---------------------------------------------------------------- writes

/** The refusals a user can act on get words; anything else says its code. */
function refused(err: unknown): void {
  const code = codeOf(err);
  if (code === ErrorCode.tooLate) featureActions.toast('refused_too_late');
  else if (code === ErrorCode.messageDeleted) featureActions.toast('refused_message_deleted');
  else if (code === ErrorCode.noSuchMessage) featureActions.toast('refused_no_such_message');
  else if (code === ErrorCode.notYours) featureActions.toast('refused_not_yours');
  else if (code === ErrorCode.limitReached)
    featureActions.toast('refused_limit_reached', { max: LIMITS.blockedMax });
  else featureActions.toast('refused_other', { code });
}

/** Whether the edit window (15 minutes from its server time) is still open for my message. */
export function canChange(m: ChatMessage, me: string | null, now = Date.now()): boolean {
  if (m.from !== me || m.deleted) return false;
  // Still in the outbox: the client changes it there, before it ever reaches the server.
  if (!m.confirmed) return m.state === 'sending' || m.state === 'failed';
  return now - m.ts <= LIMITS.editWindowMs;
}

export function startReply(peer: string, m: ChatMessage): void {
  // Replying ends an edit (its text goes back to what it was).
  if (get().composing.get(peer)?.kind === 'edit') cancelCompose(peer);
  featureActions.compose(peer, { kind: 'reply', key: m.key });
}

/** The composer takes the message's text; what it held is given back when the edit ends. */
export function startEdit(peer: string, m: ChatMessage): void {
  const cur = get().composing.get(peer);
  const draft = cur?.kind === 'edit' ? cur.draft : (get().drafts.get(peer) ?? '');
  featureActions.compose(peer, { kind: 'edit', key: m.key, draft });
  chatActions.setDraft(peer, m.body);
}

export function cancelCompose(peer: string): void {
  const mode = get().composing.get(peer);
  featureActions.compose(peer, null);
  // The edited text was never a draft of a new message: the one from before comes back.
  if (mode?.kind === 'edit') chatActions.setDraft(peer, mode.draft);
}

export async function saveEdit(peer: string, m: ChatMessage, body: string): Promise<void> {
  const client = activeClient();
  cancelCompose(peer);
  if (!client || body === m.body) return;
  await client.edit({ from: m.from, id: m.id }, body).catch(refused);
}

export async function deleteForEveryone(m: ChatMessage): Promise<void> {
  await activeClient()?.deleteForEveryone({ from: m.from, id: m.id }).catch(refused);
}

export async function deleteForMe(m: ChatMessage): Promise<void> {
  await activeClient()?.hide({ from: m.from, id: m.id }).catch(refused);
}

/** My reaction to `m` becomes `emoji`, or goes when it already was that one. */
export async function toggleReaction(m: ChatMessage, emoji: string): Promise<void> {
  const me = get().me;
  const mine = m.reactions?.find((r) => r.by === me)?.emoji ?? null;
  await activeClient()
    ?.react({ from: m.from, id: m.id }, mine === emoji ? null : emoji)
    .catch(refused);
}

export async function block(user: string): Promise<void> {
  await activeClient()?.block(user).catch(refused);
}

export async function unblock(user: string): Promise<void> {
  await activeClient()?.unblock(user).catch(refused);
}

export async function setReadReceipts(on: boolean): Promise<void> {
  await activeClient()?.setReadReceipts(on).catch(refused);
}

/** Copies a message's text; without the Clipboard API (plain-http origins) through a selection. */
export async function copyText(text: string): Promise<void> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
    } else {
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'sr-only';
      document.body.append(area);
      area.select();
      const ok = document.execCommand('copy');
      area.remove();
      if (!ok) throw new Error('copy refused');
    }
    featureActions.toast('copied');
  } catch {
    featureActions.toast('copyFailed');
  }
}

// ---------------------------------------------------------------- search

let searchSeq = 0;

/** Searches my messages (in the conversation with `peer`, or all); `more` fetches the next page. */
export async function search(query: string, peer: string | null, more = false): Promise<void> {
  const client = activeClient();
  const s = get();
  const me = s.me;
  const q = query.trim();
  if (!client || !me || !get().features.has('search')) return;
  if (q === '') return featureActions.openSearch(peer);
  if (!/[\p{L}\p{N}]/u.test(q)) {
    // The server would refuse it (no letter or digit to search for): say so at once.
    featureActions.searchStarted(q, peer, false);
    return featureActions.searchFailed(q, peer, LocalCode.noTerms);
  }
  const before = more ? s.search.results[s.search.results.length - 1]?.message.cursor : undefined;
  if (more && !before) return;
  featureActions.searchStarted(q, peer, more);
  const mine = ++searchSeq;
  try {
    const page = await client.search(q, {
      ...(peer ? { with: peer } : {}),
      ...(before ? { before } : {}),
      limit: DEFAULTS.searchPageSize,
    });
    if (mine !== searchSeq) return;
    const items = page.items.map((i) => ({ peer: peerOf(me, i.msg), msg: i.msg, highlights: i.highlights }));
    featureActions.searchAnswered(q, peer, items, page.more, more);
  } catch (err) {
    if (mine === searchSeq) featureActions.searchFailed(q, peer, codeOf(err));
  }
}
