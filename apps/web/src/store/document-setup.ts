import { type Language, loadStrings, pickLanguage } from '../i18n/strings';
import { appActions } from './app-actions';
import type { Preferences } from './chat-store';
import { useChatStore } from './chat-store';
import { loadLanguage, loadPreferences, saveLanguage, savePreferences } from './saved-state';

/**
 * What the page sets up before it knows who is signed in: the language, the preferences, and
 * the tab's visibility. No client here (see startup.ts): the sign-in page needs none of it.
 */
let prepared = false;

export async function prepareDocument(): Promise<void> {
  if (prepared) return;
  prepared = true;
  await setLanguage(loadLanguage() ?? pickLanguage(navigator.languages ?? [navigator.language]), false);
  appActions.setPreferences(loadPreferences());
  appActions.setVisible(document.visibilityState !== 'hidden');
  document.addEventListener('visibilitychange', () =>
    appActions.setVisible(document.visibilityState !== 'hidden'),
  );
}

/** Switches the language once its strings are loaded (`remember`: the user chose it). */
export async function setLanguage(language: Language, remember = true): Promise<void> {
  if (remember) saveLanguage(language);
  try {
    await loadStrings(language);
  } catch {
    // Offline without the language's chunk cached: English (always there) stays.
    return;
  }
  appActions.setLanguage(language);
}

export function setPreferences(change: Partial<Preferences>): void {
  appActions.setPreferences(change);
  savePreferences(useChatStore.getState().preferences);
}
