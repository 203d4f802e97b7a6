import { lazy, Suspense, useEffect } from 'react';
import { LOCALE_TAGS, translate } from '../i18n/strings';
import { setFaviconBadge } from '../lib/notifications';
import { useChatStore } from '../store/chat-store';
import { selectTotalUnread, titleFor } from '../store/selectors';
import { loadChatScreen } from './chat-screen-loader';
import { SignInScreen } from './sign-in-screen';

const ChatScreen = lazy(() => loadChatScreen().then((m) => ({ default: m.ChatScreen })));

/**
 * Keeps the document in step with the store: `<html lang>`, the theme (`data-theme`, absent
 * for "same as the system", which the CSS answers with prefers-color-scheme), and the unread
 * total in the tab title and on the favicon.
 */
function useDocumentSync() {
  const language = useChatStore((s) => s.language);
  const theme = useChatStore((s) => s.preferences.theme);
  const total = useChatStore(selectTotalUnread);
  useEffect(() => {
    document.documentElement.lang = LOCALE_TAGS[language];
  }, [language]);
  useEffect(() => {
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(() => {
    document.title = titleFor(
      total,
      (count) => translate(language, 'titleUnread', { count }),
      translate(language, 'appName'),
    );
    setFaviconBadge(total);
  }, [total, language]);
}

export function App() {
  const auth = useChatStore((s) => s.auth);
  useDocumentSync();
  if (auth === 'restoring') return <div className="splash" aria-busy="true" />;
  if (auth === 'signed-out') return <SignInScreen />;
  return (
    <Suspense fallback={<div className="splash" aria-busy="true" />}>
      <ChatScreen />
    </Suspense>
  );
}
