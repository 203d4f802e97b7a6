/*
 * Attachments (issue 12) from the composer's side: the files waiting in a conversation's tray
 * (picked, dropped or pasted), and sending them: photos are drawn anew first (EXIF gone,
 * scaled to DEFAULTS.imageMaxSide) unless sent as the original file, then each file goes as
 * a message of its own through the client, which keeps it (bytes in IndexedDB) until it is
 * uploaded and stored: offline, across a reload, resuming a large upload.
 */
import { type AttachmentInput, PigeonRequestError } from '@pigeon/client';
import { HttpErrorCode, isInlineImageType, LIMITS } from '@pigeon/protocol';
import { prepareImage } from '../lib/image-prep';
import { mapWith, mapWithout } from '../lib/maps';
import { chatActions } from './chat-actions';
import { type TrayFile, type UploadProgress, useChatStore } from './chat-store';
import { knownOutbox } from './conversation-actions';
import { featureActions } from './feature-actions';
import { rememberLocalFile } from './file-cache';
import { fromOutbox } from './outbox-mapping';
import { activeClient } from './runtime';

const set = useChatStore.setState;
const get = useChatStore.getState;

let trayIds = 0;

/** Adds files to a conversation's tray (at most LIMITS.filesPerMessage waiting at once). */
export function addFiles(peer: string, files: readonly File[]): void {
  if (files.length === 0) return;
  const s = get();
  const tray = s.tray.get(peer) ?? [];
  const room = LIMITS.filesPerMessage - tray.length;
  if (files.length > room) featureActions.toast('tooManyFiles', { max: LIMITS.filesPerMessage });
  const added: TrayFile[] = files.slice(0, Math.max(0, room)).map((file) => {
    const image = isInlineImageType(file.type);
    return {
      id: `t${++trayIds}`,
      file,
      name: file.name || defaultName(file.type),
      type: file.type,
      size: file.size,
      image,
      preview: image ? URL.createObjectURL(file) : null,
    };
  });
  if (added.length > 0) set({ tray: mapWith(s.tray, peer, [...tray, ...added]) });
}

/** A pasted image has no name of its own: "image.png", as the browser's own downloads say. */
function defaultName(type: string): string {
  const ext = type.split('/')[1]?.replace(/[^a-z0-9]/g, '') || 'bin';
  return `${type.startsWith('image/') ? 'image' : 'file'}.${ext}`;
}

export function removeFile(peer: string, id: string): void {
  const s = get();
  const tray = s.tray.get(peer) ?? [];
  const gone = tray.find((f) => f.id === id);
  if (!gone) return;
  if (gone.preview) URL.revokeObjectURL(gone.preview);
  const rest = tray.filter((f) => f.id !== id);
  set({ tray: rest.length > 0 ? mapWith(s.tray, peer, rest) : mapWithout(s.tray, peer) });
}

export function setSendOriginal(peer: string, original: boolean): void {
  set({ sendOriginal: mapWith(get().sendOriginal, peer, original) });
}

/** Bytes of my files this page sent, by message id and index, until the server names the stored file. */
const sentBlobs = new Map<string, Blob>();

/** What a tray file is sent as: a photo drawn anew (or as it is), or the file as it is. */
async function toAttachment(f: TrayFile, original: boolean): Promise<{ input: AttachmentInput; blob: Blob }> {
  // "As the original file": the bytes untouched, declared as a plain file (a download card).
  if (original && f.image) {
    return { input: { blob: f.file, name: f.name, type: 'application/octet-stream' }, blob: f.file };
  }
  if (f.image) {
    const prepared = await prepareImage(f.file, f.name);
    if (prepared) {
      const input: AttachmentInput = { blob: prepared.blob, name: prepared.name, type: prepared.type };
      if (prepared.thumb) input.thumb = prepared.thumb;
      return { input, blob: prepared.blob };
    }
  }
  return {
    input: { blob: f.file, name: f.name, type: f.type || 'application/octet-stream' },
    blob: f.file,
  };
}

/**
 * Sends the tray: each file as a message of its own (its progress and cancel are its own),
 * the caption with the first. Refused at once by the client (a name it cannot send): a notice.
 */
export async function sendTray(peer: string, caption: string): Promise<void> {
  const client = activeClient();
  const s = get();
  const me = s.me;
  const tray = s.tray.get(peer) ?? [];
  if (!client || !me || tray.length === 0) return;
  const original = s.sendOriginal.get(peer) === true;
  // The tray empties at once (its files are on their way); each preview goes once its file went.
  set({ tray: mapWithout(s.tray, peer) });
  chatActions.setDraft(peer, '');
  let text = caption.trim() === '' ? '' : caption;
  // The first message answers what the composer was replying to, and carries the caption.
  const mode = s.composing.get(peer);
  const c = s.conversations.get(peer);
  const target = mode?.kind === 'reply' ? c?.messages.find((m) => m.key === mode.key) : undefined;
  let replyTo = target ? { from: target.from, id: target.id } : undefined;
  if (mode?.kind === 'reply') featureActions.compose(peer, null);
  for (const f of tray) {
    try {
      const { input, blob } = await toAttachment(f, original);
      const item = client.send(peer, text, replyTo ? { files: [input], replyTo } : { files: [input] });
      text = '';
      replyTo = undefined;
      sentBlobs.set(`${item.id}:0`, blob);
      // Shown in the log from these bytes while it uploads (see MessageFiles).
      const key = item.files?.[0]?.key;
      if (key) rememberLocalFile(`local:${key}`, blob);
      chatActions.outbox([fromOutbox(me, item)]);
      knownOutbox.ids.add(item.id);
    } catch (err) {
      const code = err instanceof PigeonRequestError ? err.code : HttpErrorCode.invalidFile;
      featureActions.toast('fileRefused', { name: f.name, code });
    } finally {
      if (f.preview) URL.revokeObjectURL(f.preview);
    }
  }
}

/**
 * Called with every outbox change: once an upload of mine is stored, its bytes (still here)
 * become the file's picture in the log, so it is never downloaded back.
 */
export function noteStoredUploads(
  items: readonly { id: string; files?: readonly { file?: { id: string } }[] }[],
): void {
  for (const item of items) {
    item.files?.forEach((f, i) => {
      const key = `${item.id}:${i}`;
      const blob = sentBlobs.get(key);
      if (blob && f.file) {
        rememberLocalFile(f.file.id, blob);
        sentBlobs.delete(key);
      }
    });
  }
}

/** The client's `upload` event: bytes of one attachment of a message on their way. */
export function uploadProgress(id: string, index: number, loaded: number, total: number): void {
  const s = get();
  const cur = s.uploads.get(id) ?? [];
  const next: (UploadProgress | undefined)[] = cur.slice();
  next[index] = { loaded, total };
  set({ uploads: mapWith(s.uploads, id, next) });
}

/** A message's uploads ended (sent, failed or cancelled): its progress goes. */
export function uploadsDone(ids: ReadonlySet<string>): void {
  const s = get();
  let uploads = s.uploads;
  for (const id of s.uploads.keys()) if (!ids.has(id)) uploads = mapWithout(uploads, id);
  if (uploads !== s.uploads) set({ uploads });
}
