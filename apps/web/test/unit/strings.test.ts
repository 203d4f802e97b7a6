import { describe, expect, it } from 'vitest';
import { format, pickLanguage } from '../../src/i18n/strings';

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
  });
});
