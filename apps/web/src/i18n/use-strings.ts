import { useChatStore } from '../store/chat-store';
import { type StringKey, translate } from './strings';

export type Translate = (key: StringKey, params?: Record<string, string | number>) => string;

/** The lookup function for the current language; re-renders when the language changes. */
export function useT(): Translate {
  const language = useChatStore((s) => s.language);
  return (key, params) => translate(language, key, params);
}
