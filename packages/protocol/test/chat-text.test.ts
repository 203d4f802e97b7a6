import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isReactionEmoji,
  isWellFormedText,
  LIMITS,
  quoteBody,
  searchHighlights,
  searchTerms,
} from '../src/index.js';

const find = (body: string, q: string) => searchHighlights(body, searchTerms(q));
const marked = (body: string, q: string) => (find(body, q) ?? []).map(([a, b]) => body.slice(a, b));

describe('searchTerms', () => {
  it('splits words, folds case and diacritics, drops repeats', () => {
    expect(searchTerms('Hello, WÖRLD! hello naïve')).toEqual([
      { text: 'hello', cjk: false },
      { text: 'world', cjk: false },
      { text: 'naive', cjk: false },
    ]);
  });
  it('splits CJK runs out of words as terms of their own', () => {
    expect(searchTerms('abc中文def 한국어')).toEqual([
      { text: 'abc', cjk: false },
      { text: '中文', cjk: true },
      { text: 'def', cjk: false },
      { text: '한국어', cjk: true },
    ]);
  });
  it('is empty for a query without letters or digits', () => {
    expect(searchTerms('?! … -- 😀')).toEqual([]);
  });
  it(`keeps the first ${LIMITS.searchMaxTerms} terms only`, () => {
    const words = Array.from({ length: LIMITS.searchMaxTerms + 1 }, (_, i) => `w${i}`);
    expect(searchTerms(words.join(' ')).map((t) => t.text)).toEqual(words.slice(0, LIMITS.searchMaxTerms));
    expect(searchTerms(words.slice(0, LIMITS.searchMaxTerms).join(' '))).toHaveLength(LIMITS.searchMaxTerms);
  });
});

describe('searchHighlights', () => {
  it('a word term matches words it prefixes and highlights the whole word', () => {
    expect(marked('Hello helicopter, shell', 'hel')).toEqual(['Hello', 'helicopter']);
  });
  it('folds case and diacritics on both sides', () => {
    expect(marked('Un ÉCLAIR au café', 'eclair cafe')).toEqual(['ÉCLAIR', 'café']);
  });
  it('needs every term: a message missing one is not a result', () => {
    expect(find('hello there', 'hello world')).toBeNull();
    expect(find('anything', '')).toBeNull();
  });
  it('finds a two-character Chinese word inside a CJK run, with exact offsets', () => {
    const body = '我会说中文吗? 中文!';
    expect(find(body, '中文')).toEqual([
      [3, 5],
      [8, 10],
    ]);
  });
  it('counts offsets in UTF-16 units, astral characters before the match included', () => {
    const body = '😀😀 fish 𝒳 fishing';
    expect(marked(body, 'fish')).toEqual(['fish', 'fishing']);
    expect(find(body, 'fish')).toEqual([
      [5, 9],
      [13, 20],
    ]);
  });
  it('merges overlapping ranges and caps their number', () => {
    expect(find('ababab', 'ab')).toEqual([[0, 6]]);
    expect(find('中中中', '中')).toEqual([[0, 3]]);
    const many = Array.from({ length: LIMITS.searchMaxHighlights + 5 }, () => 'go').join(' ');
    expect(find(many, 'go')).toHaveLength(LIMITS.searchMaxHighlights);
  });
  it('property: every range lies inside the body, sorted, not overlapping, and cuts no surrogate pair', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 12 }),
        (body, q) => {
          const ranges = find(body, q);
          if (ranges === null) return;
          let end = 0;
          for (const [a, b] of ranges) {
            expect(a).toBeGreaterThanOrEqual(end);
            expect(b).toBeGreaterThan(a);
            expect(b).toBeLessThanOrEqual(body.length);
            expect(isWellFormedText(body.slice(a, b))).toBe(true);
            end = b;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('isReactionEmoji', () => {
  it.each(['😀', '👍🏽', '❤️', '❤', '🇫🇷', '1️⃣', '#️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '🏳️‍🌈', '👩🏽‍💻', '👩🏽‍❤️‍💋‍👨🏿'])(
    '%s is one',
    (e) => {
      expect(isReactionEmoji(e)).toBe(true);
    },
  );
  it.each(['', 'a', '1', '#', '😀😀', ' 😀', '😀\u200d', '\u200d😀', '👍🏽🏽', '\ud83d', 'ok', null, 5])(
    '%s is not',
    (e) => {
      expect(isReactionEmoji(e)).toBe(false);
    },
  );
});

describe('quoteBody', () => {
  it(`keeps ${LIMITS.quoteMaxLength} units as they are and cuts one more`, () => {
    expect(quoteBody('q'.repeat(LIMITS.quoteMaxLength))).toBe('q'.repeat(LIMITS.quoteMaxLength));
    expect(quoteBody('q'.repeat(LIMITS.quoteMaxLength + 1))).toBe(`${'q'.repeat(LIMITS.quoteMaxLength)}…`);
    expect(quoteBody(`${'q'.repeat(LIMITS.quoteMaxLength - 1)}😀`)).toBe(
      `${'q'.repeat(LIMITS.quoteMaxLength - 1)}…`,
    );
  });
});
