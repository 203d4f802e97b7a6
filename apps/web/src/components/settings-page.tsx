import { HttpErrorCode, LIMITS } from '@pigeon/protocol';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useT } from '../i18n/use-strings';
import { closeSettings } from '../lib/navigation';
import { askNotificationPermission, notificationPermission } from '../lib/notifications';
import { type AccountResult, changePassword, signOutEverywhere } from '../store/account';
import { type ThemeChoice, useChatStore } from '../store/chat-store';
import { finishSignOut } from '../store/client-bridge';
import { setPreferences } from '../store/document-setup';
import { setReadReceipts, unblock } from '../store/feature-requests';
import { LocalCode } from '../store/local-codes';
import { LanguageSwitch } from './language-switch';
import { explainAuthError } from './sign-in-screen';

const THEMES: ThemeChoice[] = ['system', 'light', 'dark'];

/**
 * Settings: appearance (theme, language), notifications, privacy (read receipts, blocked
 * users), and the account (password, sign out of all devices).
 */
export function SettingsPage() {
  const t = useT();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  return (
    <main className="settings-page" aria-labelledby="settings-title">
      <div className="settings-top">
        <button type="button" className="quiet-button" onClick={closeSettings}>
          <span aria-hidden="true">← </span>
          {t('closeSettings')}
        </button>
        <h1 id="settings-title" ref={headingRef} tabIndex={-1}>
          {t('settings')}
        </h1>
      </div>
      <Appearance />
      <Notifications />
      <Privacy />
      <Account />
    </main>
  );
}

function Appearance() {
  const t = useT();
  const theme = useChatStore((s) => s.preferences.theme);
  return (
    <section className="settings-card">
      <fieldset className="theme-choice">
        <legend>{t('themeLabel')}</legend>
        {THEMES.map((choice) => (
          <label key={choice} className="radio">
            <input
              type="radio"
              name="theme"
              value={choice}
              checked={theme === choice}
              onChange={() => setPreferences({ theme: choice })}
            />
            {t(`theme_${choice}`)}
          </label>
        ))}
      </fieldset>
      <LanguageSwitch visibleLabel />
    </section>
  );
}

function Notifications() {
  const t = useT();
  const prefs = useChatStore((s) => s.preferences);
  const [permission, setPermission] = useState(notificationPermission);
  return (
    <section className="settings-card" aria-labelledby="notifications-title">
      <h2 id="notifications-title">{t('notificationsTitle')}</h2>
      {permission === 'unsupported' && <p className="field-hint">{t('notifyUnsupported')}</p>}
      {permission === 'denied' && <p className="field-hint">{t('notifyDenied')}</p>}
      {permission === 'default' && (
        <button
          type="button"
          className="primary"
          // Asked only here, after the user's own click: never on load.
          onClick={() =>
            void askNotificationPermission().then((p) => {
              setPermission(p);
              if (p === 'granted') setPreferences({ notify: true });
            })
          }
        >
          {t('notifyEnable')}
        </button>
      )}
      {permission === 'granted' && (
        <label className="checkbox">
          <input
            type="checkbox"
            checked={prefs.notify}
            onChange={(e) => setPreferences({ notify: e.target.checked })}
          />
          {t('notifyOn')}
        </label>
      )}
      <label className="checkbox">
        <input
          type="checkbox"
          checked={prefs.sound}
          onChange={(e) => setPreferences({ sound: e.target.checked })}
        />
        {t('soundOn')}
      </label>
    </section>
  );
}

/**
 * Read receipts and the blocked users, both stored on the server for all of the user's
 * devices (shown only when the server enabled `read` / `block`).
 */
