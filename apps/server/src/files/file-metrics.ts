import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Every way an upload request can end (the `outcome` label of pigeon_uploads_total). */
export type UploadOutcome =
  | 'created'
  | 'completed'
  | 'deduplicated'
  | 'invalid_file'
  | 'empty_file'
  | 'file_too_large'
  | 'quota_exceeded'
  | 'rate_limited'
  | 'too_large'
  | 'type_mismatch'
  | 'image_too_large'
  | 'checksum_mismatch'
  | 'deleted'
  | 'expired';

/**
 * The file metrics (issue 12), registered in the server's registry. Stored bytes are read
 * from the catalog at scrape time: in a cluster every node shares the store, and a gauge
 * each node moved by itself would only know its own uploads.
 */
export class FileMetrics {
  readonly uploads: Counter<'outcome'>;
  readonly uploadSeconds: Histogram<'result'>;
  readonly bytesReceived: Counter;
  readonly downloads: Counter<'status'>;
  readonly bytesSent: Counter;
  readonly swept: Counter<'what'>;

  constructor(registry: Registry, usage: () => Promise<{ bytes: number; blobs: number }>) {
    const registers = [registry];
    let last: Promise<{ bytes: number; blobs: number }> | null = null;
    // One catalog query per scrape for both gauges.
    const read = (): Promise<{ bytes: number; blobs: number }> => {
      last ??= usage().finally(() => {
        setImmediate(() => {
          last = null;
        });
      });
      return last;
    };
    new Gauge({
      name: 'pigeon_file_bytes_stored',
      help: 'Bytes of file content stored (each content once, however many uploads name it)',
      registers,
      async collect() {
        this.set((await read().catch(() => ({ bytes: Number.NaN }))).bytes);
      },
    });
    new Gauge({
      name: 'pigeon_files_stored',
      help: 'Distinct file contents stored',
      registers,
      async collect() {
        this.set((await read().catch(() => ({ blobs: Number.NaN }))).blobs);
      },
    });
    this.uploads = new Counter({
      name: 'pigeon_uploads_total',
      help: 'Upload requests by outcome (created, completed, deduplicated, or the refusal code)',
      labelNames: ['outcome'],
      registers,
    });
    this.uploadSeconds = new Histogram({
      name: 'pigeon_upload_duration_seconds',
      help: 'Duration of upload PATCH requests (receiving and storing the bytes), by result',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.bytesReceived = new Counter({
      name: 'pigeon_upload_bytes_total',
      help: 'Bytes of uploads received and written',
      registers,
    });
    this.downloads = new Counter({
      name: 'pigeon_downloads_total',
      help: 'File download requests by status',
      labelNames: ['status'],
      registers,
    });
    this.bytesSent = new Counter({
      name: 'pigeon_download_bytes_total',
      help: 'Bytes of files sent to downloads',
      registers,
    });
    this.swept = new Counter({
      name: 'pigeon_files_swept_total',
      help: 'What the file sweep removed: expired uploads, unreferenced content, leftover partials',
      labelNames: ['what'],
      registers,
    });
  }
}
