// The store's message transitions (chat-actions.ts): dedup, ordering, states, unread, read marks,
// prototype-named ids. One subject over one object's invariants: past 300 lines on purpose.
import type { MsgFrame } from '@pigeon/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { chatActions } from '../../src/store/chat-actions';
import { useChatStore } from '../../src/store/chat-store';
import { type ChatMessage, mergeMessages, messageKey } from '../../src/store/message-model';
import {
  selectConversationRows,
  selectPresencePeers,
  selectTotalUnread,
  titleFor,
} from '../../src/store/selectors';

const ME = 'alice';
let cursor = 0;

function msg(from: string, to: string, id: string, ts: number, extra: Partial<MsgFrame> = {}): MsgFrame {
  cursor++;
  return { t: 'msg', cursor: `c${cursor}`, id, from, to, body: `body ${id}`, ts, delivered: false, ...extra };
}

function outboxCopy(
  id: string,
  to: string,
  state: ChatMessage['state'],
  ts: number,
  errorCode?: string,
): ChatMessage {
  const confirmed = state === 'sent' || state === 'delivered';
  return { key: messageKey(ME, id), id, from: ME, to, body: `body ${id}`, ts, confirmed, state, errorCode };
}

const conv = (peer: string) => useChatStore.getState().conversations.get(peer)!;
const ids = (peer: string) => conv(peer).messages.map((m) => m.id);
const states = (peer: string) => conv(peer).messages.map((m) => m.state);

beforeEach(() => {
  chatActions.reset('en');
  chatActions.signedIn(ME);
  chatActions.setVisible(true);
});

