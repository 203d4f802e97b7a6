// The store's transitions for the chat features (issue 10), pure and in jsdom: one subject, the
// update kinds and their order, which is why it runs past 300 lines rather than being cut by kind.
import type { MsgFrame, UpdateFrame } from '@pigeon/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { chatActions } from '../../src/store/chat-actions';
import { newestOf, useChatStore } from '../../src/store/chat-store';
import { featureActions } from '../../src/store/feature-actions';
import { canChange } from '../../src/store/feature-requests';
import { firstUnread } from '../../src/store/log-positions';
import { type ChatMessage, fromFrame, mergeMessages, messageKey } from '../../src/store/message-model';
import { selectConversationRows } from '../../src/store/selectors';

/**
 * (Over 300 lines: one file per part tested, here the store's side of every chat feature.)
 * The store's side of the chat features (issue 10): messages with their state (read, edited,
 * deleted, quote, reactions), update entries applied in mailbox order, the server's unread
 * counts, a stretch of history opened in the middle, search results following the messages.
 */
const ME = 'alice';
let n = 0;

function msg(from: string, to: string, id: string, ts: number, extra: Partial<MsgFrame> = {}): MsgFrame {
  n++;
  return { t: 'msg', cursor: `c${n}`, id, from, to, body: `body ${id}`, ts, delivered: false, ...extra };
}

function update<K extends UpdateFrame['kind']>(
  kind: K,
  fields: Omit<Extract<UpdateFrame, { kind: K }>, 't' | 'cursor' | 'ts' | 'kind'>,
  ts = 9000,
): UpdateFrame {
  n++;
  return { t: 'update', cursor: `u${n}`, ts, kind, ...fields } as unknown as UpdateFrame;
}

const state = () => useChatStore.getState();
const conv = (peer: string) => state().conversations.get(peer)!;
const byId = (peer: string, id: string) =>
  [...conv(peer).messages, ...conv(peer).tail].find((m) => m.id === id) as ChatMessage;

beforeEach(() => {
  chatActions.reset('en');
  chatActions.signedIn(ME);
  chatActions.setVisible(true);
  featureActions.setFeatures(['paging', 'read', 'edit', 'reply', 'react', 'block', 'search']);
});

describe('messages with their state', () => {
  it('maps read, edited, deleted, quote and reactions from the frame, and ✓✓ read for mine', () => {
    const quote = { from: 'bob', id: 'q', cursor: 'c0', body: 'the original' };
    const mine = fromFrame(ME, msg(ME, 'bob', 'a', 1, { delivered: true, read: true, edited: 5 }));
    const theirs = fromFrame(
      ME,
      msg('bob', ME, 'b', 2, { read: false, replyTo: quote, reactions: [{ by: ME, emoji: '👍' }] }),
    );
    const gone = fromFrame(ME, msg('bob', ME, 'c', 3, { body: '', deleted: true }));
    expect(mine).toMatchObject({ state: 'read', edited: 5 });
    expect(mine.read).toBeUndefined(); // `read` of my own messages is the tick
    expect(theirs).toMatchObject({ state: 'received', read: false, replyTo: quote });
    expect(theirs.reactions).toEqual([{ by: ME, emoji: '👍' }]);
    expect(gone).toMatchObject({ deleted: true, body: '' });
    // A message to myself is never "read" by anyone else: a plain ✓.
    expect(fromFrame(ME, msg(ME, ME, 'd', 4, { delivered: true, read: true })).state).toBe('sent');
  });

  it('merges two views newest-state first: the later edit wins, a deletion and a read mark are final', () => {
    const base = fromFrame(ME, msg('bob', ME, 'm', 1, { read: false }));
    const edited = { ...base, body: 'v2', edited: 20 };
    const stale = { ...base, body: 'v1', edited: 10, read: true };
    // An answer computed before the edit arrives after it: its body does not win.
    const [once] = mergeMessages(mergeMessages([base], [edited]), [stale]);
    expect(once).toMatchObject({ body: 'v2', edited: 20, read: true });
    const deleted = { ...base, body: '', deleted: true };
    const [gone] = mergeMessages(mergeMessages([once!], [deleted]), [edited]);
    expect(gone).toMatchObject({ deleted: true, body: '' });
    expect(gone?.replyTo).toBeUndefined();
    // ✓✓ in colour never goes back to ✓✓ grey.
    const read = fromFrame(ME, msg(ME, 'bob', 'x', 1, { delivered: true, read: true }));
    const [still] = mergeMessages([read], [{ ...read, state: 'delivered' }]);
    expect(still?.state).toBe('read');
  });
});

