// Over ~300 lines on purpose: the /ws opening (hello → welcome → synced) and the dispatch of
// client frames share the connection's state; writes, reads, chat frames, presence and the
// frame queue are in their own files beside it.
import type { Duplex } from 'node:stream';
import {
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
import type { RawData } from 'ws';
import { cursorSeq, encodeCursor } from '../store/cursor.js';
import type { BlockChange } from '../store/feature-types.js';
import type { Entry, MailboxState, Receipt, StoreOp } from '../store/store.js';
import { BlockFilter } from './block-filter.js';
import { ChatFrames } from './chat-frames.js';
import type { ConnectionSocket } from './connection-socket.js';
import { entryText, V1_VIEW, type View, viewOf } from './entry-view.js';
import { OFFERED_FEATURES } from './features.js';
import { FrameQueue, type FrameSink } from './frame-queue.js';
import { LEGACY_PASSWORD_MARK } from './legacy-connection.js';
import { type ConnectionContext, MailboxConnection } from './mailbox-connection.js';
import { MailboxWrites, type WriteHost } from './mailbox-writes.js';
import { PresenceSubscription } from './presence-subscription.js';
import { ReadRequests } from './read-requests.js';
import { ReadRefused } from './read-scheduler.js';
import type { Outcome } from './relay.js';
import type { RequestHost } from './request-host.js';

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

/**
 * One `/ws` connection: the opening sequence, then the client frames of PROTOCOL.md.
 *
 * It is itself the host of its frame queue, writes and request handlers (FrameSink,
 * WriteHost, RequestHost): an idle connection costs memory per object and closure, and
 * thousands of them wait on every node, so the parts get the connection, not a bundle of
 * closures over it; what only some connections use (presence, blocks) is made on first use.
 */
export class ClientConnection extends MailboxConnection implements FrameSink, WriteHost, RequestHost {
  protected readonly kind = 'ws' as const;
  private helloTimer: NodeJS.Timeout | null;
  private gotHello = false;
  /** Sends, acks and feature writes, counted while in flight. */
  private readonly writes = new MailboxWrites(this);
  /** Client frames not handled yet, handled one at a time in arrival order. */
  private readonly frames = new FrameQueue(this);
  /** Times of recent bad_frame errors (sliding window), once there was one. */
  private badFrames: number[] | null = null;

  constructor(ws: ConnectionSocket, ctx: ConnectionContext, ip: string, socket: Duplex) {
    super(ws, ctx, ip, socket);
    this.helloTimer = setTimeout(
      () => this.close(CloseCode.helloTimeout, 'no hello'),
      ctx.config.helloTimeoutMs,
    );
  }

  protected override onClosed(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    this.ackLeftOver(this.frames.clear());
    this.presence?.close();
  }

  /**
   * Frames still waiting when the socket closed are not handled, but an ack among them was
   * sent by a client that processed those entries: the last one (acks are cumulative) counts.
   */
  private ackLeftOver(texts: readonly string[]): void {
    if (!this.session) return;
    for (let i = texts.length - 1; i >= 0; i--) {
      const decoded = decodeClientFrame(texts[i]!, this.features);
      if (decoded.ok && decoded.frame.t === 'ack') {
        this.writes.ack(decoded.frame.cursor).catch((err) => this.failed(err));
        return;
      }
    }
  }

  write(frame: ServerFrame): void {
    this.ctx.metrics.frameOut(frame.t);
    this.writeText(encode(frame));
  }

  onMessage(data: RawData, isBinary: boolean): void {
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
    this.frames.push(text);
  }

  /** Features enabled by the hello (one Set per connection: the codec caches by identity). */
  private features: FeatureSet = NO_FEATURES;
  /** What this connection is sent of the mailbox, given its features. */
  view: View = V1_VIEW;
  /** welcome.head: the newest entry this connection would be sent (set before welcome). */
  private viewHead: string | null = null;
  /**
   * Presence and typing between this user and users a block separates them from: made when
   * the store has relations, or on the first block change or presence report (blockFilter).
   */
  private blocks: BlockFilter | null = null;
  /** The store's block relations were read (a filter made later starts from none). */
  private relationsRead = false;
  /** The chat features' frames (issue 10), from the first of them. */
  private chat: ChatFrames | null = null;
  /** history and conversations, from the first of them. */
  private requests: ReadRequests | null = null;
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
        this.heldReceipts = null;
        for (const frame of held ?? []) this.write(frame);
      },
    );
    if (!opened) return;
    this.frames.start();
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
    if (this.blocks || relations.blocked.length > 0 || relations.blockedBy.length > 0) {
      this.blockFilter().load(relations);
    }
    this.relationsRead = true;
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
    else {
      this.heldReceipts ??= [];
      this.heldReceipts.push(frame);
    }
  }

  private heldReceipts: ServerFrame[] | null = null;

  /** This connection's presence subscription, paced by its budget, from its first `presence` frame. */
  private presence: PresenceSubscription | null = null;

  deliverTyping(from: string): void {
    if (this.state !== 'live' || this.blocks?.hides(from)) return;
    this.write({ t: 'typing', from });
  }

  deliverPresence(user: string, online: boolean): void {
    if (this.state === 'closed') return;
    // Someone a block separates this user from is reported offline (PROTOCOL.md "Block").
    this.blockFilter().presence(user, online);
  }

  private blockFilter(): BlockFilter {
    this.blocks ??= new BlockFilter(this.user, this, this.relationsRead);
    return this.blocks;
  }

  /** Tells the client `user`'s presence (BlockFilter calls it with what it may see). */
  writePresence(user: string, online: boolean): void {
    if (this.state === 'closed') return;
    this.write({ t: 'presence', user, online });
  }

  deliverBlock(change: BlockChange): void {
    this.blockFilter().change(change);
  }

  error(code: FrameErrorCode, message: string, extras: ErrorExtras = {}): void {
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
    this.badFrames ??= [];
    const times = this.badFrames;
    while (times.length > 0 && times[0]! <= windowStart) times.shift();
    times.push(now);
    if (times.length > LIMITS.badFrameMaxCount) this.close(CloseCode.policy, 'too many bad frames');
  }

  /** Handles one frame; a promise when the answer needs the store (the next frame waits for it). */
  handle(text: string): Promise<void> | undefined {
    // A deferred presence list whose time has come goes first (the clock may have moved),
    // and its answer before this frame's.
    if (this.presence?.pending) {
      const applied = this.presence.subscribe(null);
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
        this.writes.send(frame);
        return;
      case 'ack':
        return this.writes.ack(frame.cursor).catch((err) => this.failed(err));
      case 'history':
        return this.readRequests()
          .history(frame)
          .catch((err) => this.failed(err, frame.rid));
      case 'conversations':
        return this.readRequests()
          .conversations(frame)
          .catch((err) => this.failed(err, frame.rid));
      case 'typing':
        // Invalid ids and oneself are dropped; unknown users have no connections to reach;
        // past the throttle (one per recipient per 2 s) extras are dropped too.
        if (isUserId(frame.to) && frame.to !== this.user && !this.blocks?.hides(frame.to)) {
          if (this.ctx.typing.allow(this.user, frame.to)) this.ctx.router.publishTyping(this.user, frame.to);
          else this.ctx.metrics.limitHits.labels('typing_rate').inc();
        }
        return;
      case 'presence':
        this.presence ??= new PresenceSubscription(this.ctx, this, () => this.blocks?.resubscribed());
        return this.presence.subscribe(frame.users);
      case 'ping':
        this.write(frame.rid === undefined ? { t: 'pong' } : { t: 'pong', rid: frame.rid });
        return;
      default:
        // Only frames of negotiated features decode, and only after the hello.
        return this.chatFrames().handle(frame);
    }
  }

  // Frames are handled only after the hello said who and what: made on the first request.
  private readRequests(): ReadRequests {
    this.requests ??= new ReadRequests(this);
    return this.requests;
  }

  private chatFrames(): ChatFrames {
    this.chat ??= new ChatFrames(this);
    return this.chat;
  }

  // FrameSink: the queue holds and releases the socket, and overflows into a close.
  hold(): void {
    this.holdInbox();
  }

  release(): void {
    this.releaseInbox();
  }

  overflow(): void {
    this.close(CloseCode.policy, 'too many frames waiting');
  }

  // RequestHost: writes of the chat features count as this connection's own.
  submit(op: StoreOp, done: (outcome: Outcome) => void): void {
    this.writes.submit(op, done);
  }

  afterOwnWrites(): Promise<void> {
    return this.writes.afterOwnWrites();
  }

  failed(err: unknown, rid?: string): void {
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
}
