import type { MsgFrame } from '@pigeon/protocol';
import * as v from 'valibot';
import type { Entry, Receipt } from '../store/store.js';

/**
 * What nodes publish on a user's channel (`<prefix>u:<user>`): entries of that user's
 * mailbox, receipts for them as a sender, typing notices to them, and pokes (read the
 * mailbox head from the store and catch up). `o` is the publishing node, which already
 * handed the message to its own connections and ignores its echo.
 */
export type BusMessage =
  | { k: 'e'; o: string; e: { s: number; f: MsgFrame }[] }
  | { k: 'r'; o: string; r: Receipt }
  | { k: 't'; o: string; f: string }
  | { k: 'p'; o: string };

const node = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
// The frame is kept as it was committed; only what routing relies on is checked (later
// entry kinds of the same mailbox travel the same way with other fields).
const frame = v.looseObject({ t: v.string(), cursor: v.string() });
const schema = v.variant('k', [
  v.object({
    k: v.literal('e'),
    o: node,
    e: v.pipe(
      v.array(v.object({ s: v.pipe(v.number(), v.integer(), v.minValue(1)), f: frame })),
      v.minLength(1),
    ),
  }),
  v.object({
    k: v.literal('r'),
    o: node,
    r: v.object({ sender: v.string(), id: v.string(), to: v.string() }),
  }),
  v.object({ k: v.literal('t'), o: node, f: v.string() }),
  v.object({ k: v.literal('p'), o: node }),
]);

export type DecodedBus =
  | { ok: true; message: BusMessage }
  | { ok: false; error: { code: 'bad_bus_message'; message: string } };

/** Decodes a channel message; never throws (a bad message is reported, and dropped by the caller). */
export function decodeBus(text: string): DecodedBus {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: 'bad_bus_message', message: 'not JSON' } };
  }
  const parsed = v.safeParse(schema, raw);
  if (!parsed.success) {
    return { ok: false, error: { code: 'bad_bus_message', message: v.summarize(parsed.issues) } };
  }
  return { ok: true, message: parsed.output as BusMessage };
}

export function encodeEntries(origin: string, entries: readonly Entry[]): string {
  return JSON.stringify({ k: 'e', o: origin, e: entries.map((e) => ({ s: e.seq, f: e.frame })) });
}

export function encodeReceipt(origin: string, receipt: Receipt): string {
  return JSON.stringify({
    k: 'r',
    o: origin,
    r: { sender: receipt.sender, id: receipt.id, to: receipt.to },
  });
}

export function encodeTyping(origin: string, from: string): string {
  return JSON.stringify({ k: 't', o: origin, f: from });
}

export function encodePoke(origin: string): string {
  return JSON.stringify({ k: 'p', o: origin });
}