describe('updates in mailbox order', () => {
  it('applies an edit to the message and to the quotes of it, and stays put when applied twice', () => {
    chatActions.receive([
      msg('bob', ME, 'orig', 1),
      msg(ME, 'bob', 'reply', 2, { replyTo: { from: 'bob', id: 'orig', cursor: 'c?', body: 'body orig' } }),
    ]);
    const u = update('edit', { from: 'bob', id: 'orig', with: 'bob', body: 'fixed typo' }, 50);
    featureActions.applyUpdate(u);
    expect(byId('bob', 'orig')).toMatchObject({ body: 'fixed typo', edited: 50 });
    expect(byId('bob', 'reply').replyTo?.body).toBe('fixed typo');
    const before = conv('bob');
    featureActions.applyUpdate(u);
    expect(conv('bob')).toBe(before);
  });

  it('cuts a long edited original in the quote like the server (200 units and "…")', () => {
    chatActions.receive([
      msg('bob', ME, 'orig', 1),
      msg(ME, 'bob', 'reply', 2, { replyTo: { from: 'bob', id: 'orig', body: 'short' } }),
    ]);
    featureActions.applyUpdate(
      update('edit', { from: 'bob', id: 'orig', with: 'bob', body: 'x'.repeat(250) }),
    );
    const quote = byId('bob', 'reply').replyTo?.body ?? '';
    expect(quote.length).toBe(201);
    expect(quote.endsWith('…')).toBe(true);
  });

  it('deletes for everyone: placeholder keeps its place, quotes say deleted, a reply in progress lets go', () => {
    chatActions.receive([
      msg('bob', ME, 'a', 1, { reactions: [{ by: ME, emoji: '😂' }] }),
      msg('bob', ME, 'b', 2),
      msg(ME, 'bob', 'c', 3, { replyTo: { from: 'bob', id: 'a', body: 'body a' } }),
    ]);
    featureActions.compose('bob', { kind: 'reply', key: messageKey('bob', 'a') });
    featureActions.applyUpdate(update('delete', { from: 'bob', id: 'a', with: 'bob' }));
    expect(conv('bob').messages.map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(byId('bob', 'a')).toMatchObject({ deleted: true, body: '' });
    expect(byId('bob', 'a').reactions).toBeUndefined();
    expect(byId('bob', 'c').replyTo).toEqual({ from: 'bob', id: 'a', deleted: true });
    expect(state().composing.has('bob')).toBe(false);
    // An edit arriving after the deletion brings nothing back.
    featureActions.applyUpdate(update('edit', { from: 'bob', id: 'a', with: 'bob', body: 'back?' }));
    expect(byId('bob', 'a').body).toBe('');
  });

  it('an edit in progress of a message deleted elsewhere gives the composer its old draft back', () => {
    chatActions.receive([msg(ME, 'bob', 'mine', 1)]);
    chatActions.setDraft('bob', 'half a thought');
    featureActions.compose('bob', { kind: 'edit', key: messageKey(ME, 'mine'), draft: 'half a thought' });
    chatActions.setDraft('bob', 'body mine (edited)');
    featureActions.applyUpdate(update('delete', { from: ME, id: 'mine', with: 'bob' }));
    expect(state().composing.has('bob')).toBe(false);
    expect(state().drafts.get('bob')).toBe('half a thought');
  });

  it('hides for me: the message leaves the log, the search results and the tail', () => {
    chatActions.receive([msg('bob', ME, 'a', 1), msg('bob', ME, 'b', 2)]);
    featureActions.searchStarted('body', null, false);
    featureActions.searchAnswered(
      'body',
      null,
      [{ peer: 'bob', msg: msg('bob', ME, 'a', 1), highlights: [[0, 4]] }],
      false,
      false,
    );
    featureActions.applyUpdate(update('hide', { from: 'bob', id: 'a', with: 'bob' }));
    expect(conv('bob').messages.map((m) => m.id)).toEqual(['b']);
    expect(state().search.results).toEqual([]);
  });

  it('one reaction per person: set, change, remove, and the same again changes nothing', () => {
    chatActions.receive([msg(ME, 'bob', 'm', 1)]);
    const react = (by: string, emoji: string | null) =>
      featureActions.applyUpdate(update('react', { from: ME, id: 'm', with: 'bob', by, emoji }));
    react('bob', '👍');
    react(ME, '❤️');
    react('bob', '😂');
    expect(byId('bob', 'm').reactions).toEqual([
      { by: ME, emoji: '❤️' },
      { by: 'bob', emoji: '😂' },
    ]);
    const before = conv('bob');
    react('bob', '😂');
    expect(conv('bob')).toBe(before);
    react(ME, null);
    react('bob', null);
    expect(byId('bob', 'm').reactions).toBeUndefined();
  });

  it('a reaction on my message survives the outbox reporting that message again', () => {
    chatActions.outbox([
      {
        key: messageKey(ME, 'o1'),
        id: 'o1',
        from: ME,
        to: 'bob',
        body: 'hi',
        ts: 5,
        confirmed: true,
        state: 'sent',
      },
    ]);
    chatActions.receive([msg(ME, 'bob', 'o1', 5, { body: 'hi' })]);
    featureActions.applyUpdate(update('react', { from: ME, id: 'o1', with: 'bob', by: 'bob', emoji: '❤️' }));
    // Sending the next message re-emits the whole outbox, this settled copy included.
    chatActions.outbox([
      {
        key: messageKey(ME, 'o1'),
        id: 'o1',
        from: ME,
        to: 'bob',
        body: 'hi',
        ts: 5,
        confirmed: true,
        state: 'delivered',
      },
    ]);
    expect(byId('bob', 'o1').reactions).toEqual([{ by: 'bob', emoji: '❤️' }]);
    expect(byId('bob', 'o1').state).toBe('delivered');
  });

  it('read and seen mark up to the entry named, never past it, and only the right side', () => {
    const frames = [
      msg('bob', ME, 'b1', 1, { read: false }),
      msg(ME, 'bob', 'a1', 2, { delivered: true }),
      msg('bob', ME, 'b2', 3, { read: false }),
      msg(ME, 'bob', 'a2', 4, { delivered: true }),
      msg('bob', ME, 'b3', 5, { read: false }),
    ];
    chatActions.history('bob', frames, false, false);
    // My mark up to b2 (its cursor): b1 and b2 read, b3 not; my messages untouched.
    featureActions.applyUpdate(update('read', { with: 'bob', upto: frames[2]!.cursor, unread: 1 }));
    expect(['b1', 'b2', 'b3'].map((id) => byId('bob', id).read)).toEqual([true, true, false]);
    expect(conv('bob').readUpto).toBe(frames[2]!.cursor);
    // Bob read my messages up to a1 (my entry): a1 turns ✓✓ in colour, a2 stays ✓✓ grey.
    featureActions.applyUpdate(update('seen', { with: 'bob', upto: frames[1]!.cursor }));
    expect(['a1', 'a2'].map((id) => byId('bob', id).state)).toEqual(['read', 'delivered']);
    // A mark whose entry is not held is older than everything held: nothing changes.
    const before = conv('bob');
    featureActions.applyUpdate(update('seen', { with: 'bob', upto: 'c-unknown' }));
    expect(conv('bob').messages).toBe(before.messages);
  });

  it('counts unread from the server, not here, and reports what arrived out of view', () => {
    featureActions.setReadStates({ bob: { unread: 4, readUpto: null } });
    const fresh = new Map();
    chatActions.receivePrepared(
      [msg('bob', ME, 'x', 1), msg('bob', ME, 'y', 2)].map((f) => ({
        peer: 'bob',
        message: fromFrame(ME, f),
      })),
      fresh,
    );
    expect(conv('bob').unread).toBe(4); // the server's count (the client adds to it, not the store)
    expect(fresh.get('bob')).toMatchObject({ count: 2 });
    expect(fresh.get('bob').last.id).toBe('y');
    featureActions.setReadStates({ bob: { unread: 0, readUpto: 'cY' } });
    expect(conv('bob')).toMatchObject({ unread: 0, readUpto: 'cY' });
  });
});

describe('a stretch opened in the middle', () => {
  it('holds the newest in the tail, appends live messages there, and joins them when scrolling reaches them', () => {
    chatActions.history('bob', [msg('bob', ME, 'n1', 100), msg('bob', ME, 'n2', 101)], true, false);
    const mid = [msg('bob', ME, 'm1', 10), msg('bob', ME, 'm2', 11)];
    featureActions.stretchLoaded('bob', mid, true, true);
    expect(conv('bob')).toMatchObject({ hasNewer: true, hasMore: true });
    expect(conv('bob').messages.map((m) => m.id)).toEqual(['m1', 'm2']);
    expect(conv('bob').tail.map((m) => m.id)).toEqual(['n1', 'n2']);
    // The list shows the newest message, not the stretch's last.
    expect(selectConversationRows(state())[0]?.last?.id).toBe('n2');
    chatActions.receive([msg('bob', ME, 'live', 200)]);
    expect(conv('bob').messages.map((m) => m.id)).toEqual(['m1', 'm2']);
    expect(newestOf(conv('bob'))?.id).toBe('live');
    // Scrolling down: a page with more after it, then the last one.
    featureActions.newerLoaded('bob', [msg('bob', ME, 'm3', 12)], true);
    expect(conv('bob').hasNewer).toBe(true);
    featureActions.newerLoaded('bob', [msg('bob', ME, 'n1', 100), msg('bob', ME, 'n2', 101)], false);
    expect(conv('bob')).toMatchObject({ hasNewer: false, tail: [] });
    expect(conv('bob').messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'n1', 'n2', 'live']);
  });

  it('jumping to the latest keeps what arrived while the page was on its way, and my unsent messages', () => {
    featureActions.stretchLoaded('bob', [msg('bob', ME, 'm1', 10)], true, true);
    chatActions.receive([msg('bob', ME, 'late', 300)]);
    chatActions.outbox([
      {
        key: messageKey(ME, 'o'),
        id: 'o',
        from: ME,
        to: 'bob',
        body: 'o',
        ts: 400,
        confirmed: false,
        state: 'sending',
      },
    ]);
    featureActions.latestLoaded('bob', [msg('bob', ME, 'n1', 100)], true);
    expect(conv('bob').messages.map((m) => m.id)).toEqual(['n1', 'late', 'o']);
    expect(conv('bob')).toMatchObject({ hasNewer: false, hasMore: true });
  });

  it('after a gap the stretch gives way to the newest messages known', () => {
    chatActions.history('bob', [msg('bob', ME, 'n1', 100)], true, false);
    featureActions.stretchLoaded('bob', [msg('bob', ME, 'm1', 10)], true, true);
    chatActions.forgetHistory();
    expect(conv('bob')).toMatchObject({ hasNewer: false, hasMore: null, tail: [] });
    expect(conv('bob').messages.map((m) => m.id)).toEqual(['n1']);
  });
});

