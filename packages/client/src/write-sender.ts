import { type ClientFrame, ErrorCode, type ErrorFrame, type Feature } from '@pigeon/protocol';
import type { WriteFailure, WriteItem, WriteOp } from './chat-types.js';
import { ClientErrorCode, PigeonRequestError } from './errors.js';
import { clearTimer, setTimer, type TimerHandle } from './runtime.js';
import { RetryPause, retryDelay, StallWatch } from './sender-timers.js';
import type { MarkInFlight, WriteQueue } from './writes.js';

export interface WriteSenderHost {
  /** The signed-in user's queue, or null. */
  queue(): WriteQueue | null;
  online(): boolean;
  /** What the server enabled on the current connection. */
  features(): readonly Feature[];
  write(frame: ClientFrame): boolean;
  /** The queue changed: persist it and tell the application. */
  changed(): void;
  /** Writes await their answer (true) or none does: the link's watchdog speeds up meanwhile. */
  busy(busy: boolean): void;
  /** No answer for too long: drop the connection (the writes go again on the next). */
  stalled(): void;
  /** The write is about my own message that is still in the outbox: it waits until that is sent. */
  waits(op: WriteOp): boolean;
  /** A write the server refused for good (it left the queue). */
  failed(failure: WriteFailure): void;
  /** A read mark the server refused for good. */
  markFailed(peer: string, code: string, message: string): void;
  /** The server stored this write (`ok`): state it decides (settings) may follow at once. */
  stored(op: WriteOp): void;
}

export interface WriteSenderOptions {
  requestTimeoutMs: number;
  internalRetryMs: number;
  /** At most one `read` per conversation per this interval (PROTOCOL.md "Writes and their answers"). */
  readIntervalMs: number;
  now: () => number;
  nextRid: (prefix: string) => string;
}

/** The feature a connection needs for each write. */
export const OP_FEATURE: Readonly<Record<WriteOp['t'], Feature>> = {
  edit: 'edit',
  delete: 'edit',
  hide: 'edit',
  react: 'react',
  block: 'block',
  unblock: 'block',
  receipts: 'read',
};

function frameOf(op: WriteOp, rid: string): ClientFrame {
  switch (op.t) {
    case 'edit':
      return { t: 'edit', from: op.from, id: op.id, body: op.body, rid };
    case 'delete':
    case 'hide':
      return { t: op.t, from: op.from, id: op.id, rid };
    case 'react':
      return { t: 'react', from: op.from, id: op.id, emoji: op.emoji, rid };
    case 'block':
    case 'unblock':
      return { t: op.t, user: op.user, rid };
    case 'receipts':
      return { t: 'receipts', on: op.on, rid };
  }
}

interface Waiter {
  resolve(): void;
  reject(error: PigeonRequestError): void;
}

/** Refusals after which the same write is sent again later (nothing was changed). */
const TRANSIENT: ReadonlySet<string> = new Set([ErrorCode.rateLimited, ErrorCode.internal]);

/**
 * Puts the write queue on the wire: after `synced`, the oldest write (one at a time, each with
 * its `rid`), and the read marks (one per conversation, at most one a `readIntervalMs`).
 * `ok` settles them; `rate_limited` / `internal` pause and resend; any other refusal drops the
 * write and tells the caller (its promise) and the application (`writeFailed`).
 */
export class WriteSender {
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly markWaiters = new Map<string, { seq: number; waiter: Waiter }[]>();
  private readonly lastReadAt = new Map<string, number>();
  private readonly retry: RetryPause;
  private readTimer: TimerHandle = null;
  private readonly stall: StallWatch;

  constructor(
    private readonly o: WriteSenderOptions,
    private readonly host: WriteSenderHost,
  ) {
    this.retry = new RetryPause(
      () => o.now(),
      () => this.pump(),
    );
    this.stall = new StallWatch(
      () => o.requestTimeoutMs,
      () => host.stalled(),
    );
  }

