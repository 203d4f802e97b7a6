import { decodeUploadRequest, ErrorCode, LIMITS } from '@pigeon/protocol';
import type { OutboxFile } from './file-types.js';
import type { OutboxErrorCode, OutboxItem } from './types.js';

// The outbox's rules about what a send may fail with: what the server would refuse, found
// before sending (saves a round trip and fails the item with the server's own code), and
// which refusals of the server are final. The state machine that applies them is outbox.ts.

/** Codes after which resending the same message can never succeed: the item fails. */
const SEND_FAIL_CODES: ReadonlySet<string> = new Set<OutboxErrorCode>([
  ErrorCode.noSuchUser,
  ErrorCode.tooLarge,
  ErrorCode.badFrame,
  // a reply to a message that is not in the conversation, or deleted for everyone
  ErrorCode.noSuchMessage,
  ErrorCode.messageDeleted,
  // an attachment that is no longer a complete upload, after one upload again
  ErrorCode.noSuchFile,
]);

export function isFailCode(code: string): code is OutboxErrorCode {
  return SEND_FAIL_CODES.has(code);
}

/** What the client should do after an `error` frame about one of its sends. */
export type SendErrorAction =
  | { kind: 'ignored' }
  | { kind: 'failed' }
  /** `no_such_file`: the attachments are uploaded again, then the message goes. */
  | { kind: 'reupload' }
  /** Nothing was stored: wait (`retryAfterMs` for `rate_limited`), then resend in order. */
  | { kind: 'pause'; code: string; retryAfterMs: number | undefined };

/**
 * What the server (or its upload API) would refuse in a new message, found before sending:
 * an empty text without attachments or a long one, more than 10 attachments, an attachment
 * the upload API would refuse (`decodeUploadRequest`: a bad name, type or placeholder, 0 bytes).
 */
export function refuse(
  item: OutboxItem | null,
  files: readonly OutboxFile[],
): { code: OutboxErrorCode; message: string } | null {
  if (!item) return null;
  const { body } = item;
  if (typeof body !== 'string' || (body.length === 0 && files.length === 0)) {
    return { code: ErrorCode.badFrame, message: 'empty body' };
  }
  if (body.length > LIMITS.bodyMaxLength) {
    return {
      code: ErrorCode.tooLarge,
      message: `body is ${body.length} UTF-16 units; the limit is ${LIMITS.bodyMaxLength}`,
    };
  }
  if (files.length > LIMITS.filesPerMessage) {
    return { code: ErrorCode.badFrame, message: `at most ${LIMITS.filesPerMessage} attachments` };
  }
  for (const f of files) {
    const checked = decodeUploadRequest({
      name: f.name,
      type: f.type,
      size: f.size,
      ...(f.thumb === undefined ? {} : { thumb: f.thumb }),
    });
    if (!checked.ok) return { code: checked.code, message: `${f.name}: ${checked.message}` };
  }
  return null;
}
