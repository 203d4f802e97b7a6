import { useT } from '../i18n/use-strings';
import { useNow } from '../lib/use-now';
import { useChatStore } from '../store/chat-store';

/** A small dot and word in the header: visible, but it never interrupts (role=status). */
export function ConnectionStatus() {
  const t = useT();
  const status = useChatStore((s) => s.status);
  const now = useNow(1000, status.kind === 'reconnecting');
  let text: string;
  switch (status.kind) {
    case 'reconnecting': {
      const seconds = status.nextAttemptAt ? Math.ceil((status.nextAttemptAt - now) / 1000) : 0;
      text = seconds > 0 ? t('status_reconnecting', { seconds }) : t('status_reconnecting_now');
      break;
    }
    default:
      text = t(`status_${status.kind}`);
  }
  return (
    <div className={`connection-status is-${status.kind}`} data-status={status.kind}>
      <span className="status-dot" aria-hidden="true" />
      <span className="sr-only">{t('connectionStatus')}: </span>
      <span role="status">{text}</span>
    </div>
  );
}
