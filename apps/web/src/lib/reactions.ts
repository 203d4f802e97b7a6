import type { Reaction } from '@pigeon/protocol';

/** Reactions of one message grouped for display: most given first (ties: first given first). */
export interface ReactionGroup {
  emoji: string;
  by: string[];
  /** I gave this one (pressing it again takes it back). */
  mine: boolean;
}

export function groupReactions(
  reactions: readonly Reaction[] | undefined,
  me: string | null,
): ReactionGroup[] {
  const groups = new Map<string, ReactionGroup>();
  for (const r of reactions ?? []) {
    let g = groups.get(r.emoji);
    if (!g) {
      g = { emoji: r.emoji, by: [], mine: false };
      groups.set(r.emoji, g);
    }
    g.by.push(r.by);
    if (r.by === me) g.mine = true;
  }
  // Array.prototype.sort is stable: equal counts keep the order in which they were first given.
  return [...groups.values()].sort((a, b) => b.by.length - a.by.length);
}
