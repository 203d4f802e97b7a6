import { lazy, Suspense, useEffect } from 'react';
import { LOCALE_TAGS } from '../i18n/strings';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { selectTotalUnread, titleFor } from '../store/selectors';
import { loadChatScreen } from './chat-screen-loader';
import { SignInScreen } from './sign-in-screen';

const ChatScreen = lazy(() => loadChatScreen().then((m) => ({ default: m.ChatScreen })));

/** Keeps `<html lang>` and the tab title in step with the store. */
function useDocumentSync() {
  const t = useT();
  const language = useChatStore((s) => s.language);
  const total = useChatStore(selectTotalUnread);
  const hidden = useChatStore((s) => !s.visible);
  useEffect(() => {
    document.documentElement.lang = LOCALE_TAGS[language];
  }, [language]);
  useEffect(() => {
    document.title = titleFor(total, hidden, (count) => t('titleUnread', { count }), t('appName'));
  });
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
