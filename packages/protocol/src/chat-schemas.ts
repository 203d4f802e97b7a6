// Schemas of the chat features (issue 10) and of attachments (issue 12). Client frames are
// grouped by the feature that defines them, so a connection's decoder knows only what it
// negotiated; server frames are all known to every client decoder.

import * as v from 'valibot';
import { isReactionEmoji, searchTerms } from './chat-text.js';
import type { Feature } from './features.js';
import {
  body,
  cursor,
  type FeatureFrames,
  intIn,
  messageId,
  rid,
  timestamp,
  userId,
  userText,
} from './fields.js';
import { LIMITS } from './limits.js';
import { fileInfoSchema } from './upload.js';

const ref = { from: userId, id: messageId };
const settings = { rid };

const query = v.pipe(
  userText,
  v.minLength(1, 'q must not be empty'),
  v.maxLength(LIMITS.searchQueryMaxLength, `q longer than ${LIMITS.searchQueryMaxLength}`),
  v.check((q) => searchTerms(q).length > 0, 'q has no letter or digit'),
);

export const chatClientFrames: Partial<Record<Feature, FeatureFrames>> = {
  read: {
    frames: {
      read: { with: userId, upto: cursor, rid },
      receipts: { on: v.boolean(), rid },
      settings,
    },
  },
  edit: {
    frames: {
      edit: { ...ref, body, rid },
      delete: { ...ref, rid },
      hide: { ...ref, rid },
    },
  },
  reply: {
    fields: { send: { replyTo: v.optional(v.object(ref)) } },
  },
  react: {
    frames: {
      react: {
        ...ref,
        emoji: v.nullable(v.custom<string>(isReactionEmoji, 'emoji must be one emoji (or null to remove)')),
        rid,
      },
    },
  },
  block: {
    frames: { block: { user: userId, rid }, unblock: { user: userId, rid }, settings },
  },
  files: {
    fields: {
      send: {
        // With files the caption may be empty (schemas.ts checks that a send has a body or files).
        body: userText,
        files: v.optional(
          v.pipe(
            v.array(messageId),
            v.minLength(1, 'files must list 1-10 file ids'),
            v.maxLength(LIMITS.filesPerMessage, 'files must list 1-10 file ids'),
            v.check((ids) => new Set(ids).size === ids.length, 'a file is listed twice'),
          ),
        ),
      },
    },
  },
  search: {
    frames: {
      search: {
        q: query,
        with: v.optional(userId),
        before: v.optional(cursor),
        limit: v.optional(intIn(1, LIMITS.searchMaxLimit, 'limit')),
        rid,
      },
    },
  },
};

// ------------------------------------------------------------------ server → client

const str = v.string();
const ts = timestamp;

/** Optional msg fields of the features; a client decodes them all. */
export const msgFeatureFields = {
  read: v.optional(v.boolean()),
  edited: v.optional(ts),
  deleted: v.optional(v.literal(true)),
  replyTo: v.optional(
    v.object({
      from: str,
      id: str,
      cursor: v.optional(str),
      body: v.optional(str),
      deleted: v.optional(v.literal(true)),
    }),
  ),
  reactions: v.optional(v.array(v.object({ by: str, emoji: str }))),
  files: v.optional(v.array(fileInfoSchema)),
};

/** Optional conversation-row fields of `read`. */
export const conversationFeatureFields = {
  unread: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  readUpto: v.optional(v.nullable(str)),
};

const update = { t: v.literal('update'), cursor: str, ts };
const aboutMessage = { ...update, from: str, id: str, with: str };

const updateSchema = v.variant('kind', [
  v.object({
    ...update,
    kind: v.literal('read'),
    with: str,
    upto: str,
    unread: intIn(0, Number.MAX_SAFE_INTEGER, 'unread'),
  }),
  v.object({ ...update, kind: v.literal('seen'), with: str, upto: str }),
  v.object({ ...update, kind: v.literal('settings'), readReceipts: v.boolean() }),
  v.object({ ...aboutMessage, kind: v.literal('edit'), body: str }),
  v.object({ ...aboutMessage, kind: v.literal('delete') }),
  v.object({ ...aboutMessage, kind: v.literal('hide') }),
  v.object({ ...aboutMessage, kind: v.literal('react'), by: str, emoji: v.nullable(str) }),
  v.object({ ...update, kind: v.literal('block'), user: str, blocked: v.boolean() }),
]);

/** Server frames of the chat features, given the msg schema (with its feature fields). */
export function chatServerSchemas(msgItem: v.GenericSchema<unknown, unknown>) {
  return {
    ok: v.object({ t: v.literal('ok'), rid: str }),
    update: updateSchema,
    settings: v.object({
      t: v.literal('settings'),
      readReceipts: v.optional(v.boolean()),
      blocked: v.optional(v.array(str)),
      rid: v.optional(str),
    }),
    search: v.object({
      t: v.literal('search'),
      items: v.array(
        v.object({
          msg: msgItem,
          highlights: v.array(
            v.pipe(
              v.strictTuple([
                intIn(0, Number.MAX_SAFE_INTEGER, 'start'),
                intIn(0, Number.MAX_SAFE_INTEGER, 'end'),
              ]),
              v.check(([a, b]) => a <= b, 'a range ends before it starts'),
            ),
          ),
        }),
      ),
      more: v.boolean(),
      rid: v.optional(str),
    }),
  };
}
