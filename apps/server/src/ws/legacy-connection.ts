import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import { LIMITS, NO_FEATURES, parseUserId, projectMsg } from '@pigeon/protocol';
import type { RawData } from 'ws';
import type { Entry } from '../store/store.js';
import type { ConnectionSocket } from './connection-socket.js';
import { type ConnectionContext, MailboxConnection } from './mailbox-connection.js';
import type { Outcome } from './relay.js';

/**
 * The password hash of accounts made by `/legacy`: not a scrypt hash, so no password ever
 * matches it (login is impossible), and it tells the account apart from passwordless
 * host-application accounts.
 */
export const LEGACY_PASSWORD_MARK = 'legacy';

/** Why `/legacy` refuses an account (HTTP 403), or null when it may connect. */
export type LegacyRefusal = 'has_password' | 'modern_account' | null;

/**
 * Whether `user` may use `/legacy`, creating it as a legacy account when it does not
 * exist. The endpoint trusts the id it is given, so it only ever opens accounts that
 * nothing else can open: legacy accounts. An account with a password must use `/ws`
 * (else anyone on a trusted network could read its mail and send as it); a passwordless
 * account is a host application's (JWT) when host mode is on, and a legacy socket
 * acknowledging its messages would mark them delivered for its real devices. Accounts
 * with no hash at all predate the mark and are legacy accounts when host mode is off.
 */
export async function legacyAdmission(
  ctx: Pick<ConnectionContext, 'store' | 'config'>,
  user: string,
): Promise<LegacyRefusal> {
  let record = await ctx.store.getUser(user);
  if (!record) {
    await ctx.store.createUser(user, LEGACY_PASSWORD_MARK);
    record = await ctx.store.getUser(user);
    if (!record) return 'modern_account';
  }
  if (record.passwordHash === LEGACY_PASSWORD_MARK) return null;
  if (record.passwordHash !== null) return 'has_password';
  return ctx.config.jwtSecret === null ? null : 'modern_account';
}

/**
 * A connection of the original demo's client (`/legacy?user=ID`): raw text frames
 * `RECIPIENT|CONTENT` in, message bodies out. Writing a message to the socket counts as
 * acknowledging it (at-most-once, as in the original); only legacy accounts get here
 * (see legacyAdmission), so that acknowledgement never speaks for a modern device.
 */
export class LegacyConnection extends MailboxConnection {
  protected readonly kind = 'legacy' as const;
  /** Recipient of the last accepted frame, for frames without `|`. */
  private lastRecipient: string | null = null;
  /** Highest sequence written but not yet acknowledged to the store. */
  private ackSeq = 0;
  private ackScheduled = false;

  constructor(ws: ConnectionSocket, ctx: ConnectionContext, ip: string, socket: Duplex) {
    super(ws, ctx, ip, socket);
  }

  /** Opens the mailbox of `user`, an account legacyAdmission let through (so it exists). */
  async start(user: string): Promise<void> {
    // The upgrade is this client's hello: the same rates and caps as /ws.
    if (!this.admitHelloFromIp() || !this.admit(user)) return;
    await this.openMailbox(
      user,
      (mailbox) => mailbox.deliveredSeq,
      () => {},
      () => {},
    );
  }

  protected emitEntry(entry: Entry): void {
    const frame = entry.frame;
    // Its own sends to others are not echoed; a message to itself is one entry, shown once.
    // Updates are not for it (it sees exactly version 1), but its ack covers them.
    if (frame.t === 'msg' && frame.to === this.user) {
      this.ctx.metrics.frameOut('legacy');
      this.writeText(projectMsg(frame, NO_FEATURES).body);
    }
    this.scheduleAck(entry.seq);
  }

  private scheduleAck(seq: number): void {
    if (seq > this.ackSeq) this.ackSeq = seq;
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      this.ctx.relay.submit({ kind: 'ack', user: this.user, seq: this.ackSeq }, () => {});
    });
  }

  deliverReceipt(): void {}
  deliverTyping(): void {}
  deliverPresence(): void {}
  deliverBlock(): void {}

  onMessage(data: RawData, isBinary: boolean): void {
    if (!this.isOpen || this.user === '') return;
    this.ctx.metrics.frameIn('legacy');
    this.noteFrame();
    this.noteInput(Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).length);
    // The old client has no error channel: anything it cannot mean is dropped.
    if (isBinary) return;
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as Buffer).toString('utf8');
    const bar = text.indexOf('|');
    // Frames are submitted in arrival order; one without `|` goes to the recipient of the
    // last accepted frame, so it first waits until the frames before it are answered.
    if (bar >= 0) {
      const to = parseUserId(text.slice(0, bar));
      const body = text.slice(bar + 1);
      this.chain = this.chain.then(() => {
        this.track(this.submitAndWait(to, body));
      });
    } else {
      this.chain = this.chain
        .then(() => Promise.all(this.unanswered))
        .then(() => {
          this.track(this.submitAndWait(this.lastRecipient, text));
        });
    }
  }

  private chain: Promise<void> = Promise.resolve();
  /** Submitted sends not yet answered. */
  private unanswered = new Set<Promise<void>>();

  private track(p: Promise<void>): void {
    this.unanswered.add(p);
    void p.then(() => this.unanswered.delete(p));
  }

  private submitAndWait(to: string | null, body: string): Promise<void> {
    if (!this.isOpen || to === null || body.length === 0 || body.length > LIMITS.bodyMaxLength) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const id = `L${crypto.randomBytes(12).toString('base64url')}`;
      this.ctx.relay.submit({ kind: 'send', from: this.user, id, to, body }, (outcome: Outcome) => {
        if (outcome.kind === 'stored') this.lastRecipient = to;
        resolve();
      });
    });
  }
}
