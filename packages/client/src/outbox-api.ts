import { ErrorCode, isMessageId, LIMITS, type MessageRef, parseUserId } from '@pigeon/protocol';
import type { Account } from './account.js';
import { ClientErrorCode, PigeonRequestError } from './errors.js';
import { FileApi } from './file-api.js';
import type { DownloadOptions, DownloadResult, OutboxFile, UploadProgress } from './file-types.js';
import { asks, type ResolvedOptions } from './options.js';
import { randomId } from './runtime.js';
import type { OutboxItem, SendOptions } from './types.js';
import { Uploader } from './uploader.js';

export interface OutboxApiHost {
  account(): Account | null;
  /** The outbox changed: persist it, tell the application, let the senders and the uploader go on. */
  outboxChanged(): void;
  /** Uploads may run now (started, network not known to be gone). */
  active(): boolean;
  progress(p: UploadProgress): void;
}

function invalid(message: string): PigeonRequestError {
  return new PigeonRequestError(ClientErrorCode.invalidArgument, message);
}

/**
 * The outbox calls of the API (send, retry, discard) and the file API (uploads behind the
 * outbox, downloads), checked before anything is queued.
 */
export class OutboxApi {
  readonly files: FileApi;
  readonly uploader: Uploader;
  /** Items whose attachment bytes were released from the store after they were stored. */
  private readonly released = new Set<string>();

  constructor(
    private readonly o: ResolvedOptions,
    private readonly host: OutboxApiHost,
  ) {
    this.files = new FileApi({
      server: o.server,
      transport: o.transport,
      token: () => host.account()?.token ?? null,
      requestTimeoutMs: o.requestTimeoutMs,
      stallMs: o.uploadStallMs,
    });
    this.uploader = new Uploader(o, {
      box: () => host.account()?.box ?? null,
      store: () => o.attachments,
      api: () => this.files,
      active: () => host.active(),
      changed: () => host.outboxChanged(),
      progress: (p) => host.progress(p),
    });
  }

  private account(): Account {
    const account = this.host.account();
    if (!account) throw new PigeonRequestError(ClientErrorCode.noSession, 'log in first');
    return account;
  }

  send(to: string, body: string, options: SendOptions): OutboxItem {
    const account = this.account();
    if (options.id !== undefined && !isMessageId(options.id))
      throw invalid('id must be 1-64 of A-Z a-z 0-9 _ -');
    const replyTo = options.replyTo === undefined ? undefined : this.replyRef(options.replyTo);
    if (options.files !== undefined && !asks(this.o, 'files')) {
      throw new PigeonRequestError(
        ClientErrorCode.unsupported,
        "needs the 'files' feature in options.features",
      );
    }
    const existing = options.id !== undefined ? account.box.get(options.id) : undefined;
    if (existing) return existing;
    const id = options.id ?? randomId();
    const held = (options.files ?? []).map((f, i) => {
      const file: OutboxFile = {
        key: `${account.user}/${id}/${i}`,
        name: f.name,
        type: f.type,
        size: f.blob.size,
        uploaded: 0,
      };
      if (f.thumb !== undefined) file.thumb = f.thumb;
      return { file, blob: f.blob };
    });
    const files = held.map((h) => h.file);
    const item = account.box.create(to, body, id, this.o.now(), {
      ...(replyTo ? { replyTo } : {}),
      ...(files.length > 0 ? { files } : {}),
    });
    if (item.state === 'pending' && files.length > 0) {
      void this.uploader.hold(
        id,
        held.map((h) => ({ key: h.file.key, blob: h.blob })),
      );
    }
    // A message ends the peer's "is typing" display, so the next keystroke must be able to
    // show it again at once rather than wait out the throttle window.
    account.typingSentAt.delete(item.to);
    this.host.outboxChanged();
    return item;
  }

  private replyRef(ref: MessageRef): MessageRef {
    if (!asks(this.o, 'reply')) {
      throw new PigeonRequestError(
        ClientErrorCode.unsupported,
        "needs the 'reply' feature in options.features",
      );
    }
    const from = parseUserId(ref.from);
    if (!from || !isMessageId(ref.id)) throw invalid('replyTo must name a message: {from, id}');
    return { from, id: ref.id };
  }

  retry(id: string): void {
    const box = this.host.account()?.box;
    if (!box?.retry(id)) return;
    const item = box.get(id);
    // A message that can never pass stays failed.
    if (item && item.body.length > LIMITS.bodyMaxLength) {
      box.markFailed(id, ErrorCode.tooLarge, `body is ${item.body.length} UTF-16 units`);
    }
    this.host.outboxChanged();
  }

  discard(id: string): void {
    const box = this.host.account()?.box;
    const files = box?.get(id)?.files;
    if (!box?.discard(id)) return;
    if (files) this.uploader.cancel(id, files);
    this.host.outboxChanged();
  }

  /** After an outbox change: the bytes of attachments whose message is stored are dropped. */
  releaseStored(items: readonly OutboxItem[]): void {
    for (const item of items) {
      if (!item.files || this.released.has(item.id)) continue;
      if (item.state !== 'sent' && item.state !== 'delivered') continue;
      this.released.add(item.id);
      this.uploader.release(item.files);
    }
  }

  download(fileId: string, options: DownloadOptions): Promise<DownloadResult> {
    if (!isMessageId(fileId)) return Promise.reject(invalid('not a file id'));
    return this.files.download(fileId, options);
  }
}
