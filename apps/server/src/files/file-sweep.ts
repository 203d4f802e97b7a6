import type { BlobStore } from './blob-store.js';
import type { FileCatalog } from './file-catalog.js';
import type { FileMetrics } from './file-metrics.js';
import type { UploadLocks } from './upload-locks.js';

/*
 * How files stop existing once nothing keeps them (README "Files: how long files live"):
 * run by the retention sweep on every node, after retention removed the entries that
 * referred to them.
 */

/** Uploads removed per sweep transaction. */
const SWEEP_SLICE = 500;
/**
 * Content younger than this is never removed by the leftover sweep: it may be a seal whose
 * catalog row is still being written (a seal takes milliseconds; an hour is generous).
 */
const SEAL_GRACE_MS = 3_600_000;

interface SweepParts {
  catalog: FileCatalog;
  blobs: BlobStore;
  metrics: FileMetrics;
}

/**
 * Removes uploads past their expiry that no message refers to (in slices, each one
 * transaction), with their partials and the content no upload names any more; then the
 * leftovers of crashes and cut connections in the blob store. Returns how many things
 * were removed.
 */
export async function sweepFiles(
  { catalog, blobs, metrics }: SweepParts,
  locks: UploadLocks,
  now: number,
): Promise<number> {
  let removed = 0;
  for (;;) {
    const { uploads, keys } = await catalog.sweep(now, SWEEP_SLICE);
    for (const id of uploads) {
      // In the upload's lock: a PATCH still writing it stops first.
      await locks.run(id, () => blobs.discardPartial(id));
    }
    await blobs.remove(keys);
    metrics.swept.labels('upload').inc(uploads.length);
    metrics.swept.labels('content').inc(keys.length);
    metrics.uploads.labels('expired').inc(uploads.length);
    removed += uploads.length + keys.length;
    if (uploads.length < SWEEP_SLICE) break;
  }
  const leftovers = await blobs.sweep({
    liveUploads: async (ids) => {
      const live = await catalog.liveUploads(ids);
      // An upload being written right now is alive whatever the catalog says this instant.
      for (const id of ids) if (locks.busy(id)) live.add(id);
      return live;
    },
    liveKeys: (keys) => catalog.liveKeys(keys),
    now,
    graceMs: SEAL_GRACE_MS,
  });
  metrics.swept.labels('leftover').inc(leftovers);
  return removed + leftovers;
}