function Privacy() {
  const t = useT();
  const hasRead = useChatStore((s) => s.features.has('read'));
  const hasBlock = useChatStore((s) => s.features.has('block'));
  const receipts = useChatStore((s) => s.readReceipts);
  const blocked = useChatStore((s) => s.blocked);
  const hintId = useId();
  if (!hasRead && !hasBlock) return null;
  return (
    <section className="settings-card" aria-labelledby="privacy-title">
      <h2 id="privacy-title">{t('privacyTitle')}</h2>
      {hasRead && (
        <>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={receipts !== false}
              disabled={receipts === null}
              aria-describedby={hintId}
              onChange={(e) => void setReadReceipts(e.target.checked)}
            />
            {t('readReceiptsOn')}
          </label>
          <p id={hintId} className="field-hint">
            {t('readReceiptsHint')}
          </p>
        </>
      )}
      {hasBlock && (
        <>
          <h3 className="blocked-title">{t('blockedTitle')}</h3>
          {blocked === null || blocked.length === 0 ? (
            <p className="field-hint">{t('noBlocked')}</p>
          ) : (
            <ul className="blocked-list" aria-label={t('blockedTitle')}>
              {blocked.map((user) => (
                <li key={user}>
                  <span dir="auto">{user}</span>
                  <button
                    type="button"
                    className="quiet-button small"
                    aria-label={t('unblockUser', { user })}
                    onClick={() => void unblock(user)}
                  >
                    {t('unblock')}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

function Account() {
  const t = useT();
  const me = useChatStore((s) => s.me) ?? '';
  const ids = { old: useId(), next: useId(), hint: useId(), result: useId() };
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<AccountResult | null>(null);
  const [everywhere, setEverywhere] = useState<AccountResult | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    if (oldPassword === '' || newPassword === '') return setResult({ ok: false, code: LocalCode.required });
    if (newPassword.length < LIMITS.passwordMinLength || newPassword.length > LIMITS.passwordMaxLength)
      return setResult({ ok: false, code: HttpErrorCode.weakPassword });
    setBusy(true);
    setResult(null);
    const r = await changePassword(oldPassword, newPassword);
    setBusy(false);
    setResult(r);
    if (r.ok) {
      setOld('');
      setNew('');
    }
  }

  return (
    <section className="settings-card" aria-labelledby="account-title">
      <h2 id="account-title">{t('accountTitle')}</h2>
      <form onSubmit={submit} noValidate aria-busy={busy}>
        <h3>{t('changePassword')}</h3>
        <input type="text" name="username" autoComplete="username" value={me} readOnly hidden />
        <div className="field">
          <label htmlFor={ids.old}>{t('currentPassword')}</label>
          <input
            id={ids.old}
            type="password"
            autoComplete="current-password"
            value={oldPassword}
            onChange={(e) => setOld(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.next}>{t('newPassword')}</label>
          <input
            id={ids.next}
            type="password"
            autoComplete="new-password"
            value={newPassword}
            aria-describedby={ids.hint}
            onChange={(e) => setNew(e.target.value)}
          />
          <p id={ids.hint} className="field-hint">
            {t('passwordHint', { min: LIMITS.passwordMinLength })}
          </p>
        </div>
        {result &&
          (result.ok ? (
            <p className="notice" role="status">
              {t('passwordChanged')}
            </p>
          ) : (
            <p className="field-error" role="alert">
              {result.code === HttpErrorCode.badCredentials
                ? t('err_wrong_password')
                : explainAuthError(t, { code: result.code, retryAfterSeconds: result.retryAfterSeconds })}
            </p>
          ))}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('savingPassword') : t('savePassword')}
        </button>
      </form>
      <div className="settings-danger">
        <p className="field-hint">{t('signOutEverywhereHint', { user: me })}</p>
        {everywhere && !everywhere.ok && (
          <p className="field-error" role="alert">
            {explainAuthError(t, { code: everywhere.code, retryAfterSeconds: everywhere.retryAfterSeconds })}
          </p>
        )}
        <button
          type="button"
          className="quiet-button danger"
          onClick={() => void signOutEverywhere(() => void finishSignOut()).then(setEverywhere)}
        >
          {t('signOutEverywhere')}
        </button>
      </div>
    </section>
  );
}
