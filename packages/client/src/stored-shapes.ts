import { ErrorCode, HttpErrorCode } from '@pigeon/protocol';
import * as v from 'valibot';
import type { WriteItem, WriteOp } from './chat-types.js';
import { ClientErrorCode } from './errors.js';
import type { OutboxErrorCode, OutboxItem, Session } from './types.js';
import type { StoredWrites } from './writes.js';

// Every JSON shape this package reads back from storage, checked through valibot (the codec's
// schema library) instead of by hand: storage is written by older versions, other tabs and
// other processes, and a user can edit a file, so nothing read back is trusted.

/** Every `OutboxErrorCode`: an item stored with another code is dropped as malformed. */
const OUTBOX_ERRORS = [
  ErrorCode.badFrame,
  ErrorCode.tooLarge,
  ErrorCode.noSuchUser,
  ErrorCode.noSuchMessage,
  ErrorCode.messageDeleted,
  ErrorCode.noSuchFile,
  HttpErrorCode.invalidFile,
  HttpErrorCode.emptyFile,
  HttpErrorCode.fileTooLarge,
  HttpErrorCode.quotaExceeded,
  HttpErrorCode.typeMismatch,
  HttpErrorCode.imageTooLarge,
  HttpErrorCode.checksumMismatch,
  ClientErrorCode.attachmentMissing,
  ClientErrorCode.uploadFailed,
  ClientErrorCode.unsupported,
] as const satisfies readonly OutboxErrorCode[];

const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const FileInfoSchema = v.object({
  id: v.string(),
  name: v.string(),
  type: v.string(),
  size: count,
  width: v.optional(count),
  height: v.optional(count),
  thumb: v.optional(v.string()),
});
const OutboxFileSchema = v.object({
  key: v.string(),
  name: v.string(),
  type: v.string(),
  size: count,
  thumb: v.optional(v.string()),
  uploadId: v.optional(v.string()),
  expiresAt: v.optional(v.number()),
  uploaded: count,
  file: v.optional(FileInfoSchema),
});

const OutboxItemSchema = v.object({
  id: v.string(),
  to: v.string(),
  body: v.string(),
  state: v.picklist(['pending', 'sent', 'delivered', 'failed']),
  createdAt: v.number(),
  ts: v.optional(v.number()),
  error: v.optional(v.picklist(OUTBOX_ERRORS)),
  errorMessage: v.optional(v.string()),
  replyTo: v.optional(v.object({ from: v.string(), id: v.string() })),
  files: v.optional(v.array(OutboxFileSchema)),
});

const ref = { from: v.string(), id: v.string() };
const WriteOpSchema = v.variant('t', [
  v.object({ t: v.literal('edit'), ...ref, body: v.string() }),
  v.object({ t: v.literal('delete'), ...ref }),
  v.object({ t: v.literal('hide'), ...ref }),
  v.object({ t: v.literal('react'), ...ref, emoji: v.nullable(v.string()) }),
  v.object({ t: v.literal('block'), user: v.string() }),
  v.object({ t: v.literal('unblock'), user: v.string() }),
  v.object({ t: v.literal('receipts'), on: v.boolean() }),
]);
const WriteItemSchema = v.object({ wid: v.string(), op: WriteOpSchema, createdAt: v.number() });
const StoredReadsSchema = v.record(v.string(), v.string());
/** The outer shape only: items are checked one by one below. */
const StoredWritesSchema = v.object({
  writes: v.optional(v.array(v.unknown())),
  reads: v.optional(v.unknown()),
});

const StoredSessionSchema = v.object({
  user: v.string(),
  token: v.string(),
  /** The server that issued the token (absent in sessions saved by early versions). */
  server: v.optional(v.string()),
});

export type StoredSession = Session & { server?: string | undefined };

/** The object without its `undefined` fields (valibot's optional fields come back as present-but-undefined). */
function withoutUndefined<T extends object>(o: T): T {
  const out = { ...o };
  for (const key of Object.keys(out) as (keyof T)[]) if (out[key] === undefined) delete out[key];
  return out;
}

function parseJson(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Reads a persisted outbox: one malformed item is dropped, the others kept (an outbox is never
 * thrown away whole because of one bad entry).
 */
export function parseStoredOutbox(text: string | null | undefined): OutboxItem[] {
  const value = parseJson(text);
  if (!Array.isArray(value)) return [];
  const items: OutboxItem[] = [];
  for (const entry of value) {
    const parsed = v.safeParse(OutboxItemSchema, entry);
    if (!parsed.success) continue;
    // Optional fields that are absent stay absent (not `undefined`), as the outbox creates them.
    const { files, ...item } = withoutUndefined(parsed.output);
    items.push(
      files
        ? {
            ...item,
            files: files.map((f) => withoutUndefined({ ...f, file: f.file && withoutUndefined(f.file) })),
          }
        : item,
    );
  }
  return items;
}

/** Reads persisted writes and read marks; like the outbox, a malformed item is dropped alone. */
export function parseStoredWrites(text: string | null | undefined): StoredWrites {
  const outer = v.safeParse(StoredWritesSchema, parseJson(text));
  if (!outer.success) return { writes: [], reads: {} };
  const { writes, reads } = outer.output;
  const items: WriteItem[] = [];
  for (const entry of writes ?? []) {
    const parsed = v.safeParse(WriteItemSchema, entry);
    if (parsed.success) items.push({ ...parsed.output, op: parsed.output.op satisfies WriteOp });
  }
  const marks = v.safeParse(StoredReadsSchema, reads);
  return { writes: items, reads: marks.success ? marks.output : {} };
}

/** Reads a persisted session, or null when absent or malformed. */
export function parseStoredSession(text: string | null | undefined): StoredSession | null {
  const parsed = v.safeParse(StoredSessionSchema, parseJson(text));
  return parsed.success ? parsed.output : null;
}
