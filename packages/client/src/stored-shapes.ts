import { ErrorCode } from '@pigeon/protocol';
import * as v from 'valibot';
import type { OutboxItem, Session } from './types.js';

// Every JSON shape this package reads back from storage, checked through valibot (the codec's
// schema library) instead of by hand: storage is written by older versions, other tabs and
// other processes, and a user can edit a file, so nothing read back is trusted.

const OutboxItemSchema = v.object({
  id: v.string(),
  to: v.string(),
  body: v.string(),
  state: v.picklist(['pending', 'sent', 'delivered', 'failed']),
  createdAt: v.number(),
  ts: v.optional(v.number()),
  error: v.optional(v.picklist([ErrorCode.badFrame, ErrorCode.tooLarge, ErrorCode.noSuchUser])),
  errorMessage: v.optional(v.string()),
});

const StoredSessionSchema = v.object({
  user: v.string(),
  token: v.string(),
  /** The server that issued the token (absent in sessions saved by early versions). */
  server: v.optional(v.string()),
});

export type StoredSession = Session & { server?: string | undefined };

function parseJson(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Reads a persisted outbox: one malformed item is dropped, the others kept (an outbox is never
 * thrown away whole because of one bad entry).
 */
export function parseStoredOutbox(text: string | null | undefined): OutboxItem[] {
  const value = parseJson(text);
  if (!Array.isArray(value)) return [];
  const items: OutboxItem[] = [];
  for (const entry of value) {
    const parsed = v.safeParse(OutboxItemSchema, entry);
    if (!parsed.success) continue;
    const { ts, error, errorMessage, ...rest } = parsed.output;
    // Optional fields that are absent stay absent (not `undefined`), as the outbox creates them.
    items.push({
      ...rest,
      ...(ts === undefined ? {} : { ts }),
      ...(error === undefined ? {} : { error }),
      ...(errorMessage === undefined ? {} : { errorMessage }),
    });
  }
  return items;
}

/** Reads a persisted session, or null when absent or malformed. */
export function parseStoredSession(text: string | null | undefined): StoredSession | null {
  const parsed = v.safeParse(StoredSessionSchema, parseJson(text));
  return parsed.success ? parsed.output : null;
}
