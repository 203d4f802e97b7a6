import type { Logger } from '../logger.js';
import type { Presence, PresenceTarget } from './presence.js';
import { type RedisLink, TIMED_OUT, withTimeout } from './redis-link.js';
import type { RedisMetrics } from './redis-metrics.js';
import { BEAT, DROP, JOIN, LEAVE, READ, REAP } from './redis-presence-scripts.js';

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

interface View {
  user: string;
  online: boolean;
  /** Version of the state held; events with a lower one are stale. */
  version: number;
  /** False until read from Redis (or answered locally because Redis did not answer). */
  known: boolean;
  /** True when `online` is this node's guess (Redis did not answer): the next resync corrects it. */
  guessed: boolean;
  loading: Promise<void> | null;
  subscribed: Promise<void>;
  readonly watchers: Set<PresenceTarget>;
}

interface Watch {
  users: string[];
  /** False until the target got the initial state of every user on its list. */
  ready: boolean;
}

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
  private readonly views = new Map<string, View>();
  private readonly watches = new Map<PresenceTarget, Watch>();
  /** Per target, the answer still on its way (answers go out in the order of the watches). */
  private readonly answering = new Map<PresenceTarget, Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly link: RedisLink;
  private readonly log: Logger;
  private closed = false;
  private beating = false;
  private reaping = false;

  constructor(private readonly opts: RedisPresenceOptions) {
    this.link = opts.link;
    this.log = opts.log;
    const beat = setInterval(() => void this.beat(), Math.max(250, Math.floor(opts.ttlMs / 4)));
    const reap = setInterval(() => void this.reap(), REAP_EVERY_MS);
    for (const t of [beat, reap]) t.unref();
    this.timers.push(beat, reap);
    this.link.onReconnected(() => void this.beat());
    this.link.onResubscribed(() => void this.resync());
    void this.beat();
  }

  join(target: PresenceTarget): void {
    const n = (this.local.get(target.user) ?? 0) + 1;
    this.local.set(target.user, n);
    if (n === 1) this.touch(target.user);
  }

  leave(target: PresenceTarget): void {
    this.unwatch(target);
    this.answering.delete(target);
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

  /**
   * Answers with the current state of each listed user, in list order, once every one of
   * them is known (a user no node watched yet costs one subscription and one read). The
   * promise resolves after the answer went out; the connection handles its next frame
   * only then, so answers keep the order of the requests. A list replaced before its
   * answer still gets it (it was applied), then the newer one's.
   */
  watch(target: PresenceTarget, users: readonly string[]): Promise<void> | undefined {
    this.unwatch(target);
    const watch: Watch = { users: [...new Set(users)], ready: false };
    this.watches.set(target, watch);
    const views: View[] = [];
    const unknown: View[] = [];
    for (const user of watch.users) {
      const view = this.views.get(user) ?? this.openView(user);
      view.watchers.add(target);
      views.push(view);
      if (!view.known) unknown.push(view);
    }
    const earlier = this.answering.get(target);
    if (unknown.length === 0 && !earlier) {
      this.answer(target, watch, views);
      return undefined;
    }
    const answered = Promise.all([earlier, unknown.length > 0 ? this.load(unknown) : undefined]).then(() =>
      this.answer(target, watch, views),
    );
    this.answering.set(target, answered);
    void answered.then(() => {
      if (this.answering.get(target) === answered) this.answering.delete(target);
    });
    return answered;
  }

  /** The states of `views` as they are now; from then on the watch (if still current) gets changes. */
  private answer(target: PresenceTarget, watch: Watch, views: View[]): void {
    watch.ready = true;
    for (const view of views) target.deliverPresence(view.user, view.online);
  }

  private openView(user: string): View {
    const view: View = {
      user,
      online: false,
      version: 0,
      known: false,
      guessed: false,
      loading: null,
      subscribed: Promise.resolve(),
      watchers: new Set(),
    };
    view.subscribed = this.link.subscribe(this.link.key('pc', user), (m) => this.onChange(view, m));
    view.subscribed.catch(() => {});
    this.views.set(user, view);
    return view;
  }

  private unwatch(target: PresenceTarget): void {
    const watch = this.watches.get(target);
    if (!watch) return;
    this.watches.delete(target);
    for (const user of watch.users) {
      const view = this.views.get(user);
      if (!view) continue;
      view.watchers.delete(target);
      if (view.watchers.size === 0) {
        this.views.delete(user);
        this.link.unsubscribe(this.link.key('pc', user));
      }
    }
  }

  /** Reads the views not being read already; resolves when all of `views` are known. */
  private async load(views: View[]): Promise<void> {
    const fresh = views.filter((v) => !v.loading);
    if (fresh.length > 0) {
      const loading = this.read(fresh, false);
      for (const v of fresh) v.loading = loading;
      void loading.finally(() => {
        for (const v of fresh) if (v.loading === loading) v.loading = null;
      });
    }
    await Promise.all(views.map((v) => v.loading));
  }

  /**
   * Subscribed first (confirmed), then read: a change after the read arrives as an event
   * with a higher version. Never rejects: when Redis does not answer within waitMs, a view
   * not known yet takes this node's own knowledge (its local connections) as a guess.
   * `reset`: take Redis's answer even when older (after a reconnect Redis may be new).
   */
  private async read(views: View[], reset: boolean): Promise<void> {
    const deadline = Date.now() + this.opts.waitMs;
    let answer: unknown = TIMED_OUT;
    try {
      const subscribed = await withTimeout(Promise.all(views.map((v) => v.subscribed)), this.opts.waitMs);
      if (subscribed !== TIMED_OUT) {
        const left = Math.max(1, deadline - Date.now());
        answer = await withTimeout(
          READ.run(this.link.cmd, [], [this.link.prefix, ...views.map((v) => v.user)]),
          left,
        );
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'presence read failed');
    }
    if (!Array.isArray(answer)) {
      for (const view of views) {
        if (view.known) continue;
        view.known = true;
        view.guessed = true;
        view.online = this.local.has(view.user);
      }
      return;
    }
    views.forEach((view, i) => {
      const online = Number(answer[2 * i]) === 1;
      const version = Number(answer[2 * i + 1]);
      if (!reset && view.known && !view.guessed && version < view.version) return;
      if (!reset && !view.known && version < view.version) {
        // An event newer than the read came first: it holds.
        view.known = true;
        return;
      }
      const changed = view.known && view.online !== online;
      view.online = online;
      view.version = version;
      view.known = true;
      view.guessed = false;
      if (changed) this.notify(view);
    });
  }

  private onChange(view: View, message: string): void {
    const [v, b] = message.split(' ');
    const version = Number(v);
    if (!Number.isSafeInteger(version) || (b !== '0' && b !== '1')) {
      this.opts.metrics.badMessages.inc();
      return;
    }
    if (version <= view.version && !view.guessed) return;
    const online = b === '1';
    const changed = view.known && view.online !== online;
    view.version = version;
    view.online = online;
    view.guessed = false;
    if (changed) this.notify(view);
  }

  private notify(view: View): void {
    for (const t of view.watchers) if (this.watches.get(t)?.ready) t.deliverPresence(view.user, view.online);
  }

  /** After the subscriptions came back: read every watched user again (events were missed). */
  private async resync(): Promise<void> {
    const views = [...this.views.values()].filter((v) => v.known && !v.loading);
    for (let i = 0; i < views.length; i += SLICE) await this.read(views.slice(i, i + SLICE), true);
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
    for (const user of this.views.keys()) this.link.unsubscribe(this.link.key('pc', user));
    this.views.clear();
    this.watches.clear();
    this.answering.clear();
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
