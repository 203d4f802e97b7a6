/**
 * Immutable updates of `ReadonlyMap`s. The store keys everything by user id or message id in
 * `Map`s, never in plain objects: ids such as `constructor`, `__proto__` or `toString` are
 * valid user ids, and an object lookup would find `Object.prototype`'s members instead.
 */
export function mapWith<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): Map<K, V> {
  const next = new Map(map);
  next.set(key, value);
  return next;
}

export function mapWithout<K, V>(map: ReadonlyMap<K, V>, key: K): ReadonlyMap<K, V> {
  if (!map.has(key)) return map;
  const next = new Map(map);
  next.delete(key);
  return next;
}

/** `[key, value]` pairs from JSON that may be anything: the well-formed pairs, others skipped. */
export function pairsFrom<V>(raw: unknown, accept: (value: unknown) => value is V): Map<string, V> {
  const out = new Map<string, V>();
  if (!Array.isArray(raw)) return out;
  for (const pair of raw) {
    if (Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && accept(pair[1])) {
      out.set(pair[0], pair[1]);
    }
  }
  return out;
}
