import { type Language, LOCALE_TAGS } from '../i18n/strings';

/**
 * Dates and times, always through Intl.DateTimeFormat, with the same rules in the sidebar and
 * in the log: today the time, yesterday the word "Yesterday", within the last week the
 * weekday, otherwise a date that names the month ("Jan 5", "1月5日"), so it cannot be read
 * day-first or month-first by mistake, with the year only when it is not this year.
 */
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
  return Math.round(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86_400_000);
}

/** "7:03 AM" / "7:03" (not zero-padded: the locale's own clock). */
export function formatClock(ts: number, language: Language): string {
  return formatter(language, { hour: 'numeric', minute: '2-digit' }).format(ts);
}

interface DayWords {
  today: string;
  yesterday: string;
}

/** Which of the rules above applies to `ts` seen at `now`. */
function dayKind(ts: number, now: number): 'today' | 'yesterday' | 'week' | 'year' | 'older' {
  const diff = dayNumber(now) - dayNumber(ts);
  if (diff <= 0) return 'today';
  if (diff === 1) return 'yesterday';
  if (diff < 7) return 'week';
  return new Date(ts).getFullYear() === new Date(now).getFullYear() ? 'year' : 'older';
}

/** Heading of a day separator in the log: Today / Yesterday / Monday / January 5 / January 5, 2025. */
export function formatDay(ts: number, language: Language, words: DayWords, now = Date.now()): string {
  switch (dayKind(ts, now)) {
    case 'today':
      return words.today;
    case 'yesterday':
      return words.yesterday;
    case 'week':
      return formatter(language, { weekday: 'long' }).format(ts);
    case 'year':
      return formatter(language, { month: 'long', day: 'numeric' }).format(ts);
    default:
      return formatter(language, { year: 'numeric', month: 'long', day: 'numeric' }).format(ts);
  }
}

/** The sidebar's time of a conversation's last message: 7:03 AM / Yesterday / Mon / Jan 5 / Jan 5, 2025. */
export function formatShort(ts: number, language: Language, words: DayWords, now = Date.now()): string {
  switch (dayKind(ts, now)) {
    case 'today':
      return formatClock(ts, language);
    case 'yesterday':
      return words.yesterday;
    case 'week':
      return formatter(language, { weekday: 'short' }).format(ts);
    case 'year':
      return formatter(language, { month: 'short', day: 'numeric' }).format(ts);
    default:
      return formatter(language, { year: 'numeric', month: 'short', day: 'numeric' }).format(ts);
  }
}