describe('positions and permissions', () => {
  it('the first unread message is the first from the peer my mark does not cover', () => {
    chatActions.history(
      'bob',
      [
        msg('bob', ME, 'r', 1, { read: true }),
        msg(ME, 'bob', 'mine', 2),
        msg('bob', ME, 'u1', 3, { read: false }),
        msg('bob', ME, 'u2', 4, { read: false }),
      ],
      false,
      false,
    );
    expect(firstUnread(conv('bob'), ME)?.id).toBe('u1');
  });

  it('my message can change for 15 minutes after its server time: exactly 900,000 ms passes, 1 ms more does not', () => {
    const m = fromFrame(ME, msg(ME, 'bob', 'x', 1_000_000));
    expect(canChange(m, ME, 1_000_000 + 900_000)).toBe(true);
    expect(canChange(m, ME, 1_000_000 + 900_001)).toBe(false);
    expect(canChange(fromFrame(ME, msg('bob', ME, 'y', 1_000_000)), ME, 1_000_001)).toBe(false);
    expect(canChange({ ...m, deleted: true, body: '' }, ME, 1_000_001)).toBe(false);
    // Still in the outbox: always (the client changes it before it goes out).
    expect(canChange({ ...m, confirmed: false, state: 'sending', ts: 0 }, ME, 1_000_000_000)).toBe(true);
  });
});

