import { useEffect } from 'react';
import { DEFAULTS } from '../config';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { featureActions } from '../store/feature-actions';

/** A short notice (a refused edit, "Copied"), read out politely, gone after a few seconds. */
export function Toast() {
  const t = useT();
  const toast = useChatStore((s) => s.toast);
  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => featureActions.clearToast(toast.token), DEFAULTS.toastMs);
    return () => clearTimeout(timer);
  }, [toast]);
  return (
    <div className="toast-region" role="status">
      {toast && (
        // Which notice it is (its string key) rides along for tests; the words are for people.
        <p className="toast" key={toast.token} data-notice={toast.text}>
          {t(toast.text, toast.params)}
        </p>
      )}
    </div>
  );
}
