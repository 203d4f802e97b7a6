import { encode, LIMITS, type ServerFrame } from '@pigeon/protocol';

/**
 * Keeps as many of `items` as fit in an answer of at most LIMITS.answerMaxBytes of UTF-8
 * once `frame` carries them, taking them from the start (`from: 'start'`) or from the end,
 * and always at least one. Resolves with the kept items in their original order and
 * whether any were left out. A history page of 100 long messages or a version-1 list of
 * every conversation is then one bounded write, not megabytes in one go.
 */
export function fitAnswer<T>(
  frame: ServerFrame & { items: T[] },
  items: readonly T[],
  from: 'start' | 'end',
): { items: T[]; cut: boolean } {
  const empty = Buffer.byteLength(encode({ ...frame, items: [] } as ServerFrame));
  let budget = LIMITS.answerMaxBytes - empty;
  const kept: T[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[from === 'start' ? i : items.length - 1 - i]!;
    // The item's JSON plus the comma that separates it from the next.
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (kept.length > 0 && size > budget) break;
    budget -= size;
    kept.push(item);
  }
  const cut = kept.length < items.length;
  if (from === 'end') kept.reverse();
  return { items: kept, cut };
}
