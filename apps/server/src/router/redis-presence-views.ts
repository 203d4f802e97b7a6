import type { Logger } from '../logger.js';
import type { PresenceTarget } from './presence.js';
import { type RedisLink, TIMED_OUT, withTimeout } from './redis-link.js';
import type { RedisMetrics } from './redis-metrics.js';
import { READ } from './redis-presence-scripts.js';

export interface PresenceViewsOptions {
  link: RedisLink;
  metrics: RedisMetrics;
  log: Logger;
  /** How long an answer waits for Redis before it is given from what this node knows. */
  waitMs: number;
  /** Whether this node holds a connection of `user` (the guess when Redis does not answer). */
  isLocal(user: string): boolean;
}

/** Users read from Redis per script call. */
const SLICE = 500;

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
 * The watching side of presence on one node: per watched user a view (online, version),
 * kept current by the changes published on `<p>pc:<user>` (subscribed while some local
 * connection watches that user). Subscribed first, then read: a change after the read
 * comes as an event with a higher version, and an event older than what a view holds is
 * dropped, so a read that raced a change never goes back in time.
 */
export class PresenceViews {
  private readonly views = new Map<string, View>();
  private readonly watches = new Map<PresenceTarget, Watch>();
  /** Per target, the answer still on its way (answers go out in the order of the watches). */
  private readonly answering = new Map<PresenceTarget, Promise<void>>();

  constructor(private readonly opts: PresenceViewsOptions) {}

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
    view.subscribed = this.opts.link.subscribe(this.opts.link.key('pc', user), (m) => this.onChange(view, m));
    view.subscribed.catch(() => {});
    this.views.set(user, view);
    return view;
  }

  /** Ends the target's watch (its answer still on the way is dropped with it when it leaves). */
  unwatch(target: PresenceTarget): void {
    const watch = this.watches.get(target);
    if (!watch) return;
    this.watches.delete(target);
    for (const user of watch.users) {
      const view = this.views.get(user);
      if (!view) continue;
      view.watchers.delete(target);
      if (view.watchers.size === 0) {
        this.views.delete(user);
        this.opts.link.unsubscribe(this.opts.link.key('pc', user));
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
          READ.run(this.opts.link.cmd, [], [this.opts.link.prefix, ...views.map((v) => v.user)]),
          left,
        );
      }
    } catch (err) {
      this.opts.log.debug({ err: (err as Error).message }, 'presence read failed');
    }
    if (!Array.isArray(answer)) {
      for (const view of views) {
        if (view.known) continue;
        view.known = true;
        view.guessed = true;
        view.online = this.opts.isLocal(view.user);
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
  async resync(): Promise<void> {
    const views = [...this.views.values()].filter((v) => v.known && !v.loading);
    for (let i = 0; i < views.length; i += SLICE) await this.read(views.slice(i, i + SLICE), true);
  }

  /** A target that is gone: no watch, no answer. */
  forget(target: PresenceTarget): void {
    this.unwatch(target);
    this.answering.delete(target);
  }

  close(): void {
    for (const user of this.views.keys()) this.opts.link.unsubscribe(this.opts.link.key('pc', user));
    this.views.clear();
    this.watches.clear();
    this.answering.clear();
  }
}
