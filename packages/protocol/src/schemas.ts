import * as v from 'valibot';
import {
  chatClientFrames,
  chatServerSchemas,
  conversationFeatureFields,
  msgFeatureFields,
} from './chat-schemas.js';
import type { Feature, FeatureSet } from './features.js';
import { FEATURES, parseHelloFeatures } from './features.js';
import {
  body,
  cursor,
  type Entries,
  type FeatureFrames,
  intIn,
  messageId,
  rid,
  timestamp,
  userId,
} from './fields.js';
import { normalizeUserId } from './ids.js';
import { LIMITS } from './limits.js';

// Valibot's `object` drops unknown keys, which is exactly the spec's "ignored, not echoed".
// It is also how a field of a feature the connection did not negotiate disappears: the
// connection's schema simply does not list it, so it is an unknown field, as in version 1.

type Schema = v.GenericSchema<unknown, unknown>;
export type SchemaTable = Readonly<Record<string, Schema>>;

// ------------------------------------------------------------------ client → server

/** Version 1: every connection understands these. */
const v1ClientFrames: Record<string, Entries> = {
  hello: {
    v: v.literal(1),
    token: v.string(),
    since: v.optional(v.string()),
    features: v.optional(v.pipe(v.unknown(), v.transform(parseHelloFeatures))),
  },
  send: { id: messageId, to: userId, body },
  ack: { cursor },
  history: {
    with: userId,
    before: v.optional(cursor),
    limit: v.optional(intIn(1, LIMITS.historyMaxLimit, 'limit')),
    rid,
  },
  conversations: { rid },
  typing: { to: v.pipe(v.string(), v.transform(normalizeUserId)) },
  presence: {
    users: v.pipe(
      v.array(userId),
      v.minLength(1, 'users must list 1-200 ids'),
      v.maxLength(LIMITS.presenceMaxUsers, 'users must list 1-200 ids'),
    ),
  },
  ping: { rid },
};

const featureClientFrames: Partial<Record<Feature, FeatureFrames>> = {
  ...chatClientFrames,
  paging: {
    fields: {
      history: { after: v.optional(cursor) },
      conversations: {
        limit: v.optional(intIn(1, LIMITS.conversationsMaxLimit, 'limit')),
        before: v.optional(cursor),
      },
    },
  },
};

/** Rules across fields of one frame, checked once its fields are valid (still `bad_frame`). */
const crossChecks: Record<string, { ok: (f: Record<string, unknown>) => boolean; message: string }[]> = {
  send: [
    {
      ok: (f) =>
        (typeof f.body === 'string' && f.body.length > 0) || (Array.isArray(f.files) && f.files.length > 0),
      message: 'body must not be empty',
    },
  ],
  history: [
    { ok: (f) => f.before === undefined || f.after === undefined, message: 'before and after together' },
  ],
};

function objectSchema(t: string, entries: Entries): Schema {
  const object: v.GenericSchema<unknown, Record<string, unknown>> = v.object({ t: v.literal(t), ...entries });
  const checks = crossChecks[t];
  if (!checks) return object;
  return v.pipe(object, ...checks.map((c) => v.check(c.ok, c.message)));
}

function buildClientTable(features: FeatureSet): SchemaTable {
  const entries: Record<string, Entries> = { ...v1ClientFrames };
  for (const feature of FEATURES) {
    const ext = featureClientFrames[feature];
    if (!ext || !features.has(feature)) continue;
    Object.assign(entries, ext.frames);
    for (const [t, fields] of Object.entries(ext.fields ?? {})) entries[t] = { ...entries[t], ...fields };
  }
  const table: Record<string, Schema> = Object.create(null);
  for (const [t, e] of Object.entries(entries)) table[t] = objectSchema(t, e);
  return table;
}

// A server has few distinct feature sets at once (one per client build), so tables are
// built once per set and kept, keyed by the set in FEATURES order. A connection passes the
// same set object with every frame, so the object is remembered too and the hot path is
// one WeakMap lookup.
const tablesByKey = new Map<string, SchemaTable>();
const tablesBySet = new WeakMap<FeatureSet, SchemaTable>();

/**
 * The client-frame schemas of a connection with these features (version 1 for an empty
 * set). The set is remembered by identity: do not change a set after passing it.
 */
export function clientSchemasFor(features: FeatureSet): SchemaTable {
  let table = tablesBySet.get(features);
  if (table) return table;
  const key = FEATURES.filter((f) => features.has(f)).join(',');
  table = tablesByKey.get(key);
  if (!table) {
    table = buildClientTable(features);
    tablesByKey.set(key, table);
  }
  tablesBySet.set(features, table);
  return table;
}

// ------------------------------------------------------------------ server → client
// A client decodes everything a server may send it; it knows which features it asked for.

const features = v.pipe(
  v.array(v.string()),
  v.transform((names) => FEATURES.filter((f) => names.includes(f))),
);

const msgFields = {
  cursor: v.string(),
  id: v.string(),
  from: v.string(),
  to: v.string(),
  body: v.string(),
  ts: timestamp,
  delivered: v.boolean(),
  ...msgFeatureFields,
};
const msg = v.object({ t: v.literal('msg'), ...msgFields });
/** Items inside `history` and `conversations` are msg objects; `t` is optional there. */
const msgItem = v.pipe(
  v.object({ t: v.optional(v.literal('msg')), ...msgFields }),
  v.transform((m) => ({ ...m, t: 'msg' as const })),
);
const nullableCursor = v.nullable(v.string());

export const serverSchemas: SchemaTable = {
  welcome: v.object({
    t: v.literal('welcome'),
    v: v.literal(1),
    user: v.string(),
    head: nullableCursor,
    features: v.optional(features),
  }),
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
    items: v.array(v.object({ with: v.string(), last: msgItem, ...conversationFeatureFields })),
    more: v.optional(v.boolean()),
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
  ...chatServerSchemas(msgItem),
};