describe('receiving', () => {
  it('keeps one copy of a message however often it arrives (dedup by from+id)', () => {
    const m = msg('bob', ME, 'm1', 1000);
    chatActions.receive([m]);
    chatActions.receive([m, { ...m, cursor: 'other' }]);
    chatActions.history('bob', [m], false, false);
    expect(ids('bob')).toEqual(['m1']);
    expect(conv('bob').unread).toBe(1);
  });

  it('orders by server time whatever order pages and live messages come in', () => {
    chatActions.receive([msg('bob', ME, 'live1', 5000), msg('bob', ME, 'live2', 6000)]);
    chatActions.history('bob', [msg('bob', ME, 'old1', 1000), msg(ME, 'bob', 'old2', 2000)], true, true);
    chatActions.history('bob', [msg('bob', ME, 'older', 500)], false, true);
    chatActions.receive([msg('bob', ME, 'live3', 7000)]);
    expect(ids('bob')).toEqual(['older', 'old1', 'old2', 'live1', 'live2', 'live3']);
    expect(conv('bob').hasMore).toBe(false);
  });

  it('puts an older page before what is held even when timestamps tie', () => {
    chatActions.history('bob', [msg('bob', ME, 'm3', 1000), msg('bob', ME, 'm4', 1000)], true, false);
    chatActions.history('bob', [msg('bob', ME, 'm1', 999), msg('bob', ME, 'm2', 1000)], false, true);
    expect(ids('bob')).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('puts my message where the mailbox has it when timestamps tie, once its entry arrives', () => {
    chatActions.outbox([outboxCopy('mine', 'bob', 'sending', 1)]);
    chatActions.outbox([outboxCopy('mine', 'bob', 'sent', 5000)]);
    chatActions.receive([msg('bob', ME, 'theirs', 5000)]);
    // Not seen in the mailbox yet: after the entry with the same time.
    expect(ids('bob')).toEqual(['theirs', 'mine']);
    chatActions.reset('en');
    chatActions.signedIn(ME);
    chatActions.outbox([outboxCopy('mine', 'bob', 'sent', 5000)]);
    chatActions.receive([msg(ME, 'bob', 'mine', 5000), msg('bob', ME, 'theirs', 5000)]);
    expect(ids('bob')).toEqual(['mine', 'theirs']);
    // A replay of the same entries changes nothing.
    chatActions.receive([msg('bob', ME, 'theirs', 5000), msg(ME, 'bob', 'mine', 5000)]);
    expect(ids('bob')).toEqual(['mine', 'theirs']);
  });

  it('keeps arrival order for equal timestamps (the mailbox order)', () => {
    chatActions.receive([msg('bob', ME, 'b', 1000), msg('bob', ME, 'a', 1000), msg('bob', ME, 'c', 1000)]);
    expect(ids('bob')).toEqual(['b', 'a', 'c']);
  });

  it('files messages by peer, my own echoes under the recipient', () => {
    chatActions.receive([msg('bob', ME, 'x', 1), msg(ME, 'carol', 'y', 2), msg(ME, ME, 'z', 3)]);
    expect(ids('bob')).toEqual(['x']);
    expect(ids('carol')).toEqual(['y']);
    expect(ids(ME)).toEqual(['z']);
    expect(conv('carol').messages[0]!.state).toBe('sent');
    expect(conv(ME).unread).toBe(0);
  });

  it('ignores frames before sign-in', () => {
    chatActions.reset('en');
    chatActions.receive([msg('bob', ME, 'x', 1)]);
    expect(useChatStore.getState().conversations.size).toBe(0);
  });
});

describe('unread counts', () => {
  it('counts new messages from others per conversation, not mine, not history', () => {
    chatActions.receive([msg('bob', ME, 'a', 1), msg('bob', ME, 'b', 2), msg(ME, 'bob', 'c', 3)]);
    chatActions.receive([msg('carol', ME, 'd', 4)]);
    chatActions.history('dave', [msg('dave', ME, 'e', 0)], false, false);
    expect(conv('bob').unread).toBe(2);
    expect(conv('carol').unread).toBe(1);
    expect(conv('dave').unread).toBe(0);
    expect(selectTotalUnread(useChatStore.getState())).toBe(3);
  });

  it('opening a conversation reads it; messages there do not count while the tab is visible', () => {
    chatActions.receive([msg('bob', ME, 'a', 1)]);
    chatActions.open('bob');
    expect(conv('bob').unread).toBe(0);
    chatActions.receive([msg('bob', ME, 'b', 2)]);
    expect(conv('bob').unread).toBe(0);
  });

  it('counts messages in the open conversation while the tab is hidden, and clears on return', () => {
    chatActions.open('bob');
    chatActions.setVisible(false);
    chatActions.receive([msg('bob', ME, 'a', 1), msg('bob', ME, 'b', 2)]);
    expect(conv('bob').unread).toBe(2);
    expect(selectTotalUnread(useChatStore.getState())).toBe(2);
    chatActions.setVisible(true);
    expect(conv('bob').unread).toBe(0);
  });

  it('does not count again what was counted before a reload (read marks)', () => {
    const a = msg('bob', ME, 'a', 100);
    const b = msg('bob', ME, 'b', 100);
    chatActions.receive([a, b]);
    const saved = {
      unread: new Map([['bob', conv('bob').unread]]),
      readMarks: useChatStore.getState().readMarks,
    };
    chatActions.reset('en');
    chatActions.signedIn(ME, saved);
    expect(conv('bob').unread).toBe(2);
    chatActions.receive([a, b, msg('bob', ME, 'c', 101)]);
    expect(conv('bob').unread).toBe(3);
  });

  it('shows the unread total in the tab title whenever there is one', () => {
    const withCount = (n: number) => `(${n}) Pigeon`;
    expect(titleFor(3, withCount, 'Pigeon')).toBe('(3) Pigeon');
    expect(titleFor(1, withCount, 'Pigeon')).toBe('(1) Pigeon');
    expect(titleFor(0, withCount, 'Pigeon')).toBe('Pigeon');
  });
});

describe('my messages', () => {
  it('goes sending → sent → delivered, and never back', () => {
    chatActions.outbox([outboxCopy('m1', 'bob', 'sending', 50)]);
    expect(states('bob')).toEqual(['sending']);
    chatActions.outbox([outboxCopy('m1', 'bob', 'sent', 60)]);
    expect(states('bob')).toEqual(['sent']);
    chatActions.receipt('m1', 'bob');
    expect(states('bob')).toEqual(['delivered']);
    // A late echo without `delivered` and a stale outbox report change nothing.
    chatActions.receive([msg(ME, 'bob', 'm1', 60)]);
    chatActions.outbox([outboxCopy('m1', 'bob', 'sending', 50)]);
    expect(states('bob')).toEqual(['delivered']);
    expect(ids('bob')).toEqual(['m1']);
    expect(conv('bob').messages[0]!.cursor).toBeDefined();
  });

  it('shows the echo as delivered when the server says so', () => {
    chatActions.receive([msg(ME, 'bob', 'm1', 10, { delivered: true })]);
    expect(states('bob')).toEqual(['delivered']);
  });

  it('keeps unconfirmed messages below the stored ones, then moves them into place', () => {
    chatActions.outbox([outboxCopy('mine', 'bob', 'sending', 9_000)]);
    chatActions.receive([msg('bob', ME, 'theirs', 10_000)]);
    expect(ids('bob')).toEqual(['theirs', 'mine']);
    chatActions.outbox([outboxCopy('mine', 'bob', 'sent', 11_000)]);
    expect(ids('bob')).toEqual(['theirs', 'mine']);
    chatActions.receive([msg('bob', ME, 'later', 12_000)]);
    expect(ids('bob')).toEqual(['theirs', 'mine', 'later']);
  });

  it('failed messages carry their code; retry makes them sending; discard removes them', () => {
    chatActions.outbox([outboxCopy('m1', 'nobody', 'failed', 5, 'no_such_user')]);
    expect(conv('nobody').messages[0]).toMatchObject({ state: 'failed', errorCode: 'no_such_user' });
    chatActions.outbox([outboxCopy('m1', 'nobody', 'sending', 5)]);
    expect(states('nobody')).toEqual(['sending']);
    chatActions.removeOutbox('nobody', messageKey(ME, 'm1'));
    expect(ids('nobody')).toEqual([]);
  });

  it('does not remove a message the server already stored', () => {
    chatActions.receive([msg(ME, 'bob', 'm1', 5)]);
    chatActions.removeOutbox('bob', messageKey(ME, 'm1'));
    expect(ids('bob')).toEqual(['m1']);
  });
});

describe('sidebar', () => {
  it('lists conversations newest activity first, a message being sent counting as newest', () => {
    chatActions.receive([msg('bob', ME, 'a', 1000), msg('carol', ME, 'b', 2000)]);
    chatActions.conversationsList([{ with: 'dave', last: msg('dave', ME, 'c', 1500) }]);
    let rows = selectConversationRows(useChatStore.getState());
    expect(rows.map((r) => r.peer)).toEqual(['carol', 'dave', 'bob']);
    chatActions.outbox([outboxCopy('d', 'bob', 'sending', 3000)]);
    rows = selectConversationRows(useChatStore.getState());
    expect(rows.map((r) => r.peer)).toEqual(['bob', 'carol', 'dave']);
    expect(rows[0]!.last?.id).toBe('d');
  });

  it('returns the same array while nothing relevant changed', () => {
    chatActions.receive([msg('bob', ME, 'a', 1000)]);
    const s = useChatStore.getState();
    expect(selectConversationRows(s)).toBe(selectConversationRows(s));
    chatActions.setStatus({ kind: 'online' });
    expect(selectConversationRows(useChatStore.getState())).toBe(selectConversationRows(s));
  });

  it('shows online dots from presence, and subscribes to every peer but me', () => {
    chatActions.receive([msg('bob', ME, 'a', 1), msg(ME, ME, 'n', 2)]);
    chatActions.presence('bob', true);
    expect(selectConversationRows(useChatStore.getState()).find((r) => r.peer === 'bob')?.online).toBe(true);
    expect(selectPresencePeers(useChatStore.getState())).toEqual(['bob']);
  });

  it('forgets presence while disconnected', () => {
    chatActions.presence('bob', true);
    chatActions.forgetPresence();
    expect(useChatStore.getState().presence.size).toBe(0);
  });

  it('typing shows until the message arrives', () => {
    chatActions.typing('bob', 0);
    expect(useChatStore.getState().typingUntil.has('bob')).toBe(true);
    chatActions.receive([msg('bob', ME, 'a', 1)]);
    expect(useChatStore.getState().typingUntil.has('bob')).toBe(false);
  });
});

describe('user ids that are also names of Object.prototype members (issue 9.4)', () => {
  const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

  it('keeps a conversation, unread count, presence, typing and draft for each of them', () => {
    chatActions.receive(NAMES.map((n, i) => msg(n, ME, `m-${i}`, 100 + i)));
    for (const n of NAMES) {
      expect(ids(n)).toEqual([`m-${NAMES.indexOf(n)}`]);
      expect(conv(n).unread).toBe(1);
      chatActions.presence(n, true);
      chatActions.typing(n, 0);
      chatActions.setDraft(n, `draft for ${n}`);
    }
    const s = useChatStore.getState();
    const rows = selectConversationRows(s);
    expect(rows.map((r) => r.peer).sort()).toEqual([...NAMES].sort());
    expect(rows.every((r) => r.online && r.unread === 1 && r.draft === `draft for ${r.peer}`)).toBe(true);
    expect(selectTotalUnread(s)).toBe(NAMES.length);
    expect(selectPresencePeers(s)).toEqual([...NAMES].sort());
    // Nothing leaked onto Object.prototype, and an unknown peer finds nothing.
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
    expect(s.conversations.get('isPrototypeOf')).toBeUndefined();
  });

  it('opens such a conversation and counts it read', () => {
    chatActions.receive([msg('constructor', ME, 'a', 1)]);
    chatActions.open('constructor');
    expect(useChatStore.getState().activePeer).toBe('constructor');
    expect(conv('constructor').unread).toBe(0);
    chatActions.open('__proto__');
    expect(conv('__proto__').messages).toEqual([]);
  });
});

describe('an entry that cannot be handled (issue 9.4)', () => {
  it('is refused alone: the entries before and after it are applied', () => {
    const bad = { ...msg('bob', ME, 'bad', 2), body: undefined } as unknown as MsgFrame;
    const failed = chatActions.receive([msg('bob', ME, 'a', 1), bad, msg('carol', ME, 'c', 3)]);
    expect(failed).toEqual([bad]);
    expect(ids('bob')).toEqual(['a']);
    expect(ids('carol')).toEqual(['c']);
    expect(useChatStore.getState().auth).toBe('signed-in');
  });

  it("refuses an entry of someone else's mailbox", () => {
    const foreign = msg('bob', 'carol', 'x', 1);
    expect(chatActions.receive([foreign])).toEqual([foreign]);
    expect(useChatStore.getState().conversations.size).toBe(0);
  });
});

describe('immutable updates (issue 13)', () => {
  it('clearTyping replaces the map instead of changing the one selectors already saw', () => {
    chatActions.typing('bob', 0);
    const before = useChatStore.getState().typingUntil;
    chatActions.clearTyping('bob');
    const after = useChatStore.getState().typingUntil;
    expect(after).not.toBe(before);
    expect(before.has('bob')).toBe(true);
    expect(after.has('bob')).toBe(false);
    chatActions.clearTyping('bob');
    expect(useChatStore.getState().typingUntil).toBe(after);
  });

  it('the sidebar rows follow the open conversation even when nothing else changed', () => {
    chatActions.receive([msg('bob', ME, 'a', 1)]);
    chatActions.open('bob');
    chatActions.open('dave');
    expect(selectConversationRows(useChatStore.getState()).map((r) => r.peer)).toEqual(['bob', 'dave']);
    // Same conversations map, another open peer: the empty chat is no longer listed.
    const conversations = useChatStore.getState().conversations;
    chatActions.open('bob');
    expect(useChatStore.getState().conversations).toBe(conversations);
    expect(selectConversationRows(useChatStore.getState()).map((r) => r.peer)).toEqual(['bob']);
  });
});

describe('drafts', () => {
  it('lists a conversation with a draft and forgets an emptied draft', () => {
    chatActions.setDraft('erin', 'half a thought');
    let rows = selectConversationRows(useChatStore.getState());
    expect(rows.map((r) => [r.peer, r.draft])).toEqual([]);
    chatActions.signedIn(ME, undefined, new Map([['erin', 'half a thought']]));
    rows = selectConversationRows(useChatStore.getState());
    expect(rows.map((r) => [r.peer, r.draft])).toEqual([['erin', 'half a thought']]);
    chatActions.setDraft('erin', '');
    expect(useChatStore.getState().drafts.has('erin')).toBe(false);
  });
});

describe('gaps', () => {
  it('after a gap every conversation fetches its newest page again, keeping what it shows', () => {
    chatActions.history('bob', [msg('bob', ME, 'a', 1)], false, false);
    chatActions.receive([msg('carol', ME, 'b', 2)]);
    chatActions.forgetHistory();
    expect(conv('bob').hasMore).toBeNull();
    expect(conv('carol').hasMore).toBeNull();
    expect(ids('bob')).toEqual(['a']);
    chatActions.history('bob', [msg('bob', ME, 'z', 0), msg('bob', ME, 'a', 1)], true, false);
    expect(conv('bob').hasMore).toBe(true);
    expect(ids('bob')).toEqual(['z', 'a']);
  });
});

describe('mergeMessages', () => {
  it('returns the same list when nothing changes', () => {
    const list = mergeMessages([], [outboxCopy('a', 'bob', 'sent', 1)]);
    expect(mergeMessages(list, [outboxCopy('a', 'bob', 'sent', 1)])).toBe(list);
    expect(mergeMessages(list, [])).toBe(list);
  });

  it('handles 10,000 messages in pages without duplicates', () => {
    let list: ChatMessage[] = [];
    const all = Array.from({ length: 10_000 }, (_, i) => outboxCopy(`m${i}`, 'bob', 'sent', i));
    for (let end = all.length; end > 0; end -= 100)
      list = mergeMessages(list, all.slice(Math.max(0, end - 100), end));
    list = mergeMessages(list, all.slice(5000, 5100));
    expect(list).toHaveLength(10_000);
    expect(list.every((m, i) => m.id === `m${i}`)).toBe(true);
  });
});
