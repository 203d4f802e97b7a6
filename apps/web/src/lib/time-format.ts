import { type Language, LOCALE_TAGS } from '../i18n/strings';

const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(language: Language, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${language}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(LOCALE_TAGS[language], options);
    cache.set(key, f);
  }
  return f;
}

/** Local calendar day of a timestamp, as a number that compares and differs by whole days. */
export function dayNumber(ts: number): number {
  const d = new Date(ts);
  return Math.round(new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() / 86_400_000);
}

export function formatClock(ts: number, language: Language): string {
  return formatter(language, { hour: '2-digit', minute: '2-digit' }).format(ts);
}

/** Heading of a day separator: Today / Yesterday / a weekday this week / a date. */
export function formatDay(
  ts: number,
  language: Language,
  words: { today: string; yesterday: string },
  now = Date.now(),
): string {
  const diff = dayNumber(now) - dayNumber(ts);
  if (diff === 0) return words.today;
  if (diff === 1) return words.yesterday;
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return formatter(
    language,
    sameYear
      ? { weekday: 'long', month: 'long', day: 'numeric' }
      : { year: 'numeric', month: 'long', day: 'numeric' },
  ).format(ts);
}

/** The sidebar's short time: the clock today, a weekday within a week, else a date. */
export function formatShort(ts: number, language: Language, now = Date.now()): string {
  const diff = dayNumber(now) - dayNumber(ts);
  if (diff === 0) return formatClock(ts, language);
  if (diff > 0 && diff < 7) return formatter(language, { weekday: 'short' }).format(ts);
  return formatter(language, { year: '2-digit', month: 'numeric', day: 'numeric' }).format(ts);
}
