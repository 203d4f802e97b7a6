import { type ClientFrame, ErrorCode, type FrameErrorCode, type ServerFrame } from '@pigeon/protocol';
import { cursorSeq } from '../store/cursor.js';
import type { SendOp, StoreOp } from '../store/store.js';
import { refusalError } from './chat-frames.js';
import type { ConnectionContext } from './mailbox-connection.js';
import type { Outcome } from './relay.js';

/** What a connection's writes need of it. */
export interface WriteHost {
  readonly ctx: ConnectionContext;
  readonly user: string;
  readonly isOpen: boolean;
  write(frame: ServerFrame): void;
  error(code: FrameErrorCode, message: string, extras?: { id?: string; retryAfterMs?: number }): void;
  /** Flow control: an answer of about `bytes` is on its way (MailboxConnection.noteRequest) … */
  noteRequest(bytes: number): void;
  /** … and was written. */
  noteAnswer(bytes: number): void;
}

/**
 * A `/ws` connection's writes to the mailboxes: sends (answered `sent` after the commit,
 * before the echo), acks, and the chat features' writes (through `submit`). It counts
 * what is in flight, so a read asked after a write waits for it (answers come in request
 * order and a pipelined send shows in the history asked right after it).
 */
export class MailboxWrites {
  /** Sends, acks and feature writes of this connection not yet committed. */
  private inFlight = 0;

  constructor(private readonly host: WriteHost) {}

  /** A chat-feature write, counted like a send (reads after it wait for it). */
  submit(op: StoreOp, done: (outcome: Outcome) => void): void {
    this.inFlight++;
    this.host.ctx.relay.submit(op, (outcome) => {
      this.inFlight--;
      done(outcome);
    });
  }

  send(frame: Extract<ClientFrame, { t: 'send' }>): void {
    const id = frame.id;
    // Its `sent` and its echo to this connection will be about this big (an attachment's
    // FileInfo: a name, a type and a placeholder of up to 2 kB).
    const answerBytes = frame.body.length + 200 + (frame.files?.length ?? 0) * 2600;
    this.inFlight++;
    this.host.noteRequest(answerBytes);
    const op: SendOp = { kind: 'send', from: this.host.user, id, to: frame.to, body: frame.body };
    if (frame.replyTo) op.replyTo = frame.replyTo;
    // Only a connection with `files` has them decoded (for others the field is unknown).
    if (frame.files) op.files = frame.files;
    this.host.ctx.relay.submit(op, (outcome) => {
      this.host.noteAnswer(answerBytes);
      this.sendOutcome(id, outcome);
    });
  }

  private sendOutcome(id: string, outcome: Outcome): void {
    this.inFlight--;
    if (!this.host.isOpen) return;
    switch (outcome.kind) {
      case 'stored':
      case 'duplicate':
        this.host.write({ t: 'sent', id, ts: outcome.ts });
        return;
      case 'no_such_user':
        this.host.error(ErrorCode.noSuchUser, 'the recipient does not exist', { id });
        return;
      case 'refused':
        this.host.error(ErrorCode.rateLimited, 'too many messages; retry later', {
          id,
          retryAfterMs: outcome.refusal.retryAfterMs,
        });
        return;
      case 'failed':
        this.host.error(ErrorCode.internal, 'the store failed; nothing was stored, resend', { id });
        return;
      case 'rejected': {
        // A reply whose original is not in the conversation or was deleted.
        const [code, message] = refusalError(outcome.code);
        this.host.error(code, message, { id });
        return;
      }
      default:
        return;
    }
  }

  /**
   * An ack counts once received, even when its connection closes before it is stored: a
   * client that acks what it printed and exits (`pigeon listen`, Ctrl-C) must not be shown
   * those messages again. Only its error needs the connection.
   */
  async ack(cursor: string): Promise<void> {
    const mailbox = await this.host.ctx.store.mailbox(this.host.user);
    if (!mailbox) return;
    const seq = cursorSeq(mailbox, cursor);
    if (seq === null) {
      if (this.host.isOpen) this.host.error(ErrorCode.badFrame, 'not a cursor of your mailbox');
      return;
    }
    if (seq <= mailbox.deliveredSeq) return;
    this.inFlight++;
    this.host.ctx.relay.submit({ kind: 'ack', user: this.host.user, seq }, (outcome) => {
      this.inFlight--;
      if (outcome.kind === 'failed' && this.host.isOpen)
        this.host.error(ErrorCode.internal, 'the store failed; ack again');
    });
  }

  /** Reads wait for this connection's own pending writes, so a pipelined send shows in its history. */
  async afterOwnWrites(): Promise<void> {
    if (this.inFlight > 0) await this.host.ctx.relay.settled();
  }
}
