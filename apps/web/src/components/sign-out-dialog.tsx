import { useEffect, useRef, useState } from 'react';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { signOut, waitUntilSent } from '../store/client-bridge';

/**
 * Asked before signing out while messages are not sent yet: wait until they are (then sign
 * out), or sign out now and keep them on this browser for this user's next sign-in. A native
 * modal <dialog>: it traps the focus, and Escape cancels.
 */
export function SignOutDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const unsent = useChatStore((s) => s.unsent);
  const [waiting, setWaiting] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  // Everything went out while we waited: sign out as asked.
  useEffect(() => {
    if (waiting && unsent === 0) void signOut();
  }, [waiting, unsent]);

  function wait() {
    setWaiting(true);
    // Failed messages stop the wait too (they need the user): what is left is kept.
    void waitUntilSent().then(() => {
      if (useChatStore.getState().unsent === 0) void signOut();
    });
  }

  return (
    <dialog ref={ref} className="dialog" aria-labelledby="sign-out-title" onClose={onClose}>
      <h2 id="sign-out-title">{t('unsentTitle')}</h2>
      <p>{t('unsentBody', { count: unsent })}</p>
      <p className="field-hint">{t('unsentKeepHint')}</p>
      {waiting && (
        <p role="status" className="notice">
          {t('waitingToSend', { count: unsent })}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="primary" onClick={wait} disabled={waiting}>
          {t('waitAndSignOut')}
        </button>
        <button type="button" className="quiet-button" onClick={() => void signOut()}>
          {t('signOutKeep')}
        </button>
        <button type="button" className="quiet-button" onClick={() => ref.current?.close()}>
          {t('cancel')}
        </button>
      </div>
    </dialog>
  );
}
