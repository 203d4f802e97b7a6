import { useT } from '../i18n/use-strings';
import { useNow } from '../lib/use-now';
import { useChatStore } from '../store/chat-store';
import { retryConnection } from '../store/client-bridge';

/**
 * The connection in words ("Connected", "Waiting for network", "Reconnecting in 5 s"), in a
 * pill without a green dot, so it cannot be taken for anyone's presence. It never interrupts
 * (role=status). While waiting to reconnect, "Retry now" tries at once.
 */
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
      <span className="sr-only">{t('connectionStatus')}: </span>
      <span role="status">{text}</span>
      {status.kind === 'reconnecting' && (
        <button type="button" className="status-retry" onClick={retryConnection}>
          {t('retryNow')}
        </button>
      )}
    </div>
  );
}
