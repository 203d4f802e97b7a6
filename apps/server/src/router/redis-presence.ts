import type { Logger } from '../logger.js';
import type { Presence, PresenceTarget } from './presence.js';
import { type RedisLink, TIMED_OUT, withTimeout } from './redis-link.js';
import type { RedisMetrics } from './redis-metrics.js';
import { BEAT, DROP, JOIN, LEAVE, REAP } from './redis-presence-scripts.js';
import { PresenceViews } from './redis-presence-views.js';

export interface RedisPresenceOptions {
  link: RedisLink;
  metrics: RedisMetrics;
  log: Logger;
  /**
   * A node that stops beating is declared dead this long after its last beat and its users
   * go offline (within ttlMs + REAP_EVERY_MS of a kill -9). Beats come every ttlMs / 4.
   */
  ttlMs: number;
  /** How long a watch waits for Redis before answering from what this node knows. */
  waitMs: number;
}

/** How often each node looks for dead nodes (cheap: one range query on a small sorted set). */
export const REAP_EVERY_MS = 1000;
/** Users per script call when a node's users are taken offline or registered again. */
const SLICE = 500;
/** Slices of dead nodes one reaper tick handles at most (the rest next tick). */
const REAP_SLICES_PER_TICK = 20;
/** An offline user's version is kept this long (see redis-presence-scripts.ts). */
const OFFLINE_KEEP_MS = 3_600_000;

/**
 * Presence across nodes. Each node keeps a count of its open connections per user and
 * tells Redis when a user's first connection opens there and its last one closes (in one
 * script call per event-loop turn, so a reconnect within the turn is no change). Redis
 * holds, per user, the set of nodes holding them; a node that dies stops beating and any
 * node's reaper takes its users offline. Watchers subscribe to `<p>pc:<user>` and keep a
 * versioned view per watched user, so a read that raced a change cannot go back in time.
 */
export class RedisPresence implements Presence {
  private readonly local = new Map<string, number>();
  /** Users whose local count went to or from 0 during this turn. */
  private touched = new Set<string>();
  private flushScheduled = false;
  /** A join or leave did not reach Redis: register everything again at the next beat. */
  private dirty = false;
  private readonly views: PresenceViews;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly link: RedisLink;
  private readonly log: Logger;
  private closed = false;
  private beating = false;
  private reaping = false;

  constructor(private readonly opts: RedisPresenceOptions) {
    this.link = opts.link;
    this.log = opts.log;
    this.views = new PresenceViews({ ...opts, isLocal: (user) => this.local.has(user) });
    const beat = setInterval(() => void this.beat(), Math.max(250, Math.floor(opts.ttlMs / 4)));
    const reap = setInterval(() => void this.reap(), REAP_EVERY_MS);
    for (const t of [beat, reap]) t.unref();
    this.timers.push(beat, reap);
    this.link.onReconnected(() => void this.beat());
    this.link.onResubscribed(() => void this.views.resync());
    void this.beat();
  }

  join(target: PresenceTarget): void {
    const n = (this.local.get(target.user) ?? 0) + 1;
    this.local.set(target.user, n);
    if (n === 1) this.touch(target.user);
  }

  leave(target: PresenceTarget): void {
    this.views.forget(target);
    const n = this.local.get(target.user);
    if (n === undefined) return;
    if (n > 1) {
      this.local.set(target.user, n - 1);
      return;
    }
    this.local.delete(target.user);
    this.touch(target.user);
  }

