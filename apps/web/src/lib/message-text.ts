import { find } from 'linkifyjs';

/** A piece of a message: plain text, or a link with the address it opens. */
type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/**
 * The link a piece of text found by linkifyjs may become, or null. Only http, https and
 * mailto open (never `javascript:` or `data:`), and a bare name becomes a link only when it
 * starts with `www.` or is an e-mail address: linkifyjs would also link `file.py` (.py is a
 * country's domain), which in a chat is far more often a file than a site.
 */
function acceptedHref(match: { type: string; value: string; href: string }): string | null {
  const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(match.value);
  if (match.type === 'url' && !hasScheme && !/^www\./i.test(match.value)) return null;
  let url: URL;
  try {
    url = new URL(match.href);
  } catch {
    return null;
  }
  return SCHEMES.has(url.protocol) ? url.href : null;
}

/** Splits a message into text and links (found by linkifyjs, a well-kept linkifier). */
export function splitLinks(body: string): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const m of find(body)) {
    if (m.type !== 'url' && m.type !== 'email') continue;
    const href = acceptedHref(m);
    if (href === null || m.start < at) continue;
    if (m.start > at) parts.push({ kind: 'text', text: body.slice(at, m.start) });
    parts.push({ kind: 'link', text: body.slice(m.start, m.end), href });
    at = m.end;
  }
  if (at < body.length) parts.push({ kind: 'text', text: body.slice(at) });
  return parts;
}

const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|\p{Emoji_Component}|\u200d|\ufe0f)+$/u;
const segmenter =
  typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

/** 1–3 emoji and nothing else (spaces aside): shown large, as chat apps do. */
export function isEmojiOnly(body: string, max = 3): boolean {
  const text = body.replace(/\s+/g, '');
  if (text.length === 0 || !segmenter) return false;
  let count = 0;
  for (const { segment } of segmenter.segment(text)) {
    // Digits and # are emoji components too: a grapheme must hold a pictograph or a flag.
    if (!EMOJI.test(segment) || !/\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(segment))
      return false;
    if (++count > max) return false;
  }
  return true;
}
