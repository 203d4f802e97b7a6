import { nextDelay } from './backoff.js';
import type { BackoffOptions } from './options.js';
import type { WebSocketConstructor, WebSocketLike } from './platform-types.js';
import { clearTimer, setTimer, type TimerHandle } from './runtime.js';

/** The handler properties both the browser's WebSocket and `ws` provide. */
interface SocketWithHandlers extends WebSocketLike {
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  /** `ws` only: drops the TCP connection without a closing handshake (for half-open sockets). */
  terminate?: () => void;
}

// WebSocket readyState values (the same in browsers and `ws`).
const OPEN = 1;
const CLOSED = 3;
/** RFC 6455 "normal closure": what the client closes with when it has no code of its own to give. */
const NORMAL_CLOSURE = 1000;
/** RFC 6455: 4000-4999 are the application's own codes (a code the server sent, e.g. 1006, is not ours to send). */
const isApplicationCode = (code: number): boolean => code >= 4000 && code < 5000;
/** Close code this client uses when it gives up on a connection itself (silent, or the network is gone). */
export const CLIENT_GAVE_UP = 4000;

/** What the link reports; the session adds `syncing`, `online`, `offline`, `unauthorized`. */
export type LinkStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'reconnecting'; nextAttemptAt: number; attempt: number; reason: string }
  | { state: 'waiting_for_network' };

export interface SocketHandlers {
  /** The socket is open: say hello. */
  open(): void;
  /** A message arrived (it has already counted as proof that the link is alive). */
  message(data: unknown): void;
  /**
   * The connection ended (also after `stop` or a network loss). Return false to stop for
   * good, or the least number of ms to wait before the next attempt (the backoff comes on top).
   */
  closed(code: number, reason: string): false | number;
  /** Silence for too long: send something the server answers (a ping). */
  probe(): void;
  status(status: LinkStatus): void;
}

export interface SocketOptions {
  url: string;
  WebSocket: WebSocketConstructor;
  backoff: BackoffOptions;
  random: () => number;
  now: () => number;
  connectTimeoutMs: number;
  stableAfterMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  busyPingIntervalMs: number;
  busyPingTimeoutMs: number;
}

interface Link {
  readonly ws: SocketWithHandlers;
  welcomed: boolean;
  onlineSince: number | null;
  connectTimer: TimerHandle;
  watchdog: TimerHandle;
  dead: boolean;
}

/**
 * A WebSocket that reconnects, knowing nothing of the protocol (like partysocket): backoff
 * with full jitter, a connect timeout, a liveness watchdog (faster while the session is busy),
 * and the application's network hints. The protocol session drives it through the handlers.
 */
export class ReconnectingSocket {
  private running = false;
  private networkOnline = true;
  private link: Link | null = null;
  private attempt = 0;
  private reconnectTimer: TimerHandle = null;
  private nextAttemptAt: number | null = null;
  private busy = false;

