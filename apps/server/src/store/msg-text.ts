import type { MsgFrame } from '@pigeon/protocol';

/**
 * The JSON text of a `msg` frame, equal to `encode(frame)` (same keys, same order). Cursors,
 * message ids (`A-Z a-z 0-9 _ -`) and user ids (`a-z 0-9 _ . -`) are validated before they are
 * stored and hold no character JSON escapes, so only the body goes through JSON.stringify:
 * half the cost of stringifying the whole object, on every live and replayed entry.
 */
export function msgText(f: MsgFrame): string {
  return `{"t":"msg","cursor":"${f.cursor}","id":"${f.id}","from":"${f.from}","to":"${f.to}","body":${JSON.stringify(f.body)},"ts":${f.ts},"delivered":${f.delivered}}`;
}
