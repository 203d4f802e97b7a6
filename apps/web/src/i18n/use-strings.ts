import { useChatStore } from '../store/chat-store';
import { format, STRINGS, type StringKey } from './strings';

export type Translate = (key: StringKey, params?: Record<string, string | number>) => string;

/** The lookup function for the current language; re-renders when the language changes. */
export function useT(): Translate {
  const language = useChatStore((s) => s.language);
  const strings = STRINGS[language];
  return (key, params) => format(strings[key], params);
}