  constructor(
    private readonly o: SocketOptions,
    private readonly handlers: SocketHandlers,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.networkOnline) this.connect();
    else this.handlers.status({ state: 'waiting_for_network' });
  }

  /** Closes the connection (reported through `closed`) and makes no more attempts. */
  stop(code = NORMAL_CLOSURE, reason = 'client stopped'): void {
    this.running = false;
    this.cancelReconnect();
    const link = this.link;
    if (link) this.end(link, code, reason, false);
  }

  /** Sends on the current connection; false if there is none open. */
  send(text: string): boolean {
    const link = this.link;
    if (!link || link.dead || link.ws.readyState !== OPEN) return false;
    try {
      link.ws.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** The server accepted us (`welcome`): the connect timeout no longer applies. */
  welcomed(): void {
    if (!this.link) return;
    this.link.welcomed = true;
    clearTimer(this.link.connectTimer);
    this.armWatchdog(this.link);
  }

  /** Fully up (`synced`): once it stays up `stableAfterMs`, the next failure backs off from the start. */
  online(): void {
    if (this.link) this.link.onlineSince = this.o.now();
  }

  /** While busy (a send awaits its answer) silence is probed after a much shorter time. */
  setBusy(busy: boolean): void {
    if (busy === this.busy) return;
    this.busy = busy;
    if (this.link?.welcomed) this.armWatchdog(this.link);
  }

  /** Gives up on the current connection (reported through `closed` with `code`). */
  abandon(code: number, reason: string): void {
    if (this.link) this.end(this.link, code, reason, true);
  }

  setNetwork(online: boolean): void {
    const was = this.networkOnline;
    this.networkOnline = online;
    if (!this.running) return;
    if (!online) {
      if (!was) return;
      // A socket on a vanished network can take minutes to notice; drop it now.
      this.cancelReconnect();
      if (this.link) this.end(this.link, CLIENT_GAVE_UP, 'network_offline', true);
      else this.handlers.status({ state: 'waiting_for_network' });
      return;
    }
    // The earlier failures were the network's, not the server's: start the backoff afresh.
    if (!was) this.attempt = 0;
    this.reconnectNow();
  }

  /** Attempts at once: ends a wait, or replaces an attempt that has not been welcomed yet. */
  reconnectNow(): void {
    if (!this.running) return;
    const link = this.link;
    if (link?.welcomed) return;
    if (link) this.end(link, CLIENT_GAVE_UP, 'retry_now', true, false);
    this.cancelReconnect();
    this.connect();
  }

  nextAttemptIn(): number | null {
    return this.nextAttemptAt === null ? null : Math.max(0, this.nextAttemptAt - this.o.now());
  }

  private cancelReconnect(): void {
    clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    this.nextAttemptAt = null;
  }

  private connect(): void {
    this.reconnectTimer = null;
    this.nextAttemptAt = null;
    if (!this.running) return;
    this.handlers.status({ state: 'connecting', attempt: this.attempt });
    let ws: SocketWithHandlers;
    try {
      ws = new this.o.WebSocket(this.o.url) as SocketWithHandlers;
    } catch (err) {
      this.schedule(`cannot open socket: ${err instanceof Error ? err.message : String(err)}`, false);
      return;
    }
    const link: Link = {
      ws,
      welcomed: false,
      onlineSince: null,
      connectTimer: null,
      watchdog: null,
      dead: false,
    };
    this.link = link;
    link.connectTimer = setTimer(
      () => this.end(link, CLIENT_GAVE_UP, 'connect_timeout', true),
      this.o.connectTimeoutMs,
    );
    ws.onopen = () => {
      if (!link.dead) this.handlers.open();
    };
    ws.onmessage = (event) => {
      if (link.dead) return;
      if (link.welcomed) this.armWatchdog(link);
      this.handlers.message(event.data);
    };
    ws.onclose = (event) => {
      if (!link.dead) this.end(link, event.code, event.reason, false);
    };
    ws.onerror = () => {
      // A close event follows every error; what happens next is decided there.
    };
  }

  /** Any frame proves the link alive; after a silence ask with a probe, and give up if that stays unanswered. */
  private armWatchdog(link: Link): void {
    clearTimer(link.watchdog);
    const interval = this.busy ? this.o.busyPingIntervalMs : this.o.pingIntervalMs;
    const timeout = this.busy ? this.o.busyPingTimeoutMs : this.o.pingTimeoutMs;
    link.watchdog = setTimer(() => {
      if (link.dead) return;
      this.handlers.probe();
      link.watchdog = setTimer(() => this.end(link, CLIENT_GAVE_UP, 'ping_timeout', true), timeout);
    }, interval);
  }

  /**
   * Ends a connection: closes the socket (`drop`: without waiting for a closing handshake, for
   * links that may be dead), reports it, then waits for the network, backs off, or stops.
   */
  private end(link: Link, code: number, reason: string, drop: boolean, thenReconnect = true): void {
    if (link.dead) return;
    link.dead = true;
    clearTimer(link.connectTimer);
    clearTimer(link.watchdog);
    if (this.link === link) this.link = null;
    if (link.ws.readyState !== CLOSED) {
      if (drop && link.ws.terminate) link.ws.terminate();
      else link.ws.close(isApplicationCode(code) ? code : NORMAL_CLOSURE, reason);
    }
    const stayedUp = link.onlineSince !== null && this.o.now() - link.onlineSince >= this.o.stableAfterMs;
    const again = this.handlers.closed(code, reason);
    if (!this.running || !thenReconnect) return;
    if (again === false) {
      this.running = false;
      return;
    }
    if (!this.networkOnline) this.handlers.status({ state: 'waiting_for_network' });
    else this.schedule(`closed_${code}`, stayedUp, again);
  }

  private schedule(reason: string, stayedUp: boolean, minDelayMs = 0): void {
    if (stayedUp) this.attempt = 0;
    const delay = minDelayMs + nextDelay(this.attempt, this.o.backoff, this.o.random);
    this.attempt++;
    this.nextAttemptAt = this.o.now() + delay;
    this.handlers.status({
      state: 'reconnecting',
      nextAttemptAt: this.nextAttemptAt,
      attempt: this.attempt,
      reason,
    });
    clearTimer(this.reconnectTimer);
    this.reconnectTimer = setTimer(() => this.connect(), delay);
  }
}
