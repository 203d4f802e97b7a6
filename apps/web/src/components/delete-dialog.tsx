import { useEffect, useRef } from 'react';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { canChange, deleteForEveryone, deleteForMe } from '../store/feature-requests';
import type { ChatMessage } from '../store/message-model';

/**
 * Deleting a message asks how (a native modal <dialog>: it traps the focus, Escape cancels):
 * for everyone (my own message, within 15 minutes: the text goes from the database, a note
 * stays on both sides) or for me (hidden on my devices only).
 */
export function DeleteDialog({
  message: m,
  peer,
  onClose,
}: {
  message: ChatMessage;
  peer: string;
  onClose: () => void;
}) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const me = useChatStore((s) => s.me);
  const forEveryone = canChange(m, me);
  const forMe = m.confirmed;

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  const choose = (fn: (m: ChatMessage) => Promise<void>) => () => {
    ref.current?.close();
    void fn(m);
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby="delete-title" onClose={onClose}>
      <h2 id="delete-title">{t('deleteTitle')}</h2>
      {forEveryone && <p className="field-hint">{t('deleteEveryoneHint', { user: peer })}</p>}
      {forMe && <p className="field-hint">{t('deleteMeHint', { user: peer })}</p>}
      <div className="dialog-actions">
        {forEveryone && (
          <button type="button" className="primary danger" onClick={choose(deleteForEveryone)}>
            {t('deleteForEveryone')}
          </button>
        )}
        {forMe && (
          <button type="button" className="quiet-button" onClick={choose(deleteForMe)}>
            {t('deleteForMe')}
          </button>
        )}
        <button type="button" className="quiet-button" onClick={() => ref.current?.close()}>
          {t('cancel')}
        </button>
      </div>
    </dialog>
  );
}
