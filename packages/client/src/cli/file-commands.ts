import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, stat, truncate } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { formatFileSize, isFileName } from '@pigeon/protocol';
import { ClientErrorCode, PigeonHttpError } from '../errors.js';
import type { AttachmentInput, DownloadResult, UploadProgress } from '../file-types.js';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';
import { ExitCode } from './exit-codes.js';
import { terminalSafe as safe } from './terminal-text.js';

// Attachments in the CLI (issue 12): `send --file` (see message-commands.ts) and `download`.

/** Media types by extension: what the server checks magic bytes for, and the common rest. */
const TYPES: Readonly<Record<string, string>> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.7z': 'application/x-7z-compressed',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.ods': 'application/vnd.oasis.opendocument.spreadsheet',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.flac': 'audio/flac',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
};

/** The declared type of a file: by its extension, else a generic download. */
function typeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Files given with `--file`, as attachments; a file that cannot be opened is a usage error. */
export async function attachmentsFrom(paths: readonly string[]): Promise<AttachmentInput[]> {
  const out: AttachmentInput[] = [];
  for (const path of paths) {
    // openAsBlob reads the file lazily, slice by slice: a large file is never held in memory.
    const blob = await openAsBlob(path).catch((err: unknown) => {
      throw new CliError(
        ExitCode.usage,
        `cannot read ${safe(path)}: ${safe(err instanceof Error ? err.message : String(err))}`,
      );
    });
    out.push({ blob, name: basename(path), type: typeOf(path) });
  }
  return out;
}

/** Upload progress on a terminal: one line per file, rewritten in place. */
export function progressPrinter(ctx: CliContext, names: readonly string[]): (p: UploadProgress) => void {
  if (!ctx.io.stderr.isTTY) return () => {};
  return (p) => {
    const pct = p.total > 0 ? Math.floor((100 * p.loaded) / p.total) : 100;
    const end = p.loaded >= p.total ? '\n' : '';
    ctx.io.stderr.write(
      `\ruploading ${safe(names[p.index] ?? '?')}: ${pct}% of ${formatFileSize(p.total)}${end}`,
    );
  };
}

/**
 * `pigeon download FILE_ID [--output PATH] [--force]`: streams the file into `PATH.part` and
 * renames it when complete. A `.part` left by an interrupted run is resumed (Range) instead of
 * fetched again; network failures on the way are resumed the same way within --timeout.
 */
export async function download(ctx: CliContext, args: string[]): Promise<number> {
  const [id, ...rest] = args;
  if (!id) throw new CliError(ExitCode.usage, 'usage: pigeon download FILE_ID [--output PATH]');
  ctx.noMore(rest);
  const c = await ctx.session(false);
  const chosen = ctx.values.output;
  const part = chosen !== undefined ? `${chosen}.part` : join('.', `.pigeon-download-${id}.part`);
  let last: Omit<DownloadResult, 'chunks'> | null = null;
  let offset = (await stat(part).catch(() => null))?.size ?? 0;
  let idleSince = Date.now();
  for (;;) {
    try {
      const result = await c.download(id, {
        offset,
        onStart: async (info) => {
          last = info;
          // The server sent the whole file again (no Range honoured): start the part over.
          if (info.from === 0 && offset > 0) await truncate(part, 0);
          offset = info.from;
        },
        onChunk: (chunk) =>
          new Promise<void>((resolve, reject) => {
            idleSince = Date.now();
            const out = createWriteStream(part, { flags: 'a' });
            out.on('error', reject);
            out.end(chunk, () => {
              offset += chunk.byteLength;
              resolve();
            });
          }),
      });
      last = result;
      break;
    } catch (err) {
      const retry = err instanceof PigeonHttpError && err.code === ClientErrorCode.unreachable;
      if (!retry || Date.now() - idleSince > ctx.timeoutMs) throw err;
      offset = (await stat(part).catch(() => null))?.size ?? 0;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const info: Omit<DownloadResult, 'chunks'> = last;
  const target =
    chosen ?? join('.', info.name !== null && isFileName(info.name) ? info.name : `download-${id}`);
  if (chosen === undefined && !ctx.values.force && (await stat(target).catch(() => null))) {
    throw new CliError(
      ExitCode.usage,
      `${safe(target)} exists: use --output PATH or --force (the file is in ${safe(part)})`,
    );
  }
  await rename(part, target);
  ctx.out(`saved ${safe(target)} (${formatFileSize(info.size)}, ${safe(info.type)})`);
  return ExitCode.ok;
}
