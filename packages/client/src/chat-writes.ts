import {
  ErrorCode,
  type Feature,
  isMessageId,
  isReactionEmoji,
  isWellFormedText,
  LIMITS,
  type MessageRef,
  parseUserId,
} from '@pigeon/protocol';
import type { Account } from './account.js';
import type { WriteOp } from './chat-types.js';
import { ClientErrorCode, PigeonRequestError } from './errors.js';
import { asks, type ResolvedOptions } from './options.js';
import { randomId } from './runtime.js';
import { OP_FEATURE, type WriteSender } from './write-sender.js';

export interface ChatWritesHost {
  account(): Account | null;
  /** The write queue changed: persist it and tell the application. */
  writesChanged(): void;
  /** The outbox changed (a pending message was edited or dropped before it went out). */
  outboxChanged(): void;
  /** Drops a message from the outbox (and anything it was uploading). */
  discard(id: string): void;
}

function invalid(message: string): PigeonRequestError {
  return new PigeonRequestError(ClientErrorCode.invalidArgument, message);
}

/**
 * The write calls of the API (PROTOCOL.md "Writes and their answers"), checked the way the
 * server checks them so that a write that can never pass is refused at once instead of being
 * queued, then queued durably and sent in order (write-sender.ts). A change to one of my
 * messages that is still in the outbox is made there instead: the server never sees it.
 */
export class ChatWrites {
  constructor(
    private readonly o: ResolvedOptions,
    private readonly sender: WriteSender,
    private readonly host: ChatWritesHost,
  ) {}

  private session(feature: Feature): Account {
    if (!asks(this.o, feature)) {
      throw new PigeonRequestError(
        ClientErrorCode.unsupported,
        `needs the '${feature}' feature in options.features`,
      );
    }
    const account = this.host.account();
    if (!account) throw new PigeonRequestError(ClientErrorCode.noSession, 'log in first');
    return account;
  }

  private enqueue(op: WriteOp): Promise<void> {
    try {
      const account = this.session(OP_FEATURE[op.t]);
      const item = account.writes.add(op, `w${randomId()}`, this.o.now());
      const done = this.sender.wait(item.wid);
      this.host.writesChanged();
      this.sender.pump();
      return done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private ref(ref: MessageRef): MessageRef {
    const from = parseUserId(ref?.from ?? '');
    if (!from) throw invalid(`not a user id: ${String(ref?.from)}`);
    if (!isMessageId(ref.id)) throw invalid('id must be 1-64 of A-Z a-z 0-9 _ -');
    return { from, id: ref.id };
  }

  private user(user: string, what: string): string {
    const id = parseUserId(user);
    if (!id) throw invalid(`not a user id: ${user}`);
    if (id === this.host.account()?.user) throw invalid(`cannot ${what} yourself`);
    return id;
  }

  /** My own message: edit and delete for everyone are refused for others' (`not_yours`, as the server would). */
  private mine(ref: MessageRef, feature: Feature): { account: Account; ref: MessageRef } {
    const account = this.session(feature);
    const r = this.ref(ref);
    if (r.from !== account.user) throw new PigeonRequestError(ErrorCode.notYours, 'not your message');
    return { account, ref: r };
  }

  markRead(peer: string, upto: string): Promise<void> {
    try {
      const account = this.session('read');
      const with_ = parseUserId(peer);
      if (!with_) throw invalid(`not a user id: ${peer}`);
      if (typeof upto !== 'string' || upto.length === 0 || upto.length > LIMITS.cursorMaxLength) {
        throw invalid('upto must be a cursor');
      }
      const seq = account.writes.mark(with_, upto);
      const done = this.sender.waitMark(with_, seq);
      this.host.writesChanged();
      this.sender.pump();
      return done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  edit(ref: MessageRef, body: string): Promise<void> {
    try {
      const { account, ref: r } = this.mine(ref, 'edit');
      if (typeof body !== 'string' || body.length === 0 || !isWellFormedText(body)) {
        throw invalid('body must be 1-4000 characters of well-formed text');
      }
      if (body.length > LIMITS.bodyMaxLength) {
        throw new PigeonRequestError(ErrorCode.tooLarge, `body is ${body.length} UTF-16 units`);
      }
      if (account.box.setBody(r.id, body)) {
        this.host.outboxChanged();
        return Promise.resolve();
      }
      return this.enqueue({ t: 'edit', ...r, body });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  deleteForEveryone(ref: MessageRef): Promise<void> {
    try {
      const { account, ref: r } = this.mine(ref, 'edit');
      if (account.box.isEditable(r.id)) {
        this.host.discard(r.id);
        return Promise.resolve();
      }
      return this.enqueue({ t: 'delete', ...r });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  hide(ref: MessageRef): Promise<void> {
    try {
      const account = this.session('edit');
      const r = this.ref(ref);
      // My own message that never went out: hiding it from myself is not sending it.
      if (r.from === account.user && account.box.isEditable(r.id)) {
        this.host.discard(r.id);
        return Promise.resolve();
      }
      return this.enqueue({ t: 'hide', ...r });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  react(ref: MessageRef, emoji: string | null): Promise<void> {
    try {
      const r = this.ref(ref);
      if (emoji !== null && !isReactionEmoji(emoji)) throw invalid('emoji must be one emoji, or null');
      return this.enqueue({ t: 'react', ...r, emoji });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  block(user: string, blocked: boolean): Promise<void> {
    try {
      const id = this.user(user, blocked ? 'block' : 'unblock');
      return this.enqueue(blocked ? { t: 'block', user: id } : { t: 'unblock', user: id });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  setReadReceipts(on: boolean): Promise<void> {
    if (typeof on !== 'boolean') return Promise.reject(invalid('on must be true or false'));
    return this.enqueue({ t: 'receipts', on });
  }
}
