import type { BlockChange, BlockRelations } from '../store/feature-types.js';

/** Where the filter tells what a connection may see of someone's presence. */
export interface PresenceOut {
  writePresence(user: string, online: boolean): void;
}

/**
 * One connection's side of blocking for the live parts (PROTOCOL.md "Block"): while either
 * of two users blocks the other, each is reported offline to the other's presence
 * subscriptions and their typing notices are dropped both ways. It starts from the store's
 * relations (read while the connection opens) and follows block changes as the router
 * hands them over. Presence is filtered here, per connection, so the presence engines
 * (memory, Redis) stay unaware of blocks.
 *
 * A connection makes one only when the store has relations for it or on the first block
 * change or presence report (most never see either), and the sets and maps are made when
 * their first entry goes in.
 */
export class BlockFilter {
  private blocked: Set<string> | null = null;
  private blockedBy: Set<string> | null = null;
  /** Changes that arrived while the relations were being read: applied after them. */
  private early: BlockChange[] | null = null;
  /** Online state of watched users as the presence layer reports it… */
  private truth: Map<string, boolean> | null = null;
  /** …and as this connection was last told it. */
  private told: Map<string, boolean> | null = null;

  /**
   * `loaded`: the store's relations were read already and there were none (a filter made
   * on the first change or presence report); otherwise changes wait for `load`.
   */
  constructor(
    private readonly me: string,
    private readonly out: PresenceOut,
    private loaded = false,
  ) {}

  /** The relations read from the store; changes handed over meanwhile are applied on top. */
  load(relations: BlockRelations): void {
    for (const u of relations.blocked) this.blocked = withUser(this.blocked, u);
    for (const u of relations.blockedBy) this.blockedBy = withUser(this.blockedBy, u);
    this.loaded = true;
    const early = this.early ?? [];
    this.early = null;
    for (const c of early) this.change(c);
  }

  /** True while `user` and this connection's user are separated by a block, either way. */
  hides(user: string): boolean {
    return this.blocked?.has(user) === true || this.blockedBy?.has(user) === true;
  }

  /** A new presence subscription starts: each of its users is reported once, whatever was told before. */
  resubscribed(): void {
    this.truth?.clear();
    this.told?.clear();
  }

  /** The presence layer reports `user`'s state: tell the connection what it may see of it. */
  presence(user: string, online: boolean): void {
    this.truth ??= new Map();
    this.truth.set(user, online);
    this.show(user);
  }

  change(c: BlockChange): void {
    if (!this.loaded) {
      this.early ??= [];
      this.early.push(c);
      return;
    }
    let other: string;
    if (c.blocker === this.me) {
      other = c.target;
      if (c.blocked) this.blocked = withUser(this.blocked, other);
      else this.blocked?.delete(other);
    } else if (c.target === this.me) {
      other = c.blocker;
      if (c.blocked) this.blockedBy = withUser(this.blockedBy, other);
      else this.blockedBy?.delete(other);
    } else return;
    if (this.truth?.has(other)) this.show(other);
  }

  private show(user: string): void {
    const online = (this.truth?.get(user) ?? false) && !this.hides(user);
    this.told ??= new Map();
    if (this.told.get(user) === online) return;
    this.told.set(user, online);
    this.out.writePresence(user, online);
  }
}

function withUser(set: Set<string> | null, user: string): Set<string> {
  const next = set ?? new Set<string>();
  next.add(user);
  return next;
}
