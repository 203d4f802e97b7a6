// Text rules of the chat features that both sides must apply alike: what a reaction emoji
// is, how a search query splits into terms and where they match (so highlights mean the
// same to a server, a client and a test), and the quote of a reply.

import type { Range } from './chat-frames.js';
import { LIMITS } from './limits.js';
import { cutText } from './text.js';

// UTS #51 §1.4.9 "possible emoji": a ZWJ sequence of elements, each a flag (two regional
// indicators) or an emoji with an optional modifier, presentation selector (+ keycap) or
// tag sequence. Structural rather than the RGI list, so the check needs only the `u` flag
// (every engine the project supports) and the Unicode data of the engine running it.
const ELEMENT = String.raw`(?:\p{RI}\p{RI}|\p{Emoji}(?:\p{EMod}|\u{FE0F}\u{20E3}?|[\u{E0020}-\u{E007E}]+\u{E007F})?)`;
const POSSIBLE_EMOJI = new RegExp(`^${ELEMENT}(?:\\u{200D}${ELEMENT})*$`, 'u');
// \p{Emoji} includes 0-9, # and * (keycap bases); alone they are text, not a reaction.
const ASCII_ONLY = /^\p{ASCII}*$/u;

/**
 * A reaction: one emoji (a possible-emoji sequence of UTS #51: a single emoji, with a skin
 * tone, a flag, a keycap, a tag sequence or a ZWJ sequence such as 👩🏽‍💻), 1 to
 * `LIMITS.reactionMaxLength` UTF-16 units, not plain ASCII.
 */
export function isReactionEmoji(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= LIMITS.reactionMaxLength &&
    !ASCII_ONLY.test(value) &&
    POSSIBLE_EMOJI.test(value)
  );
}

/** What a reply's quote shows of the original's body. */
export function quoteBody(body: string): string {
  return cutText(body, LIMITS.quoteMaxLength);
}

// ------------------------------------------------------------------ search

/** One search term: a word prefix (`cjk: false`) or a run of CJK characters matched anywhere. */
export interface SearchTerm {
  text: string;
  cjk: boolean;
}

const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;
const MARKS = /\p{M}/gu;

/** Case and diacritics folded away: "Éclair" and "eclair" compare equal. */
export function foldWord(word: string): string {
  return word.normalize('NFD').replace(MARKS, '').toLowerCase();
}

interface Segment {
  start: number;
  end: number;
  text: string;
  cjk: boolean;
}

/** The words of a text, with each CJK run split out as its own segment (CJK has no spaces). */
function segments(text: string): Segment[] {
  const out: Segment[] = [];
  for (const w of text.matchAll(WORD)) {
    const word = w[0];
    const base = w.index;
    let at = 0;
    for (const c of word.matchAll(CJK_RUN)) {
      if (c.index > at)
        out.push({ start: base + at, end: base + c.index, text: word.slice(at, c.index), cjk: false });
      out.push({ start: base + c.index, end: base + c.index + c[0].length, text: c[0], cjk: true });
      at = c.index + c[0].length;
    }
    if (at < word.length)
      out.push({ start: base + at, end: base + word.length, text: word.slice(at), cjk: false });
  }
  return out;
}

/**
 * The terms of a search query (PROTOCOL.md "Search"): its words, folded, each CJK run a
 * term of its own; repeats dropped; the first `LIMITS.searchMaxTerms` only. Empty when the
 * query has no letter or digit.
 */
export function searchTerms(q: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  const seen = new Set<string>();
  for (const seg of segments(q)) {
    const text = seg.cjk ? seg.text.normalize('NFC') : foldWord(seg.text);
    const key = `${seg.cjk ? 'c' : 'w'}${text}`;
    if (text.length === 0 || seen.has(key)) continue;
    seen.add(key);
    terms.push({ text, cjk: seg.cjk });
    if (terms.length === LIMITS.searchMaxTerms) break;
  }
  return terms;
}

/**
 * Where the terms match in a body: a word term highlights every word it is a prefix of
 * (the whole word), a CJK term every place its run occurs inside a CJK run of the body.
 * `null` when some term does not match at all (the message is not a result). Ranges are
 * sorted and merged, at most `LIMITS.searchMaxHighlights`.
 */
export function searchHighlights(body: string, terms: readonly SearchTerm[]): Range[] | null {
  if (terms.length === 0) return null;
  const hit = new Set<number>();
  const ranges: Range[] = [];
  const segs = segments(body);
  terms.forEach((term, i) => {
    for (const seg of segs) {
      if (seg.cjk !== term.cjk) continue;
      if (!term.cjk) {
        if (foldWord(seg.text).startsWith(term.text)) {
          ranges.push([seg.start, seg.end]);
          hit.add(i);
        }
        continue;
      }
      // The body is compared as stored (browsers and IMEs write NFC), so offsets into the
      // segment are offsets into the body; the query side was put in NFC.
      const text = seg.text;
      for (let at = text.indexOf(term.text); at !== -1; at = text.indexOf(term.text, at + 1)) {
        ranges.push([seg.start + at, seg.start + at + term.text.length]);
        hit.add(i);
      }
    }
  });
  if (hit.size < terms.length) return null;
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Range[] = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged.slice(0, LIMITS.searchMaxHighlights);
}
