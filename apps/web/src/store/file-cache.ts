import { useEffect, useState } from 'react';
import { DEFAULTS } from '../config';
import { pageAttachments } from './attachment-store';
import { activeClient } from './runtime';

/**
 * Files shown in the log come through the client's `download` (the session token goes in a
 * header, which an <img src> cannot send) and are shown through `blob:` URLs (the CSP's
 * `img-src blob:`). Kept per file id while the page lives, the oldest let go (and its URL
 * revoked) beyond DEFAULTS.fileCacheEntries; my own uploads are put here straight from the
 * bytes I sent, so they are never downloaded back.
 */
type Entry = { url: string } | { url: null; waiting: Promise<string> };

const cache = new Map<string, Entry>();
const listeners = new Set<() => void>();

function touch(id: string, entry: Entry): void {
  cache.delete(id);
  cache.set(id, entry);
  while (cache.size > DEFAULTS.fileCacheEntries) {
    const [oldest, e] = cache.entries().next().value as [string, Entry];
    cache.delete(oldest);
    if (e.url) URL.revokeObjectURL(e.url);
  }
}

/** My own file, from the bytes I uploaded: shown at once, never fetched. */
export function rememberLocalFile(id: string, blob: Blob): void {
  if (cache.get(id)?.url) return;
  touch(id, { url: URL.createObjectURL(blob) });
  for (const l of listeners) l();
}

/** The file's blob: URL, downloading it the first time. */
export function fileUrl(id: string, type: string): Promise<string> {
  const entry = cache.get(id);
  if (entry) {
    touch(id, entry);
    return 'waiting' in entry ? entry.waiting : Promise.resolve(entry.url);
  }
  const client = activeClient();
  if (!client) return Promise.reject(new Error('not signed in'));
  const waiting = client.download(id).then((r) => {
    const url = URL.createObjectURL(new Blob(r.chunks as BlobPart[], { type: r.type || type }));
    touch(id, { url });
    for (const l of listeners) l();
    return url;
  });
  waiting.catch(() => {
    // A failed download is tried again the next time the file is shown.
    if (cache.get(id)?.url === null) cache.delete(id);
  });
  touch(id, { url: null, waiting });
  return waiting;
}

/**
 * The picture of one of my uploads while it is on its way: from the bytes sent this session,
 * or after a reload from the outbox's attachment store.
 */
export function useUploadPreview(key: string | undefined, image: boolean): string | null {
  const [url, setUrl] = useState<string | null>(() => (key ? knownFileUrl(`local:${key}`) : null));
  useEffect(() => {
    if (!key || !image || url) return;
    let live = true;
    Promise.resolve(pageAttachments().get(key)).then(
      (blob) => {
        if (!live || !blob) return;
        rememberLocalFile(`local:${key}`, blob as Blob);
        setUrl(knownFileUrl(`local:${key}`));
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [key, image, url]);
  return url;
}

/** The URL once known (no download started), for rendering without a flash. */
function knownFileUrl(id: string): string | null {
  return cache.get(id)?.url ?? null;
}

/**
 * A file's blob: URL for a component: null while it downloads, `failed` when it could not.
 * `load: false` only reads what is known (a card downloads when asked to).
 */
export function useFileUrl(id: string | undefined, type: string, load = true): string | null | 'failed' {
  const [url, setUrl] = useState<string | null | 'failed'>(() => (id ? knownFileUrl(id) : null));
  useEffect(() => {
    if (!id) return;
    let live = true;
    const known = knownFileUrl(id);
    if (known) setUrl(known);
    else if (load)
      fileUrl(id, type).then(
        (u) => live && setUrl(u),
        () => live && setUrl('failed'),
      );
    const onChange = () => {
      const u = knownFileUrl(id);
      if (u && live) setUrl(u);
    };
    listeners.add(onChange);
    return () => {
      live = false;
      listeners.delete(onChange);
    };
  }, [id, type, load]);
  return url;
}

/** Saves a file under its name: downloads it (if needed) and clicks a link with `download`. */
export async function saveFile(id: string, name: string, type: string): Promise<void> {
  const url = await fileUrl(id, type);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}
