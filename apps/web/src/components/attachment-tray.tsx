import { formatFileSize } from '@pigeon/protocol';
import { useId } from 'react';
import { useT } from '../i18n/use-strings';
import { removeFile, setSendOriginal } from '../store/attachment-actions';
import { useChatStore } from '../store/chat-store';

/**
 * The files waiting in the composer, before they are sent: a preview of each photo, the
 * name and size of other files, a way to take each out, and whether photos go as the
 * original files (full size, metadata kept, shown as a download card) instead of photos.
 */
export function AttachmentTray({ peer }: { peer: string }) {
  const t = useT();
  const id = useId();
  const tray = useChatStore((s) => s.tray.get(peer));
  const original = useChatStore((s) => s.sendOriginal.get(peer) === true);
  if (!tray || tray.length === 0) return null;
  return (
    <div className="attachment-tray">
      <ul className="tray-files" aria-label={t('attachmentsLabel')}>
        {tray.map((f) => (
          <li key={f.id} className="tray-file" data-testid="tray-file">
            {f.preview ? (
              <img className="tray-preview" src={f.preview} alt="" />
            ) : (
              <span className="file-icon" aria-hidden="true">
                📎
              </span>
            )}
            <span className="file-text">
              <span className="file-name" dir="auto">
                {f.name}
              </span>
              <span className="file-size">{formatFileSize(f.size)}</span>
            </span>
            <button
              type="button"
              className="icon-button small"
              aria-label={t('removeAttachment', { name: f.name })}
              onClick={() => removeFile(peer, f.id)}
            >
              <span aria-hidden="true">×</span>
            </button>
          </li>
        ))}
      </ul>
      {tray.some((f) => f.image) && (
        <label className="checkbox tray-original" htmlFor={id}>
          <input
            id={id}
            type="checkbox"
            checked={original}
            onChange={(e) => setSendOriginal(peer, e.target.checked)}
          />
          {t('sendOriginal')}
        </label>
      )}
    </div>
  );
}
