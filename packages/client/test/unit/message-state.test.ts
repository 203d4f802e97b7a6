import { LIMITS, type MsgFrame, type UpdateFrame } from '@pigeon/protocol';
import { describe, expect, it } from 'vitest';
import {
  applyReceipt,
  applyToConversation,
  applyToMessage,
  deliveryState,
  messageKey,
  reactionCounts,
  updatePeer,
} from '../../src/index.js';

// The pure helpers an application uses to keep its messages in the state updates describe.

const TS = 1_700_000_000_000;
const m = (cursor: string, id: string, from: string, extra: Partial<MsgFrame> = {}): MsgFrame => ({
  t: 'msg',
  cursor,
  id,
  from,
  to: from === 'alice' ? 'bob' : 'alice',
  body: `body ${id}`,
  ts: TS,
  delivered: true,
  read: false,
  ...extra,
});
const about = { from: 'alice', id: 'a1', with: 'bob' };
const u = (kind: string, fields: object): UpdateFrame =>
  ({ t: 'update', cursor: 'u1', ts: TS + 5, kind, ...fields }) as UpdateFrame;

describe('applyToMessage / applyToConversation', () => {
  const convo: readonly MsgFrame[] = [
    m('c1', 'b1', 'bob'),
    m('c2', 'a1', 'alice', { reactions: [{ by: 'bob', emoji: '👍' }] }),
    m('c3', 'b2', 'bob', { replyTo: { from: 'alice', id: 'a1', cursor: 'c2', body: 'body a1' } }),
    m('c4', 'a2', 'alice'),
  ];

  it('edit: new body and edited time; quotes follow, cut to the quote length', () => {
    const long = 'y'.repeat(LIMITS.quoteMaxLength + 50);
    const out = applyToConversation(convo, u('edit', { ...about, body: long }), 'alice');
    expect(out[1]).toMatchObject({ body: long, edited: TS + 5 });
    // The protocol's quote: quoteMaxLength units, then "…".
    expect(out[2]?.replyTo?.body).toBe(`${'y'.repeat(LIMITS.quoteMaxLength)}…`);
    expect(out[0]).toBe(convo[0]); // untouched messages keep their identity
    expect(convo[1]?.body).toBe('body a1'); // nothing mutated
  });

  it('delete: placeholder without body, quote, reactions; quotes say deleted; later edits change nothing', () => {
    const out = applyToConversation(convo, u('delete', about), 'alice');
    expect(out[1]).toEqual({ ...m('c2', 'a1', 'alice'), body: '', deleted: true });
    expect(out[2]?.replyTo).toEqual({ from: 'alice', id: 'a1', cursor: 'c2', deleted: true });
    expect(applyToConversation(out, u('edit', { ...about, body: 'back?' }), 'alice')).toBe(out);
  });

  it('react: one per person, changed or removed; the field goes when empty', () => {
    const changed = applyToMessage(convo[1] as MsgFrame, u('react', { ...about, by: 'bob', emoji: '❤️' }));
    expect(changed.reactions).toEqual([{ by: 'bob', emoji: '❤️' }]);
    const removed = applyToMessage(changed, u('react', { ...about, by: 'bob', emoji: null }));
    expect(removed.reactions).toBeUndefined();
    expect(applyToMessage(removed, u('react', { ...about, by: 'bob', emoji: null }))).toBe(removed);
  });

  it('hide removes the message; read and seen mark up to the entry at upto, and nothing for an unknown cursor', () => {
    expect(applyToConversation(convo, u('hide', about), 'alice').map((x) => x.id)).toEqual([
      'b1',
      'b2',
      'a2',
    ]);
    const read = applyToConversation(convo, u('read', { with: 'bob', upto: 'c3', unread: 0 }), 'alice');
    expect(read.map((x) => x.read)).toEqual([true, false, true, false]);
    const seen = applyToConversation(convo, u('seen', { with: 'bob', upto: 'c2' }), 'alice');
    expect(seen.map((x) => x.read)).toEqual([false, true, false, false]);
    expect(applyToConversation(convo, u('seen', { with: 'bob', upto: 'c0' }), 'alice')).toBe(convo);
    expect(applyToConversation(convo, u('block', { user: 'bob', blocked: true }), 'alice')).toBe(convo);
  });

  it('receipts, ticks, keys, peers and reaction counts', () => {
    const sent = m('c9', 'a9', 'alice', { delivered: false });
    expect(deliveryState(sent)).toBe('sent');
    const delivered = applyReceipt([sent], 'alice', 'a9');
    expect(deliveryState(delivered[0] as MsgFrame)).toBe('delivered');
    expect(deliveryState({ ...sent, delivered: true, read: true })).toBe('read');
    expect(applyReceipt(delivered, 'alice', 'a9')).toBe(delivered);
    expect(messageKey(sent)).toBe('alice\na9');
    expect(updatePeer(u('edit', about))).toBe('bob');
    expect(updatePeer(u('settings', { readReceipts: true }))).toBeNull();
    const many = m('c1', 'x', 'bob', {
      reactions: [
        { by: 'bob', emoji: '😂' },
        { by: 'alice', emoji: '👍' },
        { by: 'carol', emoji: '👍' },
      ],
    });
    expect(reactionCounts(many, 'alice')).toEqual([
      { emoji: '👍', count: 2, by: ['alice', 'carol'], mine: true },
      { emoji: '😂', count: 1, by: ['bob'], mine: false },
    ]);
  });
});