  /** Resolves when `wid` is stored (`ok`), rejects with the server's code when refused. */
  wait(wid: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(wid) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(wid, list);
    });
  }

  /** Resolves when the mark numbered `seq` (or a newer one of the same peer) is stored. */
  waitMark(peer: string, seq: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const list = this.markWaiters.get(peer) ?? [];
      list.push({ seq, waiter: { resolve, reject } });
      this.markWaiters.set(peer, list);
    });
  }

  /** The rid answers one of our writes or marks. */
  has(rid: string): boolean {
    const q = this.host.queue();
    return q !== null && (q.has(rid) || q.hasMark(rid));
  }

  pump(): void {
    const q = this.host.queue();
    if (!q || !this.host.online() || this.retry.paused) return;
    const features = this.host.features();
    for (;;) {
      const item = q.takeHead((op) => this.host.waits(op));
      if (!item) break;
      if (!features.includes(OP_FEATURE[item.op.t])) {
        this.drop(
          item.wid,
          ClientErrorCode.unsupported,
          `the server did not enable '${OP_FEATURE[item.op.t]}'`,
        );
        continue;
      }
      if (!this.host.write(frameOf(item.op, item.wid))) q.release();
      break;
    }
    this.pumpMarks(q, features.includes('read'));
    this.armStallTimer();
  }

  private pumpMarks(q: WriteQueue, enabled: boolean): void {
    const now = this.o.now();
    let soonest = Number.POSITIVE_INFINITY;
    const marks = q.takeMarks(
      (peer) => {
        const next = (this.lastReadAt.get(peer) ?? Number.NEGATIVE_INFINITY) + this.o.readIntervalMs;
        if (next <= now) return true;
        soonest = Math.min(soonest, next);
        return false;
      },
      () => this.o.nextRid('r'),
    );
    for (const m of marks) {
      if (!enabled) {
        this.settleMark(m.rid, {
          code: ClientErrorCode.unsupported,
          message: "the server did not enable 'read'",
        });
        continue;
      }
      this.lastReadAt.set(m.peer, now);
      if (!this.host.write({ t: 'read', with: m.peer, upto: m.upto, rid: m.rid })) q.release();
    }
    if (soonest !== Number.POSITIVE_INFINITY && this.readTimer === null) {
      this.readTimer = setTimer(() => {
        this.readTimer = null;
        this.pump();
      }, soonest - now);
    }
  }

  /** `{"t":"ok","rid"}`: true when it answered one of ours. */
  ok(rid: string): boolean {
    const q = this.host.queue();
    if (!q) return false;
    if (q.hasMark(rid)) {
      this.settleMark(rid, null);
    } else {
      const item = q.finish(rid);
      if (!item) return false;
      this.host.changed();
      this.host.stored(item.op);
      for (const w of this.take(rid)) w.resolve();
    }
    this.armStallTimer();
    this.pump();
    return true;
  }

  /** An `error` carrying the rid of one of our writes or marks: true when it was ours. */
  error(frame: ErrorFrame & { rid: string }): boolean {
    const q = this.host.queue();
    if (!q || !this.has(frame.rid)) return false;
    if (TRANSIENT.has(frame.code)) {
      // Nothing was changed: send it again after the pause (in order, the write first).
      q.release();
      this.retry.pause(retryDelay(frame.code, frame.retryAfterMs, this.o.internalRetryMs));
    } else if (q.hasMark(frame.rid)) {
      this.settleMark(frame.rid, frame);
    } else {
      this.drop(frame.rid, frame.code, frame.message);
    }
    this.armStallTimer();
    this.pump();
    return true;
  }

  private drop(wid: string, code: string, message: string): void {
    const item: WriteItem | null = this.host.queue()?.finish(wid) ?? null;
    if (!item) return;
    this.host.changed();
    for (const w of this.take(wid)) w.reject(new PigeonRequestError(code, message));
    this.host.failed({ write: item, code, message });
  }

  private settleMark(rid: string, error: { code: string; message: string } | null): void {
    const sent: MarkInFlight | null = this.host.queue()?.finishMark(rid) ?? null;
    if (!sent) return;
    this.host.changed();
    const list = this.markWaiters.get(sent.peer) ?? [];
    const answered = list.filter((e) => e.seq <= sent.seq);
    const rest = list.filter((e) => e.seq > sent.seq);
    if (rest.length > 0) this.markWaiters.set(sent.peer, rest);
    else this.markWaiters.delete(sent.peer);
    for (const { waiter } of answered) {
      if (error) waiter.reject(new PigeonRequestError(error.code, error.message));
      else waiter.resolve();
    }
    if (error) this.host.markFailed(sent.peer, error.code, error.message);
  }

  private take(wid: string): Waiter[] {
    const list = this.waiters.get(wid) ?? [];
    this.waiters.delete(wid);
    return list;
  }

  /** The connection dropped: nothing is in flight; everything goes again after the next `synced`. */
  connectionLost(): void {
    this.host.queue()?.release();
    this.stall.clear();
    this.host.busy(false);
  }

  stop(): void {
    this.connectionLost();
    this.retry.clear();
    clearTimer(this.readTimer);
    this.readTimer = null;
  }

  /** The user changed (or signed out): their callers learn that nothing more happens here. */
  abandonWaiters(code: string, message: string): void {
    const all = [...this.waiters.values()].flat();
    const marks = [...this.markWaiters.values()].flat().map((e) => e.waiter);
    this.waiters.clear();
    this.markWaiters.clear();
    this.lastReadAt.clear();
    for (const w of [...all, ...marks]) w.reject(new PigeonRequestError(code, message));
  }

  /** As for sends: a write without any answer for `requestTimeoutMs` drops the connection. */
  private armStallTimer(): void {
    const busy = this.host.queue()?.busy === true;
    this.host.busy(busy);
    this.stall.arm(busy);
  }
}
