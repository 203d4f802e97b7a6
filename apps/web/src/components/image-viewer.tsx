import { type FileInfo, isInlineImageType } from '@pigeon/protocol';
import { useEffect, useMemo, useRef } from 'react';
import { useT } from '../i18n/use-strings';
import { type Conversation, useChatStore } from '../store/chat-store';
import { featureActions } from '../store/feature-actions';
import { saveFile, useFileUrl } from '../store/file-cache';
import { prefetch } from './message-files';

/** The images of what the log holds, oldest first: the viewer steps through them. */
function imagesOf(c: Conversation | undefined): FileInfo[] {
  const out: FileInfo[] = [];
  for (const m of c?.messages ?? [])
    if (!m.deleted)
      for (const f of m.files ?? []) if (isInlineImageType(f.type) && f.width && f.height) out.push(f);
  return out;
}

/**
 * An image full size (a native modal <dialog>: it traps the focus, Escape closes it), with
 * the previous and next images of the conversation (buttons and the arrow keys) and a
 * download of the file.
 */
export function ImageViewer() {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const viewer = useChatStore((s) => s.viewer);
  const conversation = useChatStore((s) => (s.viewer ? s.conversations.get(s.viewer.peer) : undefined));
  const images = useMemo(() => imagesOf(conversation), [conversation]);
  const index = viewer ? images.findIndex((f) => f.id === viewer.fileId) : -1;
  const file = images[index];
  const url = useFileUrl(file?.id, file?.type ?? 'image/jpeg');

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  // The neighbours load ahead, so stepping through shows them at once.
  useEffect(() => {
    for (const f of [images[index - 1], images[index + 1]]) if (f) prefetch(f);
  }, [images, index]);

  if (!viewer || !file) return null;
  const go = (step: number) => {
    const next = images[index + step];
    if (next) featureActions.openViewer(viewer.peer, next.id);
  };
  const label = t('viewerLabel', { index: index + 1, count: images.length, name: file.name });
  return (
    <dialog
      ref={ref}
      className="viewer"
      aria-label={label}
      onClose={() => featureActions.closeViewer()}
      onKeyDown={(e) => {
        if (e.key === 'ArrowLeft') go(-1);
        else if (e.key === 'ArrowRight') go(1);
        else return;
        e.preventDefault();
      }}
    >
      <div className="viewer-bar">
        <p className="viewer-name" dir="auto">
          {label}
        </p>
        <button
          type="button"
          className="quiet-button"
          onClick={() =>
            void saveFile(file.id, file.name, file.type).catch(() => featureActions.toast('loadFailed'))
          }
        >
          {t('downloadFile', { name: file.name })}
        </button>
        <button type="button" className="quiet-button" onClick={() => ref.current?.close()}>
          {t('closeViewer')}
        </button>
      </div>
      <div className="viewer-stage">
        <button
          type="button"
          className="viewer-step"
          aria-label={t('previousImage')}
          disabled={index <= 0}
          onClick={() => go(-1)}
        >
          <span aria-hidden="true">‹</span>
        </button>
        <figure className="viewer-figure" style={{ aspectRatio: `${file.width} / ${file.height}` }}>
          {url && url !== 'failed' && <img src={url} alt={file.name} data-testid="viewer-image" />}
          {url === 'failed' && <p>{t('imageLoadFailed')}</p>}
        </figure>
        <button
          type="button"
          className="viewer-step"
          aria-label={t('nextImage')}
          disabled={index >= images.length - 1}
          onClick={() => go(1)}
        >
          <span aria-hidden="true">›</span>
        </button>
      </div>
    </dialog>
  );
}
