import { useEffect, useRef, useState } from 'react';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { signOut, waitUntilSent } from '../store/client-bridge';

/**
 * Asked before signing out while messages are not sent yet: wait until they are (then sign
 * out), or sign out now and keep them on this browser for this user's next sign-in. A native
 * modal <dialog>: it traps the focus, and Escape cancels (also a wait in progress).
 */
export function SignOutDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const unsent = useChatStore((s) => s.unsent);
  const [waiting, setWaiting] = useState<AbortController | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  async function leave() {
    if (!(await signOut())) setFailed(true);
  }

  function wait() {
    const abort = new AbortController();
    setWaiting(abort);
    waitUntilSent(abort.signal).then(
      // Failed messages end the wait too (they need the user): what is left is kept.
      () => void leave(),
      () => setWaiting(null),
    );
  }

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="sign-out-title"
      onClose={() => {
        waiting?.abort();
        onClose();
      }}
    >
      <h2 id="sign-out-title">{t('unsentTitle')}</h2>
      <p>{t('unsentBody', { count: unsent })}</p>
      <p className="field-hint">{t('unsentKeepHint')}</p>
      {waiting && (
        <p role="status" className="notice">
          {t('waitingToSend', { count: unsent })}
        </p>
      )}
      {failed && (
        <p role="alert" className="field-error">
          {t('signOutFailed')}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="primary" onClick={wait} disabled={waiting !== null}>
          {t('waitAndSignOut')}
        </button>
        <button type="button" className="quiet-button" onClick={() => void leave()}>
          {t('signOutKeep')}
        </button>
        <button type="button" className="quiet-button" onClick={() => ref.current?.close()}>
          {t('cancel')}
        </button>
      </div>
    </dialog>
  );
}
