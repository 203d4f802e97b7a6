import type { Duplex } from 'node:stream';
import {
  type ClientFrame,
  CloseCode,
  decodeClientFrame,
  decodeHello,
  ErrorCode,
  encode,
  type FeatureSet,
  type FrameErrorCode,
  isUserId,
  LIMITS,
  NO_FEATURES,
  type ServerFrame,
} from '@pigeon/protocol';
import type { RawData, WebSocket } from 'ws';
import { RateLimiter } from '../auth/rate-limiter.js';
import { cursorSeq, encodeCursor } from '../store/cursor.js';
import type { BlockChange } from '../store/feature-types.js';
import type { Entry, MailboxState, Receipt, SendOp, StoreOp } from '../store/store.js';
import { BlockFilter } from './block-filter.js';
import { fitAnswer } from './bounded-answer.js';
import { ChatFrames, refusalError } from './chat-frames.js';
import { entryText, V1_VIEW, type View, viewMsg, viewOf, viewRow } from './entry-view.js';
import { OFFERED_FEATURES } from './features.js';
import { LEGACY_PASSWORD_MARK } from './legacy-connection.js';
import { type ConnectionContext, MailboxConnection } from './mailbox-connection.js';
import { ReadRefused } from './read-scheduler.js';
import type { Outcome } from './relay.js';

/**
 * Bytes of client frames that may wait to be handled (before synced, or behind a store
 * read): a client acking a long backlog frame by frame stays far below; past it, 4008.
 */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/**
 * Frames waiting to be handled past which the socket is no longer read, and below which
 * it is read again: a pipelining client is slowed to the pace its frames are handled at.
 */
const INBOX_HIGH = 256;
const INBOX_LOW = 64;

/**
 * Frames handled in one go before the pump yields to the event loop: a client that
 * pipelines thousands of cheap frames shares the loop with everyone else's sockets.
 */
const FRAMES_PER_TURN = 64;

/** Error messages quote client input (a frame type, a field) cut to this many characters. */
const MESSAGE_MAX = 200;

const KNOWN_TYPES = new Set([
  'hello',
  'send',
  'ack',
  'history',
  'conversations',
  'typing',
  'presence',
  'ping',
  'read',
  'receipts',
  'settings',
  'edit',
  'delete',
  'hide',
  'react',
  'block',
  'unblock',
  'search',
]);

interface ErrorExtras {
  id?: string | undefined;
  rid?: string | undefined;
  retryAfterMs?: number;
}

/** One `/ws` connection: the opening sequence, then the client frames of PROTOCOL.md. */
export class ClientConnection extends MailboxConnection {
  protected readonly kind = 'ws' as const;
  private helloTimer: NodeJS.Timeout | null;
  private gotHello = false;
  /**
   * Client frames not handled yet. Frames are handled one at a time in arrival order, so
   * answers come in request order; before `synced` (and while a store read is pending)
   * they wait here.
   */
  private inbox: string[] = [];
  private inboxHead = 0;
  private inboxBytes = 0;
  private busy = true;
  /** Times of recent bad_frame errors (sliding window). */
  private badFrames: number[] = [];
  /** Sends and acks of this connection not yet committed. */
  private inFlight = 0;

  constructor(ws: WebSocket, ctx: ConnectionContext, ip: string, socket: Duplex) {
    super(ws, ctx, ip, socket);
    this.helloTimer = setTimeout(
      () => this.close(CloseCode.helloTimeout, 'no hello'),
      ctx.config.helloTimeoutMs,
    );
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
  }

  protected override onClosed(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    this.inbox = [];
    this.inboxHead = 0;
    this.inboxBytes = 0;
    if (this.presenceTimer) clearTimeout(this.presenceTimer);
    this.presenceTimer = null;
    this.pendingPresence = null;
  }

