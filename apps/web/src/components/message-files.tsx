import type { OutboxFile } from '@pigeon/client';
import { type FileInfo, formatFileSize, isInlineImageType } from '@pigeon/protocol';
import type { StringKey } from '../i18n/strings';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { discard } from '../store/conversation-actions';
import { featureActions } from '../store/feature-actions';
import { fileUrl, saveFile, useFileUrl, useUploadPreview } from '../store/file-cache';
import type { ChatMessage } from '../store/message-model';

/** An image's box in the log: at most MAX px a side, its real aspect ratio (known before it loads). */
const MAX = 320;
export function boxOf(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, MAX / width, MAX / height);
  return { width: Math.max(48, Math.round(width * scale)), height: Math.max(48, Math.round(height * scale)) };
}

/** What kind of file a card shows (its icon and the words for screen readers). */
export function fileKind(type: string): 'pdf' | 'archive' | 'audio' | 'video' | 'image' | 'other' {
  if (type === 'application/pdf') return 'pdf';
  if (/zip|gzip|x-7z|x-tar|x-rar|compressed/.test(type)) return 'archive';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('image/')) return 'image';
  return 'other';
}
const ICONS = { pdf: '📄', archive: '🗜️', audio: '🎵', video: '🎬', image: '🖼️', other: '📎' } as const;

/**
 * A stored image: its box is reserved from the width and height the server read from the file
 * (and filled with the sender's tiny placeholder), so nothing below moves when it loads.
 * Choosing it opens the viewer.
 */
function ImageTile({ file, peer }: { file: FileInfo; peer: string }) {
  const t = useT();
  const url = useFileUrl(file.id, file.type);
  const box = boxOf(file.width ?? MAX, file.height ?? MAX);
  return (
    <button
      type="button"
      className="file-image"
      data-testid="file-image"
      data-file-id={file.id}
      style={{
        width: box.width,
        aspectRatio: `${box.width} / ${box.height}`,
        backgroundImage: file.thumb ? `url("${file.thumb}")` : undefined,
      }}
      onClick={() => featureActions.openViewer(peer, file.id)}
      aria-label={t('openImage', { name: file.name })}
    >
      {url && url !== 'failed' && <img src={url} alt="" width={box.width} height={box.height} />}
      {url === 'failed' && <span className="file-image-failed">{t('imageLoadFailed')}</span>}
    </button>
  );
}

/** Any other file (or a photo sent as the original file): icon, name, size, download. */
function FileCard({ file }: { file: FileInfo }) {
  const t = useT();
  const kind = fileKind(file.type);
  return (
    <div className="file-card" data-testid="file-card" data-file-id={file.id}>
      <span className="file-icon" aria-hidden="true">
        {ICONS[kind]}
      </span>
      <span className="file-text">
        <span className="file-name" dir="auto">
          {file.name}
        </span>
        <span className="file-size">
          {t(`fileKind_${kind}` as StringKey)} · {formatFileSize(file.size)}
        </span>
      </span>
      <button
        type="button"
        className="quiet-button small"
        aria-label={t('downloadFile', { name: file.name })}
        onClick={() =>
          void saveFile(file.id, file.name, file.type).catch(() => featureActions.toast('loadFailed'))
        }
      >
        <span aria-hidden="true">⤓</span>
      </button>
    </div>
  );
}

/** One of my attachments on its way: its preview (from my own bytes), progress, and a way to cancel. */
function Upload({ m, f, index }: { m: ChatMessage; f: OutboxFile; index: number }) {
  const t = useT();
  const progress = useChatStore((s) => s.uploads.get(m.id)?.[index]);
  const image = isInlineImageType(f.type);
  const preview = useUploadPreview(f.key, image);
  const loaded = f.file ? f.size : Math.max(progress?.loaded ?? 0, f.uploaded);
  const percent = f.size > 0 ? Math.min(100, Math.floor((loaded / f.size) * 100)) : 100;
  const failed = m.state === 'failed';
  const label = failed ? f.name : t('uploading', { name: f.name, percent });
  return (
    <div className={`upload${image ? ' is-image' : ''}`} data-testid="upload">
      {image && (preview || f.thumb) ? (
        <img className="upload-preview" src={preview ?? f.thumb} alt="" />
      ) : (
        <span className="file-icon" aria-hidden="true">
          {ICONS[fileKind(f.type)]}
        </span>
      )}
      <span className="file-text">
        <span className="file-name" dir="auto">
          {f.name}
        </span>
        <span className="file-size">{formatFileSize(f.size)}</span>
        {!failed && <progress max={100} value={percent} aria-label={label} />}
      </span>
      {!failed && (
        <button
          type="button"
          className="quiet-button small"
          aria-label={t('cancelUpload', { name: f.name })}
          onClick={() => discard(m.id)}
        >
          <span aria-hidden="true">×</span>
        </button>
      )}
    </div>
  );
}

/** The attachments of a message: stored ones (images inline, others as cards), or mine uploading. */
export function MessageFiles({ m, peer }: { m: ChatMessage; peer: string }) {
  if (m.deleted) return null;
  if (!m.confirmed && m.uploads && m.uploads.length > 0 && !m.files) {
    return (
      <div className="message-files">
        {m.uploads.map((f, i) => (
          <Upload key={f.key} m={m} f={f} index={i} />
        ))}
      </div>
    );
  }
  if (!m.files || m.files.length === 0) return null;
  return (
    <div className="message-files">
      {m.files.map((f) =>
        isInlineImageType(f.type) && f.width && f.height ? (
          <ImageTile key={f.id} file={f} peer={peer} />
        ) : (
          <FileCard key={f.id} file={f} />
        ),
      )}
    </div>
  );
}

/** Starts fetching a file the viewer is about to show (no wait when it is opened). */
export function prefetch(file: FileInfo): void {
  void fileUrl(file.id, file.type).catch(() => undefined);
}
