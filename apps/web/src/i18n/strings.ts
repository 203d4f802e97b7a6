import { en } from './strings-en';

/**
 * Every user-visible string of the app, in every language it speaks (strings-en.ts,
 * strings-zh.ts). Components never hold literal text: they look it up here, so a
 * translation is complete when its file type-checks.
 */
export const LANGUAGES = ['en', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Each language's name in that language, as the language menu shows it. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', zh: '简体中文' };

/** A text whose wording depends on a count; the forms a language needs (Intl.PluralRules). */
interface PluralText {
  zero?: string;
  one?: string;
  two?: string;
  few?: string;
  many?: string;
  other: string;
}
type Text = string | PluralText;
export type StringKey = keyof typeof en;
export type Strings = Record<StringKey, Text>;

/**
 * The languages loaded so far. English is built in; the others are their own chunk, loaded
 * (loadStrings) before the app switches to them, so a first visit downloads one language.
 */
const loaded: Partial<Record<Language, Strings>> = { en };

export async function loadStrings(language: Language): Promise<void> {
  if (loaded[language]) return;
  if (language === 'zh') loaded.zh = (await import('./strings-zh')).zh;
}

/** BCP 47 tags used for `<html lang>` and for Intl date formatting. */
export const LOCALE_TAGS: Record<Language, string> = { en: 'en', zh: 'zh-CN' };

const pluralRules = new Map<Language, Intl.PluralRules>();

/** The form of `text` for `count` in `language` ("1 character", "2 characters"; Chinese has one form). */
function pluralForm(text: Text, language: Language, count: number): string {
  if (typeof text === 'string') return text;
  let rules = pluralRules.get(language);
  if (!rules) {
    rules = new Intl.PluralRules(LOCALE_TAGS[language]);
    pluralRules.set(language, rules);
  }
  return text[rules.select(count) as keyof PluralText] ?? text.other;
}

/** Looks up `key` in `language` and fills it in; `params.count` picks the plural form. */
export function translate(
  language: Language,
  key: StringKey,
  params?: Record<string, string | number>,
): string {
  const count = params?.count;
  const strings = loaded[language] ?? en;
  return format(pluralForm(strings[key], language, typeof count === 'number' ? count : 0), params);
}

/** Fills `{name}` placeholders; values are plain text, never markup. */
export function format(template: string, params?: Record<string, string | number>): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

/** The first of the browser's preferred languages that we speak; English otherwise. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'zh') return 'zh';
    if (base === 'en') return 'en';
  }
  return 'en';
}