describe('search', () => {
  it('keeps the answer of the latest question only, and pages on', () => {
    featureActions.searchStarted('old', null, false);
    featureActions.searchStarted('中文', null, false);
    featureActions.searchAnswered(
      'old',
      null,
      [{ peer: 'bob', msg: msg('bob', ME, 'x', 1), highlights: [] }],
      false,
      false,
    );
    expect(state().search.results).toEqual([]);
    featureActions.searchAnswered(
      '中文',
      null,
      [{ peer: 'bob', msg: msg('bob', ME, 'z1', 5, { body: '我会说中文' }), highlights: [[3, 5]] }],
      true,
      false,
    );
    featureActions.searchStarted('中文', null, true);
    featureActions.searchAnswered(
      '中文',
      null,
      [{ peer: 'carol', msg: msg('carol', ME, 'z2', 4), highlights: [] }],
      false,
      true,
    );
    expect(state().search.results.map((r) => r.message.id)).toEqual(['z1', 'z2']);
    expect(state().search).toMatchObject({ more: false, loading: false, query: '中文' });
  });

  it('results follow edits of their messages (the stale highlights go)', () => {
    featureActions.searchStarted('body', null, false);
    featureActions.searchAnswered(
      'body',
      null,
      [{ peer: 'bob', msg: msg('bob', ME, 'x', 1), highlights: [[0, 4]] }],
      false,
      false,
    );
    featureActions.applyUpdate(update('edit', { from: 'bob', id: 'x', with: 'bob', body: 'changed' }));
    expect(state().search.results[0]).toMatchObject({ highlights: [] });
    expect(state().search.results[0]?.message.body).toBe('changed');
  });
});
