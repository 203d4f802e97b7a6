import { ErrorCode, type MsgFrame } from '@pigeon/protocol';
import { encodeCursor } from './cursor.js';
import type { OpReply, WireOp } from './sqlite-protocol.js';
import type { MsgEntry, OpResult, SendOp, StoreOp } from './store.js';

/*
 * Ops as they cross to the SQLite threads (short tuples, cheap to clone) and the answers
 * as the store returns them, with the frames of new entries built on the main thread
 * (which knows the mailbox tags).
 */

export function toResult(op: StoreOp, r: OpReply, tagOf: (user: string) => string): OpResult {
  switch (r[0]) {
    case 's': {
      const send = op as SendOp;
      const [, ts, rseq, sseq, toQuote, fromQuote, files] = r;
      const base = {
        t: 'msg' as const,
        id: send.id,
        from: send.from,
        to: send.to,
        body: send.body,
        ts,
        delivered: false,
        // Nobody's read mark covers a new message; one to oneself is always read.
        read: send.from === send.to,
        ...(files ? { files } : {}),
      };
      const entries: MsgEntry[] = [];
      // rseq 0: the recipient blocks the sender, only the sender's mailbox has it.
      if (rseq > 0) {
        const frame: MsgFrame = { ...base, cursor: encodeCursor(tagOf(send.to), rseq) };
        if (toQuote) frame.replyTo = toQuote;
        entries.push({ owner: send.to, seq: rseq, frame });
      }
      if (send.from !== send.to) {
        const frame: MsgFrame = { ...base, cursor: encodeCursor(tagOf(send.from), sseq) };
        if (fromQuote) frame.replyTo = fromQuote;
        entries.push({ owner: send.from, seq: sseq, frame });
      }
      return { kind: 'stored', ts, entries };
    }
    case 'x':
      return { kind: 'rejected', code: r[1] };
    case 'f':
      return r[1];
    case 'd':
      return { kind: 'duplicate', ts: r[1] };
    case 'n':
      return { kind: 'no_such_user' };
    case 'r':
      return { kind: 'refused', refusal: { code: ErrorCode.rateLimited, retryAfterMs: r[1] } };
    case 'a': {
      const user = (op as Extract<StoreOp, { kind: 'ack' }>).user;
      return {
        kind: 'acked',
        changed: r[1] === 1,
        receipts: r[2].map(([sender, id]) => ({ sender, id, to: user })),
      };
    }
  }
}

/** An op as the threads take it (sqlite-protocol.ts). */
export function toWire(op: StoreOp): WireOp {
  switch (op.kind) {
    case 'send':
      if (op.files && op.files.length > 0) {
        return [
          's',
          op.from,
          op.id,
          op.to,
          op.body,
          op.replyTo?.from ?? null,
          op.replyTo?.id ?? null,
          op.files,
        ];
      }
      return op.replyTo
        ? ['s', op.from, op.id, op.to, op.body, op.replyTo.from, op.replyTo.id]
        : ['s', op.from, op.id, op.to, op.body];
    case 'ack':
      return ['a', op.user, op.seq];
    default:
      return ['f', op];
  }
}
