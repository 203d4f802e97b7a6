// Over ~300 lines on purpose: what /ws and /legacy share (admit, attach, replay, live entries,
// the unsent bounds) reads and moves one state machine; reading the socket is in input-gate.ts,
// frames out in frame-writer.ts.
import type { Duplex } from 'node:stream';
import { CloseCode } from '@pigeon/protocol';
import type { RawData } from 'ws';
import type { RateLimiter } from '../auth/rate-limiter.js';
import type { Sessions } from '../auth/sessions.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Presence, PresenceTarget } from '../router/presence.js';
import type { Router, RouteTarget } from '../router/router.js';
import type { BlockChange } from '../store/feature-types.js';
import type { Entry, MailboxState, Receipt, Store } from '../store/store.js';
import type { ConnectionLimits, UserConnection } from './connection-limits.js';
import { type ConnectionSocket, listen, type SocketEvents } from './connection-socket.js';
import { FrameWriter } from './frame-writer.js';
import { InputGate } from './input-gate.js';
import type { ReadScheduler } from './read-scheduler.js';
import type { Relay } from './relay.js';
import type { TypingThrottle } from './typing-throttle.js';

/** What every connection needs from the server. */
export interface ConnectionContext {
  config: Config;
  store: Store;
  router: Router;
  presence: Presence;
  relay: Relay;
  sessions: Sessions;
  metrics: Metrics;
  log: Logger;
  /** Every open connection, for pings and shutdown. */
  connections: Set<MailboxConnection>;
  /** Caps and hello rates per address and per user. */
  limits: ConnectionLimits;
  /** Fair, budgeted store reads. */
  reads: ReadScheduler;
  typing: TypingThrottle;
  /** Client frames per user (before the hello: per address). */
  frames: RateLimiter;
  clock: () => number;
}

/**
 * Entries replayed per store read. Small, so that one page costs a fraction of a
 * millisecond and the replay of a long backlog interleaves with everyone else's work
 * (each page is one read through the fair scheduler).
 */
const REPLAY_PAGE = 100;
/** Replay pauses while this many bytes are unsent, so a long backlog never trips the slow-consumer bound. */
const REPLAY_HIGH_WATER = 512 * 1024;

type State = 'opening' | 'replaying' | 'live' | 'closed';

/**
 * A socket bound to one user's mailbox: attach to the router, replay the backlog, then
 * live entries, each exactly once in cursor order. Subclasses decide what an entry looks
 * like on their wire (`/ws` frames or legacy raw text).
 */
export abstract class MailboxConnection implements RouteTarget, PresenceTarget, UserConnection, SocketEvents {
  user = '';
  protected state: State = 'opening';
  /** Highest sequence of this mailbox this connection has emitted (or skipped past). */
  protected lastSeq = 0;
  /** Live entries that arrived while the backlog was being replayed. */
  private liveBuffer: Entry[] | null = null;
  private liveBufferBytes = 0;
  /** False after a ping until its pong; a connection still false at the next ping is dead. */
  alive = true;
  readonly openedAt = Date.now();
  protected abstract readonly kind: 'ws' | 'legacy';

  /** Frames out (see frame-writer.ts). */
  private readonly out: FrameWriter;

  /**
   * `ip` is the client address, already counted against its cap by the server; it is
   * released when the socket closes. `socket`: the one the upgrade came on.
   */
  constructor(
    readonly ws: ConnectionSocket,
    readonly ctx: ConnectionContext,
    readonly ip: string,
    socket: Duplex,
  ) {
    this.out = new FrameWriter(ws, socket);
    this.gate = new InputGate(ws, ctx, this.out, this);
    ctx.connections.add(this);
    listen(ws, this);
  }

  /** A client frame (SocketEvents). */
  abstract onMessage(data: RawData, isBinary: boolean): void;

  onPong(): void {
    this.alive = true;
  }

