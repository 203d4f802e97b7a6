import type { Language, StringKey } from '../i18n/strings';
import { type ChatState, initialState, type Preferences, useChatStore } from './chat-store';

const set = useChatStore.setState;
const get = useChatStore.getState;

/**
 * The store's transitions that the first screen needs before anything of a session exists:
 * language, preferences, tab visibility, the page shown, signed out. They live apart from
 * chat-actions.ts so that the first visit's JavaScript (the sign-in page) does not carry the
 * chat's state machine, which comes with the client in a chunk of its own (see startup.ts).
 */
export const appActions = {
  setLanguage(language: Language): void {
    set({ language });
  },

  setPreferences(change: Partial<Preferences>): void {
    set({ preferences: { ...get().preferences, ...change } });
  },

  /** Whether the tab is visible; the client bridge reacts to it (read marks). */
  setVisible(visible: boolean): void {
    if (get().visible !== visible) set({ visible });
  },

  setView(view: ChatState['view']): void {
    if (get().view !== view) set({ view });
  },

  signedOut(notice: StringKey | null = null): void {
    const { language, visible, preferences } = get();
    set({ ...initialState(language, preferences), auth: 'signed-out', authNotice: notice, visible }, true);
  },
};
