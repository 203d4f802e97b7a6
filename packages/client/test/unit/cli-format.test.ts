import type { MsgFrame, UpdateFrame } from '@pigeon/protocol';
import { describe, expect, it } from 'vitest';
import {
  formatMessage,
  formatSearchItem,
  formatUpdate,
  highlight,
  PLAIN_MARKS,
  TTY_MARKS,
} from '../../src/cli/format.js';

// What the CLI prints for the chat features: one line per entry, detail lines indented, all
// server text escaped (a hostile body can neither forge a line nor hide in a highlight).

const TS = Date.UTC(2026, 0, 2, 3, 4, 5);
const base: MsgFrame = {
  t: 'msg',
  cursor: 'c1',
  id: 'm1',
  from: 'bob',
  to: 'alice',
  body: 'hi',
  ts: TS,
  delivered: true,
};

describe('CLI formatting', () => {
  it('messages show id, edits, deletions, quotes, attachments and reactions', () => {
    expect(formatMessage(base)).toBe('2026-01-02T03:04:05.000Z bob -> alice [m1]: hi');
    expect(formatMessage({ ...base, edited: TS + 1 })).toBe(
      '2026-01-02T03:04:05.000Z bob -> alice [m1]: hi (edited)',
    );
    expect(formatMessage({ ...base, body: '', deleted: true })).toMatch(/\[m1\]: \(deleted\)$/);
    const rich = formatMessage({
      ...base,
      replyTo: { from: 'alice', id: 'a1', body: 'question?\nsecond line' },
      files: [{ id: 'f1', name: 'report.pdf', type: 'application/pdf', size: 1_200_000 }],
      reactions: [
        { by: 'alice', emoji: '👍' },
        { by: 'bob', emoji: '❤️' },
      ],
    });
    expect(rich.split('\n')).toEqual([
      '2026-01-02T03:04:05.000Z bob -> alice [m1]: hi',
      '  > reply to alice [a1]: question?\\nsecond line',
      '  📎 report.pdf (1.2 MB) [file f1]',
      '  reactions: 👍 alice, ❤️ bob',
    ]);
    expect(formatMessage({ ...base, replyTo: { from: 'alice', id: 'a1', deleted: true } })).toContain(
      '> reply to alice [a1]: (deleted)',
    );
  });

  it('every update kind has its line, escaped', () => {
    const u = (fields: object) => ({ t: 'update', cursor: 'c9', ts: TS, ...fields }) as UpdateFrame;
    const at = '2026-01-02T03:04:05.000Z *';
    expect(
      [
        u({ kind: 'read', with: 'bob', upto: 'c5', unread: 2 }),
        u({ kind: 'seen', with: 'bob', upto: 'c4' }),
        u({ kind: 'settings', readReceipts: false }),
        u({ kind: 'edit', from: 'bob', id: 'm1', with: 'bob', body: 'new\u001b[2Jtext' }),
        u({ kind: 'delete', from: 'bob', id: 'm1', with: 'bob' }),
        u({ kind: 'hide', from: 'bob', id: 'm1', with: 'bob' }),
        u({ kind: 'react', from: 'alice', id: 'a1', with: 'bob', by: 'bob', emoji: '🎉' }),
        u({ kind: 'react', from: 'alice', id: 'a1', with: 'bob', by: 'bob', emoji: null }),
        u({ kind: 'block', user: 'eve', blocked: true }),
      ].map(formatUpdate),
    ).toEqual([
      `${at} read with bob up to c5 (2 unread)`,
      `${at} bob read your messages up to c4`,
      `${at} read receipts off`,
      `${at} bob edited [m1]: new\\e[2Jtext`,
      `${at} bob deleted [m1]`,
      `${at} hidden: bob [m1]`,
      `${at} bob reacted 🎉 to alice [a1]`,
      `${at} bob removed their reaction to alice [a1]`,
      `${at} blocked eve`,
    ]);
  });

  it('search hits are marked, each piece escaped; offsets out of range are ignored', () => {
    expect(
      highlight(
        'say hello to 中文 here',
        [
          [4, 9],
          [13, 15],
        ],
        PLAIN_MARKS,
      ),
    ).toBe('say **hello** to **中文** here');
    expect(highlight('a\nb', [[0, 1]], TTY_MARKS)).toBe('\u001b[1ma\u001b[22m\\nb');
    expect(
      highlight(
        'short',
        [
          [2, 1],
          [3, 99],
        ],
        PLAIN_MARKS,
      ),
    ).toBe('short');
    expect(
      formatSearchItem({ msg: { ...base, body: 'hello world' }, highlights: [[0, 5]] }, PLAIN_MARKS),
    ).toBe('2026-01-02T03:04:05.000Z bob -> alice [m1]: **hello** world');
  });
});
