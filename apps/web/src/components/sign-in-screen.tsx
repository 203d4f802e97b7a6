import { ClientErrorCode } from '@pigeon/client';
import { HttpErrorCode, LIMITS, parseUserId } from '@pigeon/protocol';
import { type FormEvent, useEffect, useId, useState } from 'react';
import type { StringKey } from '../i18n/strings';
import { type Translate, useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { LocalCode } from '../store/local-codes';
import { type SignInFailure, type SignInMode, signIn } from '../store/startup';
import { loadChatScreen } from './chat-screen-loader';
import { LanguageSwitch } from './language-switch';
import { Logo } from './logo';

type Field = 'user' | 'password' | 'form';

/** Which field an error belongs to, so it is shown next to what the user has to fix. */
function placeOf(code: string): Field {
  if (code === HttpErrorCode.invalidUser || code === HttpErrorCode.userTaken) return 'user';
  if (code === HttpErrorCode.weakPassword) return 'password';
  return 'form';
}

export function explainAuthError(t: Translate, f: SignInFailure): string {
  const limits = { min: LIMITS.passwordMinLength, max: LIMITS.passwordMaxLength };
  switch (f.code) {
    case HttpErrorCode.invalidUser:
    case HttpErrorCode.userTaken:
    case HttpErrorCode.badCredentials:
      return t(`err_${f.code}` as StringKey);
    case HttpErrorCode.weakPassword:
      return t('err_weak_password', limits);
    case HttpErrorCode.rateLimited:
      return f.retryAfterSeconds
        ? t('err_rate_limited', { seconds: f.retryAfterSeconds })
        : t('err_rate_limited_soon');
    case ClientErrorCode.unreachable:
      return t('err_network');
    case LocalCode.required:
      return t('err_required');
    default:
      return t('err_unknown', { code: f.code });
  }
}

/** Checks the server would make anyway, answered at once with the same words. */
function checkLocally(mode: SignInMode, user: string, password: string): SignInFailure | null {
  if (user.trim() === '' || password === '') return { code: LocalCode.required };
  if (mode === 'register') {
    if (!parseUserId(user.trim())) return { code: HttpErrorCode.invalidUser };
    if (password.length < LIMITS.passwordMinLength || password.length > LIMITS.passwordMaxLength) {
      return { code: HttpErrorCode.weakPassword };
    }
  }
  return null;
}

export function SignInScreen() {
  const t = useT();
  const ids = { user: useId(), password: useId(), error: useId(), userHint: useId(), passwordHint: useId() };
  const notice = useChatStore((s) => s.authNotice);
  const [mode, setMode] = useState<SignInMode>('signin');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<SignInFailure | null>(null);

  useEffect(() => {
    const timer = setTimeout(() => void loadChatScreen().catch(() => undefined), 500);
    return () => clearTimeout(timer);
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const local = checkLocally(mode, user, password);
    if (local) {
      setFailure(local);
      return;
    }
    setBusy(true);
    setFailure(null);
    const result = await signIn(mode, user.trim(), password);
    setBusy(false);
    if (result) setFailure(result);
  }

  const place = failure ? placeOf(failure.code) : null;
  const message = failure ? explainAuthError(t, failure) : null;
  const errorFor = (field: Field) =>
    place === field && message ? (
      <p id={ids.error} className="field-error" role="alert">
        {message}
      </p>
    ) : null;
  const register = mode === 'register';

  return (
    <div className="auth-screen">
      <div className="auth-top">
        <LanguageSwitch />
      </div>
      <main className="auth-card">
        <Logo className="brand-mark" />
        <h1>{register ? t('registerTitle') : t('signInTitle')}</h1>
        <p className="tagline">{t('tagline')}</p>
        {notice && !failure && (
          <p className="notice" role="status">
            {t(notice)}
          </p>
        )}
        <form onSubmit={submit} noValidate aria-busy={busy}>
          <div className="field">
            <label htmlFor={ids.user}>{t('userIdLabel')}</label>
            <input
              id={ids.user}
              name="user"
              value={user}
              onChange={(e) => setUser(e.target.value)}
              autoComplete="username"
              autoCapitalize="none"
              autoCorrect="off"
              spellCheck={false}
              maxLength={LIMITS.userIdMaxLength}
              aria-invalid={place === 'user'}
              aria-describedby={place === 'user' ? `${ids.error} ${ids.userHint}` : ids.userHint}
            />
            {register && (
              <p id={ids.userHint} className="field-hint">
                {t('userIdHint')}
              </p>
            )}
            {errorFor('user')}
          </div>
          <div className="field">
            <label htmlFor={ids.password}>{t('passwordLabel')}</label>
            <input
              id={ids.password}
              name="password"
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete={register ? 'new-password' : 'current-password'}
              aria-invalid={place === 'password'}
              aria-describedby={place === 'password' ? `${ids.error} ${ids.passwordHint}` : ids.passwordHint}
            />
            {register && (
              <p id={ids.passwordHint} className="field-hint">
                {t('passwordHint', { min: LIMITS.passwordMinLength })}
              </p>
            )}
            {errorFor('password')}
          </div>
          {errorFor('form')}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? (register ? t('registering') : t('signingIn')) : register ? t('register') : t('signIn')}
          </button>
        </form>
        <button
          type="button"
          className="link-button"
          onClick={() => {
            setMode(register ? 'signin' : 'register');
            setFailure(null);
          }}
        >
          {register ? t('switchToSignIn') : t('switchToRegister')}
        </button>
      </main>
    </div>
  );
}
