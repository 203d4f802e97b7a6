// Over ~300 lines on purpose: one class: publishing, the per-mailbox feeds and the sweep share the feeds map and the
// link's state (lost publications, pokes); the ordering logic itself is in redis-feed.ts.
import type { MsgFrame, UpdateFrame } from '@pigeon/protocol';
import type { Logger } from '../logger.js';
import type { BlockChange } from '../store/feature-types.js';
import type { Entry, Receipt } from '../store/store.js';
import { addEntries, type BusBatch, busOrigin, decodeBus, encodeBus } from './redis-codec.js';
import { MailboxFeed, type MailboxReader, ReadGate } from './redis-feed.js';
import { type RedisLink, TIMED_OUT, withTimeout } from './redis-link.js';
import type { RedisMetrics } from './redis-metrics.js';
import type { Router, RouteTarget } from './router.js';

export interface RedisRouterOptions {
  link: RedisLink;
  /** The system of record, for gaps and catch-ups. */
  reader: MailboxReader;
  metrics: RedisMetrics;
  log: Logger;
  /** Every local mailbox is compared with its store head at least this often while Redis is up. */
  sweepMs: number;
  /** …and this often while the subscription connection is down (polling replaces publications). */
  pollMs: number;
  /** How long `attach` waits for Redis to confirm a subscription before going on without it. */
  subscribeWaitMs: number;
}

/** Mailboxes whose publication failed, remembered to poke them once Redis is back; past this, poke all. */
const MAX_UNPUBLISHED = 10_000;
/** Catch-up reads of mailbox heads running at once on one node. */
const CATCH_UP_CONCURRENCY = 8;
const SWEEP_TICK_MS = 1000;

interface Feed extends MailboxFeed {
  ready?: Promise<void>;
}

/**
 * Routing across nodes through Redis pub/sub: one channel per user (`<prefix>u:<user>`),
 * subscribed by the nodes that hold a connection of that user. After a commit the relay
 * hands the entries here: they go to this node's targets at once and are published for
 * the other nodes. Redis holds nothing authoritative: each mailbox's order and
 * completeness come from the store (see MailboxFeed), so a lost, late, repeated or
 * reordered publication can delay an entry, never lose, repeat or reorder it.
 */
export class RedisRouter implements Router {
  private readonly feeds = new Map<string, Feed>();
  private readonly gate = new ReadGate(CATCH_UP_CONCURRENCY);
  private readonly link: RedisLink;
  private readonly log: Logger;
  private readonly metrics: RedisMetrics;
  private readonly unpublished = new Set<string>();
  private pokeAll = false;
  /** What this turn produced per user, published as one message per user at the end of the turn. */
  private outgoing = new Map<string, BusBatch>();
  private flushScheduled = false;
  private sweepQueue: string[] = [];
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly controlChannel: string;
  private closed = false;