  onError(err: Error): void {
    this.ctx.log.debug({ err: err.message, user: this.user || undefined }, 'socket error');
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  private flushScheduled = false;

  /**
   * Sends a text frame; the frames of one turn leave in one write (FrameWriter), and at
   * the end of the turn the connection checks its unsent buffer (flushOut).
   */
  protected writeText(text: string): void {
    if (this.state === 'closed') return;
    this.out.text(text);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flushOut());
    }
  }

  /** Writes what this turn sent so far; runs before any close so that close comes after it. */
  private writeOut(): void {
    this.out.flush();
  }

  /** Bytes written to this connection and not on the wire yet (queued frames counted by their length). */
  unsent(): number {
    return this.state === 'closed' ? 0 : this.out.unsent;
  }

  private flushOut(): void {
    this.flushScheduled = false;
    if (this.state === 'closed') return;
    this.writeOut();
    const buffered = this.ws.bufferedAmount;
    const bound = this.ctx.config.maxBufferedBytes;
    if (buffered > bound) {
      this.ctx.log.warn({ user: this.user, buffered }, 'slow consumer');
      this.close(CloseCode.policy, 'too slow: unsent buffer over its bound');
      return;
    }
    if (this.admitted && this.ctx.limits.unsentOf(this.user) > this.ctx.config.maxBufferedUserBytes) {
      // It may close this very connection (then nothing more to do here).
      if (this.closeSlowestOfUser() === this) return;
    }
    if (buffered > bound / 4) {
      // Flow control for a client that writes faster than it reads (its own echoes and
      // `sent` frames pile up): stop reading its frames until its socket drains, so it
      // slows down instead of tripping the bound.
      this.gate.pause();
    }
  }

  /**
   * All of this user's connections together hold more unsent bytes than their bound:
   * close the one holding most (the one not reading), so a user's many stalled sockets
   * cannot add up to more memory than one bound's worth.
   */
  private closeSlowestOfUser(): UserConnection | null {
    let worst: UserConnection | null = null;
    let most = -1;
    for (const c of this.ctx.limits.connectionsOf(this.user)) {
      const n = c.unsent();
      if (n > most) {
        most = n;
        worst = c;
      }
    }
    if (!(worst instanceof MailboxConnection)) return null;
    this.ctx.metrics.limitHits.labels('unsent_per_user').inc();
    this.ctx.log.warn({ user: this.user, buffered: most }, 'slow consumer (user bound)');
    worst.close(CloseCode.policy, "too slow: the user's unsent bytes are over their bound");
    return worst;
  }

  /** When this connection's socket is read (flow control, the frame budget). */
  private readonly gate: InputGate;

  /** Counts bytes read in this turn (InputGate.noteInput). */
  protected noteInput(bytes: number): void {
    this.gate.noteInput(bytes);
  }

  /** A request whose answer of about `bytes` is pending (InputGate.noteRequest). */
  noteRequest(bytes: number): void {
    this.gate.noteRequest(bytes);
  }

  /** The answer to a request counted by noteRequest was written. */
  noteAnswer(bytes: number): void {
    this.gate.noteAnswer(bytes);
  }

  /** One client frame against the user's frame budget (InputGate.noteFrame). */
  protected noteFrame(): void {
    this.gate.noteFrame(this.user || `ip ${this.ip}`);
  }

  /** Stops reading the socket until releaseInbox (a long queue of unhandled frames). */
  protected holdInbox(): void {
    this.gate.hold();
  }

  protected releaseInbox(): void {
    this.gate.release();
  }

  /** Closes with `code` (no-op when already closing) and stops routing to this connection at once. */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    // What was written before the close goes out before it.
    this.writeOut();
    this.detach();
    this.state = 'closed';
    // Read again (flow control may have paused it) so the client's close reply is seen.
    if (this.ws.isPaused) this.ws.resume();
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }

  private attached = false;
  /** Counted against the user's cap (from admit until close). */
  private admitted = false;

  /**
   * Checks the user's hello rate and connection cap, and counts this connection against
   * them; when refused, closes with CloseCode.tooMany and returns false.
   */
  protected admit(user: string): boolean {
    this.user = user;
    const refusal = this.ctx.limits.admitUser(this);
    if (refusal) {
      // Debug, not info: under a flood a line per refusal would be an attack on the logs. The
      // pigeon_limit_hits_total counter tells operators.
      this.ctx.log.debug({ kind: this.kind, user, limit: refusal.limit }, 'connection refused');
      this.close(CloseCode.tooMany, refusal.reason);
      return false;
    }
    this.admitted = true;
    return true;
  }

  /** Refuses an address over its hello rate (checked before the token, which costs CPU to verify). */
  protected admitHelloFromIp(): boolean {
    const refusal = this.ctx.limits.helloFromIp(this.ip);
    if (!refusal) return true;
    this.ctx.log.debug({ kind: this.kind, ip: this.ip, limit: refusal.limit }, 'connection refused');
    this.close(CloseCode.tooMany, refusal.reason);
    return false;
  }

  private detach(): void {
    if (this.admitted) {
      this.admitted = false;
      this.ctx.limits.releaseUser(this);
    }
    if (this.attached) {
      this.attached = false;
      this.ctx.router.detach(this);
      this.ctx.presence.leave(this);
      this.ctx.metrics.connectionsOpen.labels(this.kind).dec();
    }
  }

  onClose(code: number): void {
    const wasOpen = this.attached;
    this.detach();
    this.state = 'closed';
    this.ctx.connections.delete(this);
    this.ctx.limits.closeSocket(this.ip);
    this.ctx.metrics.closes.labels(String(code)).inc();
    this.onClosed();
    if (this.user) {
      this.ctx.log.info(
        { kind: this.kind, user: this.user, code, ms: Date.now() - this.openedAt, wasOpen },
        'disconnect',
      );
    }
  }

  /** Hook for subclasses: release timers and such. */
  protected onClosed(): void {}

  /**
   * Attaches to the router (and waits until it routes here on every node), then replays every entry after `afterSeq` up to the head read
   * after attaching, then the live entries that arrived meanwhile: nothing skipped,
   * repeated or reordered. `afterReplay` runs right after the last replayed entry, before
   * any other frame. False when the connection closed meanwhile.
   */
  protected async openMailbox(
    user: string,
    start: (mailbox: MailboxState) => number,
    beforeReplay: (mailbox: MailboxState) => void,
    afterReplay: (mailbox: MailboxState) => void,
  ): Promise<boolean> {
    this.user = user;
    this.state = 'replaying';
    this.attached = true;
    this.ctx.presence.join(this);
    this.ctx.metrics.connectionsOpen.labels(this.kind).inc();
    this.ctx.log.info({ kind: this.kind, user }, 'connect');
    // Entries handed over before this resolves wait in liveBuffer (state 'replaying').
    await this.ctx.router.attach(this);
    if (this.isClosed()) return false;
    // Read the head only now: whatever is stored later reaches us through the router.
    const mailbox = await this.ctx.store.mailbox(user);
    if (!mailbox || this.isClosed()) return false;
    await this.prepareView(mailbox);
    if (this.isClosed()) return false;
    beforeReplay(mailbox);
    this.lastSeq = start(mailbox);
    let replayed = 0;
    let after = this.lastSeq;
    const highWater = Math.min(REPLAY_HIGH_WATER, this.ctx.config.maxBufferedBytes / 4);
    while (after < mailbox.headSeq) {
      const from = after;
      const page = await this.ctx.reads.run(
        user,
        () => this.ctx.store.readRange(user, from, mailbox.headSeq, REPLAY_PAGE),
        false,
      );
      if (this.isClosed()) return false;
      if (page.length === 0) break;
      for (const entry of page) {
        this.emit(entry);
        replayed++;
        // Pace the replay by what the client reads, well below the slow-consumer bound.
        if (this.out.unsent > highWater) {
          await this.out.drainBelow(highWater / 2);
          if (this.isClosed()) return false;
        }
      }
      after = page[page.length - 1]!.seq;
    }
    const buffered = this.liveBuffer ?? [];
    this.liveBuffer = null;
    this.liveBufferBytes = 0;
    for (const entry of buffered) if (entry.seq > this.lastSeq) this.emit(entry);
    this.state = 'live';
    this.ctx.metrics.replayEntries.observe(replayed);
    // Synchronously, so that nothing else goes out between the replay and what follows it.
    afterReplay(mailbox);
    return true;
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private emit(entry: Entry): void {
    this.lastSeq = entry.seq;
    this.emitEntry(entry);
  }

  /** Puts one entry on the wire. */
  protected abstract emitEntry(entry: Entry): void;

  /**
   * Reads what this connection's view of the mailbox needs before `welcome` (its head, the
   * block relations: PROTOCOL.md "What a connection sees"), after the mailbox's head was read.
   */
  protected async prepareView(_mailbox: MailboxState): Promise<void> {}

  deliverEntry(entry: Entry): void {
    if (this.state === 'replaying') {
      this.liveBuffer ??= [];
      this.liveBuffer.push(entry);
      const f = entry.frame;
      this.liveBufferBytes += (f.t === 'msg' || f.kind === 'edit' ? f.body.length * 3 : 0) + 200;
      if (this.liveBufferBytes > this.ctx.config.maxBufferedBytes) {
        this.close(CloseCode.policy, 'too slow: backlog and live entries over the bound');
      }
      return;
    }
    if (this.state === 'live' && entry.seq > this.lastSeq) this.emit(entry);
  }

  abstract deliverReceipt(receipt: Receipt): void;
  abstract deliverTyping(from: string): void;
  abstract deliverPresence(user: string, online: boolean): void;
  abstract deliverBlock(change: BlockChange): void;
}
