import { type ClientFrame, ErrorCode, LIMITS, type ServerFrame } from '@pigeon/protocol';
import { cursorSeq } from '../store/cursor.js';
import { fitAnswer } from './bounded-answer.js';
import { viewMsg, viewRow } from './entry-view.js';
import type { RequestHost } from './request-host.js';

/**
 * `history` and `conversations` on one `/ws` connection (PROTOCOL.md version 1, "Paging",
 * "Bounded answers"): through the fair read scheduler, projected for the connection's view,
 * at most LIMITS.answerMaxBytes.
 */
export class ReadRequests {
  constructor(private readonly host: RequestHost) {}

  async history(frame: Extract<ClientFrame, { t: 'history' }>): Promise<void> {
    const host = this.host;
    await host.afterOwnWrites();
    const rid = frame.rid;
    const mailbox = await host.ctx.store.mailbox(host.user);
    if (!mailbox || !host.isOpen) return;
    // `after` only parses on connections with `paging` (the codec drops it otherwise).
    const forward = frame.after !== undefined;
    const position = forward ? frame.after : frame.before;
    let seq: number | null = null;
    if (position !== undefined) {
      seq = cursorSeq(mailbox, position);
      if (seq === null) {
        host.error(ErrorCode.badFrame, `${forward ? 'after' : 'before'} is not a cursor of your mailbox`, {
          rid,
        });
        return;
      }
    }
    if (frame.with !== host.user && !(await host.ctx.store.getUser(frame.with))) {
      if (host.isOpen) host.error(ErrorCode.noSuchUser, 'no such user', { rid });
      return;
    }
    const limit = frame.limit ?? LIMITS.historyDefaultLimit;
    const page = await host.ctx.reads.run(
      host.user,
      () =>
        forward
          ? host.ctx.store.historyAfter(host.user, frame.with, seq ?? 0, limit)
          : host.ctx.store.history(host.user, frame.with, seq, limit),
      true,
    );
    if (!host.isOpen) return;
    const items = page.items.map((m) => viewMsg(m, host.view));
    const answer = { t: 'history' as const, with: frame.with, items, more: page.more };
    if (rid !== undefined) Object.assign(answer, { rid });
    // Items run oldest first. Backwards the page ends at `before`: keep the newest; forwards
    // it starts after `after`: keep the oldest. Either way `more` points at what was cut.
    const fitted = fitAnswer(answer, items, forward ? 'start' : 'end');
    answer.items = fitted.items;
    answer.more = page.more || fitted.cut;
    host.write(answer);
  }

  async conversations(frame: Extract<ClientFrame, { t: 'conversations' }>): Promise<void> {
    const host = this.host;
    await host.afterOwnWrites();
    const rid = frame.rid;
    const paging = host.view.features.has('paging');
    let beforeSeq: number | null = null;
    if (paging && frame.before !== undefined) {
      const mailbox = await host.ctx.store.mailbox(host.user);
      if (!mailbox || !host.isOpen) return;
      beforeSeq = cursorSeq(mailbox, frame.before);
      if (beforeSeq === null) {
        host.error(ErrorCode.badFrame, 'before is not a cursor of your mailbox', { rid });
        return;
      }
    }
    // Version 1 has no paging: the newest rows, bounded (PROTOCOL.md "Bounded answers").
    const limit = paging ? (frame.limit ?? LIMITS.conversationsDefaultLimit) : LIMITS.conversationsV1MaxRows;
    const page = await host.ctx.reads.run(
      host.user,
      () => host.ctx.store.conversations(host.user, { limit, beforeSeq }),
      true,
    );
    if (!host.isOpen) return;
    const items = page.items.map((row) => viewRow(row, host.view));
    const answer: Extract<ServerFrame, { t: 'conversations' }> = { t: 'conversations', items };
    if (rid !== undefined) answer.rid = rid;
    const fitted = fitAnswer(answer, items, 'start');
    answer.items = fitted.items;
    // Paging connections always learn whether older rows exist; version 1 sees no new field.
    if (paging) answer.more = page.more || fitted.cut;
    host.write(answer);
  }
}
