import { type FileInfo, fallbackBody } from '@pigeon/protocol';

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
