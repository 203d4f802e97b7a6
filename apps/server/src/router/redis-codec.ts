import type { MsgFrame, UpdateFrame } from '@pigeon/protocol';
import * as v from 'valibot';
import type { BlockChange } from '../store/feature-types.js';
import type { Entry, Receipt } from '../store/store.js';

/**
 * What nodes publish on a user's channel (`<prefix>u:<user>`): `<origin node>\n<JSON>`,
 * one message per user per event-loop turn holding whatever that turn produced for the
 * user: entries of their mailbox (`e`), receipts for them as a sender (`r`), typing
 * notices to them (`t`), blocks between them and someone (`b`), and a poke (`p`: read
 * the mailbox head from the store and catch up). The origin comes first and in clear so that a node drops its own publications (it
 * handed them to its connections already) without parsing them.
 */
export interface BusBatch {
  e?: { s: number; f: MsgFrame | UpdateFrame }[];
  r?: Receipt[];
  t?: string[];
  b?: BlockChange[];
  p?: 1;
}

interface BusMessage extends BusBatch {
  origin: string;
}

// The frame is kept as it was committed; only what routing relies on is checked (later
// entry kinds of the same mailbox travel the same way with other fields).
const frame = v.looseObject({ t: v.string(), cursor: v.string() });
const schema = v.object({
  e: v.optional(v.array(v.object({ s: v.pipe(v.number(), v.integer(), v.minValue(1)), f: frame }))),
  r: v.optional(v.array(v.object({ sender: v.string(), id: v.string(), to: v.string() }))),
  t: v.optional(v.array(v.string())),
  b: v.optional(v.array(v.object({ blocker: v.string(), target: v.string(), blocked: v.boolean() }))),
  p: v.optional(v.literal(1)),
});

export type DecodedBus =
  | { ok: true; message: BusMessage }
  | { ok: false; error: { code: 'bad_bus_message'; message: string } };

/** The publishing node of a channel message (the text before the first newline), or null. */
export function busOrigin(text: string): string | null {
  const at = text.indexOf('\n');
  return at > 0 && at <= 64 ? text.slice(0, at) : null;
}

/** Decodes a channel message; never throws (a bad message is reported, and dropped by the caller). */
export function decodeBus(text: string): DecodedBus {
  const origin = busOrigin(text);
  if (origin === null) return { ok: false, error: { code: 'bad_bus_message', message: 'no origin' } };
  let raw: unknown;
  try {
    raw = JSON.parse(text.slice(origin.length + 1));
  } catch {
    return { ok: false, error: { code: 'bad_bus_message', message: 'not JSON' } };
  }
  const parsed = v.safeParse(schema, raw);
  if (!parsed.success) {
    return { ok: false, error: { code: 'bad_bus_message', message: v.summarize(parsed.issues) } };
  }
  return { ok: true, message: { ...(parsed.output as BusBatch), origin } };
}

/** Adds entries to a batch (as they travel: sequence and frame). */
export function addEntries(batch: BusBatch, entries: readonly Entry[]): void {
  batch.e ??= [];
  for (const e of entries) batch.e.push({ s: e.seq, f: e.frame });
}

export function encodeBus(origin: string, batch: BusBatch): string {
  return `${origin}\n${JSON.stringify(batch)}`;
}
