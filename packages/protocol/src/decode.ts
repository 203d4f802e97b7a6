import * as v from 'valibot';
import { CloseCode, ErrorCode } from './codes.js';
import { type FeatureSet, NO_FEATURES, parseHelloFeatures } from './features.js';
import type { ClientFrame, HelloFrame, ServerFrame } from './frames.js';
import { LIMITS, MESSAGE_ID_PATTERN } from './limits.js';
import type { DecodeError, DecodeResult } from './result.js';
import { clientSchemasFor, type SchemaTable, serverSchemas } from './schemas.js';
import { excerpt } from './text.js';

type JsonObject = Record<string, unknown>;

function parseObject(text: unknown): JsonObject | string {
  if (typeof text !== 'string') return 'a frame must be text';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  return value as JsonObject;
}

/** The first issue, in words; quotes of client input are cut to a short excerpt. */
function describe(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  if (!issue) return 'invalid frame';
  const path = issue.path?.map((p) => excerpt(String(p.key))).join('.');
  if (issue.kind === 'schema' && issue.received === 'undefined' && path) return `missing field ${path}`;
  return path ? `${path}: ${excerpt(issue.message)}` : excerpt(issue.message);
}

function echoes(obj: JsonObject, t: string): Pick<DecodeError, 'id' | 'rid'> {
  const out: Pick<DecodeError, 'id' | 'rid'> = {};
  if (t === 'send' && typeof obj.id === 'string' && MESSAGE_ID_PATTERN.test(obj.id)) out.id = obj.id;
  if (typeof obj.rid === 'string' && obj.rid.length >= 1 && obj.rid.length <= LIMITS.ridMaxLength) {
    out.rid = obj.rid;
  }
  return out;
}

function decodeWith<F>(schemas: SchemaTable, text: unknown): DecodeResult<F> {
  const obj = parseObject(text);
  if (typeof obj === 'string') return { ok: false, error: { code: ErrorCode.badFrame, message: obj } };
  const t = obj.t;
  if (typeof t !== 'string') {
    return { ok: false, error: { code: ErrorCode.badFrame, message: 'missing string field t' } };
  }
  const schema = Object.hasOwn(schemas, t) ? schemas[t] : undefined;
  if (!schema)
    return { ok: false, error: { code: ErrorCode.badFrame, message: `unknown frame type ${excerpt(t)}` } };
  const parsed = v.safeParse(schema, obj);
  if (!parsed.success) {
    return {
      ok: false,
      error: { code: ErrorCode.badFrame, message: describe(parsed.issues), t, ...echoes(obj, t) },
    };
  }
  return { ok: true, frame: parsed.output as F };
}

/**
 * Decodes one frame a client sent on a connection with these features (none: exactly
 * version 1, where frames of features are unknown types and their fields unknown fields,
 * so ignored). Never throws. User ids in `send.to`, `history.with`, `typing.to` and
 * `presence.users` come back ASCII-lowercased; `typing.to` is not validated beyond being a
 * string, because an invalid recipient there is dropped, not an error. A well-shaped `send`
 * whose body is longer than 4000 UTF-16 units is `too_large`. Pass the connection's one
 * `FeatureSet` object every time and never change it (its schema table is cached by it).
 */
export function decodeClientFrame(
  text: unknown,
  features: FeatureSet = NO_FEATURES,
): DecodeResult<ClientFrame> {
  const result = decodeWith<ClientFrame>(clientSchemasFor(features), text);
  if (!result.ok) return result;
  const frame = result.frame;
  // `send` and `edit` carry a body: too long is too_large, checked after the shape.
  if ((frame.t === 'send' || frame.t === 'edit') && frame.body.length > LIMITS.bodyMaxLength) {
    const error: DecodeError = {
      code: ErrorCode.tooLarge,
      message: `body is ${frame.body.length} UTF-16 units; the limit is ${LIMITS.bodyMaxLength}`,
      t: frame.t,
    };
    if (frame.t === 'send') error.id = frame.id;
    else if (frame.rid !== undefined) error.rid = frame.rid;
    return { ok: false, error };
  }
  return result;
}

/** Decodes one frame a server sent. Never throws. Items of `history` and `conversations` get `t: "msg"`. */
export function decodeServerFrame(text: unknown): DecodeResult<ServerFrame> {
  return decodeWith<ServerFrame>(serverSchemas, text);
}

export type HelloResult =
  | { ok: true; frame: HelloFrame }
  | { ok: false; close: typeof CloseCode.unauthorized | typeof CloseCode.unsupportedVersion; reason: string };

/**
 * The opening check of PROTOCOL.md, in its order: a first frame that is not a JSON object
 * with `t:"hello"` (or whose `since` is not a string) closes 4001; `v` other than the
 * number 1 closes 4003; a token that is not a non-empty string closes 4001 (the token's
 * validity is the server's to check next). `features` never closes: when it is not an
 * array the connection is version 1 (`frame.features` absent); otherwise it holds the
 * known names asked for (possibly none).
 */
export function decodeHello(text: unknown): HelloResult {
  const unauthorized = (reason: string): HelloResult => ({
    ok: false,
    close: CloseCode.unauthorized,
    reason,
  });
  const obj = parseObject(text);
  if (typeof obj === 'string') return unauthorized(`first frame: ${obj}`);
  if (obj.t !== 'hello') return unauthorized('first frame must be hello');
  if (obj.since !== undefined && typeof obj.since !== 'string') return unauthorized('since must be a string');
  if (obj.v !== 1)
    return { ok: false, close: CloseCode.unsupportedVersion, reason: 'unsupported protocol version' };
  if (typeof obj.token !== 'string' || obj.token.length === 0) return unauthorized('missing token');
  const frame: HelloFrame = { t: 'hello', v: 1, token: obj.token };
  if (typeof obj.since === 'string') frame.since = obj.since;
  const features = parseHelloFeatures(obj.features);
  if (features) frame.features = features;
  return { ok: true, frame };
}