  private touch(user: string): void {
    if (this.closed) return;
    this.touched.add(user);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  /** Tells Redis the net change of this turn: a user touched twice in one turn counts once. */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.closed) return;
    const users = [...this.touched];
    this.touched = new Set();
    const joined = users.filter((u) => this.local.has(u));
    const left = users.filter((u) => !this.local.has(u));
    try {
      await this.runSliced(joined, (slice) =>
        JOIN.run(this.link.cmd, [], [this.link.prefix, this.link.nodeId, ...slice]),
      );
      await this.runSliced(left, (slice) =>
        LEAVE.run(this.link.cmd, [], [this.link.prefix, this.link.nodeId, OFFLINE_KEEP_MS, ...slice]),
      );
    } catch (err) {
      if (this.closed) return;
      this.dirty = true;
      this.log.warn({ err: (err as Error).message }, 'presence update failed; resyncing at the next beat');
    }
  }

  private async runSliced(users: string[], f: (slice: string[]) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < users.length; i += SLICE) await f(users.slice(i, i + SLICE));
  }

  /** Keeps this node alive in Redis; registers all its users again when Redis had lost them. */
  private async beat(): Promise<void> {
    if (this.closed || this.beating) return;
    this.beating = true;
    try {
      const known = await BEAT.run(this.link.cmd, [], [this.link.prefix, this.link.nodeId, this.opts.ttlMs]);
      if (known !== 1 || this.dirty) await this.register();
    } catch (err) {
      if (!this.closed) this.log.debug({ err: (err as Error).message }, 'presence beat failed');
    } finally {
      this.beating = false;
    }
  }

  /** Makes Redis's set of this node's users equal to the local one (each change published). */
  private async register(): Promise<void> {
    this.dirty = false;
    try {
      const users = [...this.local.keys()];
      await this.runSliced(users, (slice) =>
        JOIN.run(this.link.cmd, [], [this.link.prefix, this.link.nodeId, ...slice]),
      );
      const remote = await this.link.cmd.smembers(this.link.key('nu', this.link.nodeId));
      const extra = remote.filter((u) => !this.local.has(u));
      await this.runSliced(extra, (slice) =>
        LEAVE.run(this.link.cmd, [], [this.link.prefix, this.link.nodeId, OFFLINE_KEEP_MS, ...slice]),
      );
      this.log.info({ users: users.length, removed: extra.length }, 'presence registered with redis');
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  /** Takes the users of dead nodes offline, a few slices per tick; any node may do it, the script is atomic. */
  private async reap(): Promise<void> {
    if (this.closed || this.reaping || !this.link.commandsUp) return;
    this.reaping = true;
    try {
      for (let i = 0; i < REAP_SLICES_PER_TICK; i++) {
        const r = await REAP.run(this.link.cmd, [], [this.link.prefix, SLICE, OFFLINE_KEEP_MS]);
        if (!Array.isArray(r)) break;
        const [node, more] = r as [string, number];
        if (more === 0) {
          this.opts.metrics.nodesReaped.inc();
          this.log.warn({ node }, 'presence: a node stopped beating; its users are offline');
        }
      }
    } catch (err) {
      if (!this.closed) this.log.debug({ err: (err as Error).message }, 'presence reap failed');
    } finally {
      this.reaping = false;
    }
  }

  watch(target: PresenceTarget, users: readonly string[]): Promise<void> | undefined {
    return this.views.watch(target, users);
  }

  /** Users with an open connection on this node (for tests and diagnostics). */
  localUsers(): string[] {
    return [...this.local.keys()];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    if (this.flushScheduled) await this.flush();
    this.closed = true;
    this.views.close();
    // A clean shutdown takes this node's users offline now instead of after the TTL.
    try {
      const drop = async (): Promise<void> => {
        for (let more = 1; more === 1; ) {
          more = Number(
            await DROP.run(this.link.cmd, [], [this.link.prefix, this.link.nodeId, SLICE, OFFLINE_KEEP_MS]),
          );
        }
      };
      if ((await withTimeout(drop(), this.opts.waitMs * 4)) === TIMED_OUT) {
        this.log.warn(
          "presence: redis did not answer at shutdown; this node's users go offline after the TTL",
        );
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'presence: could not unregister at shutdown');
    }
    this.local.clear();
  }
}
