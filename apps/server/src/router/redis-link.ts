import crypto from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import type { RedisMetrics } from './redis-metrics.js';

/** Longest pause between two reconnection attempts: bounds how long a restarted Redis goes unnoticed. */
const MAX_RETRY_DELAY_MS = 1000;

/** What `withTimeout` resolves with when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** `promise`, or TIMED_OUT after `ms` (the promise keeps running; its rejection is swallowed). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * A Lua script run by its SHA1 (EVALSHA), loaded again with EVAL when Redis answers
 * NOSCRIPT (after a restart, its script cache is empty).
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = crypto.createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

type ChannelHandler = (message: string) => void;

export interface RedisLinkOptions {
  /** `redis://[user:pass@]host:port[/db]`, `rediss://…`, or the path of a unix socket. */
  url: string;
  log: Logger;
  metrics: RedisMetrics;
  /** Prefix of every key and channel (several deployments may share one Redis). */
  prefix?: string;
}

/**
 * The node's two connections to Redis: `cmd` for commands, scripts and publishes (auto-
 * pipelined: what one event-loop turn issues goes out in one write), `sub` for
 * subscriptions. Both reconnect by themselves, forever, at most MAX_RETRY_DELAY_MS apart.
 * After `sub` comes back, every channel is subscribed again and `onResubscribed` listeners
 * run (publications sent while it was away are lost: they catch up from the store); after
 * `cmd` comes back, `onReconnected` listeners run (Redis may have restarted empty).
 */
export class RedisLink {
  /** This process's id among the nodes: random per start, so a restarted node is a new node. */
  readonly nodeId = crypto.randomBytes(9).toString('base64url');
  readonly prefix: string;
  readonly cmd: Redis;
  readonly sub: Redis;
  private readonly handlers = new Map<string, ChannelHandler>();
  private readonly resubscribedListeners = new Set<() => void>();
  private readonly reconnectedListeners = new Set<() => void>();
  private readonly log: Logger;
  private closed = false;
  /** Per connection: it was lost and has not come back yet (the first connection attempt does not count). */
  private readonly down = { cmd: false, sub: false };

  constructor(opts: RedisLinkOptions) {
    this.prefix = opts.prefix ?? 'pigeon:';
    this.log = opts.log.child({ redis: this.nodeId });
    const common: RedisOptions = {
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), MAX_RETRY_DELAY_MS),
      // Node's default keep-alive would take minutes to notice a vanished Redis host.
      keepAlive: 5000,
      enableReadyCheck: true,
    };
    this.cmd = new Redis(opts.url, {
      ...common,
      connectionName: `pigeon-${this.nodeId}-cmd`,
      enableAutoPipelining: true,
      // Commands issued while Redis is away wait for it (publishes are hints: a late one
      // is dropped as a repeat); after this many reconnection attempts they fail instead.
      maxRetriesPerRequest: 20,
    });
    this.sub = new Redis(opts.url, {
      ...common,
      connectionName: `pigeon-${this.nodeId}-sub`,
      maxRetriesPerRequest: null,
    });
    this.watch(this.cmd, 'cmd', opts.metrics, () => {
      for (const f of this.reconnectedListeners) f();
    });
    this.watch(this.sub, 'sub', opts.metrics, () => void this.resubscribe());
    this.sub.on('message', (channel: string, message: string) => this.handlers.get(channel)?.(message));
  }

  private watch(conn: Redis, name: 'cmd' | 'sub', metrics: RedisMetrics, onReconnect: () => void): void {
    let everReady = false;
    conn.on('ready', () => {
      metrics.up.labels(name).set(1);
      const wasDown = this.down[name];
      if (wasDown) {
        this.log.info({ connection: name }, 'redis connection is back');
        metrics.reconnects.labels(name).inc();
      }
      this.down[name] = false;
      // A first connection after failed attempts (Redis was down when the node started)
      // is a reconnect too: things were published or registered without it meanwhile.
      if (everReady || wasDown) onReconnect();
      everReady = true;
    });
    conn.on('close', () => {
      metrics.up.labels(name).set(0);
      if (!this.down[name] && !this.closed)
        this.log.warn({ connection: name }, 'redis connection lost; reconnecting');
      this.down[name] = true;
    });
    conn.on('error', (err: Error) => {
      // Every failed reconnection attempt emits one: log the first of an outage only.
      if (!this.down[name]) this.log.warn({ connection: name, err: err.message }, 'redis error');
    });
  }

  /** False once the subscription connection was lost, until it is back (publications do not arrive). */
  get subscriptionsUp(): boolean {
    return !this.down.sub;
  }

  /**
   * False once the command connection was lost, until it is back: callers that must not
   * wait (rate limits, typing) go without Redis then instead of queueing behind it.
   */
  get commandsUp(): boolean {
    return !this.down.cmd;
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  /**
   * Routes `channel`'s messages to `handler` and subscribes; resolves once Redis confirmed
   * the subscription (a publication processed after that reaches this node).
   */
  async subscribe(channel: string, handler: ChannelHandler): Promise<void> {
    this.handlers.set(channel, handler);
    await this.sub.subscribe(channel);
  }

  unsubscribe(channel: string): void {
    if (!this.handlers.delete(channel) || this.closed) return;
    void this.sub.unsubscribe(channel).catch(() => {
      // The connection is gone: it resubscribes only what `handlers` holds.
    });
  }

  /** Called after `sub` reconnected: after this, publications reach this node again. */
  onResubscribed(listener: () => void): void {
    this.resubscribedListeners.add(listener);
  }

  /** Called after `cmd` reconnected: Redis may be a fresh, empty instance. */
  onReconnected(listener: () => void): void {
    this.reconnectedListeners.add(listener);
  }

  private async resubscribe(): Promise<void> {
    const channels = [...this.handlers.keys()];
    try {
      // ioredis resubscribes by itself too; this one resolves only once Redis confirmed
      // every channel, which is the moment catching up from the store becomes safe.
      for (let i = 0; i < channels.length; i += 1000) {
        await this.sub.subscribe(...channels.slice(i, i + 1000));
      }
    } catch (err) {
      // Lost again meanwhile: the next 'ready' runs this again.
      this.log.warn({ err: (err as Error).message }, 'resubscribing failed');
      return;
    }
    for (const f of this.resubscribedListeners) f();
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.cmd.publish(channel, message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    await Promise.all(
      [this.cmd, this.sub].map(async (conn) => {
        try {
          await withTimeout(conn.quit(), 1000);
        } catch {
          // already gone
        }
        conn.disconnect();
      }),
    );
  }
}
