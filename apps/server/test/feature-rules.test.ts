import { searchHighlights, searchTerms } from '@pigeon/protocol';
import { describe, expect, it } from 'vitest';
import { type IndexTerm, indexTerms, indexTokens } from '../src/store/feature-rules.js';

/**
 * The search index is a superset of the codec's reference matching: whatever
 * `searchHighlights` matches, the index lookup of the same term finds (SQLite: a token
 * prefix or a phrase of consecutive pair tokens; PostgreSQL is looser still, the pairs
 * in any order). Checked for every word prefix and every CJK substring of a set of bodies.
 */
function found(tokens: readonly string[], term: IndexTerm): boolean {
  if ('prefix' in term) return tokens.some((t) => t.startsWith(term.prefix));
  for (let i = 0; i + term.phrase.length <= tokens.length; i++) {
    if (term.phrase.every((p, k) => tokens[i + k] === p)) return true;
  }
  return false;
}

const BODIES = [
  'Meet at the Éclair café at 10:30, OK?',
  'plain ascii words and numbers 1234 with_under-scores',
  '我会说中文吗? 中文很难',
  'カタカナとひらがな、한국어 and Ελληνικά',
  'mixed中文words and 文中 runs',
  `${'q'.repeat(70)} long words ${'é'.repeat(70)}`,
  'emoji 👩🏽‍💻 between words, naïve coöperation',
];

describe('search index tokens', () => {
  it('find every term the reference matches: word prefixes and CJK substrings', () => {
    let checked = 0;
    for (const body of BODIES) {
      const tokens = indexTokens(body);
      const queries = new Set<string>();
      for (const w of body.match(/[\p{L}\p{N}\p{M}]+/gu) ?? []) {
        for (let n = 1; n <= w.length; n++) queries.add(w.slice(0, n));
        for (let a = 0; a < w.length; a++) for (let n = 1; n <= 4; n++) queries.add(w.slice(a, a + n));
      }
      for (const q of queries) {
        const terms = searchTerms(q);
        if (terms.length === 0 || searchHighlights(body, terms) === null) continue;
        indexTerms(terms).forEach((term, k) => {
          expect(found(tokens, term), `${JSON.stringify(terms[k])} in ${JSON.stringify(body)}`).toBe(true);
          checked++;
        });
      }
    }
    // Every body contributes: hundreds of prefixes and CJK substrings were looked up.
    expect(checked).toBeGreaterThan(300);
  });

  it('an ASCII body gives the tokens the general rule gives: lowercased runs of letters and digits', () => {
    expect(indexTokens('Hello, World! 42 times_X-ray')).toEqual([
      'hello',
      'world',
      '42',
      'times',
      'x',
      'ray',
    ]);
    expect(indexTokens('Héllo, World!')).toEqual(['hello', 'world']);
    expect(indexTokens('我会说中文')).toEqual(['我会', '会说', '说中', '中文', '文']);
    expect(indexTokens('x'.repeat(70))).toEqual(['x'.repeat(64)]);
  });
});
