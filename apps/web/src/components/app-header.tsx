import { useState } from 'react';
import { useT } from '../i18n/use-strings';
import { openSettings } from '../lib/navigation';
import { useChatStore } from '../store/chat-store';
import { signOut } from '../store/client-bridge';
import { ConnectionStatus } from './connection-status';
import { Logo } from './logo';
import { SignOutDialog } from './sign-out-dialog';

export function AppHeader() {
  const t = useT();
  const me = useChatStore((s) => s.me);
  const [asking, setAsking] = useState(false);
  const [failed, setFailed] = useState(false);

  function requestSignOut() {
    // Unsent messages: ask first (see SignOutDialog); otherwise nothing can be lost.
    if (useChatStore.getState().unsent > 0) setAsking(true);
    else void signOut().then((ok) => setFailed(!ok));
  }

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
        <button type="button" className="quiet-button" onClick={openSettings}>
          {t('settings')}
        </button>
        <button type="button" className="quiet-button" onClick={requestSignOut}>
          {t('signOut')}
        </button>
      </div>
      {asking && <SignOutDialog onClose={() => setAsking(false)} />}
      {failed && (
        <p role="alert" className="header-alert">
          {t('signOutFailed')}
        </p>
      )}
    </header>
  );
}
