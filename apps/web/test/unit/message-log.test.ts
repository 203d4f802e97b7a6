import { describe, expect, it } from 'vitest';
import { buildRows } from '../../src/components/message-log';
import { formatDay } from '../../src/lib/time-format';
import { type ChatMessage, messageKey } from '../../src/store/message-model';

function at(id: string, ts: number): ChatMessage {
  return {
    key: messageKey('bob', id),
    id,
    from: 'bob',
    to: 'alice',
    body: id,
    ts,
    confirmed: true,
    state: 'received',
  };
}

describe('log rows', () => {
  const day1 = new Date(2026, 2, 10, 23, 59).getTime();
  const day2 = new Date(2026, 2, 11, 0, 1).getTime();

  it('heads the first message of each day, and says where the conversation begins only when complete', () => {
    const messages = [at('a', day1), at('b', day1 + 1000), at('c', day2), at('d', day2 + 1)];
    const rows = buildRows(messages, false);
    expect(rows.map((r) => (r.kind === 'msg' ? `${r.message.id}${r.day ? '*' : ''}` : r.kind))).toEqual([
      'a*',
      'b',
      'c*',
      'd',
    ]);
    expect(buildRows(messages, true)[0]?.kind).toBe('beginning');
    expect(buildRows([], true).map((r) => r.kind)).toEqual(['beginning']);
  });

  it('names days as people do: Today, Yesterday, then dates', () => {
    const now = new Date(2026, 2, 11, 12, 0).getTime();
    const words = { today: 'Today', yesterday: 'Yesterday' };
    expect(formatDay(day2, 'en', words, now)).toBe('Today');
    expect(formatDay(day1, 'en', words, now)).toBe('Yesterday');
    expect(formatDay(new Date(2026, 2, 1).getTime(), 'en', words, now)).toContain('March');
    expect(formatDay(new Date(2025, 11, 24).getTime(), 'en', words, now)).toContain('2025');
    expect(
      formatDay(new Date(2026, 2, 1).getTime(), 'zh', { today: '今天', yesterday: '昨天' }, now),
    ).toContain('3月');
  });
});