  private write(frame: ServerFrame): void {
    this.ctx.metrics.frameOut(frame.t);
    this.writeText(encode(frame));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (!this.isOpen) return;
    this.noteFrame();
    this.noteInput(Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).length);
    if (isBinary) {
      // A binary first frame is "not a hello" (4001); later ones are unsupported data (1003).
      if (this.gotHello) this.close(CloseCode.unsupportedData, 'binary frames are not supported');
      else this.close(CloseCode.unauthorized, 'first frame must be a hello text frame');
      return;
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as Buffer).toString('utf8');
    if (!this.gotHello) {
      this.gotHello = true;
      if (this.helloTimer) clearTimeout(this.helloTimer);
      this.helloTimer = null;
      this.ctx.metrics.frameIn('hello');
      void this.hello(text).catch((err) => {
        this.ctx.log.error({ err }, 'opening failed');
        this.close(CloseCode.internalError, 'internal error');
      });
      return;
    }
    this.inboxBytes += text.length;
    if (this.inboxBytes > MAX_QUEUED_BYTES) {
      this.close(CloseCode.policy, 'too many frames waiting');
      return;
    }
    this.inbox.push(text);
    if (this.inbox.length - this.inboxHead > INBOX_HIGH) this.holdInbox();
    if (!this.busy) this.pump();
  }

  /** Features enabled by the hello (one Set per connection: the codec caches by identity). */
  private features: FeatureSet = NO_FEATURES;
  /** What this connection is sent of the mailbox, given its features. */
  private view: View = V1_VIEW;
  /** welcome.head: the newest entry this connection would be sent (set before welcome). */
  private viewHead: string | null = null;
  /** Presence and typing between this user and users a block separates them from. */
  private blocks: BlockFilter | null = null;
  /** The chat features' frames (issue 10), once the hello said who and what. */
  private chat: ChatFrames | null = null;
  private yieldScheduled = false;

  private pump(): void {
    if (this.yieldScheduled) return;
    let handled = 0;
    while (!this.busy && this.inboxHead < this.inbox.length && this.isOpen) {
      if (handled++ === FRAMES_PER_TURN) {
        this.yieldScheduled = true;
        setImmediate(() => {
          this.yieldScheduled = false;
          this.pump();
        });
        return;
      }
      const text = this.inbox[this.inboxHead++]!;
      this.inboxBytes -= text.length;
      if (this.inboxHead === this.inbox.length) {
        this.inbox = [];
        this.inboxHead = 0;
      } else if (this.inboxHead >= 1024) {
        this.inbox = this.inbox.slice(this.inboxHead);
        this.inboxHead = 0;
      }
      if (this.inbox.length - this.inboxHead < INBOX_LOW) this.releaseInbox();
      const pending = this.handle(text);
      if (pending) {
        this.busy = true;
        void pending.finally(() => {
          this.busy = false;
          this.pump();
        });
      }
    }
  }

  private async hello(text: string): Promise<void> {
    const decoded = decodeHello(text);
    if (!decoded.ok) {
      this.close(decoded.close, decoded.reason);
      return;
    }
    if (!this.admitHelloFromIp()) return;
    const session = await this.ctx.sessions.check(decoded.frame.token);
    if (!this.isOpen) return;
    if (!session) {
      this.close(CloseCode.unauthorized, 'invalid token');
      return;
    }
    if (!this.admit(session.user)) return;
    let record = session.record;
    if (!record && session.host) {
      await this.ctx.store.ensureUser(session.user);
      record = await this.ctx.store.getUser(session.user);
      if (!this.isOpen) return;
    }
    if (!record) {
      this.close(CloseCode.unauthorized, 'no such account');
      return;
    }
    this.session = { user: session.user, host: session.host, tokenId: session.tokenId, epoch: session.epoch };
    // An account made by /legacy stays a legacy account: a host JWT naming it would make
    // the legacy socket acknowledge on behalf of a modern device.
    if (record.passwordHash === LEGACY_PASSWORD_MARK) {
      this.close(CloseCode.unauthorized, 'a legacy account cannot open /ws');
      return;
    }
    const since = decoded.frame.since;
    let gap = false;
    let welcomeHead: string | null = null;
    const user = session.user;
    // Negotiation: what the hello asked for and this server offers; absent = version 1.
    const enabled = decoded.frame.features?.filter((f) => OFFERED_FEATURES.has(f));
    if (enabled !== undefined) this.features = new Set(enabled);
    this.view = viewOf(this.features);
    this.blocks = new BlockFilter(user, (u, online) => this.writePresence(u, online));
    this.chat = new ChatFrames({
      ctx: this.ctx,
      user,
      view: this.view,
      isOpen: () => this.isOpen,
      write: (frame) => this.write(frame),
      error: (code, message, extras) => this.error(code, message, extras),
      submit: (op, done) => this.submitWrite(op, done),
      afterOwnWrites: () => this.afterOwnWrites(),
      failed: (err, rid) => this.failed(err, rid),
    });
    const opened = await this.openMailbox(
      user,
      (mailbox) => {
        const sinceSeq = since === undefined ? null : cursorSeq(mailbox, since);
        if (sinceSeq === null) {
          // No since, or not a cursor of this mailbox: what no device has seen yet.
          // Choice: without since, gap also tells when undelivered entries were removed.
          gap = since !== undefined || mailbox.deliveredSeq < mailbox.removedUpto;
          return mailbox.deliveredSeq;
        }
        gap = sinceSeq < mailbox.removedUpto;
        return sinceSeq;
      },
      () => {
        welcomeHead = this.viewHead;
        const welcome: ServerFrame = { t: 'welcome', v: 1, user, head: this.viewHead };
        if (enabled !== undefined) welcome.features = enabled;
        this.write(welcome);
      },
      () => {
        this.write({ t: 'synced', head: this.lastCursor ?? welcomeHead, gap });
        const held = this.heldReceipts;
        this.heldReceipts = [];
        for (const frame of held) this.write(frame);
      },
    );
    if (!opened) return;
    this.busy = false;
    this.pump();
  }

  /**
   * The token this connection was opened with, for closing it when that token is revoked.
   * `epoch` moves on when a password change made with this very token keeps it open.
   */
  session: { user: string; host: boolean; tokenId: string | null; epoch: number } | null = null;

  /** Cursor of the last entry this connection emitted. */
  private lastCursor: string | null = null;

  /**
   * The view's head (PROTOCOL.md "What a connection sees": a mailbox holding only updates
   * is empty for a version-1 connection) and the block relations, before welcome.
   */
  protected override async prepareView(mailbox: MailboxState): Promise<void> {
    const [seq, relations] = await Promise.all([
      this.ctx.store.viewHead(this.user, mailbox.headSeq, this.view.kinds),
      this.ctx.store.blockRelations(this.user),
    ]);
    this.viewHead = seq > 0 ? encodeCursor(mailbox.tag, seq) : null;
    this.blocks?.load(relations);
  }

  protected emitEntry(entry: Entry): void {
    // Several connections of one user share the entry: encoded once per view.
    const text = entryText(entry, this.view);
    // An update this connection's features do not cover is skipped: never sent, never its head.
    if (text === null) return;
    this.lastCursor = entry.frame.cursor;
    this.ctx.metrics.frameOut(entry.frame.t);
    this.writeText(text);
  }

  deliverReceipt(receipt: Receipt): void {
    if (this.state === 'closed') return;
    const frame: ServerFrame = { t: 'receipt', id: receipt.id, to: receipt.to };
    // Between welcome and synced only msg frames go out: hold receipts until synced.
    if (this.state === 'live') this.write(frame);
    else this.heldReceipts.push(frame);
  }

  private heldReceipts: ServerFrame[] = [];

  /** This connection's presence budget (PROTOCOL.md "Presence subscriptions"). */
  private readonly presenceBucket = new RateLimiter(LIMITS.presenceBurst, 1000 / LIMITS.presenceIntervalMs);
  /** A presence list waiting for the budget (the latest one wins). */
  private pendingPresence: readonly string[] | null = null;
  private presenceTimer: NodeJS.Timeout | null = null;

  /**
   * Applies a presence subscription now if the connection's budget allows, else keeps it as
   * the pending one (replacing an older pending list) and applies it once a token is
   * there: a client that resubscribes in a loop costs one subscription per interval, and
   * an honest client's last list always takes effect.
   */
  private subscribePresence(users: readonly string[] | null): Promise<void> | undefined {
    if (users) this.pendingPresence = users;
    const pending = this.pendingPresence;
    if (!pending) return;
    const wait = this.presenceBucket.take('', this.ctx.clock());
    if (wait === 0) {
      this.pendingPresence = null;
      if (this.presenceTimer) clearTimeout(this.presenceTimer);
      this.presenceTimer = null;
      this.blocks?.resubscribed();
      // With Redis the answer may take a round trip: the next frame waits for it.
      return this.ctx.presence.watch(this, pending);
    }
    if (users) this.ctx.metrics.limitHits.labels('presence_rate').inc();
    this.presenceTimer ??= setTimeout(() => {
      this.presenceTimer = null;
      // Nothing waits on a list applied from the timer (no frame of this connection is behind it)
      // and a watch's promise never rejects.
      if (this.isOpen) void this.subscribePresence(null);
    }, wait);
  }

  deliverTyping(from: string): void {
    if (this.state !== 'live' || this.blocks?.hides(from)) return;
    this.write({ t: 'typing', from });
  }

  deliverPresence(user: string, online: boolean): void {
    if (this.state === 'closed') return;
    // Someone a block separates this user from is reported offline (PROTOCOL.md "Block").
    if (this.blocks) this.blocks.presence(user, online);
    else this.writePresence(user, online);
  }

  private writePresence(user: string, online: boolean): void {
    if (this.state === 'closed') return;
    this.write({ t: 'presence', user, online });
  }

  deliverBlock(change: BlockChange): void {
    this.blocks?.change(change);
  }

  private error(code: FrameErrorCode, message: string, extras: ErrorExtras = {}): void {
    this.ctx.metrics.errors.labels(code).inc();
    // Messages may quote client input (an unknown type, a field's value): never much of it.
    const text = message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX)}…` : message;
    const frame: ServerFrame = { t: 'error', code, message: text };
    if (extras.id !== undefined) frame.id = extras.id;
    if (extras.rid !== undefined) frame.rid = extras.rid;
    if (extras.retryAfterMs !== undefined) frame.retryAfterMs = extras.retryAfterMs;
    this.write(frame);
    if (code === ErrorCode.badFrame) this.countBadFrame();
  }

  private countBadFrame(): void {
    const now = this.ctx.clock();
    const windowStart = now - LIMITS.badFrameWindowMs;
    while (this.badFrames.length > 0 && this.badFrames[0]! <= windowStart) this.badFrames.shift();
    this.badFrames.push(now);
    if (this.badFrames.length > LIMITS.badFrameMaxCount) this.close(CloseCode.policy, 'too many bad frames');
  }

  /** Handles one frame; a promise when the answer needs the store (the next frame waits for it). */
  private handle(text: string): Promise<void> | undefined {
    // A deferred presence list whose time has come goes first (the clock may have moved),
    // and its answer before this frame's.
    if (this.pendingPresence) {
      const applied = this.subscribePresence(null);
      if (applied) return applied.then(() => this.handle(text));
    }
    const decoded = decodeClientFrame(text, this.features);
    if (!decoded.ok) {
      const t = decoded.error.t;
      this.ctx.metrics.frameIn(t && KNOWN_TYPES.has(t) ? t : 'invalid');
      this.error(decoded.error.code, decoded.error.message, { id: decoded.error.id, rid: decoded.error.rid });
      return;
    }
    const frame = decoded.frame;
    this.ctx.metrics.frameIn(frame.t);
    switch (frame.t) {
      case 'hello':
        this.error(ErrorCode.badFrame, 'hello was already received');
        return;
      case 'send':
        this.send(frame);
        return;
      case 'ack':
        return this.ack(frame.cursor).catch((err) => this.failed(err));
      case 'history':
        return this.history(frame).catch((err) => this.failed(err, frame.rid));
      case 'conversations':
        return this.conversations(frame).catch((err) => this.failed(err, frame.rid));
      case 'typing':
        // Invalid ids and oneself are dropped; unknown users have no connections to reach;
        // past the throttle (one per recipient per 2 s) extras are dropped too.
        if (isUserId(frame.to) && frame.to !== this.user && !this.blocks?.hides(frame.to)) {
          if (this.ctx.typing.allow(this.user, frame.to)) this.ctx.router.publishTyping(this.user, frame.to);
          else this.ctx.metrics.limitHits.labels('typing_rate').inc();
        }
        return;
      case 'presence':
        return this.subscribePresence(frame.users);
      case 'ping':
        this.write(frame.rid === undefined ? { t: 'pong' } : { t: 'pong', rid: frame.rid });
        return;
      default:
        // Only frames of negotiated features decode, and only after the hello.
        return this.chat?.handle(frame);
    }
  }

  /** A chat-feature write, counted like a send (reads after it wait for it). */
  private submitWrite(op: StoreOp, done: (outcome: Outcome) => void): void {
    this.inFlight++;
    this.ctx.relay.submit(op, (outcome) => {
      this.inFlight--;
      done(outcome);
    });
  }

  private failed(err: unknown, rid?: string): void {
    if (err instanceof ReadRefused) {
      this.ctx.metrics.limitHits.labels('read_rate').inc();
      if (this.isOpen) {
        this.error(ErrorCode.rateLimited, 'too many requests; retry later', {
          rid,
          retryAfterMs: err.retryAfterMs,
        });
      }
      return;
    }
    this.ctx.log.error({ err, user: this.user }, 'request failed');
    if (this.isOpen) this.error(ErrorCode.internal, 'the store failed; try again', { rid });
  }

  private send(frame: Extract<ClientFrame, { t: 'send' }>): void {
    const id = frame.id;
    // Its `sent` and its echo to this connection will be about this big (an attachment's
    // FileInfo: a name, a type and a placeholder of up to 2 kB).
    const answerBytes = frame.body.length + 200 + (frame.files?.length ?? 0) * 2600;
    this.inFlight++;
    this.noteRequest(answerBytes);
    const op: SendOp = { kind: 'send', from: this.user, id, to: frame.to, body: frame.body };
    if (frame.replyTo) op.replyTo = frame.replyTo;
    // Only a connection with `files` has them decoded (for others the field is unknown).
    if (frame.files) op.files = frame.files;
    this.ctx.relay.submit(op, (outcome) => {
      this.noteAnswer(answerBytes);
      this.sendOutcome(id, outcome);
    });
  }

  private sendOutcome(id: string, outcome: Outcome): void {
    this.inFlight--;
    if (!this.isOpen) return;
    switch (outcome.kind) {
      case 'stored':
      case 'duplicate':
        this.write({ t: 'sent', id, ts: outcome.ts });
        return;
      case 'no_such_user':
        this.error(ErrorCode.noSuchUser, 'the recipient does not exist', { id });
        return;
      case 'refused':
        this.error(ErrorCode.rateLimited, 'too many messages; retry later', {
          id,
          retryAfterMs: outcome.refusal.retryAfterMs,
        });
        return;
      case 'failed':
        this.error(ErrorCode.internal, 'the store failed; nothing was stored, resend', { id });
        return;
      case 'rejected': {
        // A reply whose original is not in the conversation or was deleted.
        const [code, message] = refusalError(outcome.code);
        this.error(code, message, { id });
        return;
      }
      default:
        return;
    }
  }

  private async ack(cursor: string): Promise<void> {
    const mailbox = await this.ctx.store.mailbox(this.user);
    if (!mailbox || !this.isOpen) return;
    const seq = cursorSeq(mailbox, cursor);
    if (seq === null) {
      this.error(ErrorCode.badFrame, 'not a cursor of your mailbox');
      return;
    }
    if (seq <= mailbox.deliveredSeq) return;
    this.inFlight++;
    this.ctx.relay.submit({ kind: 'ack', user: this.user, seq }, (outcome) => {
      this.inFlight--;
      if (outcome.kind === 'failed' && this.isOpen)
        this.error(ErrorCode.internal, 'the store failed; ack again');
    });
  }

  /** Reads wait for this connection's own pending writes, so a pipelined send shows in its history. */
  private async afterOwnWrites(): Promise<void> {
    if (this.inFlight > 0) await this.ctx.relay.settled();
  }

  private async history(frame: Extract<ClientFrame, { t: 'history' }>): Promise<void> {
    await this.afterOwnWrites();
    const rid = frame.rid;
    const mailbox = await this.ctx.store.mailbox(this.user);
    if (!mailbox || !this.isOpen) return;
    // `after` only parses on connections with `paging` (the codec drops it otherwise).
    const forward = frame.after !== undefined;
    const position = forward ? frame.after : frame.before;
    let seq: number | null = null;
    if (position !== undefined) {
      seq = cursorSeq(mailbox, position);
      if (seq === null) {
        this.error(ErrorCode.badFrame, `${forward ? 'after' : 'before'} is not a cursor of your mailbox`, {
          rid,
        });
        return;
      }
    }
    if (frame.with !== this.user && !(await this.ctx.store.getUser(frame.with))) {
      if (this.isOpen) this.error(ErrorCode.noSuchUser, 'no such user', { rid });
      return;
    }
    const limit = frame.limit ?? LIMITS.historyDefaultLimit;
    const page = await this.ctx.reads.run(
      this.user,
      () =>
        forward
          ? this.ctx.store.historyAfter(this.user, frame.with, seq ?? 0, limit)
          : this.ctx.store.history(this.user, frame.with, seq, limit),
      true,
    );
    if (!this.isOpen) return;
    const items = page.items.map((m) => viewMsg(m, this.view));
    const answer = { t: 'history' as const, with: frame.with, items, more: page.more };
    if (rid !== undefined) Object.assign(answer, { rid });
    // Items run oldest first. Backwards the page ends at `before`: keep the newest; forwards
    // it starts after `after`: keep the oldest. Either way `more` points at what was cut.
    const fitted = fitAnswer(answer, items, forward ? 'start' : 'end');
    answer.items = fitted.items;
    answer.more = page.more || fitted.cut;
    this.write(answer);
  }

  private async conversations(frame: Extract<ClientFrame, { t: 'conversations' }>): Promise<void> {
    await this.afterOwnWrites();
    const rid = frame.rid;
    const paging = this.features.has('paging');
    let beforeSeq: number | null = null;
    if (paging && frame.before !== undefined) {
      const mailbox = await this.ctx.store.mailbox(this.user);
      if (!mailbox || !this.isOpen) return;
      beforeSeq = cursorSeq(mailbox, frame.before);
      if (beforeSeq === null) {
        this.error(ErrorCode.badFrame, 'before is not a cursor of your mailbox', { rid });
        return;
      }
    }
    // Version 1 has no paging: the newest rows, bounded (PROTOCOL.md "Bounded answers").
    const limit = paging ? (frame.limit ?? LIMITS.conversationsDefaultLimit) : LIMITS.conversationsV1MaxRows;
    const page = await this.ctx.reads.run(
      this.user,
      () => this.ctx.store.conversations(this.user, { limit, beforeSeq }),
      true,
    );
    if (!this.isOpen) return;
    const items = page.items.map((row) => viewRow(row, this.view));
    const answer: Extract<ServerFrame, { t: 'conversations' }> = { t: 'conversations', items };
    if (rid !== undefined) answer.rid = rid;
    const fitted = fitAnswer(answer, items, 'start');
    answer.items = fitted.items;
    // Paging connections always learn whether older rows exist; version 1 sees no new field.
    if (paging) answer.more = page.more || fitted.cut;
    this.write(answer);
  }
}
