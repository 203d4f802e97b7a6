// Field schemas shared by every frame schema (schemas.ts, chat-schemas.ts).

import * as v from 'valibot';
import { normalizeUserId } from './ids.js';
import { LIMITS, MESSAGE_ID_PATTERN, USER_ID_PATTERN } from './limits.js';
import { isWellFormedText } from './text.js';

export type Entries = v.ObjectEntries;

export const userId = v.pipe(
  v.string(),
  v.maxLength(LIMITS.userIdMaxLength, 'user id longer than 32 characters'),
  v.transform(normalizeUserId),
  v.regex(USER_ID_PATTERN, 'user id must be 1-32 of a-z 0-9 _ . -'),
);
export const messageId = v.pipe(
  v.string(),
  v.regex(MESSAGE_ID_PATTERN, 'id must be 1-64 of A-Z a-z 0-9 _ -'),
);
export const cursor = v.pipe(
  v.string(),
  v.minLength(1, 'cursor must not be empty'),
  v.maxLength(LIMITS.cursorMaxLength, 'cursor too long'),
);
export const rid = v.optional(
  v.pipe(
    v.string(),
    v.minLength(1, 'rid must not be empty'),
    v.maxLength(LIMITS.ridMaxLength, 'rid longer than 64 characters'),
  ),
);
export const timestamp = v.pipe(v.number(), v.integer(), v.minValue(0));
/** Text a user wrote: well-formed UTF-16, since a lone surrogate cannot be stored losslessly. */
export const userText = v.pipe(
  v.string(),
  v.check(isWellFormedText, 'text must be well-formed UTF-16 (a lone surrogate is not)'),
);
/**
 * A message body. Length beyond 4000 is checked after the shape (in decode.ts), so that
 * it answers `too_large`, not `bad_frame`.
 */
export const body = v.pipe(userText, v.minLength(1, 'body must not be empty'));
export const intIn = (min: number, max: number, what: string) =>
  v.pipe(
    v.number(),
    v.integer(`${what} must be an integer`),
    v.minValue(min, `${what} must be ${min}-${max}`),
    v.maxValue(max, `${what} must be ${min}-${max}`),
  );

/** What a feature adds to the client frames: new frame types, and fields on existing ones. */
export interface FeatureFrames {
  frames?: Record<string, Entries>;
  fields?: Record<string, Entries>;
}
