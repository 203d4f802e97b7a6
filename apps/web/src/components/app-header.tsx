import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { signOut } from '../store/client-bridge';
import { ConnectionStatus } from './connection-status';
import { LanguageSwitch } from './language-switch';
import { Logo } from './logo';

export function AppHeader() {
  const t = useT();
  const me = useChatStore((s) => s.me);
  return (
    <header className="app-header">
      <div className="brand">
        <Logo className="brand-logo" />
        <span className="brand-name">{t('appName')}</span>
      </div>
      <p className="signed-in-as" data-testid="signed-in-as">
        {t('signedInAs', { user: me ?? '' })}
      </p>
      <ConnectionStatus />
      <div className="header-actions">
        <LanguageSwitch />
        <button type="button" className="quiet-button" onClick={() => void signOut()}>
          {t('signOut')}
        </button>
      </div>
    </header>
  );
}
