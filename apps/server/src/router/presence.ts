/** A connection as presence sees it: it has a user and may watch other users. */
export interface PresenceTarget {
  readonly user: string;
  deliverPresence(user: string, online: boolean): void;
}

/**
 * Who is online: a user is online while any node holds an open connection of theirs.
 * The in-memory presence serves one process; the Redis presence (redis-presence.ts) spans
 * nodes and takes the users of a node that died offline within a documented bound.
 */
export interface Presence {
  /** The target is an open connection of `target.user` from now on. */
  join(target: PresenceTarget): void;
  /** The target is gone: its watch ends and it no longer keeps its user online. */
  leave(target: PresenceTarget): void;
  /**
   * Replaces the target's watch list: it gets the current state of each user once, then
   * every change (a change is online ↔ offline; the same state is never repeated). When
   * that first answer cannot go out at once (it needs Redis), a promise that resolves once
   * it went out: the connection handles its next frame after it, keeping answers in
   * request order.
   */
  watch(target: PresenceTarget, users: readonly string[]): Promise<void> | undefined;
  close(): Promise<void>;
}
