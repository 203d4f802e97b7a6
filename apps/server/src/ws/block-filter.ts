import type { BlockChange, BlockRelations } from '../store/feature-types.js';

/**
 * One connection's side of blocking for the live parts (PROTOCOL.md "Block"): while either
 * of two users blocks the other, each is reported offline to the other's presence
 * subscriptions and their typing notices are dropped both ways. It starts from the store's
 * relations (read while the connection opens) and follows block changes as the router
 * hands them over. Presence is filtered here, per connection, so the presence engines
 * (memory, Redis) stay unaware of blocks.
 */
export class BlockFilter {
  private readonly blocked = new Set<string>();
  private readonly blockedBy = new Set<string>();
  /** Changes that arrived while the relations were being read: applied after them. */
  private early: BlockChange[] | null = [];
  /** Online state of watched users as the presence layer reports it… */
  private readonly truth = new Map<string, boolean>();
  /** …and as this connection was last told it. */
  private readonly told = new Map<string, boolean>();

  constructor(
    private readonly me: string,
    private readonly tell: (user: string, online: boolean) => void,
  ) {}

  /** The relations read from the store; changes handed over meanwhile are applied on top. */
  load(relations: BlockRelations): void {
    for (const u of relations.blocked) this.blocked.add(u);
    for (const u of relations.blockedBy) this.blockedBy.add(u);
    const early = this.early ?? [];
    this.early = null;
    for (const c of early) this.change(c);
  }

  /** True while `user` and this connection's user are separated by a block, either way. */
  hides(user: string): boolean {
    return this.blocked.has(user) || this.blockedBy.has(user);
  }

  /** A new presence subscription starts: each of its users is reported once, whatever was told before. */
  resubscribed(): void {
    this.truth.clear();
    this.told.clear();
  }

  /** The presence layer reports `user`'s state: tell the connection what it may see of it. */
  presence(user: string, online: boolean): void {
    this.truth.set(user, online);
    this.show(user);
  }

  change(c: BlockChange): void {
    if (this.early) {
      this.early.push(c);
      return;
    }
    let other: string;
    if (c.blocker === this.me) {
      other = c.target;
      if (c.blocked) this.blocked.add(other);
      else this.blocked.delete(other);
    } else if (c.target === this.me) {
      other = c.blocker;
      if (c.blocked) this.blockedBy.add(other);
      else this.blockedBy.delete(other);
    } else return;
    if (this.truth.has(other)) this.show(other);
  }

  private show(user: string): void {
    const online = (this.truth.get(user) ?? false) && !this.hides(user);
    if (this.told.get(user) === online) return;
    this.told.set(user, online);
    this.tell(user, online);
  }
}
