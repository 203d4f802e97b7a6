import {
  type ClientFrame,
  CloseCode,
  decodeServerFrame,
  encode,
  type Feature,
  type HelloFrame,
  LIMITS,
  type ServerFrame,
} from '@pigeon/protocol';
import type { Account } from './account.js';
import { AckBatcher } from './ack-batcher.js';
import type { ClientEmitter } from './client-events.js';
import { ClientErrorCode, StatusReason } from './errors.js';
import { wsUrl } from './http.js';
import type { Entry } from './inbox.js';
import type { WritableObservable } from './observable.js';
import type { ResolvedOptions } from './options.js';
import type { OutboxSender } from './outbox-sender.js';
import { ReconnectingSocket } from './reconnecting-socket.js';
import type { RequestFrame, Requests } from './requests.js';
import type { ClientStatus } from './types.js';
import type { WriteSender } from './write-sender.js';

export interface SessionDeps {
  o: ResolvedOptions;
  events: ClientEmitter;
  status: WritableObservable<ClientStatus>;
  requests: Requests;
  sender: OutboxSender;
  writes: WriteSender;
  /** The signed-in user's state, or null. */
  account(): Account | null;
  /** The outbox changed: persist it and tell the application. */
  outboxChanged(): void;
  /** What the server enabled for this connection (`welcome.features`; empty for version 1). */
  features: WritableObservable<readonly Feature[]>;
  /** An entry was processed (its listeners succeeded, or gave up): local state follows it. */
  processed(entry: Entry): void;
  /** The connection is online (after `synced`): queued work may go. */
  online(): void;
}

/** One connection's protocol state. */
interface Link {
  readonly generation: number;
  readonly account: Account;
  readonly acks: AckBatcher;
  online: boolean;
  dead: boolean;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The protocol session over the reconnecting socket: `hello` with the cursor to resume from,
 * `welcome` → `syncing`, `synced` → `online` (after the backlog was handed over), batched
 * cumulative acks, the close codes that end it for good (4001, 4003), and the dispatch of
 * every server frame to the inbox, the outbox sender and the rid registry.
 */
export class ProtocolSession {
  readonly socket: ReconnectingSocket;
  private generations = 0;
  private link: Link | null = null;

  constructor(private readonly d: SessionDeps) {
    const o = d.o;
    this.socket = new ReconnectingSocket(
      { ...o, url: wsUrl(o.server) },
      {
        open: () => this.hello(),
        message: (data) => this.onFrame(data),
        closed: (code, reason) => this.onClosed(code, reason),
        probe: () => this.write({ t: 'ping', rid: d.requests.nextRid('p') }),
        status: (s) => d.status.set(s),
      },
    );
  }

  /** True while a connection is online (after `synced`). */
  get online(): boolean {
    return this.link?.online === true && !this.link.dead;
  }

  /** Closes the connection for good; the acks of what was processed go out first. */
  stop(): void {
    this.link?.acks.flush();
    this.socket.stop();
  }

  write(frame: ClientFrame): boolean {
    return this.socket.send(encode(frame));
  }

  /** Sends a request if online; returns the connection generation it went out on, or null. */
  writeRequest(frame: RequestFrame): number | null {
    const generation = this.generation;
    if (generation === null || !this.write(frame)) return null;
    return generation;
  }

  /** The online connection's generation, or null when not online. */
  get generation(): number | null {
    const link = this.link;
    return link?.online && !link.dead ? link.generation : null;
  }

  private hello(): void {
    const account = this.d.account();
    if (!account) return;
    const generation = ++this.generations;
    const acks = new AckBatcher(
      (cursor) => {
        account.persistence.mark('cursor');
        if (this.link?.generation === generation) this.write({ t: 'ack', cursor });
      },
      this.d.o.ackDelayMs,
      this.d.o.ackBatch,
    );
    this.link = { generation, account, acks, online: false, dead: false };
    const hello: HelloFrame = { t: 'hello', v: 1, token: account.token };
    if (account.inbox.cursor !== null) hello.since = account.inbox.cursor;
    // No `features` at all keeps the connection exactly version 1.
    if (this.d.o.features.length > 0) hello.features = [...this.d.o.features];
    this.write(hello);
  }

  private onClosed(code: number, reason: string): false | number {
    const link = this.link;
    this.link = null;
    if (link) {
      // What was processed is persisted even though its ack can no longer be sent.
      link.acks.flush();
      link.dead = true;
      this.d.requests.connectionLost(link.generation, `close ${code}`);
    }
    this.d.sender.connectionLost();
    this.d.writes.connectionLost();
    if (code === CloseCode.unauthorized) {
      this.d.status.set({ state: 'unauthorized', reason: reason || 'token refused' });
      this.d.requests.rejectAll(ClientErrorCode.stopped, 'unauthorized');
      this.d.events.emit('unauthorized');
      return false;
    }
    if (code === CloseCode.unsupportedVersion) {
      this.d.status.set({ state: 'offline', reason: StatusReason.unsupportedVersion });
      this.d.requests.rejectAll(ClientErrorCode.stopped, 'unsupported protocol version');
      return false;
    }
    // Too many connections or hellos: the server asks for a pause before the next attempt.
    if (code === CloseCode.tooMany) return LIMITS.tooManyBackoffMs;
    return 0;
  }

