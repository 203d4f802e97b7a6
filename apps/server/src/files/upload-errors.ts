import { HttpErrorCode } from '@pigeon/protocol';
import { HttpError } from '../http/api-body.js';

/* Refusals of the upload API (PROTOCOL.md "Files: Upload") shared by its parts. */

/** An upload refusal whose body carries more than `error` and `message` (`max`, `quota`, `used`). */
export class UploadError extends HttpError {
  constructor(
    status: number,
    code: HttpErrorCode,
    message: string,
    readonly extra: Record<string, unknown>,
    headers: Record<string, string>,
  ) {
    super(status, code, message, headers);
  }
}

/** Someone else's upload is "not found", exactly like one that does not exist. */
export function notFound(): HttpError {
  return new HttpError(404, HttpErrorCode.notFound, 'no such upload');
}

/** The request's `Upload-Offset` is not where the upload stands: say where it does. */
export function mismatch(actual: number): HttpError {
  return new HttpError(409, HttpErrorCode.offsetMismatch, `the upload is at offset ${actual}`, {
    'Upload-Offset': String(actual),
  });
}