  constructor(private readonly opts: RedisRouterOptions) {
    this.link = opts.link;
    this.log = opts.log;
    this.metrics = opts.metrics;
    this.controlChannel = this.link.key('ctl');
    void this.link.subscribe(this.controlChannel, (m) => this.onControl(m)).catch(() => {});
    // Publications sent while this node was not subscribed are lost: read what they carried.
    this.link.onResubscribed(() => this.catchUpAll('reconnect'));
    this.link.onReconnected(() => this.flushPokes());
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_TICK_MS);
    this.sweepTimer.unref();
  }

  async attach(target: RouteTarget): Promise<void> {
    let feed = this.feeds.get(target.user);
    if (!feed) feed = this.openFeed(target.user);
    feed.targets.add(target);
    try {
      await feed.ready;
    } catch (err) {
      this.detach(target);
      throw err;
    }
  }

  detach(target: RouteTarget): void {
    const feed = this.feeds.get(target.user);
    if (!feed?.targets.delete(target)) return;
    if (feed.targets.size === 0) this.closeFeed(feed);
  }

  private openFeed(user: string): Feed {
    const feed: Feed = new MailboxFeed(user, this.opts.reader, this.gate, {
      onRepeat: () => this.metrics.repeats.inc(),
      onRead: (reason) => this.metrics.storeReads.labels(reason).inc(),
      onFromStore: (n) => this.metrics.entriesFromStore.inc(n),
      onReadError: (err) => this.log.warn({ err, user }, 'router store read failed; retrying'),
    });
    this.feeds.set(user, feed);
    feed.ready = this.startFeed(feed);
    return feed;
  }

  /** Subscribe (confirmed), then read the head: the order that closes the replay race across nodes. */
  private async startFeed(feed: Feed): Promise<void> {
    const subscribed = this.link.subscribe(this.link.key('u', feed.user), (m) => this.onMessage(feed, m));
    let confirmed: unknown = TIMED_OUT;
    try {
      confirmed = await withTimeout(subscribed, this.opts.subscribeWaitMs);
    } catch {
      // The link is closing, or Redis refused: carry on as when it is late.
    }
    if (confirmed === TIMED_OUT) {
      // Redis is away: the connection opens anyway (local delivery works without Redis);
      // once the subscription is confirmed, whatever was published meanwhile is read back.
      subscribed.then(
        () => feed.catchUp(),
        () => {},
      );
    }
    await feed.start();
  }

  private closeFeed(feed: Feed): void {
    feed.close();
    if (this.feeds.get(feed.user) === feed) {
      this.feeds.delete(feed.user);
      this.link.unsubscribe(this.link.key('u', feed.user));
    }
  }

  private onMessage(feed: Feed, text: string): void {
    // This node handed its own publications out before publishing them: skip them unparsed.
    if (busOrigin(text) === this.link.nodeId) return;
    const decoded = decodeBus(text);
    if (!decoded.ok) {
      this.metrics.badMessages.inc();
      this.log.warn({ user: feed.user, error: decoded.error }, 'undecodable message on a user channel');
      return;
    }
    const m = decoded.message;
    if (m.e) {
      this.metrics.received.labels('entry').inc(m.e.length);
      for (const e of m.e) feed.offer({ owner: feed.user, seq: e.s, frame: e.f as MsgFrame | UpdateFrame });
    }
    if (m.r) {
      this.metrics.received.labels('receipt').inc(m.r.length);
      for (const r of m.r) if (r.sender === feed.user) for (const t of feed.targets) t.deliverReceipt(r);
    }
    if (m.t) {
      this.metrics.received.labels('typing').inc(m.t.length);
      for (const from of m.t) for (const t of feed.targets) t.deliverTyping(from);
    }
    if (m.b) {
      this.metrics.received.labels('block').inc(m.b.length);
      for (const b of m.b) {
        if (b.blocker === feed.user || b.target === feed.user)
          for (const t of feed.targets) t.deliverBlock(b);
      }
    }
    if (m.p) {
      this.metrics.received.labels('poke').inc();
      feed.catchUp();
    }
  }

  private onControl(text: string): void {
    // `dead <node>`: a node died (its last commits may never have been published);
    // `catchup <node>`: a node could not publish for a while.
    const [kind, node] = text.split(' ');
    if (node === this.link.nodeId) return;
    if (kind === 'dead' || kind === 'catchup') this.catchUpAll(kind === 'dead' ? 'node_dead' : 'poke');
  }

  private catchUpAll(reason: string): void {
    if (this.closed || this.feeds.size === 0) return;
    this.log.info({ reason, mailboxes: this.feeds.size }, 'router catching up from the store');
    for (const feed of this.feeds.values()) feed.catchUp();
  }

  /**
   * Compares a slice of the local mailboxes with their store heads each tick, so each is
   * checked once per sweepMs (pollMs while publications cannot arrive): the bound on how
   * late an entry whose publication was lost in some other way shows up.
   */
  private sweep(): void {
    if (this.closed || this.feeds.size === 0) return;
    const period = this.link.subscriptionsUp ? this.opts.sweepMs : this.opts.pollMs;
    const budget = Math.ceil((this.feeds.size * SWEEP_TICK_MS) / Math.max(period, SWEEP_TICK_MS));
    for (let i = 0; i < budget; i++) {
      if (this.sweepQueue.length === 0) {
        this.sweepQueue = [...this.feeds.keys()];
        if (i > 0) return;
      }
      const user = this.sweepQueue.pop()!;
      this.feeds.get(user)?.catchUp();
    }
  }

  publishEntries(entries: readonly Entry[]): void {
    let owner = '';
    let feed: Feed | undefined;
    let batch: BusBatch | undefined;
    for (const entry of entries) {
      if (entry.owner !== owner) {
        owner = entry.owner;
        feed = this.feeds.get(owner);
        batch = this.batch(owner);
      }
      feed?.offer(entry);
      addEntries(batch!, [entry]);
    }
  }

  publishReceipt(receipt: Receipt): void {
    const feed = this.feeds.get(receipt.sender);
    if (feed) for (const t of feed.targets) t.deliverReceipt(receipt);
    const batch = this.batch(receipt.sender);
    batch.r ??= [];
    batch.r.push({ sender: receipt.sender, id: receipt.id, to: receipt.to });
  }

  publishTyping(from: string, to: string): void {
    const feed = this.feeds.get(to);
    if (feed) for (const t of feed.targets) t.deliverTyping(from);
    // Ephemeral: while Redis is away, typing notices to other nodes are simply dropped.
    if (!this.link.commandsUp) return;
    const batch = this.batch(to);
    batch.t ??= [];
    batch.t.push(from);
  }

  publishBlock(change: BlockChange): void {
    for (const user of new Set([change.blocker, change.target])) {
      const feed = this.feeds.get(user);
      if (feed) for (const t of feed.targets) t.deliverBlock(change);
      // Ephemeral like typing: a connection opened later reads the block state from the store.
      if (!this.link.commandsUp) continue;
      const batch = this.batch(user);
      batch.b ??= [];
      batch.b.push({ blocker: change.blocker, target: change.target, blocked: change.blocked });
    }
  }

  /**
   * The batch of `user` for this turn. Everything a turn produces for one user (a group
   * commit hands over many entries of the same mailboxes) goes out as one publication at
   * the end of the turn (process.nextTick: after the relay's dispatch loop, before any I/O).
   */
  private batch(user: string): BusBatch {
    let batch = this.outgoing.get(user);
    if (!batch) {
      batch = {};
      this.outgoing.set(user, batch);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(() => this.flush());
      }
    }
    return batch;
  }

  private flush(): void {
    this.flushScheduled = false;
    const out = this.outgoing;
    this.outgoing = new Map();
    if (this.closed) return;
    for (const [user, batch] of out) this.publish(user, batch);
  }

  private publish(user: string, batch: BusBatch): void {
    if (batch.e) this.metrics.published.labels('entry').inc(batch.e.length);
    if (batch.r) this.metrics.published.labels('receipt').inc(batch.r.length);
    if (batch.t) this.metrics.published.labels('typing').inc(batch.t.length);
    if (batch.b) this.metrics.published.labels('block').inc(batch.b.length);
    if (batch.p) this.metrics.published.labels('poke').inc();
    // Only what a store read can bring back is worth a poke after a failure (not typing).
    const remember = batch.e !== undefined || batch.r !== undefined || batch.p !== undefined;
    this.link.publish(this.link.key('u', user), encodeBus(this.link.nodeId, batch)).catch(() => {
      this.metrics.publishFailures.inc();
      if (!remember) return;
      if (this.unpublished.size >= MAX_UNPUBLISHED) this.pokeAll = true;
      else this.unpublished.add(user);
    });
  }

  /** Redis is back for publishing: tell the nodes of the mailboxes whose publication failed. */
  private flushPokes(): void {
    const users = [...this.unpublished];
    this.unpublished.clear();
    if (this.pokeAll) {
      this.pokeAll = false;
      this.link.publish(this.controlChannel, `catchup ${this.link.nodeId}`).catch(() => {
        this.pokeAll = true;
      });
    }
    for (const user of users) this.batch(user).p = 1;
  }

  /** Local mailboxes and the position each was handed up to (for tests and diagnostics). */
  positions(): Map<string, number> {
    return new Map([...this.feeds].map(([user, feed]) => [user, feed.position]));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const feed of [...this.feeds.values()]) this.closeFeed(feed);
    this.link.unsubscribe(this.controlChannel);
  }
}
