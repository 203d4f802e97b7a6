// The JSON of the upload API (PROTOCOL.md "Files: HTTP"): what `POST /api/uploads` takes,
// checked the same way by the server and, before it sends, by a client.

import * as v from 'valibot';
import { HttpErrorCode } from './codes.js';
import { messageId, timestamp } from './fields.js';
import { type FileInfo, isFileName, isSha256, isThumb, parseMediaType } from './files.js';

export interface UploadRequest {
  name: string;
  /** Normalized: lowercase `type/subtype`. */
  type: string;
  size: number;
  sha256?: string;
  thumb?: string;
}

export type UploadRequestResult =
  | { ok: true; request: UploadRequest }
  | {
      ok: false;
      code: typeof HttpErrorCode.invalidFile | typeof HttpErrorCode.emptyFile;
      message: string;
    };

/**
 * Checks the body of `POST /api/uploads` (already parsed JSON): `invalid_file` for a bad
 * name, type, size, `sha256` or `thumb`, then `empty_file` for size 0. The size against
 * PIGEON_FILE_MAX and the quota are the server's to check next.
 */
export function decodeUploadRequest(json: unknown): UploadRequestResult {
  const invalid = (message: string): UploadRequestResult => ({
    ok: false,
    code: HttpErrorCode.invalidFile,
    message,
  });
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    return invalid('body must be a JSON object');
  const o = json as Record<string, unknown>;
  if (!isFileName(o.name)) return invalid('name: 1-255 characters, no control characters, no / or \\');
  const type = parseMediaType(o.type);
  if (type === null) return invalid('type must be a media type such as image/png');
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) {
    return invalid('size must be a whole number of bytes');
  }
  if (o.sha256 !== undefined && !isSha256(o.sha256)) return invalid('sha256 must be 64 lowercase hex digits');
  if (o.thumb !== undefined && !isThumb(o.thumb))
    return invalid('thumb must be a small data:image/… base64 URL');
  if (o.size === 0) return { ok: false, code: HttpErrorCode.emptyFile, message: 'the file is empty' };
  const request: UploadRequest = { name: o.name, type, size: o.size };
  if (o.sha256 !== undefined) request.sha256 = o.sha256;
  if (o.thumb !== undefined) request.thumb = o.thumb;
  return { ok: true, request };
}

const nat = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const positive = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

export const fileInfoSchema = v.object({
  id: v.string(),
  name: v.string(),
  type: v.string(),
  size: nat,
  width: v.optional(positive),
  height: v.optional(positive),
  thumb: v.optional(v.string()),
});

/** `201` to `POST /api/uploads`. */
export interface UploadCreated {
  id: string;
  offset: number;
  /** When an upload not completed (or completed and never sent) is removed, ms since the epoch. */
  expiresAt: number;
}
/** `200` to the `PATCH` that completes an upload. */
export interface UploadCompleted {
  file: FileInfo;
  sha256: string;
}

const createdSchema = v.object({ id: messageId, offset: nat, expiresAt: timestamp });
const completedSchema = v.object({
  file: fileInfoSchema,
  sha256: v.pipe(
    v.string(),
    v.check((s: string) => isSha256(s)),
  ),
});

/** A client's check of the server's answers to the upload API; `null` when the JSON is not one. */
export function decodeUploadCreated(json: unknown): UploadCreated | null {
  const r = v.safeParse(createdSchema, json);
  return r.success ? r.output : null;
}
export function decodeUploadCompleted(json: unknown): UploadCompleted | null {
  const r = v.safeParse(completedSchema, json);
  return r.success ? r.output : null;
}
