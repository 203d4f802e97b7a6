import { type FileInfo, fallbackBody } from '@pigeon/protocol';
import type { UploadRow } from '../files/file-catalog.js';

/*
 * The `files` column of a message row (both engines): its attachments as the JSON of
 * FileInfo[], written once at send, NULL without attachments (and after a deletion for
 * everyone, whose trigger empties it).
 */

/** The attachments of a message row, or undefined when it has none. */
export function storedFiles(column: string | null): FileInfo[] | undefined {
  if (column === null) return undefined;
  const files = JSON.parse(column) as FileInfo[];
  return files.length > 0 ? files : undefined;
}

/**
 * The text a reply quotes of an original with attachments: its caption and a line per file,
 * as a connection without `files` sees it (PROTOCOL.md "Files: Messages"), so a quote of a
 * photo sent without a caption is not empty.
 */
export function quotedBody(body: string, files: string | null): string {
  const list = storedFiles(files);
  return list ? fallbackBody(body, list) : body;
}

/** An `uploads` row as both engines' drivers return it (same columns, same names). */
export type UploadDbRow = {
  id: string;
  owner: string;
  name: string;
  type: string;
  size: number;
  declared_sha256: string | null;
  thumb: string | null;
  created_at: number;
  expires_at: number;
  sha256: string | null;
  width: number | null;
  height: number | null;
};

/** The columns of UploadDbRow, for the SELECTs that read one. */
export const UPLOAD_COLUMNS =
  'id, owner, name, type, size, declared_sha256, thumb, created_at, expires_at, sha256, width, height';

export function toUpload(r: UploadDbRow): UploadRow {
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    type: r.type,
    size: r.size,
    declaredSha256: r.declared_sha256,
    thumb: r.thumb,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    sha256: r.sha256,
    width: r.width,
    height: r.height,
  };
}
