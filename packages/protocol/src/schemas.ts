import * as v from 'valibot';
import { normalizeUserId } from './ids.js';
import { LIMITS, MESSAGE_ID_PATTERN, USER_ID_PATTERN } from './limits.js';

// Valibot's `object` drops unknown keys, which is exactly the spec's "ignored, not echoed".

const userId = v.pipe(
  v.string(),
  v.maxLength(LIMITS.userIdMaxLength, 'user id longer than 32 characters'),
  v.transform(normalizeUserId),
  v.regex(USER_ID_PATTERN, 'user id must be 1-32 of a-z 0-9 _ . -'),
);
const messageId = v.pipe(v.string(), v.regex(MESSAGE_ID_PATTERN, 'id must be 1-64 of A-Z a-z 0-9 _ -'));
const cursor = v.pipe(
  v.string(),
  v.minLength(1, 'cursor must not be empty'),
  v.maxLength(LIMITS.cursorMaxLength, 'cursor too long'),
);
const rid = v.optional(
  v.pipe(
    v.string(),
    v.minLength(1, 'rid must not be empty'),
    v.maxLength(LIMITS.ridMaxLength, 'rid longer than 64 characters'),
  ),
);
const timestamp = v.pipe(v.number(), v.integer(), v.minValue(0));
/** Length beyond 4000 is checked after the shape, so that it answers `too_large`, not `bad_frame`. */
const body = v.pipe(v.string(), v.minLength(1, 'body must not be empty'));

export const clientSchemas = {
  hello: v.object({
    t: v.literal('hello'),
    v: v.literal(1),
    token: v.string(),
    since: v.optional(v.string()),
  }),
  send: v.object({ t: v.literal('send'), id: messageId, to: userId, body }),
  ack: v.object({ t: v.literal('ack'), cursor }),
  history: v.object({
    t: v.literal('history'),
    with: userId,
    before: v.optional(cursor),
    limit: v.optional(
      v.pipe(
        v.number(),
        v.integer('limit must be an integer'),
        v.minValue(1, 'limit must be 1-100'),
        v.maxValue(LIMITS.historyMaxLimit, 'limit must be 1-100'),
      ),
    ),
    rid,
  }),
  conversations: v.object({ t: v.literal('conversations'), rid }),
  typing: v.object({ t: v.literal('typing'), to: v.pipe(v.string(), v.transform(normalizeUserId)) }),
  presence: v.object({
    t: v.literal('presence'),
    users: v.pipe(
      v.array(userId),
      v.minLength(1, 'users must list 1-200 ids'),
      v.maxLength(LIMITS.presenceMaxUsers, 'users must list 1-200 ids'),
    ),
  }),
  ping: v.object({ t: v.literal('ping'), rid }),
} as const;

const msgFields = {
  cursor: v.string(),
  id: v.string(),
  from: v.string(),
  to: v.string(),
  body: v.string(),
  ts: timestamp,
  delivered: v.boolean(),
};
const msg = v.object({ t: v.literal('msg'), ...msgFields });
/** Items inside `history` and `conversations` are msg objects; `t` is optional there. */
const msgItem = v.pipe(
  v.object({ t: v.optional(v.literal('msg')), ...msgFields }),
  v.transform((m) => ({ ...m, t: 'msg' as const })),
);
const nullableCursor = v.nullable(v.string());

export const serverSchemas = {
  welcome: v.object({ t: v.literal('welcome'), v: v.literal(1), user: v.string(), head: nullableCursor }),
  synced: v.object({ t: v.literal('synced'), head: nullableCursor, gap: v.boolean() }),
  sent: v.object({ t: v.literal('sent'), id: v.string(), ts: timestamp }),
  msg,
  receipt: v.object({ t: v.literal('receipt'), id: v.string(), to: v.string() }),
  history: v.object({
    t: v.literal('history'),
    with: v.string(),
    items: v.array(msgItem),
    more: v.boolean(),
    rid: v.optional(v.string()),
  }),
  conversations: v.object({
    t: v.literal('conversations'),
    items: v.array(v.object({ with: v.string(), last: msgItem })),
    rid: v.optional(v.string()),
  }),
  typing: v.object({ t: v.literal('typing'), from: v.string() }),
  presence: v.object({ t: v.literal('presence'), user: v.string(), online: v.boolean() }),
  pong: v.object({ t: v.literal('pong'), rid: v.optional(v.string()) }),
  error: v.object({
    t: v.literal('error'),
    // Any string: a newer server may add codes, and a client must still see the error.
    code: v.pipe(v.string(), v.minLength(1)),
    message: v.string(),
    id: v.optional(v.string()),
    rid: v.optional(v.string()),
    retryAfterMs: v.optional(v.pipe(v.number(), v.minValue(0))),
  }),
} as const;
