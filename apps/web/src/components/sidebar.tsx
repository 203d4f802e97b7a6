import { useT } from '../i18n/use-strings';
import { ConversationList } from './conversation-list';
import { NewChatForm } from './new-chat-form';

export function Sidebar() {
  const t = useT();
  return (
    <nav className="sidebar" aria-label={t('conversations')}>
      <h2 className="sr-only">{t('conversations')}</h2>
      <NewChatForm />
      <ConversationList />
    </nav>
  );
}