  private queue(task: () => void | Promise<void>, account: Account): void {
    account.inbox.enqueue(task, (err) => this.d.events.error(ClientErrorCode.internal, describe(err)));
  }

  private onFrame(data: unknown): void {
    const link = this.link;
    if (!link || link.dead) return;
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) {
      this.d.events.error(ClientErrorCode.badServerFrame, decoded.error.message);
      return;
    }
    const frame = decoded.frame;
    const { account } = link;
    switch (frame.t) {
      case 'welcome':
        if (frame.user !== account.user) {
          // The token belongs to someone else (e.g. a host app's JWT with another `sub`): this
          // user's outbox must not go out under that name.
          this.socket.abandon(CloseCode.unauthorized, `token is for ${frame.user}, not ${account.user}`);
          return;
        }
        this.socket.welcomed();
        this.d.features.set(frame.features ?? []);
        this.d.status.set({ state: 'syncing' });
        return;
      case 'msg':
        if (this.d.o.processInbox) this.queue(() => this.receive(link, frame), account);
        else if (frame.from === account.user) this.ownEntry(account, frame.id, frame.ts, frame.delivered);
        return;
      case 'update':
        if (this.d.o.processInbox) this.queue(() => this.receive(link, frame), account);
        return;
      case 'ok':
        this.d.writes.ok(frame.rid);
        return;
      case 'synced':
        this.queue(() => this.synced(link, frame.head, frame.gap), account);
        return;
      case 'sent':
        this.d.sender.sent(frame.id, frame.ts);
        return;
      case 'receipt':
        this.queue(() => {
          if (account.box.markDelivered(frame.id)) this.d.outboxChanged();
          this.d.events.emit('receipt', { id: frame.id, to: frame.to });
        }, account);
        return;
      case 'typing':
        this.d.events.emit('typing', { from: frame.from });
        return;
      case 'presence':
        this.d.events.emit('presence', { user: frame.user, online: frame.online });
        return;
      case 'history':
      case 'search':
        if (frame.rid !== undefined) this.d.requests.answer(frame.rid, frame);
        return;
      case 'conversations':
      case 'settings': {
        // Read in inbox order: the counts and lists they carry cover exactly the entries that
        // arrived before them, so local state fed by those entries is replaced, not added to.
        const rid = frame.rid;
        if (rid !== undefined) this.queue(() => this.d.requests.answer(rid, frame), account);
        return;
      }
      case 'pong': {
        // Answered in inbox order: when `ping()` resolves, every entry that arrived before the
        // pong has been handed to the listeners (a fence for "nothing else arrives").
        const rid = frame.rid;
        if (rid !== undefined) this.queue(() => this.d.requests.answer(rid, frame), account);
        return;
      }
      case 'error':
        this.onError(frame);
        return;
    }
  }

  private onError(frame: Extract<ServerFrame, { t: 'error' }>): void {
    const rid = frame.rid;
    if (rid !== undefined && this.d.requests.has(rid)) {
      this.d.requests.answer(rid, frame);
    } else if (rid !== undefined && this.d.writes.error({ ...frame, rid })) {
      // a refused write or read mark
    } else if (frame.id !== undefined) {
      this.d.sender.error({ ...frame, id: frame.id });
    } else {
      this.d.events.emit('error', { code: frame.code, message: frame.message });
    }
  }

  private receive(link: Link, e: Entry): Promise<void> {
    const { account } = link;
    return account.inbox.receive(e, link.generation, {
      deliver: async (entry) => {
        if (entry.t === 'msg' && entry.from === account.user)
          this.ownEntry(account, entry.id, entry.ts, entry.delivered);
        const ok = await this.d.events.deliver(entry);
        if (ok) this.d.processed(entry);
        return ok;
      },
      processed: (cursor) => {
        if (!link.dead) link.acks.processed(cursor);
        else account.persistence.mark('cursor');
      },
      gaveUp: (entry, failures) => {
        this.d.processed(entry);
        this.d.events.error(
          ClientErrorCode.listenerGaveUp,
          `entry ${entry.cursor} failed ${failures} times in a listener; it now counts as processed`,
        );
      },
    });
  }

  /** An entry of our own proves the message stored (and maybe delivered). */
  private ownEntry(account: Account, id: string, ts: number, delivered: boolean): void {
    const changed = delivered ? account.box.markDelivered(id, ts) : account.box.markSent(id, ts);
    if (!changed) return;
    this.d.outboxChanged();
    this.d.sender.progress();
  }

  private synced(link: Link, head: string | null, gap: boolean): void {
    if (link.dead) return;
    link.online = true;
    this.socket.online();
    this.d.status.set({ state: 'online' });
    this.d.events.emit('synced', { head, gap });
    if (gap) this.d.events.emit('gap', { head });
    const { presence } = link.account;
    if (presence.length > 0) this.write({ t: 'presence', users: presence });
    this.d.requests.sendWaiting((frame) => this.writeRequest(frame));
    this.d.sender.pump();
    this.d.online();
  }
}
