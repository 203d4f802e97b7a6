// Attachments (`files`, issue 12): the rules both a server and a client apply to file
// names, media types, placeholders and sizes, the version-1 fallback text, and the
// Content-Disposition of a download. No Node or DOM: bytes are Uint8Array.

import { LIMITS } from './limits.js';
import { cutText, isWellFormedText } from './text.js';

/** A stored file as a message carries it (`msg.files[]`) and as the upload answer describes it. */
export interface FileInfo {
  id: string;
  /** The name the sender gave it: display only, never a path. */
  name: string;
  /** The declared media type, lowercase `type/subtype`. */
  type: string;
  /** Bytes. */
  size: number;
  /** Images of `INLINE_IMAGE_TYPES` only: pixels, read by the server from the file itself. */
  width?: number;
  height?: number;
  /** A tiny placeholder image the client drew before upload: a `data:image/…;base64,` URL. */
  thumb?: string;
}

/** The four types shown inline (after the server checked their magic bytes); everything else is a download. */
export const INLINE_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
export type InlineImageType = (typeof INLINE_IMAGE_TYPES)[number];

export function isInlineImageType(type: string): type is InlineImageType {
  return (INLINE_IMAGE_TYPES as readonly string[]).includes(type);
}

// C0 and C1 controls, DEL, and the bidi controls that make "‮fdp.exe" look like "exe.pdf".
const FORBIDDEN_IN_NAME = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069/\\]/u;

/**
 * A file name: 1 to `LIMITS.fileNameMaxLength` UTF-16 units, well-formed, no control or
 * bidi-control character, no `/` or `\`, not `.` or `..`. Names are for display and for
 * the download's suggested name, never a path on the server.
 */
export function isFileName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= LIMITS.fileNameMaxLength &&
    value !== '.' &&
    value !== '..' &&
    isWellFormedText(value) &&
    !FORBIDDEN_IN_NAME.test(value)
  );
}

// RFC 6838 restricted names: a letter or digit, then letters, digits and ! # $ & - ^ _ . +
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/**
 * A declared media type as the server stores it: lowercase `type/subtype`, parameters
 * (`; charset=…`) dropped, at most `LIMITS.fileTypeMaxLength` characters; `null` when it is
 * not one.
 */
export function parseMediaType(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2 * LIMITS.fileTypeMaxLength) return null;
  const type = (value.split(';')[0] ?? '').trim().toLowerCase();
  return type.length <= LIMITS.fileTypeMaxLength && MEDIA_TYPE.test(type) ? type : null;
}

const THUMB = /^data:image\/(?:jpeg|png|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

/** A placeholder: a `data:` URL of a JPEG, PNG or WebP in base64, at most `LIMITS.thumbMaxLength` characters. */
export function isThumb(value: unknown): value is string {
  return typeof value === 'string' && value.length <= LIMITS.thumbMaxLength && THUMB.test(value);
}

const SHA256 = /^[0-9a-f]{64}$/;
export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256.test(value);
}

const UNITS = ['kB', 'MB', 'GB', 'TB'] as const;

/**
 * A size as people read it, in decimal units: `999 B`, `1.0 kB`, `1.2 MB`, `12 MB`,
 * `340 kB`. One decimal below 10 of a unit, whole numbers from 10 on; a value that rounds
 * up to 1000 moves to the next unit (999,950 bytes is `1.0 MB`, not `1000 kB`).
 */
export function formatFileSize(bytes: number): string {
  if (bytes < 1000) return `${Math.max(0, Math.round(bytes))} B`;
  let value = bytes / 1000;
  let unit = 0;
  for (;;) {
    const shown = value < 9.95 ? Math.round(value * 10) / 10 : Math.round(value);
    if (shown < 1000 || unit === UNITS.length - 1) {
      return `${shown < 10 ? shown.toFixed(1) : String(shown)} ${UNITS[unit]}`;
    }
    value /= 1000;
    unit++;
  }
}

/** One line of the version-1 text of an attachment: `📎 report.pdf (1.2 MB)`. */
export function fileLine(file: Pick<FileInfo, 'name' | 'size'>): string {
  return `📎 ${file.name} (${formatFileSize(file.size)})`;
}

/**
 * The body a connection without `files` (a version-1 client, a bot, `/legacy`) is shown
 * for a message with attachments: the caption, then one line per file; cut to
 * `LIMITS.bodyMaxLength` so it is a valid version-1 body.
 */
export function fallbackBody(caption: string, files: readonly Pick<FileInfo, 'name' | 'size'>[]): string {
  const lines = files.map(fileLine);
  const text = caption.length > 0 ? [caption, ...lines].join('\n') : lines.join('\n');
  return cutText(text, LIMITS.bodyMaxLength - 1);
}

/**
 * RFC 8187 percent-encoding of UTF-8 for `filename*`. encodeURIComponent leaves only
 * A-Z a-z 0-9 - _ . ! ~ * ' ( ) as they are; the last four are not RFC 8187 attr-chars, so
 * they are escaped too (escaping more than needed is allowed). Names are well-formed, so it
 * cannot throw.
 */
function encodeRfc8187(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The `Content-Disposition` of a download: `inline` only for a verified inline image,
 * `attachment` otherwise, with an ASCII `filename` (anything else, quotes and backslashes
 * become `_`) and the exact name as UTF-8 in `filename*`.
 */
export function contentDisposition(name: string, inline: boolean): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(name)}`;
}
