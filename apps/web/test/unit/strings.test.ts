import { describe, expect, it } from 'vitest';
import { format, loadStrings, pickLanguage, translate } from '../../src/i18n/strings';
import { formatClock, formatDay, formatShort } from '../../src/lib/time-format';

describe('language', () => {
  it('follows the browser: any Chinese variant gives 简体中文, English or anything else English', () => {
    expect(pickLanguage(['zh-CN', 'en'])).toBe('zh');
    expect(pickLanguage(['zh-TW'])).toBe('zh');
    expect(pickLanguage(['fr-FR', 'zh'])).toBe('zh');
    expect(pickLanguage(['en-GB', 'zh-CN'])).toBe('en');
    expect(pickLanguage(['de'])).toBe('en');
    expect(pickLanguage([])).toBe('en');
  });

  it('fills placeholders with plain text and leaves unknown ones', () => {
    expect(format('{user} is typing…', { user: '<b>x</b>' })).toBe('<b>x</b> is typing…');
    expect(format('{a} {b}', { a: 1 })).toBe('1 {b}');
    expect(format('{constructor}', {})).toBe('{constructor}');
  });
});

describe('plurals (Intl.PluralRules)', () => {
  it('says "1 character" and "2 characters" in English', () => {
    expect(translate('en', 'charsOver', { count: 1 })).toBe('1 character over the limit');
    expect(translate('en', 'charsOver', { count: 2 })).toBe('2 characters over the limit');
    expect(translate('en', 'charsLeft', { count: 0 })).toBe('0 characters left');
    expect(translate('en', 'charsLeft', { count: 1 })).toBe('1 character left');
    expect(translate('en', 'unsentBody', { count: 1 })).toBe('1 message has not reached the server yet.');
    expect(translate('en', 'unsentBody', { count: 3 })).toBe('3 messages have not reached the server yet.');
  });

  it('uses the one Chinese form for every count', async () => {
    await loadStrings('zh');
    expect(translate('zh', 'charsOver', { count: 1 })).toBe('超出 1 个字符');
    expect(translate('zh', 'charsOver', { count: 2 })).toBe('超出 2 个字符');
    expect(translate('zh', 'waitingToSend', { count: 1 })).toBe('正在发送 1 条消息…');
  });
});

describe('dates and times (Intl.DateTimeFormat)', () => {
  // Local times, so the tests hold in any time zone the machine is in.
  const now = new Date(2026, 5, 17, 15, 0).getTime(); // Wednesday 17 June 2026, 15:00
  const at = (y: number, mo: number, d: number, h = 7, mi = 5) => new Date(y, mo, d, h, mi).getTime();
  const en = { today: 'Today', yesterday: 'Yesterday' };
  const zh = { today: '今天', yesterday: '昨天' };

  it('writes the clock without a zero-padded hour', () => {
    expect(formatClock(at(2026, 5, 17), 'en')).toBe('7:05 AM');
    expect(formatClock(at(2026, 5, 17, 19), 'en')).toBe('7:05 PM');
    expect(formatClock(at(2026, 5, 17, 19), 'zh')).toBe('19:05');
  });

  it('uses the same words in the list and in the log: Yesterday is Yesterday in both', () => {
    const y = at(2026, 5, 16);
    expect(formatShort(y, 'en', en, now)).toBe('Yesterday');
    expect(formatDay(y, 'en', en, now)).toBe('Yesterday');
    expect(formatShort(y, 'zh', zh, now)).toBe('昨天');
    expect(formatDay(y, 'zh', zh, now)).toBe('昨天');
    expect(formatShort(at(2026, 5, 17), 'en', en, now)).toBe('7:05 AM');
    expect(formatDay(at(2026, 5, 17), 'en', en, now)).toBe('Today');
  });

  it('names the weekday within a week, then a date with the month spelled out', () => {
    const monday = at(2026, 5, 15);
    expect(formatShort(monday, 'en', en, now)).toBe('Mon');
    expect(formatDay(monday, 'en', en, now)).toBe('Monday');
    expect(formatShort(monday, 'zh', zh, now)).toBe('周一');
    expect(formatDay(monday, 'zh', zh, now)).toBe('星期一');
    // Six days back is still "this week"; seven is a date.
    expect(formatShort(at(2026, 5, 11), 'en', en, now)).toBe('Thu');
    expect(formatShort(at(2026, 5, 10), 'en', en, now)).toBe('Jun 10');
    expect(formatDay(at(2026, 5, 10), 'en', en, now)).toBe('June 10');
  });

  it('is unambiguous in zh-CN (never "26/12/1") and adds the year only for other years', () => {
    expect(formatShort(at(2026, 0, 5), 'zh', zh, now)).toBe('1月5日');
    expect(formatShort(at(2025, 11, 1), 'zh', zh, now)).toBe('2025年12月1日');
    expect(formatDay(at(2025, 11, 1), 'zh', zh, now)).toBe('2025年12月1日');
    expect(formatShort(at(2025, 11, 1), 'en', en, now)).toBe('Dec 1, 2025');
    expect(formatDay(at(2025, 11, 1), 'en', en, now)).toBe('December 1, 2025');
  });
});
