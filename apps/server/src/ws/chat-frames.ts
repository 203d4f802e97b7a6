import {
  type ChatClientFrame,
  ErrorCode,
  type FrameErrorCode,
  LIMITS,
  type SearchFrame,
  type SettingsFrame,
} from '@pigeon/protocol';
import { cursorSeq } from '../store/cursor.js';
import type { FeatureOp, FeatureRefusalCode } from '../store/feature-types.js';
import type { MailboxState } from '../store/store.js';
import { fitAnswer } from './bounded-answer.js';
import { viewMsg } from './entry-view.js';
import type { Outcome } from './relay.js';
import type { RequestHost } from './request-host.js';

const REFUSALS: Record<FeatureRefusalCode, [FrameErrorCode, string]> = {
  no_such_user: [ErrorCode.noSuchUser, 'no such user'],
  no_such_message: [ErrorCode.noSuchMessage, 'no such message in your mailbox'],
  not_yours: [ErrorCode.notYours, 'only its sender may change a message'],
  too_late: [ErrorCode.tooLate, 'messages can be changed for 15 minutes after they were sent'],
  message_deleted: [ErrorCode.messageDeleted, 'the message was deleted'],
  limit_reached: [ErrorCode.limitReached, `at most ${LIMITS.blockedMax} users can be blocked`],
  no_such_file: [ErrorCode.noSuchFile, 'a file is not a complete, unexpired upload of yours'],
};

/** The error frame's code and words for a refusal of a write or a reply. */
export function refusalError(code: FeatureRefusalCode): [FrameErrorCode, string] {
  return REFUSALS[code];
}

/**
 * The frames of the chat features on one `/ws` connection (PROTOCOL.md "Writes and their
 * answers", "Read" … "Search"). Writes go through the relay's group commit like sends (in
 * order, one rate token each after their other checks) and are answered `ok` (with a `rid`)
 * once stored, before the update they cause reaches this connection; requests (settings,
 * search) go through the fair read scheduler like history.
 */
export class ChatFrames {
  constructor(private readonly host: RequestHost) {}

  /** Handles one decoded chat frame; a promise when the answer needs the store. */
  handle(frame: ChatClientFrame): Promise<void> | undefined {
    const host = this.host;
    const me = host.user;
    switch (frame.t) {
      case 'read':
        return this.read(frame.with, frame.upto, frame.rid).catch((err) => host.failed(err, frame.rid));
      case 'receipts':
        this.write({ kind: 'receipts', user: me, on: frame.on }, frame.rid);
        return;
      case 'edit':
        this.write(
          { kind: 'edit', user: me, ref: { from: frame.from, id: frame.id }, body: frame.body },
          frame.rid,
        );
        return;
      case 'delete':
        this.write({ kind: 'delete', user: me, ref: { from: frame.from, id: frame.id } }, frame.rid);
        return;
      case 'hide':
        this.write({ kind: 'hide', user: me, ref: { from: frame.from, id: frame.id } }, frame.rid);
        return;
      case 'react':
        this.write(
          { kind: 'react', user: me, ref: { from: frame.from, id: frame.id }, emoji: frame.emoji },
          frame.rid,
        );
        return;
      case 'block':
      case 'unblock':
        if (frame.user === me) {
          host.error(ErrorCode.badFrame, 'you cannot block yourself', { rid: frame.rid });
          return;
        }
        this.write({ kind: 'block', user: me, target: frame.user, blocked: frame.t === 'block' }, frame.rid);
        return;
      case 'settings':
        return this.settings(frame.rid).catch((err) => host.failed(err, frame.rid));
      case 'search':
        return this.search(frame).catch((err) => host.failed(err, frame.rid));
    }
  }

  /** Submits a write and answers it once the relay knows its outcome. */
  private write(op: FeatureOp, rid: string | undefined): void {
    this.host.submit(op, (outcome) => this.answer(outcome, rid));
  }

  private answer(outcome: Outcome, rid: string | undefined): void {
    const host = this.host;
    if (!host.isOpen) return;
    switch (outcome.kind) {
      case 'applied':
      case 'unchanged':
        // A write without a rid gets no answer when it succeeds.
        if (rid !== undefined) host.write({ t: 'ok', rid });
        return;
      case 'rejected': {
        const [code, message] = refusalError(outcome.code);
        host.error(code, message, { rid });
        return;
      }
      case 'refused':
        host.error(ErrorCode.rateLimited, 'too many writes; retry later', {
          rid,
          retryAfterMs: outcome.refusal.retryAfterMs,
        });
        return;
      case 'failed':
        host.error(ErrorCode.internal, 'the store failed; nothing was changed, try again', { rid });
        return;
      default:
        // Sends and acks are not submitted here.
        return;
    }
  }

  private async mailbox(): Promise<MailboxState | null> {
    const box = await this.host.ctx.store.mailbox(this.host.user);
    return box && this.host.isOpen ? box : null;
  }

  private async read(peer: string, upto: string, rid: string | undefined): Promise<void> {
    const box = await this.mailbox();
    if (!box) return;
    const seq = cursorSeq(box, upto);
    if (seq === null) {
      this.host.error(ErrorCode.badFrame, 'upto is not a cursor of your mailbox', { rid });
      return;
    }
    // `with` naming nobody is the store's answer (no_such_user), in the write's order.
    this.write({ kind: 'read', user: this.host.user, with: peer, upto: seq }, rid);
  }

  private async settings(rid: string | undefined): Promise<void> {
    const host = this.host;
    await host.afterOwnWrites();
    const settings = await host.ctx.reads.run(host.user, () => host.ctx.store.settings(host.user), true);
    if (!host.isOpen) return;
    const answer: SettingsFrame = { t: 'settings' };
    // Each field with the feature that defines it (settings is a frame of both).
    if (host.view.features.has('read')) answer.readReceipts = settings.readReceipts;
    if (host.view.features.has('block')) answer.blocked = settings.blocked;
    if (rid !== undefined) answer.rid = rid;
    host.write(answer);
  }

  private async search(frame: Extract<ChatClientFrame, { t: 'search' }>): Promise<void> {
    const host = this.host;
    const rid = frame.rid;
    await host.afterOwnWrites();
    const box = await this.mailbox();
    if (!box) return;
    let beforeSeq: number | null = null;
    if (frame.before !== undefined) {
      beforeSeq = cursorSeq(box, frame.before);
      if (beforeSeq === null) {
        host.error(ErrorCode.badFrame, 'before is not a cursor of your mailbox', { rid });
        return;
      }
    }
    const peer = frame.with ?? null;
    if (peer !== null && peer !== host.user && !(await host.ctx.store.getUser(peer))) {
      if (host.isOpen) host.error(ErrorCode.noSuchUser, 'no such user', { rid });
      return;
    }
    const result = await host.ctx.reads.run(
      host.user,
      () =>
        host.ctx.store.search(host.user, {
          q: frame.q,
          with: peer,
          beforeSeq,
          limit: frame.limit ?? LIMITS.searchDefaultLimit,
        }),
      true,
    );
    if (!host.isOpen) return;
    const items = result.items.map((it) => ({ msg: viewMsg(it.msg, host.view), highlights: it.highlights }));
    const answer: SearchFrame = { t: 'search', items, more: result.more };
    if (rid !== undefined) answer.rid = rid;
    // Newest first: keep the newest that fit in the answer's bound, the rest is `more`.
    const fitted = fitAnswer(answer, items, 'start');
    answer.items = fitted.items;
    answer.more = result.more || fitted.cut;
    host.write(answer);
  }
}
