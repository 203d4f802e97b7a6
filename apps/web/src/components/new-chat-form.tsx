import { ErrorCode, LIMITS } from '@pigeon/protocol';
import { type FormEvent, useId, useState } from 'react';
import { useT } from '../i18n/use-strings';
import { type StartChatResult, startChat } from '../store/conversation-actions';

/** The recipient field: type a user id to start (or jump to) a conversation. */
export function NewChatForm() {
  const t = useT();
  const id = useId();
  const errorId = useId();
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ code: StartChatResult; user: string } | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const user = value.trim();
    if (!user || busy) return;
    setBusy(true);
    setResult(null);
    const code = await startChat(user);
    setBusy(false);
    if (code === 'ok') setValue('');
    else setResult({ code, user });
  }

  let error: string | null = null;
  if (result?.code === 'invalid') error = t('newChatInvalid', { user: result.user });
  else if (result?.code === ErrorCode.noSuchUser) error = t('newChatNoSuchUser', { user: result.user });
  else if (result?.code === 'offline') error = t('newChatOffline');
  else if (result?.code === 'error') error = t('err_unknown', { code: 'history' });

  return (
    <form className="new-chat" onSubmit={submit} aria-busy={busy}>
      <label htmlFor={id} className="sr-only">
        {t('newChatLabel')}
      </label>
      <div className="new-chat-row">
        <input
          id={id}
          name="recipient"
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            if (result) setResult(null);
          }}
          placeholder={t('newChatPlaceholder')}
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          maxLength={LIMITS.userIdMaxLength + 8}
          aria-invalid={error !== null}
          aria-describedby={error ? errorId : undefined}
        />
        <button type="submit" className="primary small" disabled={busy || value.trim() === ''}>
          {t('newChatButton')}
        </button>
      </div>
      {busy && (
        <p className="field-hint" role="status">
          {t('newChatChecking')}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
